import { InputError, invalidArgument } from '../errors';
import { defaultPositive } from './curve-core';
import {
  byteLabels,
  checkDiscrete,
  checkLengths,
  checkOptions,
  encode,
  formatLabels,
  type Label,
  type LabelArray,
  LabelCoder,
  readCodes,
  readLabels,
  readScores,
  readScoresView,
  readWeights,
  uniqueSorted,
  type Weights,
} from './labels';
import { readMatrix, type ScoreMatrix } from './ranking';

const EPS = 2.220446049250313e-16; // float64 machine epsilon: scikit-learn 1.2's eps='auto'

function checkProbabilities(fn: string, p: ArrayLike<number>, name: string): void {
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (!(v >= 0 && v <= 1))
      throw new InputError('INPUT_INVALID', `${fn}: ${name}[${i}] is ${v}; probabilities must lie in [0, 1]`);
  }
}

function weightedMean(values: Float64Array, weights: Float64Array | undefined, normalize: boolean): number {
  let s = 0;
  let w = 0;
  for (let i = 0; i < values.length; i++) {
    const wi = weights === undefined ? 1 : weights[i]!;
    s += values[i]! * wi;
    w += wi;
  }
  return normalize ? s / w : s;
}

/**
 * {@link logLoss} of byte labels (an 8-bit typed array) and one Float64Array column: the labels
 * are read in place after one pass that finds which bytes occur, and the probabilities are
 * checked, clipped and summed in one pass, with the arithmetic and order of the general path.
 * Undefined when the inputs are anything else or hold anything to refuse, so that the general
 * path reports it with its own order of checks; no error is thrown here that the general path
 * would not throw first.
 */
function logLossOfBytes(
  yTrue: LabelArray,
  yPred: ArrayLike<number> | ScoreMatrix,
  options: { labels?: readonly Label[]; normalize?: boolean; sampleWeight?: Weights; k?: number },
): number | undefined {
  if (options.k !== undefined || !(yPred instanceof Float64Array)) return undefined;
  const labels = byteLabels(yTrue);
  if (labels === undefined) return undefined;
  const { bytes, labelOf, present } = labels;
  const n = bytes.length;
  if (n === 0 || yPred.length !== n) return undefined;
  const classes = uniqueSorted(
    options.labels === undefined ? present.map(labelOf) : readLabels(options.labels, 'labels', 'logLoss'),
  );
  if (classes.length !== 2) return undefined;
  // 1 for the bytes of the greater class.
  const upper = new Uint8Array(256);
  for (const b of present) {
    const c = classes.indexOf(labelOf(b));
    if (c < 0) return undefined;
    upper[b] = c;
  }
  let weights: Float64Array | undefined;
  try {
    weights = readWeights(options.sampleWeight, n, 'logLoss');
  } catch {
    return undefined;
  }
  let sum = 0;
  if (weights === undefined) {
    // The product by a weight of 1 and the sum of n ones are exact: left out.
    for (let i = 0; i < n; i++) {
      const v = yPred[i]!;
      if (!(v >= 0 && v <= 1)) return undefined;
      const p = Math.min(Math.max(v, EPS), 1 - EPS);
      const q = 1 - p;
      sum += -Math.log((upper[bytes[i]!] === 1 ? p : q) / (q + p));
    }
    return options.normalize !== false ? sum / n : sum;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = yPred[i]!;
    if (!(v >= 0 && v <= 1)) return undefined;
    const p = Math.min(Math.max(v, EPS), 1 - EPS);
    const q = 1 - p;
    const wi = weights[i]!;
    sum += -Math.log((upper[bytes[i]!] === 1 ? p : q) / (q + p)) * wi;
    total += wi;
  }
  return options.normalize !== false ? sum / total : sum;
}

/**
 * Cross-entropy loss, as `sklearn.metrics.log_loss` (scikit-learn 1.2): probabilities are
 * clipped to [ε, 1−ε] and each row renormalised. `yPred` is the positive-class probability per
 * sample for two classes, or an n×k matrix whose columns follow the sorted classes (or `labels`).
 */
