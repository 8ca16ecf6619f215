import {
  accuracy,
  balancedAccuracy,
  cohenKappa,
  f1,
  matthewsCorrcoef,
  precision,
  recall,
} from '../metrics/classification';
import { aucFromCurve, type BinaryCurve, binaryCurve } from '../metrics/curve-core';
import { encode, type Label, uniqueSorted } from '../metrics/labels';
import { brierScore, logLoss } from '../metrics/probabilistic';
import { apFromCurve, averagePrecision, rocAuc } from '../metrics/ranking';
import { meanAbsoluteError, meanSquaredError, r2Score } from '../metrics/regression';
import { sortOrder } from '../metrics/sort';
import {
  addAucInfluence,
  averagePrecisionStandardError,
  cellsStandardError,
  delongStandardError,
  type Interval,
  meanStandardError,
  normalInterval,
  type RankOrder,
  r2StandardError,
  wilsonInterval,
} from './intervals';
import type { Scored } from './scored';
import type { MetricName } from './types';

/**
 * A metric scored on weighted samples. `undefined` weights give the point estimate through
 * the public metric function (scikit-learn's value); a weight vector (bootstrap counts) goes
 * through a kernel prepared once, so a thousand resamples cost a thousand O(n) passes rather
 * than a thousand sorts. Tests check each kernel against the public function with the same
 * weights.
 */
export type Scorer = ((weights?: Float64Array) => number) & {
  /** The analytic interval around the point estimate `value` at normal quantile `z` (see intervals.ts). */
  interval?: (value: number, z: number) => Interval | undefined;
};

function withInterval(score: (weights?: Float64Array) => number, interval: Scorer['interval']): Scorer {
  return Object.assign(score, { interval });
}

/** A normal interval around the metric's point estimate from its standard error. */
function normalAround(se: () => number, min: number, max: number): Scorer['interval'] {
  return (value, z) => normalInterval(value, se(), z, min, max);
}

/** Metrics where a smaller value is better. */
export const LOWER_IS_BETTER: ReadonlySet<MetricName> = new Set<MetricName>([
  'logLoss',
  'brierScore',
  'meanSquaredError',
  'meanAbsoluteError',
]);

/** Every metric name, in the order reports list them. */
export const METRIC_NAMES: readonly MetricName[] = [
  'accuracy',
  'balancedAccuracy',
  'precision',
  'recall',
  'f1',
  'matthewsCorrcoef',
  'cohenKappa',
  'rocAuc',
  'averagePrecision',
  'logLoss',
  'brierScore',
  'meanSquaredError',
  'meanAbsoluteError',
  'r2Score',
];

/** Why a metric cannot be computed on this evaluation, or `undefined` when it can. */
export function unavailable(name: MetricName, s: Scored): string | undefined {
  const regression = name === 'meanSquaredError' || name === 'meanAbsoluteError' || name === 'r2Score';
  if (s.task === 'regression')
    return regression ? undefined : `${name} is a classification metric; the task is regression`;
  if (regression) return `${name} is a regression metric; the task is ${s.task} classification`;
  if (
    name === 'cohenKappa' ||
    name === 'balancedAccuracy' ||
    name === 'accuracy' ||
    name === 'matthewsCorrcoef'
  )
    return undefined;
  if (name === 'precision' || name === 'recall' || name === 'f1') return undefined;
  const scores = s.positiveScores !== undefined || s.matrix !== undefined;
  if (!scores) return `${name} needs scores; the predictions were read from a label output`;
  if (name === 'averagePrecision' || name === 'brierScore') {
    if (s.task !== 'binary') return `${name} is defined here for binary tasks only`;
  }
  if (name === 'rocAuc' && s.task === 'multiclass' && !s.probabilities)
    return "rocAuc for multiclass needs probabilities; pass scores: 'logits' if the output holds logits";
  if ((name === 'logLoss' || name === 'brierScore') && !s.probabilities)
    return `${name} needs probabilities; the output holds scores outside [0, 1]`;
  return undefined;
}

