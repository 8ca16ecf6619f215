/**
 * Tensor snapshots: a compact summary of a tensor is stored in the test's snapshot file and
 * compared numerically within tolerance on the next run, so a model whose outputs move by
 * float noise (another CPU, another onnxruntime build) still matches, and one that really
 * changed does not. `vitest -u` rewrites the summaries.
 */
import { type CloseOptions, compareFlat, type Flat } from './tensor-compare';

/** Up to this many elements a snapshot stores every value; above it, statistics and samples. */
export const FULL_VALUES = 64;
const SAMPLE = 16;

type Scalar = number | string | boolean;

/** What a tensor snapshot stores. */
export interface TensorSummary {
  dtype: string | null;
  shape: number[];
  /** Every element, when there are at most 64. */
  values?: Scalar[];
  /** Numeric statistics over all elements, when there are more. */
  stats?: { mean: number; std: number; min: number; max: number; l2: number };
  /** First and last elements and an evenly strided sample in between, when there are more. */
  head?: Scalar[];
  tail?: Scalar[];
  sample?: Scalar[];
}

function scalar(v: unknown): Scalar {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/** Summarises a tensor for its snapshot. */
export function summarize(flat: Flat): TensorSummary {
  const n = flat.data.length;
  const out: TensorSummary = { dtype: flat.dtype ?? null, shape: flat.shape };
  if (n <= FULL_VALUES) {
    out.values = Array.from(flat.data, scalar);
    return out;
  }
  const numeric = typeof flat.data[0] !== 'string';
  if (numeric) {
    let sum = 0;
    let sq = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = Number(flat.data[i]);
      sum += v;
      sq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = sum / n;
    let dev = 0;
    for (let i = 0; i < n; i++) dev += (Number(flat.data[i]) - mean) ** 2;
    out.stats = { mean, std: Math.sqrt(dev / n), min, max, l2: Math.sqrt(sq) };
  }
  out.head = Array.from({ length: SAMPLE }, (_, i) => scalar(flat.data[i]));
  out.tail = Array.from({ length: SAMPLE }, (_, i) => scalar(flat.data[n - SAMPLE + i]));
  out.sample = Array.from({ length: SAMPLE }, (_, i) =>
    scalar(flat.data[Math.floor(((i + 0.5) * n) / SAMPLE)]),
  );
  return out;
}

/** Writes a summary as the snapshot file holds it: JSON, one field per line, NaN spelled out. */
export function renderSummary(s: TensorSummary): string {
  const lines = [`dtype ${s.dtype ?? '?'}`, `shape [${s.shape.join(', ')}]`];
  const list = (values: Scalar[]) =>
    JSON.stringify(values.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  if (s.values !== undefined) lines.push(`values ${list(s.values)}`);
  if (s.stats !== undefined) {
    for (const [k, v] of Object.entries(s.stats)) lines.push(`${k} ${Number.isFinite(v) ? v : String(v)}`);
  }
  if (s.head !== undefined)
    lines.push(`head ${list(s.head)}`, `tail ${list(s.tail!)}`, `sample ${list(s.sample!)}`);
  return lines.join('\n');
}

/** Reads a stored summary back. */
export function parseSummary(text: string): TensorSummary {
  const out: TensorSummary = { dtype: null, shape: [] };
  const num = (v: unknown): Scalar =>
    v === 'NaN'
      ? Number.NaN
      : v === 'Infinity'
        ? Number.POSITIVE_INFINITY
        : v === '-Infinity'
          ? Number.NEGATIVE_INFINITY
          : (v as Scalar);
  for (const raw of text.trim().split('\n')) {
    const line = raw.trim();
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'dtype') out.dtype = value === '?' ? null : value;
    else if (key === 'shape') out.shape = value === '[]' ? [] : value.slice(1, -1).split(', ').map(Number);
    else if (key === 'values' || key === 'head' || key === 'tail' || key === 'sample')
      out[key] = (JSON.parse(value) as unknown[]).map(num);
    else if (['mean', 'std', 'min', 'max', 'l2'].includes(key)) {
      out.stats ??= { mean: 0, std: 0, min: 0, max: 0, l2: 0 };
      out.stats[key as 'mean'] = Number(value);
    }
  }
  return out;
}

/** Compares a fresh summary with the stored one within tolerance; the message names what moved. */
export function matchSummary(
  received: TensorSummary,
  stored: TensorSummary,
  options: CloseOptions,
): { pass: boolean; message?: string } {
  const problems: string[] = [];
  if (received.dtype !== stored.dtype)
    problems.push(`dtype is ${received.dtype}, the snapshot has ${stored.dtype}`);
  if (received.shape.join(',') !== stored.shape.join(','))
    problems.push(`shape is [${received.shape.join(', ')}], the snapshot has [${stored.shape.join(', ')}]`);
  if (problems.length === 0) {
    const fields: [string, Scalar[] | undefined, Scalar[] | undefined][] = [
      ['values', received.values, stored.values],
      ['head', received.head, stored.head],
      ['tail', received.tail, stored.tail],
      ['sample', received.sample, stored.sample],
    ];
    if (received.stats !== undefined || stored.stats !== undefined) {
      const keys = ['mean', 'std', 'min', 'max', 'l2'] as const;
      fields.push([
        'stats',
        keys.map((k) => received.stats?.[k] ?? Number.NaN),
        keys.map((k) => stored.stats?.[k] ?? Number.NaN),
      ]);
    }
    for (const [name, a, b] of fields) {
      if (a === undefined && b === undefined) continue;
      if (a === undefined || b === undefined) {
        problems.push(
          `${name} is ${a === undefined ? 'missing' : 'present'} here but ${b === undefined ? 'missing' : 'present'} in the snapshot`,
        );
        continue;
      }
      const c = compareFlat(
        { dtype: undefined, shape: [a.length], data: a },
        { dtype: undefined, shape: [b.length], data: b },
        options,
      );
      if (!c.pass) {
        const f = c.first;
        const label =
          name === 'stats' ? ['mean', 'std', 'min', 'max', 'l2'][f?.index ?? 0] : `${name}[${f?.index}]`;
        const which =
          name === 'values'
            ? `${c.mismatches} of ${a.length} values`
            : name === 'head'
              ? `${c.mismatches} of the first ${a.length} values`
              : name === 'tail'
                ? `${c.mismatches} of the last ${a.length} values`
                : name === 'sample'
                  ? `${c.mismatches} of ${a.length} strided sample values`
                  : `${c.mismatches} of the ${a.length} summary statistics`;
        problems.push(
          c.shapeMismatch ??
            `${which} moved beyond tolerance; first ${label}: ${String(f!.received)} vs ${String(f!.expected)} in the snapshot`,
        );
      }
    }
  }
  return problems.length === 0
    ? { pass: true }
    : {
        pass: false,
        message: `tensor differs from its snapshot (rtol ${options.rtol ?? 1e-5}, atol ${options.atol ?? 1e-8}): ${problems.join('; ')}`,
      };
}
