import { describe, invalidArgument } from '../errors';
import { datasetError } from '../evaluate/dataset';
import { checkOptions } from '../metrics/labels';
import type { Model } from '../model/model';
import { BatchPredictor, checkRunOptions, RUN_OPTIONS } from './batches';
import { checkFeatureValues, playersOf, rowsOf } from './rows';
import type { ExplainRows, ExplainRunOptions } from './types';

export interface PartialDependenceOptions extends ExplainRunOptions {
  /** The feature column whose effect is traced. */
  feature: string;
  /** Grid points between the percentiles (default 100); the column's distinct values when it has fewer. */
  gridResolution?: number;
  /** The grid's ends, as percentiles of the column by scipy's `mquantiles` (default [0.05, 0.95]). */
  percentiles?: readonly [number, number];
  /** `'average'` (default): the partial dependence; `'individual'`: ICE curves per row; `'both'`. */
  kind?: 'average' | 'individual' | 'both';
}

export interface PartialDependence {
  feature: string;
  /** The feature values the model was evaluated at, ascending. */
  grid: number[];
  /** Mean output over the rows at each grid value (kinds `'average'` and `'both'`). */
  average?: number[];
  /** Output of each row at each grid value, `individual[row][point]` (kinds `'individual'` and `'both'`). */
  individual?: number[][];
}

/**
 * scipy.stats.mstats.mquantiles with its defaults (alphap = betap = 0.4), which scikit-learn's
 * partial dependence uses for the ends of its grid.
 */
export function mquantiles(sorted: ArrayLike<number>, p: number, alphap = 0.4, betap = 0.4): number {
  const n = sorted.length;
  const m = alphap + p * (1 - alphap - betap);
  const aleph = n * p + m;
  const k = Math.floor(Math.min(Math.max(aleph, 1), n - 1));
  const gamma = Math.min(Math.max(aleph - k, 0), 1);
  return (1 - gamma) * sorted[k - 1]! + gamma * sorted[k]!;
}

/** numpy.linspace(start, stop, num) with the end point. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/**
 * scikit-learn's grid for one feature: its distinct values when there are fewer than
 * `resolution`, else `resolution` evenly spaced points between two percentiles.
 */
export function partialDependenceGrid(
  values: readonly number[],
  resolution: number,
  percentiles: readonly [number, number],
  where: string,
): number[] {
  const sorted = Float64Array.from(values).sort();
  const unique: number[] = [];
  for (const v of sorted) if (unique.length === 0 || unique[unique.length - 1] !== v) unique.push(v);
  if (unique.length < resolution) return unique;
  const lo = mquantiles(sorted, percentiles[0]);
  const hi = mquantiles(sorted, percentiles[1]);
  if (Math.abs(lo - hi) <= 1e-8 + 1e-5 * Math.abs(hi))
    throw invalidArgument(
      where,
      `percentiles [${percentiles.join(', ')}] of the feature are too close to each other (${lo} and ${hi}) to build a grid; choose percentiles further apart`,
      percentiles,
    );
  return linspace(lo, hi, resolution);
}

const OPTIONS = [...RUN_OPTIONS, 'feature', 'gridResolution', 'percentiles', 'kind'];

/**
 * Partial dependence and ICE curves (scikit-learn's `partial_dependence`, `method='brute'`):
 * the model's output with one feature set to each grid value in every row, averaged over the
 * rows (`average`) or kept per row (`individual`). Deterministic.
 *
 * @example
 * const pd = await partialDependence(model, train, { feature: 'amount', gridResolution: 50 });
 * pd.grid;     // [12.5, 31.0, ...]
 * pd.average;  // mean fraud probability at each amount
 */
export async function partialDependence(
  model: Model,
  rows: ExplainRows,
  options: PartialDependenceOptions,
): Promise<PartialDependence> {
  const where = 'partialDependence';
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options naming the feature are required', options);
  checkOptions(where, options, OPTIONS);
  const batchSize = checkRunOptions(model, options, where);
  const resolution = options.gridResolution ?? 100;
  if (!(Number.isSafeInteger(resolution) && resolution > 1))
    throw invalidArgument(where, 'gridResolution must be an integer greater than 1', resolution);
  const percentiles = options.percentiles ?? [0.05, 0.95];
  if (
    !Array.isArray(percentiles) ||
    percentiles.length !== 2 ||
    !percentiles.every((p) => typeof p === 'number' && p >= 0 && p <= 1) ||
    !(percentiles[0] < percentiles[1])
  )
    throw invalidArgument(where, 'percentiles must be two increasing numbers in [0, 1]', percentiles);
  const kind = options.kind ?? 'average';
  if (kind !== 'average' && kind !== 'individual' && kind !== 'both')
    throw invalidArgument(where, "kind must be 'average', 'individual' or 'both'", kind);
  const data = rowsOf(rows, 'the rows', where);
  const label = options.label ?? 'label';
  const { columns } = playersOf(data[0]!, label, options.features, undefined, where);
  const feature = options.feature;
  if (typeof feature !== 'string' || !columns.includes(feature))
    throw datasetError(
      `${where}: unknown feature ${describe(feature)}; the features are ${columns.map((c) => `'${c}'`).join(', ')}`,
    );
  checkFeatureValues(data, columns, 'the rows', where, options.pipeline !== undefined);
  const values = data.map((row, r) => {
    const v = row[feature];
    if (typeof v !== 'number')
      throw datasetError(
        `${where}: row ${r}, feature '${feature}' is ${describe(v)}; partial dependence needs numbers`,
      );
    return v;
  });
  const grid = partialDependenceGrid(values, resolution, percentiles, where);

  const n = data.length;
  const predictor = new BatchPredictor(model, data[0]!, columns, options, batchSize, where);
  const table = predictor.table(data);
  const at = columns.indexOf(feature);
  const individual = Array.from({ length: n }, () => new Array<number>(grid.length));
  await predictor.run(
    grid.length * n,
    (w, i) => {
      const g = Math.floor(i / n);
      w.copy(table, i - g * n);
      w.set(at, grid[g]!);
    },
    (i, v) => {
      const g = Math.floor(i / n);
      individual[i - g * n]![g] = v;
    },
  );
  const out: PartialDependence = { feature, grid };
  if (kind !== 'individual')
    out.average = grid.map((_, g) => {
      let sum = 0;
      for (let r = 0; r < n; r++) sum += individual[r]![g]!;
      return sum / n;
    });
  if (kind !== 'average') out.individual = individual;
  return out;
}
