/**
 * Rows whose values are arrays (an image under its input's name, `{ image: [...64 values] }`)
 * seen as one feature per element, `image[0]` … `image[63]` in row-major order, so profiles,
 * drift and a Monitor's windows treat them as they treat 64 pixel columns.
 */

import type { Row } from '../evaluate/types';
import { classTag } from '../tensor/dtype';

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  if (Array.isArray(v)) return true;
  const tag = classTag(v);
  return tag.endsWith('Array') && tag !== 'Array';
}

function addElements(out: Row, name: string, value: ArrayLike<unknown>, next: { i: number }): void {
  for (let j = 0; j < value.length; j++) {
    const v = value[j];
    if (isArrayLike(v)) addElements(out, name, v, next);
    else out[`${name}[${next.i++}]`] = typeof v === 'bigint' ? Number(v) : v;
  }
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
    addElements(out, name, value, { i: 0 });
  }
  return out ?? row;
}
