/**
 * Class checks that survive two copies of `@modelship/core` in one app (two bundles, a
 * dependency's own copy, a worker): each class sets a `Symbol.for('modelship.<name>')` key on
 * its instances, and the registry gives every copy the same symbol where `instanceof` would
 * compare two different classes.
 */

/** True when `value` carries the marker `key`, whichever copy of the package made it. */
export function hasMarker(value: unknown, key: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[key] === true;
}
