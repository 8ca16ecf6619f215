/**
 * Data drift of current data against a reference profile, per feature and for the data set,
 * with Evidently's automatic choice of test.
 */
import { invalidArgument } from '../errors';
import { datasetRows } from '../evaluate/dataset';
import type { Columns, Row } from '../evaluate/types';
import {
  chiSquareDrift,
  jensenShannonDistance,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  twoProportionZTest,
} from './drift-stats';
import { flatColumns, flatRow } from './flat-row';
import type { CategoricalFeature, FeatureProfile, NumericFeature, Profile } from './profile';

export type DriftMethod = 'ks' | 'wasserstein' | 'psi' | 'jensenshannon' | 'chisquare' | 'z';

export interface DriftOptions {
  /** Test per feature (default `'auto'`: Evidently's choice by type, cardinality and reference size). */
  method?: DriftMethod | 'auto';
  /** Per-feature overrides of the method. */
  methods?: Readonly<Record<string, DriftMethod>>;
  /** Threshold override for every feature (default per method: 0.05 for p-values, 0.1 for distances). */
  threshold?: number;
  /** Share of drifted features at which the data set counts as drifted (default 0.5, compared with ≥). */
  driftShare?: number;
}

export interface FeatureDrift {
  feature: string;
  type: 'numeric' | 'categorical';
  method: DriftMethod;
  /** A p-value for ks, chisquare and z (drift when ≤ / < threshold); a distance otherwise (drift when ≥). */
  score: number;
  threshold: number;
  drifted: boolean;
  /** Rows of the current data with a value. */
  count: number;
}

export interface DriftReport {
  features: FeatureDrift[];
  driftedFeatures: number;
  share: number;
  driftShare: number;
  /** True when the share of drifted features is at least `driftShare`. */
  datasetDrift: boolean;
  referenceRows: number;
  currentRows: number;
}

const P_VALUE: ReadonlySet<DriftMethod> = new Set<DriftMethod>(['ks', 'chisquare', 'z']);

/** Sturges' rule over both samples, as Evidently bins numeric features for PSI and JS. */
function sturgesEdges(values: ArrayLike<number>): number[] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const bins = Math.ceil(Math.log2(values.length)) + 1;
  if (min === max) return [min - 0.5, max + 0.5];
  return Array.from({ length: bins + 1 }, (_, i) => min + ((max - min) * i) / bins);
}

function histogram(values: ArrayLike<number>, edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // numpy.histogram: half-open bins, the last one closed.
    let lo = 0;
    let hi = edges.length - 2;
    if (v < edges[0]! || v > edges[edges.length - 1]!) continue;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (edges[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/** Evidently's default test for a feature (counted on reference ∪ current; size = reference rows). */
function autoMethod(feature: FeatureProfile, unique: number, referenceRows: number): DriftMethod {
  const categorical = feature.type === 'categorical' || unique <= 5;
  if (referenceRows <= 1000) {
    if (categorical) return unique > 2 ? 'chisquare' : 'z';
    return 'ks';
  }
  return categorical ? 'jensenshannon' : 'wasserstein';
}

/** Distinct values across arrays, counting no further than `cap` (all the test choice needs). */
function distinctUpTo(arrays: readonly ArrayLike<number>[], cap: number): number {
  const seen = new Set<number>();
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      seen.add(a[i]!);
      if (seen.size >= cap) return seen.size;
    }
  }
  return seen.size;
}

/** Current values of one column: numbers, or category keys. */
function column(length: number, at: (i: number) => unknown): (number | string)[] {
  const out: (number | string)[] = [];
  for (let i = 0; i < length; i++) {
    const v = at(i);
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) continue;
    out.push(typeof v === 'number' ? v : String(v));
  }
  return out;
}

/** The values of a column that count as present (not null, undefined or NaN), as {@link column}. */
function columnValues(col: ArrayLike<unknown>): {
  present: number;
  numbers: Float64Array;
  raw: () => (number | string)[];
} {
  const numbers = new Float64Array(col.length);
  let present = 0;
  let m = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') {
      if (Number.isNaN(v)) continue;
      if (Number.isFinite(v)) numbers[m++] = v;
    }
    present++;
  }
  return {
    present,
    numbers: numbers.subarray(0, m),
    raw: () => column(col.length, (i) => col[i]),
  };
}

/**
 * Measures drift of current data against a reference profile: one test per feature of the
 * profile, and the data-set verdict (share of drifted features ≥ `driftShare`). Numeric
 * features are compared with the profile's stored sample; categorical ones with its counts.
 *
 * @example
 * const report = detectDrift(profile, lastHourRows);
 * report.features.filter((f) => f.drifted); // [{ feature: 'amount', method: 'ks', score: 0.0003, … }]
 */
