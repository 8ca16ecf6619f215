/**
 * Data drift of current data against a reference profile, per feature and for the data set,
 * with Evidently's automatic choice of test.
 */
import { invalidArgument } from '../errors';
import { datasetError, datasetRows } from '../evaluate/dataset';
import type { Columns, Row } from '../evaluate/types';
import { sortFloat64, sortFloat64InPlace } from '../metrics/sort';
import {
  chiSquareDrift,
  finiteArray,
  jensenShannonDistance,
  KsCounter,
  ksPValue,
  ksStatisticSortedFirst,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  twoProportionZTest,
  wassersteinScale,
  wassersteinSorted,
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

/**
 * What drift reads of one feature in the current data: how many values are present (not null,
 * undefined or NaN), the finite numbers among them (numeric features), and every present value
 * as a number or category key (categorical ones). Read from columns, the numbers go into a typed
 * array of the column's length; read from rows, into a plain array of doubles on the JS heap:
 * twenty typed arrays of 10⁶ values there would count as external memory and make V8 mark the
 * caller's millions of row objects again at every 64 MiB. A feature tested with KS keeps no
 * numbers at all: they are counted against the reference sample as they are read.
 */
class CurrentValues {
  present = 0;
  private m = 0;
  private readonly typed: Float64Array | undefined;
  private readonly list: number[] | undefined;
  readonly raw: (number | string)[] | undefined;
  constructor(
    length: number,
    categorical: boolean,
    onHeap: boolean,
    readonly ks: KsCounter | undefined,
  ) {
    const keep = !categorical && ks === undefined;
    this.typed = keep && !onHeap ? new Float64Array(length) : undefined;
    // Allocated once at full length, doubles from the start: grown by push, the list left
    // 8 MB copies behind it at every step, and the collector marked the caller's rows for each.
    this.list = keep && onHeap ? new Array<number>(length).fill(0.5) : undefined;
    this.raw = categorical ? [] : undefined;
  }

  add(v: unknown): void {
    if (v === null || v === undefined) return;
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return;
      if (this.raw !== undefined) this.raw.push(v);
      else if (v - v === 0) {
        if (this.ks !== undefined) this.ks.add(v);
        else if (this.typed !== undefined) this.typed[this.m++] = v;
        else this.list![this.m++] = v;
      }
    } else if (this.raw !== undefined) this.raw.push(String(v));
    this.present++;
  }

  /**
   * The finite numbers read, in order, in a typed array the caller may sort in place: this
   * reader's own, or `buffer` (grown when short) for numbers kept on the heap.
   */
  finite(buffer: { values: Float64Array }): Float64Array {
    if (this.typed !== undefined) return this.typed.subarray(0, this.m);
    const list = this.list!;
    const m = this.m;
    if (buffer.values.length < m) buffer.values = new Float64Array(m);
    const out = buffer.values.subarray(0, m);
    for (let i = 0; i < m; i++) out[i] = list[i]!;
    return out;
  }
}

/**
 * A counter of the current values against the sorted reference sample for each numeric feature
 * whose test is KS whatever the current values are (given, or Evidently's choice for a small
 * reference whose sample already has six distinct values); undefined for the others, and for a
 * sample the KS test would refuse (empty or not finite: the test says so in its turn).
 */
