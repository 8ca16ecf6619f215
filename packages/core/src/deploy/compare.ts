import { invalidArgument } from '../errors';
import { float16BitsToNumber, isFloat } from '../tensor/dtype';
import type { NamedTensors, Tensor } from '../tensor/tensor';

/** How a shadow or a guarded candidate's outputs are compared with the primary's. */
export interface CompareOptions {
  /** The outputs to compare (default: every output both versions returned). */
  outputs?: readonly string[];
  /**
   * For float outputs: `'argmax'` compares the index of the largest value in each row (what a
   * classifier decides), `'allclose'` compares every element within `rtol`/`atol`. `'auto'`
   * (the default) uses argmax for rows of more than one value and allclose otherwise. Integer,
   * bool and string outputs are always compared exactly.
   */
  mode?: 'auto' | 'argmax' | 'allclose';
  /** Relative tolerance of `allclose` (default 1e-3). */
  rtol?: number;
  /** Absolute tolerance of `allclose` (default 1e-5). */
  atol?: number;
  /** Your own measure instead: the share of rows that disagree, in [0, 1]. */
  fn?: (primary: NamedTensors, candidate: NamedTensors) => number;
}

/** Checks compare options; returns them with defaults filled in. */
export function checkCompareOptions(where: string, value: unknown): CompareOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null)
    throw invalidArgument(where, 'compare must be an object', value);
  const c = value as CompareOptions;
  if (c.mode !== undefined && !['auto', 'argmax', 'allclose'].includes(c.mode)) {
    throw invalidArgument(where, "compare.mode must be 'auto', 'argmax' or 'allclose'", c.mode);
  }
  for (const k of ['rtol', 'atol'] as const) {
    const v = c[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw invalidArgument(where, `compare.${k} must be a non-negative number`, v);
  }
  if (c.fn !== undefined && typeof c.fn !== 'function')
    throw invalidArgument(where, 'compare.fn must be a function', c.fn);
  if (
    c.outputs !== undefined &&
    !(Array.isArray(c.outputs) && c.outputs.every((o) => typeof o === 'string'))
  ) {
    throw invalidArgument(where, 'compare.outputs must be an array of output names', c.outputs);
  }
  return c;
}

/**
 * The share of rows (along the first dimension) on which two versions' outputs disagree: a row
 * disagrees when any compared output differs on it. Outputs of different shape disagree on
 * every row.
 */
export function disagreement(
  primary: NamedTensors,
  candidate: NamedTensors,
  options: CompareOptions,
): number {
  if (options.fn !== undefined) {
    const d = options.fn(primary, candidate);
    if (!(Number.isFinite(d) && d >= 0 && d <= 1)) {
      throw invalidArgument('compare.fn', 'must return a number in [0, 1]', d);
    }
    return d;
  }
  const names = options.outputs ?? Object.keys(primary).filter((n) => n in candidate);
  let rows = 1;
  let flags: Uint8Array | undefined;
  for (const name of names) {
    const a = primary[name];
    const b = candidate[name];
    if (a === undefined || b === undefined) continue;
    const n = a.shape.length === 0 ? 1 : a.shape[0]!;
    if (flags === undefined) {
      rows = n;
      flags = new Uint8Array(n);
    }
    if (n !== rows || !sameShape(a, b)) return 1;
    markRows(a, b, rows, flags, options);
  }
  if (flags === undefined || rows === 0) return 0;
  let count = 0;
  for (let i = 0; i < rows; i++) count += flags[i]!;
  return count / rows;
}

function sameShape(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  return true;
}

function markRows(a: Tensor, b: Tensor, rows: number, flags: Uint8Array, o: CompareOptions): void {
  const width = rows === 0 ? 0 : a.data.length / rows;
  const read = a.dtype === 'float16' ? float16BitsToNumber : (x: number) => x;
  const da = a.data as ArrayLike<number>;
  const db = b.data as ArrayLike<number>;
  const mode = !isFloat(a.dtype)
    ? 'exact'
    : (o.mode ?? 'auto') === 'auto'
      ? width > 1
        ? 'argmax'
        : 'allclose'
      : o.mode;
  const rtol = o.rtol ?? 1e-3;
  const atol = o.atol ?? 1e-5;
  for (let r = 0; r < rows; r++) {
    if (flags[r] === 1) continue;
    const start = r * width;
    if (mode === 'argmax') {
      if (argmax(da, start, width, read) !== argmax(db, start, width, read)) flags[r] = 1;
      continue;
    }
    for (let i = start; i < start + width; i++) {
      if (mode === 'exact') {
        if (da[i] !== db[i]) {
          flags[r] = 1;
          break;
        }
        continue;
      }
      const x = read(da[i]!);
      const y = read(db[i]!);
      // numpy.isclose(candidate, primary): the primary is the reference.
      if (!(Math.abs(y - x) <= atol + rtol * Math.abs(x)) && !(Number.isNaN(x) && Number.isNaN(y))) {
        flags[r] = 1;
        break;
      }
    }
  }
}

function argmax(d: ArrayLike<number>, start: number, width: number, read: (x: number) => number): number {
  let best = start;
  let bestValue = read(d[start]!);
  for (let i = start + 1; i < start + width; i++) {
    const v = read(d[i]!);
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best - start;
}