/** The metrics a report shows by default for this task and these scores. */
export function defaultMetrics(s: Scored): MetricName[] {
  const wanted: MetricName[] =
    s.task === 'regression'
      ? ['meanSquaredError', 'meanAbsoluteError', 'r2Score']
      : s.task === 'binary'
        ? [
            'accuracy',
            'balancedAccuracy',
            'precision',
            'recall',
            'f1',
            'matthewsCorrcoef',
            'rocAuc',
            'averagePrecision',
            'logLoss',
            'brierScore',
          ]
        : [
            'accuracy',
            'balancedAccuracy',
            'precision',
            'recall',
            'f1',
            'matthewsCorrcoef',
            'cohenKappa',
            'rocAuc',
            'logLoss',
          ];
  return wanted.filter((m) => unavailable(m, s) === undefined);
}

/** Builds the scorer of one metric. */
export function scorer(name: MetricName, s: Scored): Scorer {
  switch (name) {
    case 'accuracy':
      return confusionScorer(s, (t, p, w) => accuracy(t, p, { sampleWeight: w }), 'accuracy');
    case 'balancedAccuracy':
      return confusionScorer(s, (t, p, w) => balancedAccuracy(t, p, { sampleWeight: w }));
    case 'matthewsCorrcoef':
      return confusionScorer(s, (t, p, w) => matthewsCorrcoef(t, p, { sampleWeight: w }), undefined, -1);
    case 'cohenKappa':
      return confusionScorer(s, (t, p, w) => cohenKappa(t, p, { sampleWeight: w }), undefined, -1);
    case 'precision':
    case 'recall':
    case 'f1': {
      const fn = name === 'precision' ? precision : name === 'recall' ? recall : f1;
      const options =
        s.task === 'binary'
          ? { average: 'binary' as const, positiveLabel: s.positive }
          : { average: s.average, labels: s.classes };
      // A proportion has Wilson's interval: accuracy, binary precision and recall, and a
      // micro average (one label per row makes it the accuracy).
      const proportion =
        s.task === 'binary'
          ? name === 'f1'
            ? undefined
            : name
          : s.average === 'micro'
            ? 'accuracy'
            : undefined;
      return confusionScorer(s, (t, p, w) => fn(t, p, { ...options, sampleWeight: w }) as number, proportion);
    }
    case 'rocAuc':
      return s.task === 'binary' ? binaryRankScorer(s, 'auc') : ovrAucScorer(s);
    case 'averagePrecision':
      return binaryRankScorer(s, 'ap');
    case 'logLoss':
      return logLossScorer(s);
    case 'brierScore':
      return brierScorer(s);
    case 'meanSquaredError':
    case 'meanAbsoluteError':
    case 'r2Score':
      return regressionScorer(s, name);
  }
}

/**
 * The labels present (true or predicted, sorted), the k² (true, predicted) pairs and how many
 * rows hold each, built once per evaluation for every set-wise metric and table.
 */
export interface Encoded {
  present: Label[];
  pairTrue: Label[];
  pairPred: Label[];
  /** Rows per pair: the confusion matrix over `present`, row-major. */
  counts: Float64Array;
  /** Each row's pair (true index · k + predicted index), made when first asked (resampling only). */
  rowPairs: () => Int32Array;
}

const encodings = new WeakMap<Scored, Encoded>();

/** Past this many labels in the code table, pairs are counted through `encode` instead. */
const PAIR_TABLE = 1024;

export function encoded(s: Scored): Encoded {
  let e = encodings.get(s);
  if (e === undefined) {
    e = s.codes !== undefined && s.codes.table.length <= PAIR_TABLE ? fromCodes(s.codes, s.n) : fromArrays(s);
    encodings.set(s, e);
  }
  return e;
}

function pairsOf(present: Label[]): { pairTrue: Label[]; pairPred: Label[] } {
  const pairTrue: Label[] = [];
  const pairPred: Label[] = [];
  for (const a of present) {
    for (const b of present) {
      pairTrue.push(a);
      pairPred.push(b);
    }
  }
  return { pairTrue, pairPred };
}

function fromArrays(s: Scored): Encoded {
  const present = uniqueSorted(s.yTrue, s.yPred);
  const ti = encode(s.yTrue, present);
  const pi = encode(s.yPred, present);
  const k = present.length;
  const counts = new Float64Array(k * k);
  for (let i = 0; i < ti.length; i++) counts[ti[i]! * k + pi[i]!]!++;
  const rowPairs = () => Int32Array.from(ti, (t, i) => t * k + pi[i]!);
  return { present, ...pairsOf(present), counts, rowPairs };
}

