import { describe, invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { datasetError } from '../evaluate/dataset';
import type { Row } from '../evaluate/types';
import { checkOptions } from '../metrics/labels';
import { shuffleInPlace } from './permutation';
import { playersOf, rowsOf } from './rows';
import type { ExplainRows } from './types';

/** Background rows above which `explain` adds a note: each costs one model row per coalition (shap warns likewise). */
export const LARGE_BACKGROUND = 100;

/**
 * `k` rows drawn without replacement, seeded (shap's `sample`): a background summary. All the
 * rows, in order, when there are no more than `k`.
 *
 * @example
 * const ex = await explain(model, rows, { background: sampleRows(train, 100, { seed: 1 }) });
 */
export function sampleRows(rows: ExplainRows, k: number, options: { seed?: number } = {}): Row[] {
  const where = 'sampleRows';
  if (!(Number.isSafeInteger(k) && k > 0)) throw invalidArgument(where, 'k must be a positive integer', k);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  const all = rowsOf(rows, 'the rows', where);
  if (all.length <= k) return [...all];
  const order = Array.from({ length: all.length }, (_, i) => i);
  shuffleInPlace(order, seededRandom(seed));
  return order.slice(0, k).map((i) => all[i]!);
}

/** Why a background is costly, or nothing when it is not. */
export function backgroundNote(rows: number): string[] {
  if (rows <= LARGE_BACKGROUND) return [];
  return [
    `the background has ${rows} rows: every coalition costs ${rows} model rows; ${LARGE_BACKGROUND} rows usually suffice (sampleRows(background, ${LARGE_BACKGROUND}))`,
  ];
}

/** A background summary: rows and how many data rows each stands for. */
export interface WeightedBackground {
  /** The centroids, as rows of the feature columns. */
  rows: Row[];
  /** Each row's weight: the number of data rows in its cluster (pass as `backgroundWeights`). */
  weights: number[];
}

export interface KmeansBackgroundOptions {
  /** Seed of the k-means++ starts (default 0): the same seed gives the same summary. */
  seed?: number;
  /** The label column, left out (default `'label'`). */
  label?: string;
  /** The feature columns clustered (default: every column but the label). */
  features?: readonly string[];
  /**
   * Snap each centroid coordinate to the nearest value of that column in the data (default
   * true, as shap's `round_values`), so a 0/1 or integer-coded feature keeps a value it can take.
   */
  roundValues?: boolean;
}

/** k-means++ starts tried; the summary with the least within-cluster sum of squares is kept (scikit-learn's n_init). */
const KMEANS_STARTS = 10;
/** Lloyd iterations per start at most (scikit-learn's max_iter). */
const KMEANS_ITERATIONS = 300;

/**
 * `k` weighted centroids summarising the rows (shap's `kmeans`): k-means (k-means++ starts,
 * seeded, the best of 10, Lloyd iterations until no row changes cluster), each centroid's
 * coordinates snapped to the nearest value of their column in the data unless `roundValues` is
 * false, and each weighted by the rows of its cluster. Missing values (absent, null, NaN) are
 * the column's mean first, as shap imputes them. With no more than `k` rows, every row is its
 * own centroid of weight 1. Clusters left empty (fewer distinct rows than k) are dropped.
 *
 * @example
 * const summary = kmeansBackground(train, 20, { seed: 1 });
 * const ex = await explain(model, rows, { background: summary.rows, backgroundWeights: summary.weights });
 */
export function kmeansBackground(
  rows: ExplainRows,
  k: number,
  options: KmeansBackgroundOptions = {},
): WeightedBackground {
  const where = 'kmeansBackground';
  if (!(Number.isSafeInteger(k) && k > 0)) throw invalidArgument(where, 'k must be a positive integer', k);
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options must be an object', options);
  checkOptions(where, options, ['seed', 'label', 'features', 'roundValues']);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  const round = options.roundValues ?? true;
  if (typeof round !== 'boolean') throw invalidArgument(where, 'roundValues must be true or false', round);
  const all = rowsOf(rows, 'the rows', where);
  const label = options.label ?? 'label';
  const columns = playersOf(all[0]!, label, options.features, undefined, where).columns;
  const n = all.length;
  const d = columns.length;
  const x = numericMatrix(all, columns, where);
  const toRow = (values: Float64Array, at: number): Row =>
    Object.fromEntries(columns.map((c, j) => [c, values[at + j]!]));
  if (n <= k) return { rows: all.map((_, i) => toRow(x, i * d)), weights: all.map(() => 1) };

  const random = seededRandom(seed);
  let best: { centers: Float64Array; counts: Int32Array; inertia: number } | undefined;
  for (let start = 0; start < KMEANS_STARTS; start++) {
    const run = lloyd(x, n, d, k, kmeansPlusPlus(x, n, d, k, random));
    if (best === undefined || run.inertia < best.inertia) best = run;
  }
  const { centers, counts } = best!;
  if (round) {
    for (let c = 0; c < k; c++)
      for (let j = 0; j < d; j++) {
        // the first row whose value is nearest (numpy's argmin)
        let nearest = x[j]!;
        for (let i = 1; i < n; i++)
          if (Math.abs(x[i * d + j]! - centers[c * d + j]!) < Math.abs(nearest - centers[c * d + j]!))
            nearest = x[i * d + j]!;
        centers[c * d + j] = nearest;
      }
  }
  const out: WeightedBackground = { rows: [], weights: [] };
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    out.rows.push(toRow(centers, c * d));
    out.weights.push(counts[c]!);
  }
  return out;
}

