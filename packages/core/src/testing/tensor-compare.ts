/**
 * Tensor comparison with numpy's `allclose` semantics, written to explain itself: where the
 * first mismatch is, how far off the worst one is, how many elements are out of tolerance.
 * Works on Modelship tensors, onnxruntime tensors, typed arrays from any realm, nested arrays
 * and scalars; 64-bit integers are compared as bigints.
 */
import { describe } from '../errors';
import { isOrtTensor } from '../tensor/coerce';
import { classTag } from '../tensor/dtype';
import { isTensor } from '../tensor/tensor';

/** A value seen as a tensor: its dtype when known, shape and flat elements. */
export interface Flat {
  dtype: string | undefined;
  shape: number[];
  data: ArrayLike<number | bigint | boolean | string>;
}

function isTypedArray(value: unknown): value is ArrayLike<number | bigint> {
  // The tag, not instanceof: a typed array from a worker, an iframe or a vm context has other constructors.
  const tag = classTag(value);
  return tag.endsWith('Array') && tag !== 'Array' && typeof (value as ArrayLike<unknown>).length === 'number';
}

const TAG_DTYPE: Record<string, string> = {
  Float32Array: 'float32',
  Float64Array: 'float64',
  Int8Array: 'int8',
  Int16Array: 'int16',
  Int32Array: 'int32',
  BigInt64Array: 'int64',
  Uint8Array: 'uint8',
  Uint16Array: 'uint16',
  Uint32Array: 'uint32',
  BigUint64Array: 'uint64',
};

function flattenNested(value: unknown, shape: number[], out: unknown[], depth: number, what: string): void {
  if (Array.isArray(value) || isTypedArray(value)) {
    const a = value as ArrayLike<unknown>;
    if (shape.length === depth) shape.push(a.length);
    else if (shape[depth] !== a.length)
      throw new TypeError(
        `${what} is a ragged array: length ${a.length} where ${shape[depth]} was expected at depth ${depth}`,
      );
    for (let i = 0; i < a.length; i++) flattenNested(a[i], shape, out, depth + 1, what);
    return;
  }
  if (shape.length !== depth) throw new TypeError(`${what} is a ragged array: a scalar at depth ${depth}`);
  out.push(value);
}

/** Reads anything tensor-like as a {@link Flat}, or throws a TypeError naming what it was. */
export function toFlat(value: unknown, what: string): Flat {
  if (isTensor(value))
    return { dtype: value.dtype, shape: [...value.shape], data: value.data as Flat['data'] };
  if (isOrtTensor(value)) {
    const t = value as { type: string; dims: readonly number[]; data: unknown };
    return { dtype: t.type, shape: [...t.dims], data: t.data as Flat['data'] };
  }
  if (isTypedArray(value)) return { dtype: TAG_DTYPE[classTag(value)], shape: [value.length], data: value };
  if (Array.isArray(value)) {
    const shape: number[] = [];
    const out: unknown[] = [];
    flattenNested(value, shape, out, 0, what);
    return { dtype: undefined, shape, data: out as Flat['data'] };
  }
  if (
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    typeof value === 'string'
  )
    return { dtype: undefined, shape: [], data: [value] as Flat['data'] };
  throw new TypeError(`${what} is ${describe(value)}, not a tensor, typed array, array or number`);
}

export interface CloseOptions {
  /** Relative tolerance (default 1e-5, numpy's). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8, numpy's). */
  atol?: number;
  /** NaN equals NaN (default false, as numpy). */
  equalNan?: boolean;
  /** Compare the elements in order whatever the shapes, as long as the counts match (default false). */
  ignoreShape?: boolean;
}

/** What a comparison found. */
export interface Comparison {
  pass: boolean;
  /** Set when the shapes (or element counts) differ; nothing else was compared. */
  shapeMismatch?: string;
  count: number;
  mismatches: number;
  first?: { index: number; received: unknown; expected: unknown; diff: number };
  worst?: { index: number; received: unknown; expected: unknown; diff: number };
  maxAbsDiff: number;
  maxRelDiff: number;
  rtol: number;
  atol: number;
}