export function detectDrift(
  reference: Profile,
  current: readonly Row[] | Columns,
  options: DriftOptions = {},
): DriftReport {
  const driftShare = options.driftShare ?? 0.5;
  if (!(driftShare > 0 && driftShare <= 1))
    throw invalidArgument('detectDrift', 'driftShare must lie in (0, 1]', driftShare);
  const iterable = datasetRows(current, 'detectDrift') as Iterable<Row>;
  const columns = flatColumns(current);
  const rows = columns === undefined ? Array.from(iterable, flatRow) : [];
  const currentRows = columns === undefined ? rows.length : (columns[Object.keys(columns)[0]!]?.length ?? 0);
  const features: FeatureDrift[] = [];
  for (const f of reference.features) {
    let present: number;
    let numbers: () => Float64Array;
    let raw: () => (number | string)[];
    if (columns === undefined) {
      const values = column(rows.length, (i) => rows[i]![f.name]);
      present = values.length;
      raw = () => values;
      numbers = () => finiteNumbers(values);
    } else {
      const col = columns[f.name];
      if (col === undefined) continue;
      const read = columnValues(col);
      present = read.present;
      raw = read.raw;
      numbers = () => read.numbers;
    }
    if (present === 0) continue;
    const r =
      f.type === 'numeric'
        ? measureNumeric(f, numbers(), reference.rows, options)
        : measureCategorical(f, raw(), reference.rows, options);
    features.push(r);
  }
  const drifted = features.filter((f) => f.drifted).length;
  const share = features.length === 0 ? 0 : drifted / features.length;
  return {
    features,
    driftedFeatures: drifted,
    share,
    driftShare,
    datasetDrift: features.length > 0 && share >= driftShare,
    referenceRows: reference.rows,
    currentRows,
  };
}

function verdict(
  method: DriftMethod,
  score: number,
  options: DriftOptions,
): { threshold: number; drifted: boolean } {
  const threshold = options.threshold ?? (P_VALUE.has(method) ? 0.05 : 0.1);
  // Evidently: ks drifts at p ≤ t, chisquare and z at p < t, distances at ≥ t.
  const drifted =
    method === 'ks' ? score <= threshold : P_VALUE.has(method) ? score < threshold : score >= threshold;
  return { threshold, drifted };
}

/** The finite numbers among a column's values (strings and infinities left out). */
function finiteNumbers(raw: readonly (number | string)[]): Float64Array {
  const out = new Float64Array(raw.length);
  let m = 0;
  for (const v of raw) if (typeof v === 'number' && Number.isFinite(v)) out[m++] = v;
  return out.subarray(0, m);
}

function measureNumeric(
  f: NumericFeature,
  cur: Float64Array,
  referenceRows: number,
  options: DriftOptions,
): FeatureDrift {
  const unique = distinctUpTo([f.sample, cur], 6);
  const method =
    options.methods?.[f.name] ??
    (options.method === undefined || options.method === 'auto'
      ? autoMethod(f, unique, referenceRows)
      : options.method);
  let score: number;
  switch (method) {
    case 'ks':
      score = ksTwoSample(f.sample, cur).pValue;
      break;
    case 'wasserstein':
      score = normalizedWasserstein(f.sample, cur);
      break;
    case 'psi':
    case 'jensenshannon': {
      const edges = sturgesEdges([...f.sample, ...cur]);
      const r = histogram(f.sample, edges);
      const c = histogram(cur, edges);
      score = method === 'psi' ? psi(r, c) : jensenShannonDistance(r, c);
      break;
    }
    case 'chisquare':
    case 'z': {
      const keys = [...new Set([...f.sample, ...cur])].sort((a, b) => a - b);
      return categoricalScore(
        f.name,
        'numeric',
        method,
        countsOf(f.sample.map(String), keys.map(String)),
        Array.from(cur, String),
        keys.map(String),
        options,
      );
    }
  }
  return {
    feature: f.name,
    type: 'numeric',
    method,
    score,
    ...verdict(method, score, options),
    count: cur.length,
  };
}

function countsOf(values: readonly string[], keys: readonly string[]): number[] {
  const index = new Map(keys.map((k, i) => [k, i]));
  const out = new Array<number>(keys.length).fill(0);
  for (const v of values) {
    const i = index.get(v);
    if (i !== undefined) out[i]!++;
  }
  return out;
}

function measureCategorical(
  f: CategoricalFeature,
  raw: (number | string)[],
  referenceRows: number,
  options: DriftOptions,
): FeatureDrift {
  const cur = raw.map(String);
  const keys = [...new Set([...Object.keys(f.categories), ...cur])].sort();
  const method =
    options.methods?.[f.name] ??
    (options.method === undefined || options.method === 'auto'
      ? autoMethod(f, keys.length, referenceRows)
      : options.method);
  const ref = keys.map((k) => f.categories[k] ?? 0);
  return categoricalScore(f.name, 'categorical', method, ref, cur, keys, options);
}

function categoricalScore(
  name: string,
  type: 'numeric' | 'categorical',
  method: DriftMethod,
  refCounts: number[],
  cur: readonly string[],
  keys: readonly string[],
  options: DriftOptions,
): FeatureDrift {
  const curCounts = countsOf(cur, keys);
  let score: number;
  if (method === 'z') {
    // Evidently: the share of the first sorted category on each side.
    const n1 = refCounts.reduce((a, b) => a + b, 0);
    const n2 = curCounts.reduce((a, b) => a + b, 0);
    score = twoProportionZTest(refCounts[0]!, n1, curCounts[0]!, n2).pValue;
  } else if (method === 'chisquare') score = chiSquareDrift(refCounts, curCounts).pValue;
  else if (method === 'psi') score = psi(refCounts, curCounts);
  else if (method === 'jensenshannon') score = jensenShannonDistance(refCounts, curCounts);
  else
    throw invalidArgument(
      'detectDrift',
      `${method} applies to numeric features only; '${name}' is categorical`,
      method,
    );
  return { feature: name, type, method, score, ...verdict(method, score, options), count: cur.length };
}