/** The rows' feature columns as a row-major matrix, a missing value (absent, null, NaN) being its column's mean. */
function numericMatrix(rows: readonly Row[], columns: readonly string[], where: string): Float64Array {
  const n = rows.length;
  const d = columns.length;
  const x = new Float64Array(n * d);
  columns.forEach((c, j) => {
    let sum = 0;
    let present = 0;
    for (let i = 0; i < n; i++) {
      const v = rows[i]![c];
      if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) {
        x[i * d + j] = Number.NaN;
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw datasetError(
          `${where}: row ${i}, column '${c}' is ${describe(v)}; k-means needs finite numbers (summarise other columns with sampleRows)`,
        );
      x[i * d + j] = v;
      sum += v;
      present++;
    }
    if (present === 0) throw datasetError(`${where}: column '${c}' has no values; every row's is missing`);
    for (let i = 0; i < n; i++) if (Number.isNaN(x[i * d + j]!)) x[i * d + j] = sum / present;
  });
  return x;
}

function distance2(x: Float64Array, i: number, centers: Float64Array, c: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = x[i * d + j]! - centers[c * d + j]!;
    s += t * t;
  }
  return s;
}

/** k-means++ seeding: each next center a row drawn with probability ∝ its squared distance to the nearest center so far. */
function kmeansPlusPlus(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  random: () => number,
): Float64Array {
  const centers = new Float64Array(k * d);
  const nearest = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let pick = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centers.set(x.subarray(pick * d, pick * d + d), c * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i]!, distance2(x, i, centers, c, d));
      total += nearest[i]!;
    }
    if (c === k - 1) break;
    // every row already a center (fewer distinct rows than k): the rest start on row 0 and stay empty
    let u = random() * total;
    pick = 0;
    if (total > 0)
      for (let i = 0; i < n; i++) {
        u -= nearest[i]!;
        if (u < 0 || i === n - 1) {
          pick = i;
          break;
        }
      }
  }
  return centers;
}

/** Lloyd's iterations from the given centers until no row changes cluster (or the iteration limit). */
function lloyd(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
): { centers: Float64Array; counts: Int32Array; inertia: number } {
  const label = new Int32Array(n).fill(-1);
  const counts = new Int32Array(k);
  const sums = new Float64Array(k * d);
  let inertia = 0;
  for (let iteration = 0; iteration < KMEANS_ITERATIONS; iteration++) {
    let changed = false;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bestC = 0;
      let bestD = Number.POSITIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const dist = distance2(x, i, centers, c, d);
        if (dist < bestD) {
          bestD = dist;
          bestC = c;
        }
      }
      inertia += bestD;
      if (label[i] !== bestC) {
        label[i] = bestC;
        changed = true;
      }
    }
    if (!changed) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = label[i]!;
      counts[c]!++;
      for (let j = 0; j < d; j++) sums[c * d + j] = sums[c * d + j]! + x[i * d + j]!;
    }
    // a cluster left empty keeps its center
    for (let c = 0; c < k; c++)
      if (counts[c]! > 0) for (let j = 0; j < d; j++) centers[c * d + j] = sums[c * d + j]! / counts[c]!;
  }
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[label[i]!]!++;
  return { centers, counts, inertia };
}