/**
 * The same from the label codes: one pass counts the rows of each (true code, predicted code)
 * pair; the present labels and their counts come from that table, with no n-sized array.
 */
function fromCodes(codes: NonNullable<Scored['codes']>, n: number): Encoded {
  const { table, truth, pred } = codes;
  const t = table.length;
  const byCode = new Float64Array(t * t);
  for (let i = 0; i < n; i++) byCode[truth[i]! * t + pred[i]!]!++;
  const seen: Label[] = [];
  for (let c = 0; c < t; c++) {
    let rows = 0;
    for (let d = 0; d < t; d++) rows += byCode[c * t + d]! + byCode[d * t + c]!;
    if (rows > 0) seen.push(table[c]!);
  }
  const present = uniqueSorted(seen);
  const k = present.length;
  const at = encode(table, present);
  const counts = new Float64Array(k * k);
  for (let c = 0; c < t; c++)
    for (let d = 0; d < t; d++)
      if (byCode[c * t + d]! > 0) counts[at[c]! * k + at[d]!]! += byCode[c * t + d]!;
  const rowPairs = () => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = at[truth[i]!]! * k + at[pred[i]!]!;
    return out;
  };
  return { present, ...pairsOf(present), counts, rowPairs };
}

/**
 * Set-wise metrics depend only on the weighted confusion matrix. A resample's matrix is built
 * in one pass; the public function then scores the k² (true, predicted) pairs weighted by it,
 * which is exactly the metric of the full arrays under those weights (the same labels are
 * present). The point value too: the pairs weighted by their row counts give the full arrays'
 * value bit for bit (the counts are whole numbers, so every sum is exact; metric-set.test.ts
 * checks it), at k² rows instead of n.
 */
function confusionScorer(
  s: Scored,
  fn: (yTrue: readonly Label[], yPred: readonly Label[], w: Float64Array | undefined) => number,
  proportion?: 'accuracy' | 'precision' | 'recall',
  min = 0,
): Scorer {
  const { present, pairTrue, pairPred, counts, rowPairs } = encoded(s);
  const k = present.length;
  let pairs: Int32Array | undefined;
  const matrix = (w: Float64Array): Float64Array => {
    pairs ??= rowPairs();
    const weighted = new Float64Array(k * k);
    for (let i = 0; i < pairs.length; i++) weighted[pairs[i]!]! += w[i]!;
    return weighted;
  };
  const score = (w?: Float64Array): number => fn(pairTrue, pairPred, w === undefined ? counts : matrix(w));
  return withInterval(score, (value, z) => {
    if (proportion === undefined) {
      const se = cellsStandardError(counts, (c) => fn(pairTrue, pairPred, c));
      return normalInterval(value, se, z, min, 1);
    }
    let hits = 0;
    let trials = 0;
    if (proportion === 'accuracy') {
      for (let a = 0; a < k; a++) hits += counts[a * k + a]!;
      trials = s.n;
    } else {
      const p = present.indexOf(s.positive!);
      if (p === -1) return undefined;
      hits = counts[p * k + p]!;
      for (let a = 0; a < k; a++)
        trials += proportion === 'precision' ? counts[a * k + p]! : counts[p * k + a]!;
    }
    return wilsonInterval(hits, trials, z);
  });
}

/** Indices ordered by score, highest first, and where each run of equal scores ends. */
export function rankOrder(scores: ArrayLike<number>, stride = 1, column = 0, n = scores.length): RankOrder {
  // −0 and +0 are one score (`+ 0` makes every zero +0); the stable descending radix order
  // keeps equal scores in index order, as the comparator `keys[b] - keys[a] || a - b` did.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = scores[i * stride + column]! + 0;
  const order = sortOrder(keys, { descending: true });
  const ends = new Uint8Array(n);
  for (let r = 0; r < n; r++) ends[r] = r === n - 1 || keys[order[r]!] !== keys[order[r + 1]!] ? 1 : 0;
  return { order, ends };
}