export function logLoss(
  yTrue: LabelArray,
  yPred: ArrayLike<number> | ScoreMatrix,
  options: { labels?: readonly Label[]; normalize?: boolean; sampleWeight?: Weights; k?: number } = {},
): number {
  checkOptions('logLoss', options, ['labels', 'normalize', 'sampleWeight', 'k']);
  const fast = logLossOfBytes(yTrue, yPred, options);
  if (fast !== undefined) return fast;
  const coder = new LabelCoder();
  const y = readCodes(yTrue, 'yTrue', 'logLoss', coder).codes;
  if (y.length === 0)
    throw new InputError('INPUT_INVALID', 'logLoss: found no samples; at least one is required');
  const classes = uniqueSorted(
    options.labels === undefined ? coder.classes : readLabels(options.labels, 'labels', 'logLoss'),
  );
  if (classes.length < 2) {
    throw new InputError(
      'METRIC_UNDEFINED',
      options.labels === undefined
        ? `logLoss: yTrue contains only one label (${formatLabels(classes)}); give the true labels explicitly with the labels option`
        : `logLoss: labels needs at least two classes, received ${formatLabels(classes)}`,
    );
  }
  // Each label's class index, through its code.
  const classOf = encode(coder.classes, classes);
  for (let i = 0; i < y.length; i++) {
    if (classOf[y[i]!]! < 0)
      throw new InputError(
        'INPUT_INVALID',
        `logLoss: yTrue[${i}] (${coder.classes[y[i]!]}) is not one of the labels ${formatLabels(classes)}`,
      );
  }
  const n = y.length;
  let data: Float64Array;
  let k: number;
  if (options.k !== undefined || (Array.isArray(yPred) && Array.isArray(yPred[0]))) {
    ({ data, k } = readMatrix('logLoss', yPred, options.k, n));
  } else {
    const p = readScoresView(yPred, 'yPred', 'logLoss');
    checkLengths('logLoss', y, p);
    data = p;
    k = 1;
  }
  checkProbabilities('logLoss', data, 'yPred');
  if (k === 1) {
    // One column: the probability of the greater class, as the row [1 − p, p] scikit-learn
    // builds, with the same arithmetic (the row sum is not always exactly 1), without the rows.
    // The losses are summed as they come, in the order and with the products by 1 that a mean
    // over an array of them takes.
    if (classes.length !== 2) {
      throw new InputError(
        'INPUT_INVALID',
        `logLoss: yTrue and yPred contain different numbers of classes (${classes.length}, 2); give the classes with the labels option`,
      );
    }
    const weights = readWeights(options.sampleWeight, n, 'logLoss');
    const upper = Uint8Array.from(classOf, (c) => (c === 1 ? 1 : 0));
    let sum = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = Math.min(Math.max(data[i]!, EPS), 1 - EPS);
      const q = 1 - p;
      const loss = -Math.log((upper[y[i]!] === 1 ? p : q) / (q + p));
      const wi = weights === undefined ? 1 : weights[i]!;
      sum += loss * wi;
      total += wi;
    }
    return options.normalize !== false ? sum / total : sum;
  }
  for (let i = 0; i < data.length; i++) data[i] = Math.min(Math.max(data[i]!, EPS), 1 - EPS);
  if (k !== classes.length) {
    throw new InputError(
      'INPUT_INVALID',
      `logLoss: yTrue and yPred contain different numbers of classes (${classes.length}, ${k}); give the classes with the labels option`,
    );
  }
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) rowSum += data[i * k + j]!;
    losses[i] = -Math.log(data[i * k + classOf[y[i]!]!]! / rowSum);
  }
  return weightedMean(losses, readWeights(options.sampleWeight, n, 'logLoss'), options.normalize !== false);
}

/**
 * The Brier score, the mean squared difference between the predicted probability and the
 * outcome, as `sklearn.metrics.brier_score_loss`; binary targets only.
 */