/** |a − b| for two elements, as a number (bigints subtracted exactly first). */
function difference(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = typeof a === 'bigint' ? a : BigInt(Math.trunc(Number(a)));
    const y = typeof b === 'bigint' ? b : BigInt(Math.trunc(Number(b)));
    const d = x - y;
    return Number(d < 0n ? -d : d);
  }
  if (typeof a === 'string' || typeof b === 'string') return a === b ? 0 : Number.POSITIVE_INFINITY;
  const x = Number(a);
  const y = Number(b);
  if (x === y) return 0; // infinities of the same sign
  return Math.abs(x - y);
}

/** Compares two flat tensors element by element: |received − expected| ≤ atol + rtol·|expected|. */
export function compareFlat(received: Flat, expected: Flat, options: CloseOptions = {}): Comparison {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-8;
  const base = { count: expected.data.length, mismatches: 0, maxAbsDiff: 0, maxRelDiff: 0, rtol, atol };
  const sameShape =
    received.shape.length === expected.shape.length &&
    received.shape.every((d, i) => d === expected.shape[i]);
  if (options.ignoreShape ? received.data.length !== expected.data.length : !sameShape) {
    return {
      ...base,
      pass: false,
      shapeMismatch: options.ignoreShape
        ? `received has ${received.data.length} elements, expected ${expected.data.length}`
        : `received has shape [${received.shape.join(', ')}], expected [${expected.shape.join(', ')}]`,
    };
  }
  const out: Comparison = { ...base, pass: true };
  for (let i = 0; i < expected.data.length; i++) {
    const a = received.data[i];
    const b = expected.data[i];
    let diff: number;
    let ok: boolean;
    const nanA = typeof a === 'number' && Number.isNaN(a);
    const nanB = typeof b === 'number' && Number.isNaN(b);
    if (nanA || nanB) {
      ok = nanA && nanB && options.equalNan === true;
      diff = ok ? 0 : Number.NaN;
    } else {
      diff = difference(a, b);
      const scale = typeof b === 'string' ? 0 : Math.abs(Number(b));
      ok = diff <= atol + rtol * scale;
      if (Number.isFinite(diff)) {
        if (diff > out.maxAbsDiff) out.maxAbsDiff = diff;
        if (scale > 0 && diff / scale > out.maxRelDiff) out.maxRelDiff = diff / scale;
      }
    }
    if (!ok) {
      out.mismatches++;
      const entry = { index: i, received: a, expected: b, diff };
      if (out.first === undefined) out.first = entry;
      if (out.worst === undefined || !(diff <= out.worst.diff)) out.worst = entry;
    }
  }
  out.pass = out.mismatches === 0;
  return out;
}

/** A flat index as a multi-index for its shape: 7 in [2, 4] is [1, 3]. */
export function multiIndex(index: number, shape: readonly number[]): string {
  if (shape.length <= 1) return `[${index}]`;
  const out: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(rest % shape[d]!);
    rest = Math.floor(rest / shape[d]!);
  }
  return `[${out.join(', ')}]`;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(7)));
  return String(v);
}

/** The lines a failing (or wrongly passing) comparison prints. */
export function explain(c: Comparison, shape: readonly number[]): string[] {
  const tol = `rtol ${c.rtol}, atol ${c.atol}`;
  if (c.shapeMismatch !== undefined) return [c.shapeMismatch];
  if (c.pass) {
    return [
      `all ${c.count.toLocaleString('en-US')} elements are within tolerance (${tol}); largest |diff| ${show(c.maxAbsDiff)}`,
    ];
  }
  const lines = [
    `${c.mismatches.toLocaleString('en-US')} of ${c.count.toLocaleString('en-US')} elements differ beyond tolerance (${tol})`,
  ];
  const f = c.first!;
  lines.push(
    `first at ${multiIndex(f.index, shape)}: received ${show(f.received)}, expected ${show(f.expected)} (|diff| ${show(f.diff)})`,
  );
  const w = c.worst!;
  if (w.index !== f.index)
    lines.push(
      `largest at ${multiIndex(w.index, shape)}: received ${show(w.received)}, expected ${show(w.expected)} (|diff| ${show(w.diff)})`,
    );
  lines.push(`max |diff| ${show(c.maxAbsDiff)}, max relative diff ${show(c.maxRelDiff)}`);
  return lines;
}
