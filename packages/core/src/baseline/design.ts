/** Training data for the baseline models: a design matrix, targets and sample weights, checked. */
import { invalidArgument } from '../errors';

/** Rows of numbers, or a row-major typed array with its `[n, k]` shape. */
export type DesignMatrix =
  | readonly (readonly number[])[]
  | { data: Float32Array | Float64Array | readonly number[]; shape: readonly [number, number] };

export interface Design {
  /** Row-major, n × k (the caller’s Float64Array itself when given one: read, never written). */
  x: Float64Array;
  n: number;
  k: number;
  /** Sample weights (all 1 when none were given). */
  w: Float64Array;
}

/**
 * Whether every value is finite. v·0 is 0 for finite v and NaN for ±Infinity or NaN: one
 * multiply-add per value, several times faster than a test per value. A small function of its
 * own, so V8 optimises it once for every fit rather than on stack replacement inside each call.
 */
function allFinite(x: Float64Array): boolean {
  // Four sums, so the adds do not wait on one another (one sum runs at the add's latency).
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  const end = x.length - 3;
  let i = 0;
  for (; i < end; i += 4) {
    p0 += x[i]! * 0;
    p1 += x[i + 1]! * 0;
    p2 += x[i + 2]! * 0;
    p3 += x[i + 3]! * 0;
  }
  for (; i < x.length; i++) p0 += x[i]! * 0;
  return p0 + p1 + p2 + p3 === 0;
}

/** Throws for the first value of row-major `x` (k columns) that is not a finite number. */
export function assertFinite(x: Float64Array, k: number, where: string): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v))
      throw invalidArgument(
        where,
        `X[${Math.floor(i / k)}][${i % k}] is ${String(v)}; every value must be a finite number`,
        v,
      );
  }
}

/**
 * Reads and checks X (finite numbers, rectangular, non-empty) and the sample weights.
 * `finiteLater`: the caller checks X's values itself, with {@link assertFinite}, before it
 * returns anything (SGD does it inside its first epoch, which reads every value anyway).
 */
export function readDesign(
  X: DesignMatrix,
  targets: number,
  sampleWeight: unknown,
  where: string,
  finiteLater = false,
): Design {
  let x: Float64Array;
  let n: number;
  let k: number;
  if (Array.isArray(X)) {
    n = X.length;
    if (n === 0) throw invalidArgument(where, 'X must have at least one row', X);
    const first = X[0];
    if (!Array.isArray(first) || first.length === 0)
      throw invalidArgument(where, 'X must be rows of numbers (number[][])', first);
    k = first.length;
    x = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const row = X[i] as unknown;
      if (!Array.isArray(row) || row.length !== k)
        throw invalidArgument(
          where,
          `row ${i} of X has ${Array.isArray(row) ? row.length : 'no'} values; row 0 has ${k}`,
          row,
        );
      for (let j = 0; j < k; j++) x[i * k + j] = row[j] as number;
    }
  } else if (typeof X === 'object' && X !== null && Array.isArray((X as { shape?: unknown }).shape)) {
    const { data, shape } = X as { data: ArrayLike<number>; shape: readonly number[] };
    if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0))
      throw invalidArgument(where, 'X.shape must be [n, k] with n, k ≥ 1', shape);
    [n, k] = shape as [number, number];
    if (data === null || typeof data !== 'object' || data.length !== n * k)
      throw invalidArgument(where, `X.data must hold n·k = ${n * k} values`, data);
    // Read, never written: a Float64Array is used as it is, other arrays are copied.
    x = data instanceof Float64Array ? data : Float64Array.from(data);
  } else throw invalidArgument(where, 'X must be number[][] or { data, shape: [n, k] }', X);
  if (!finiteLater && !allFinite(x)) assertFinite(x, k, where);
  if (targets !== n) throw invalidArgument(where, `X has ${n} rows but y has ${targets} values`, targets);
  const w = new Float64Array(n).fill(1);
  if (sampleWeight !== undefined) {
    const sw = sampleWeight as ArrayLike<unknown>;
    if (typeof sw !== 'object' || sw === null || sw.length !== n)
      throw invalidArgument(where, `sampleWeight must hold one weight per row (${n})`, sampleWeight);
    for (let i = 0; i < n; i++) {
      const v = sw[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw invalidArgument(where, `sampleWeight[${i}] is ${String(v)}; weights must be finite and ≥ 0`, v);
      w[i] = v;
    }
    if (!w.some((v) => v > 0))
      throw invalidArgument(where, 'sampleWeight must not be all zero', sampleWeight);
  }
  return { x, n, k, w };
}

/** A positive finite option, or its default. */
export function positive(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw invalidArgument(
      where,
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number`,
      value,
    );
  return value;
}

/** A positive integer option (`maxIter`, …), or its default. */
export function positiveInteger(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1)
    throw invalidArgument(where, `${name} must be a positive integer`, value);
  return value as number;
}

/** A boolean option (`fitIntercept`, …), or its default. */
export function flag(where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgument(where, `${name} must be a boolean`, value);
  return value;
}

/** Reads rows to predict on (no targets). */
export function readRows(X: DesignMatrix, where: string): Design {
  const rows = Array.isArray(X) ? X.length : ((X as { shape?: readonly number[] } | null)?.shape?.[0] ?? 0);
  return readDesign(X, rows, undefined, where);
}

/**
 * Checks a saved baseline's header (`format`, `kind`, `version` 1) and its `input` name, and
 * returns the document for the model's own fields.
 */
export function readSaved<T>(
  json: unknown,
  kind: string,
  what: string,
  where: string,
): Partial<T> & Record<string, unknown> {
  const j = json as Record<string, unknown> | null;
  if (
    typeof j !== 'object' ||
    j === null ||
    j.format !== 'modelship-baseline' ||
    j.kind !== kind ||
    j.version !== 1
  )
    throw invalidArgument(where, `not a version 1 modelship ${what}`, json);
  if (typeof j.input !== 'string' || j.input === '')
    throw invalidArgument(where, 'input must name the model input', j.input);
  return j as Partial<T> & Record<string, unknown>;
}