function ksCounters(
  features: readonly FeatureProfile[],
  referenceRows: number,
  options: DriftOptions,
): (KsCounter | undefined)[] {
  return features.map((f) => {
    if (f.type !== 'numeric') return undefined;
    const given =
      options.methods?.[f.name] ??
      (options.method === undefined || options.method === 'auto' ? undefined : options.method);
    const ks =
      given === undefined
        ? referenceRows <= 1000 && distinctUpTo([f.sample], 6) >= 6 // autoMethod's 'ks'
        : given === 'ks';
    if (!ks || f.sample.length === 0) return undefined;
    for (let i = 0; i < f.sample.length; i++) {
      const v = f.sample[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    }
    return new KsCounter(sortFloat64(Float64Array.from(f.sample)));
  });
}

/** Each profile feature's values in a column of flat values, read in place. */
function readColumns(
  columns: Columns,
  features: readonly FeatureProfile[],
  counters: readonly (KsCounter | undefined)[],
): (CurrentValues | undefined)[] {
  return features.map((f, k) => {
    const col = columns[f.name];
    if (col === undefined) return undefined;
    const out = new CurrentValues(col.length, f.type === 'categorical', false, counters[k]);
    for (let i = 0; i < col.length; i++) out.add(col[i]);
    return out;
  });
}

/** True when `for…in` over the row lists its own enumerable keys only (no inherited ones). */
function plainObject(row: object): boolean {
  const proto = Object.getPrototypeOf(row);
  return proto === Object.prototype || proto === null;
}

/**
 * Each profile feature's values in rows, in one pass. A plain row is walked with `for…in`,
 * which V8 serves from the shape's enum cache, and the feature of the k-th key is remembered,
 * so rows of one shape cost no lookup by name; when the walk finds every feature with a flat
 * value, those are the values reading by name gives. Any other row is read by name, as
 * `flatRow(row)` would be, as long as its values are flat; from its first array or object value
 * on it goes through `flatRow`. Profiles with `name[i]` features (spread arrays) or names that
 * plain objects inherit read every row through `flatRow`.
 */
function readRows(
  rows: readonly Row[],
  features: readonly FeatureProfile[],
  counters: readonly (KsCounter | undefined)[],
): CurrentValues[] {
  const out = features.map(
    (f, k) => new CurrentValues(rows.length, f.type === 'categorical', true, counters[k]),
  );
  const names = features.map((f) => f.name);
  const direct = names.every((name) => !/\[\d+\]$/.test(name) && !(name in Object.prototype));
  // Feature index by name (a repeated name is found once, so its rows go the slow way).
  const index = new Map<string, number>();
  for (let c = 0; c < names.length; c++) index.set(names[c]!, index.has(names[c]!) ? -2 : c);
  const slotNames: string[] = [];
  const slotFeature: number[] = [];
  // One row's values, by feature, before they are counted; doubles while they are numbers.
  const values: unknown[] = new Array<unknown>(names.length).fill(0);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null) throw datasetError(`detectDrift: row ${i} is not an object`);
    if (direct && plainObject(row)) {
      let found = 0;
      let k = 0;
      for (const name in row) {
        let c: number;
        if (slotNames[k] === name) c = slotFeature[k]!;
        else {
          c = index.get(name) ?? -1;
          slotNames[k] = name;
          slotFeature[k] = c;
        }
        k++;
        if (c < 0) continue;
        const v = row[name];
        if (typeof v === 'object' && v !== null) {
          found = -1;
          break;
        }
        values[c] = v;
        found++;
      }
      if (found === names.length) {
        for (let c = 0; c < names.length; c++) out[c]!.add(values[c]);
        continue;
      }
    }
    let c = 0;
    if (direct)
      for (; c < names.length; c++) {
        const v = row[names[c]!];
        if (typeof v === 'object' && v !== null) break;
        out[c]!.add(v);
      }
    if (c < names.length) {
      const flat = flatRow(row);
      for (; c < names.length; c++) out[c]!.add(flat[names[c]!]);
    }
  }
  return out;
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
  let currentRows: number;
  let read: (CurrentValues | undefined)[];
  const counters = ksCounters(reference.features, reference.rows, options);
  if (columns === undefined) {
    const rows = Array.isArray(iterable) ? (iterable as readonly Row[]) : Array.from(iterable);
    currentRows = rows.length;
    read = readRows(rows, reference.features, counters);
  } else {
    currentRows = columns[Object.keys(columns)[0]!]?.length ?? 0;
    read = readColumns(columns, reference.features, counters);
  }
  // Work buffers shared by every feature: one for numbers read from rows, one for the sort.
  const buffer = { values: new Float64Array(0) };
  const scratch = { values: new Float64Array(0) };
  const features: FeatureDrift[] = [];
  for (const [k, f] of reference.features.entries()) {
    const values = read[k];
    if (values === undefined || values.present === 0) continue;
    features.push(
      f.type === 'categorical'
        ? measureCategorical(f, values.raw!, reference.rows, options)
        : values.ks !== undefined
          ? countedKs(f, values.ks, options)
          : measureNumeric(f, values.finite(buffer), reference.rows, options, scratch),
    );
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

function measureNumeric(
  f: NumericFeature,
  cur: Float64Array,
  referenceRows: number,
  options: DriftOptions,
  scratch: { values: Float64Array },
): FeatureDrift {
  const sortCurrent = (): Float64Array => {
    if (scratch.values.length < cur.length) scratch.values = new Float64Array(cur.length);
    return sortFloat64InPlace(cur, scratch.values);
  };
  const unique = distinctUpTo([f.sample, cur], 6);
  const method =
    options.methods?.[f.name] ??
    (options.method === undefined || options.method === 'auto'
      ? autoMethod(f, unique, referenceRows)
      : options.method);
  let score: number;
  switch (method) {
    // The current values are finite (read so) and this call's own copy: KS counts them against
    // the sorted reference sample without sorting them; Wasserstein sorts them in place, once.
    // An empty side goes through the public functions, which say which side is empty.
    case 'ks':
      score =
        cur.length === 0
          ? ksTwoSample(f.sample, cur).pValue
          : ksPValue(
              f.sample.length,
              cur.length,
              ksStatisticSortedFirst(sortFloat64(finiteArray('ksTwoSample', 'sample1', f.sample)), cur),
            ).pValue;
      break;
    case 'wasserstein': {
      if (cur.length === 0) {
        score = normalizedWasserstein(f.sample, cur);
        break;
      }
      const r = finiteArray('normalizedWasserstein', 'reference', f.sample);
      score = wassersteinSorted(sortFloat64(r), sortCurrent()) / wassersteinScale(r);
      break;
    }
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

/** KS of a feature whose current values were counted as they were read ({@link ksCounters}). */
function countedKs(f: NumericFeature, counted: KsCounter, options: DriftOptions): FeatureDrift {
  const score =
    counted.count === 0
      ? ksTwoSample(f.sample, []).pValue // refuses the empty side, as measureNumeric would
      : ksPValue(f.sample.length, counted.count, counted.statistic()).pValue;
  return {
    feature: f.name,
    type: 'numeric',
    method: 'ks',
    score,
    ...verdict('ks', score, options),
    count: counted.count,
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
