import { InputError } from '../errors';
import { checkLengths, checkOptions, readScores, readWeights, type Weights } from './labels';

function read(
  fn: string,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  sampleWeight: Weights | undefined,
) {
  const t = readScores(yTrue, 'yTrue', fn);
  const p = readScores(yPred, 'yPred', fn);
  checkLengths(fn, t, p);
  if (t.length === 0)
    throw new InputError('INPUT_INVALID', `${fn}: found no samples; at least one is required`);
  return { t, p, w: readWeights(sampleWeight, t.length, fn) };
}

function average(values: (i: number) => number, n: number, w: Float64Array | undefined): number {
  let s = 0;
  let ws = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    s += values(i) * wi;
    ws += wi;
  }
  return s / ws;
}

/** Mean squared error, as `sklearn.metrics.mean_squared_error`; `squared: false` gives the RMSE. */
export function meanSquaredError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: { sampleWeight?: Weights; squared?: boolean } = {},
): number {
  checkOptions('meanSquaredError', options, ['sampleWeight', 'squared']);
  const { t, p, w } = read('meanSquaredError', yTrue, yPred, options.sampleWeight);
  const mse = average((i) => (t[i]! - p[i]!) ** 2, t.length, w);
  return options.squared === false ? Math.sqrt(mse) : mse;
}

/** Mean absolute error, as `sklearn.metrics.mean_absolute_error`. */
export function meanAbsoluteError(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: { sampleWeight?: Weights } = {},
): number {
  checkOptions('meanAbsoluteError', options, ['sampleWeight']);
  const { t, p, w } = read('meanAbsoluteError', yTrue, yPred, options.sampleWeight);
  return average((i) => Math.abs(t[i]! - p[i]!), t.length, w);
}

/**
 * The coefficient of determination R², as `sklearn.metrics.r2_score`: NaN for fewer than two
 * samples; for constant `yTrue`, 1 when the predictions are perfect and 0 otherwise.
 */
export function r2Score(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: { sampleWeight?: Weights } = {},
): number {
  checkOptions('r2Score', options, ['sampleWeight']);
  const { t, p, w } = read('r2Score', yTrue, yPred, options.sampleWeight);
  if (t.length < 2) return Number.NaN;
  const mean = average((i) => t[i]!, t.length, w);
  let num = 0;
  let den = 0;
  for (let i = 0; i < t.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    num += wi * (t[i]! - p[i]!) ** 2;
    den += wi * (t[i]! - mean) ** 2;
  }
  if (den === 0) return num === 0 ? 1 : 0;
  return 1 - num / den;
}