/** Weighted ROC AUC or average precision from a precomputed order: one pass per resample. */
function rankKernel(
  order: Uint32Array,
  ends: Uint8Array,
  positive: Uint8Array,
  what: 'auc' | 'ap',
): (w: Float64Array) => number {
  return (w) => {
    let totalP = 0;
    let totalN = 0;
    for (let i = 0; i < positive.length; i++) {
      if (positive[i]) totalP += w[i]!;
      else totalN += w[i]!;
    }
    // A resample without one of the classes cannot score a ranking: it is skipped.
    if (totalP === 0 || totalN === 0) return Number.NaN;
    let tp = 0;
    let fp = 0;
    let prevTp = 0;
    let prevFp = 0;
    let area = 0;
    for (let r = 0; r < order.length; r++) {
      const i = order[r]!;
      if (positive[i]) tp += w[i]!;
      else fp += w[i]!;
      if (!ends[r]) continue;
      if (what === 'auc') area += ((fp - prevFp) * (tp + prevTp)) / 2;
      else if (tp + fp > 0) area += ((tp - prevTp) / totalP) * (tp / (tp + fp));
      prevTp = tp;
      prevFp = fp;
    }
    return what === 'auc' ? area / (totalP * totalN) : area;
  };
}

const positives = new WeakMap<Scored, Uint8Array>();

/** 1 where the row's label is `label`: through the label codes when there are codes. */
export function isLabel(s: Scored, label: Label | undefined): Uint8Array {
  const out = new Uint8Array(s.n);
  if (s.codes !== undefined) {
    const flag = s.codes.table.map((l) => (l === label ? 1 : 0));
    const truth = s.codes.truth;
    for (let i = 0; i < out.length; i++) out[i] = flag[truth[i]!]!;
  } else {
    const y = s.yTrue;
    for (let i = 0; i < out.length; i++) out[i] = y[i] === label ? 1 : 0;
  }
  return out;
}

/** 1 where the row's label is the positive class (made once per evaluation). */
export function isPositive(s: Scored): Uint8Array {
  let out = positives.get(s);
  if (out === undefined) {
    out = isLabel(s, s.positive);
    positives.set(s, out);
  }
  return out;
}

/**
 * The binary scores' curve (positives and negatives at or above each distinct score), built
 * once per evaluation: rocAuc, averagePrecision, their intervals and the report's curves all
 * read it. The rows' rank order, which resampling needs, is sorted only when resampling.
 */
const binaryCurves = new WeakMap<Scored, BinaryCurve>();

/** The curve of a binary evaluation's positive scores (one sort, shared; see above). */
export function binaryCurveOf(s: Scored): BinaryCurve {
  let curve = binaryCurves.get(s);
  if (curve === undefined) {
    curve = binaryCurve(isPositive(s), s.positiveScores!, undefined);
    binaryCurves.set(s, curve);
  }
  return curve;
}

function binaryRankScorer(s: Scored, what: 'auc' | 'ap'): Scorer {
  const scores = s.positiveScores!;
  const positive = isPositive(s);
  let kernel: ((w: Float64Array) => number) | undefined;
  const score = (w?: Float64Array): number => {
    if (w !== undefined) {
      if (kernel === undefined) {
        const { order, ends } = rankOrder(scores);
        kernel = rankKernel(order, ends, positive, what);
      }
      return kernel(w);
    }
    const curve = binaryCurveOf(s);
    const both = curve.tps[curve.tps.length - 1]! > 0 && curve.fps[curve.fps.length - 1]! > 0;
    // The public functions give the same value from the same curve, and the errors for one class.
    if (!both) return what === 'auc' ? rocAuc(positive, scores) : averagePrecision(positive, scores);
    return what === 'auc' ? aucFromCurve(curve) : apFromCurve(curve);
  };
  const se = () =>
    what === 'auc' ? delongStandardError(binaryCurveOf(s)) : averagePrecisionStandardError(binaryCurveOf(s));
  return withInterval(score, normalAround(se, 0, 1));
}

