/**
 * Rows whose values are arrays (an image under its input's name, `{ image: [...64 values] }`)
 * seen as one feature per element, `image[0]` … `image[63]` in row-major order, so profiles,
 * drift and a Monitor's windows treat them as they treat 64 pixel columns.
 */
import type { Columns, Row } from '../evaluate/types';
import { classTag } from '../tensor/dtype';

export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  if (Array.isArray(v)) return true;
  const tag = classTag(v);
  return tag.endsWith('Array') && tag !== 'Array';
}

/** The values of a (nested) array in row-major order, 64-bit integers as numbers. */
export function flatValues(value: ArrayLike<unknown>, into: unknown[] = []): unknown[] {
  for (let j = 0; j < value.length; j++) {
    const v = value[j];
    if (isArrayLike(v)) flatValues(v, into);
    else into.push(typeof v === 'bigint' ? Number(v) : v);
  }
  return into;
}

/**
 * A (nested) array of the same nesting with `fn` applied to every element, given its row-major
 * index; typed arrays stay typed arrays of their kind.
 */
export function mapValues(
  value: ArrayLike<unknown>,
  fn: (v: unknown, i: number) => unknown,
  next = { i: 0 },
): unknown {
  if (!Array.isArray(value)) {
    const typed = value as unknown as { map: (f: (v: unknown) => unknown) => unknown };
    return typed.map((v) => fn(v, next.i++));
  }
  return value.map((v) => (isArrayLike(v) ? mapValues(v, fn, next) : fn(v, next.i++)));
}

/** The row with each array value spread into `name[i]` entries; the row itself when it has none. */
export function flatRow(row: Row): Row {
  let out: Row | undefined;
  for (const [name, value] of Object.entries(row)) {
    if (!isArrayLike(value)) {
      if (out !== undefined) out[name] = value;
      continue;
    }
    if (out === undefined) {
      out = {};
      for (const [k, v] of Object.entries(row)) {
        if (k === name) break;
        out[k] = v;
      }
    }
    flatValues(value).forEach((v, i) => {
      out![`${name}[${i}]`] = v;
    });
  }
  return out ?? row;
}

/**
 * The data as columns when it is an object of flat columns (no array values, which
 * rows would spread into `name[i]` features): each column can then be read as it is, without a row
 * object per record. Undefined for rows, iterables and columns holding arrays.
 */
export function flatColumns(current: unknown): Columns | undefined {
  if (typeof (current as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return undefined;
  const columns = current as Columns;
  for (const name of Object.keys(columns)) {
    const col = columns[name]!;
    if (isArrayLike(col) && !Array.isArray(col)) {
      if (classTag(col).startsWith('Big')) return undefined;
      continue; // a typed array of numbers holds no arrays
    }
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (typeof v === 'object' && v !== null) return undefined;
    }
  }
  return columns;
}