export function brierScore(
  yTrue: LabelArray,
  yProb: ArrayLike<number>,
  options: { positiveLabel?: Label; sampleWeight?: Weights } = {},
): number {
  checkOptions('brierScore', options, ['positiveLabel', 'sampleWeight']);
  const y = readLabels(yTrue, 'yTrue', 'brierScore');
  const p = readScores(yProb, 'yProb', 'brierScore');
  checkLengths('brierScore', y, p);
  if (y.length === 0)
    throw new InputError('INPUT_INVALID', 'brierScore: found no samples; at least one is required');
  checkProbabilities('brierScore', p, 'yProb');
  checkDiscrete(y, 'yTrue', 'brierScore');
  const classes = uniqueSorted(y);
  if (classes.length > 2)
    throw new InputError(
      'INPUT_INVALID',
      `brierScore: only binary targets are supported; yTrue has ${classes.length} classes`,
    );
  const pos = defaultPositive('brierScore', classes, options.positiveLabel);
  const errors = Float64Array.from(y, (l, i) => ((l === pos ? 1 : 0) - p[i]!) ** 2);
  return weightedMean(errors, readWeights(options.sampleWeight, y.length, 'brierScore'), true);
}

/**
 * The fraction of samples whose true class is among the `k` highest scores, as
 * `sklearn.metrics.top_k_accuracy_score`. Binary targets take one score per sample.
 */
export function topKAccuracy(
  yTrue: LabelArray,
  yScore: ArrayLike<number> | ScoreMatrix,
  k: number,
  options: { labels?: readonly Label[]; normalize?: boolean; sampleWeight?: Weights; columns?: number } = {},
): number {
  checkOptions('topKAccuracy', options, ['labels', 'normalize', 'sampleWeight', 'columns']);
  if (!Number.isSafeInteger(k) || k < 1)
    throw invalidArgument('topKAccuracy', 'k must be a positive integer', k);
  const y = readLabels(yTrue, 'yTrue', 'topKAccuracy');
  checkDiscrete(y, 'yTrue', 'topKAccuracy');
  const classes =
    options.labels === undefined ? uniqueSorted(y) : readLabels(options.labels, 'labels', 'topKAccuracy');
  const n = y.length;
  const weights = readWeights(options.sampleWeight, n, 'topKAccuracy');
  const yi = encode(y, classes);
  if (yi.includes(-1))
    throw new InputError('INPUT_INVALID', 'topKAccuracy: yTrue contains labels not in the labels option');
  const hits = new Float64Array(n);
  const matrix = options.columns !== undefined || (Array.isArray(yScore) && Array.isArray(yScore[0]));
  if (!matrix) {
    const s = readScores(yScore, 'yScore', 'topKAccuracy');
    checkLengths('topKAccuracy', y, s);
    if (classes.length > 2)
      throw new InputError(
        'INPUT_INVALID',
        `topKAccuracy: yTrue has ${classes.length} classes but yScore has one score per sample`,
      );
    if (k === 1) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const v of s) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const threshold = min >= 0 && max <= 1 ? 0.5 : 0;
      for (let i = 0; i < n; i++) hits[i] = (s[i]! > threshold ? 1 : 0) === yi[i] ? 1 : 0;
    } else hits.fill(1);
  } else {
    const { data, k: cols } = readMatrix('topKAccuracy', yScore, options.columns, n);
    if (cols !== classes.length) {
      throw new InputError(
        'INPUT_INVALID',
        `topKAccuracy: number of classes in yTrue (${classes.length}) not equal to the number of columns in yScore (${cols})`,
      );
    }
    for (let i = 0; i < n; i++) {
      // The true class is in the top k when fewer than k classes outrank it; a tie goes to
      // the higher column index, as scikit-learn's reversed stable argsort orders them.
      const t = yi[i]!;
      const st = data[i * cols + t]!;
      let above = 0;
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j]!;
        if (v > st || (v === st && j > t)) above++;
      }
      hits[i] = above < k ? 1 : 0;
    }
  }
  return weightedMean(hits, weights, options.normalize !== false);
}