function ovrAucScorer(s: Scored): Scorer {
  const k = s.classes.length;
  const matrix = s.matrix!;
  const kernels = s.classes.map((c, j) => {
    const positive = isLabel(s, c);
    const ranked = rankOrder(matrix, k, j, s.n);
    return { positive, ranked, kernel: rankKernel(ranked.order, ranked.ends, positive, 'auc') };
  });
  const average = s.average === 'weighted' ? 'weighted' : 'macro';
  const score = (w?: Float64Array): number => {
    if (w === undefined) return rocAuc(s.yTrue, matrix, { k, multiClass: 'ovr', average, labels: s.classes });
    let total = 0;
    let weightSum = 0;
    for (const { positive, kernel } of kernels) {
      const auc = kernel(w);
      if (Number.isNaN(auc)) return Number.NaN;
      let prevalence = 1;
      if (average === 'weighted') {
        prevalence = 0;
        for (let i = 0; i < positive.length; i++) if (positive[i]) prevalence += w[i]!;
      }
      total += auc * prevalence;
      weightSum += prevalence;
    }
    return total / weightSum;
  };
  // The average's derivative by a row's weight is the average of the classes' derivatives;
  // weighted by prevalence, each class's share moves with the row too.
  const se = (): number => {
    const influence = new Float64Array(s.n);
    for (const { positive, ranked } of kernels) {
      let count = 0;
      for (let i = 0; i < s.n; i++) count += positive[i]!;
      const share = average === 'weighted' ? count / s.n : 1 / k;
      const auc = addAucInfluence(ranked, positive, share, influence);
      if (average === 'weighted')
        for (let i = 0; i < s.n; i++) influence[i] = influence[i]! + (auc * (positive[i]! - share)) / s.n;
    }
    let variance = 0;
    for (let i = 0; i < s.n; i++) variance += influence[i]! * influence[i]!;
    return Math.sqrt(variance);
  };
  return withInterval(score, normalAround(se, 0, 1));
}

function weightedMean(values: Float64Array, w: Float64Array): number {
  let s = 0;
  let t = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i]! * w[i]!;
    t += w[i]!;
  }
  return s / t;
}

/** The probability of the greater class (`classes[1]`), as scikit-learn's one-column form expects. */
function upperProbability(s: Scored): Float64Array | Float32Array {
  const p = s.positiveScores!;
  return s.positive === s.classes[1] ? p : Float64Array.from(p, (v) => 1 - v);
}

const EPS = 2.220446049250313e-16; // logLoss's clipping, as scikit-learn 1.2's eps='auto'

/**
 * A per-row loss of a binary evaluation, as a function of the row: the scorers sum it in row
 * order (the mean and the standard error's two passes), so no n-sized array of losses is kept;
 * only resampling, which weighs every row a thousand times, makes the array.
 */
type RowLoss = (i: number) => number;

function meanOf(loss: RowLoss, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += loss(i);
  return sum;
}

/** {@link meanStandardError} of the losses, without the array: the same sums in the same order. */
function lossStandardError(loss: RowLoss, n: number): number {
  if (n < 2) return Number.NaN;
  const mean = meanOf(loss, n) / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (loss(i) - mean) ** 2;
  return Math.sqrt(ss / (n - 1) / n);
}

function lossArray(loss: RowLoss, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = loss(i);
  return out;
}

/** Numeric labels that are not whole numbers: `brierScore` refuses them, so it is asked directly. */
function continuousLabels(s: Scored): boolean {
  return s.codes === undefined || s.codes.table.some((l) => typeof l === 'number' && !Number.isInteger(l));
}

function logLossScorer(s: Scored): Scorer {
  if (s.task === 'binary') {
    const p1 = upperProbability(s);
    const upper = isLabel(s, s.classes[1]);
    const loss: RowLoss = (i) => {
      const p = Math.min(Math.max(p1[i]!, EPS), 1 - EPS);
      return -Math.log(upper[i] ? p : 1 - p);
    };
    // logLoss's own sum (one column: the probability of the greater of the sorted classes,
    // renormalised as scikit-learn's [1 − p, p] row), row by row as it adds them.
    const greater = uniqueSorted(s.classes)[1];
    const point = (): number => {
      if (s.codes === undefined || s.n === 0) return logLoss(s.yTrue, p1, { labels: s.classes });
      const flag = isLabel(s, greater);
      let sum = 0;
      for (let i = 0; i < s.n; i++) {
        const p = Math.min(Math.max(p1[i]!, EPS), 1 - EPS);
        const q = 1 - p;
        sum += -Math.log((flag[i] === 1 ? p : q) / (q + p)) * 1;
      }
      return sum / s.n;
    };
    return rowLossScorer(point, loss, s.n, 0, Infinity);
  }
  const losses = new Float64Array(s.n);
  const k = s.classes.length;
  const m = s.matrix!;
  const truth = encode(s.yTrue, s.classes);
  for (let i = 0; i < s.n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.min(Math.max(m[i * k + j]!, EPS), 1 - EPS);
    losses[i] = -Math.log(Math.min(Math.max(m[i * k + truth[i]!]!, EPS), 1 - EPS) / sum);
  }
  const score = (w?: Float64Array) =>
    w === undefined ? logLoss(s.yTrue, m, { labels: s.classes, k }) : weightedMean(losses, w);
  return withInterval(
    score,
    normalAround(() => meanStandardError(losses), 0, Infinity),
  );
}

function brierScorer(s: Scored): Scorer {
  const p = s.positiveScores!;
  const positive = isPositive(s);
  const loss: RowLoss = (i) => (p[i]! - positive[i]!) ** 2;
  // brierScore's mean: ((y − p)², the same square) summed row by row.
  const point = (): number => {
    if (continuousLabels(s) || s.n === 0) return brierScore(s.yTrue, p, { positiveLabel: s.positive });
    let sum = 0;
    for (let i = 0; i < s.n; i++) sum += (positive[i]! - p[i]!) ** 2 * 1;
    return sum / s.n;
  };
  return rowLossScorer(point, loss, s.n, 0, 1);
}

/**
 * A mean of per-row losses: the point estimate from `point` (the metric's own sum), resampled
 * means from an array of the losses made only when a resample asks for it, and a normal interval
 * (bounded by `low` and `high`) from their standard error taken without that array.
 */
function rowLossScorer(point: () => number, loss: RowLoss, n: number, low: number, high: number): Scorer {
  let losses: Float64Array | undefined;
  const score = (w?: Float64Array) => {
    if (w === undefined) return point();
    losses ??= lossArray(loss, n);
    return weightedMean(losses, w);
  };
  return withInterval(
    score,
    normalAround(() => lossStandardError(loss, n), low, high),
  );
}

function regressionScorer(s: Scored, name: 'meanSquaredError' | 'meanAbsoluteError' | 'r2Score'): Scorer {
  const y = s.truth!;
  const e = s.estimate!;
  const score = (w?: Float64Array): number => {
    if (w === undefined) {
      return name === 'meanSquaredError'
        ? meanSquaredError(y, e)
        : name === 'meanAbsoluteError'
          ? meanAbsoluteError(y, e)
          : r2Score(y, e);
    }
    let sw = 0;
    let sy = 0;
    let sse = 0;
    let sae = 0;
    for (let i = 0; i < y.length; i++) {
      const d = y[i]! - e[i]!;
      sw += w[i]!;
      sy += w[i]! * y[i]!;
      sse += w[i]! * d * d;
      sae += w[i]! * Math.abs(d);
    }
    if (name === 'meanSquaredError') return sse / sw;
    if (name === 'meanAbsoluteError') return sae / sw;
    const mean = sy / sw;
    let sst = 0;
    for (let i = 0; i < y.length; i++) sst += w[i]! * (y[i]! - mean) ** 2;
    // scikit-learn's force_finite: a constant target scores 1 when predicted exactly, else 0.
    if (sst === 0) return sse === 0 ? 1 : 0;
    return 1 - sse / sst;
  };
  const se = (): number => {
    if (name === 'r2Score') return r2StandardError(y, e);
    const loss = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++)
      loss[i] = name === 'meanSquaredError' ? (y[i]! - e[i]!) ** 2 : Math.abs(y[i]! - e[i]!);
    return meanStandardError(loss);
  };
  return withInterval(
    score,
    normalAround(se, name === 'r2Score' ? -Infinity : 0, name === 'r2Score' ? 1 : Infinity),
  );
}
