import { InputError, invalidArgument } from '../errors';
import {
  checkLengths,
  checkOptions,
  encode,
  formatLabels,
  type Label,
  type LabelArray,
  LabelCoder,
  readCodes,
  readLabels,
  readWeights,
  uniqueSorted,
  type Weights,
} from './labels';

/** How per-class scores are combined, as scikit-learn's `average` (`'none'` is its `None`). */
export type Average = 'binary' | 'micro' | 'macro' | 'weighted' | 'none';

/** The value of a score whose denominator is zero (`'warn'` acts as 0, as in scikit-learn 1.2). */
export type ZeroDivision = 'warn' | 0 | 1;

export interface SetWiseOptions {
  /** Default `'binary'`: the score of `positiveLabel`; the data must have at most two classes. */
  average?: Average;
  /** The positive class when `average` is `'binary'` (default `1`). */
  positiveLabel?: Label;
  /** The classes to score, in this order (default: every class in either array, sorted). */
  labels?: readonly Label[];
  /** Default `'warn'` (0). */
  zeroDivision?: ZeroDivision;
  sampleWeight?: Weights;
}

const OPTIONS = ['average', 'positiveLabel', 'labels', 'zeroDivision', 'sampleWeight'];
const AVERAGES: readonly Average[] = ['binary', 'micro', 'macro', 'weighted', 'none'];

/**
 * Prepared targets of a classification metric: labels read and checked into codes, the
 * data's type. `trueCodes[i]` and `predCodes[i]` index `present`.
 */
export interface Targets {
  trueCodes: Int32Array | Uint8Array;
  predCodes: Int32Array | Uint8Array;
  present: Label[];
  type: 'binary' | 'multiclass';
  weights: Float64Array | undefined;
}

export function readTargets(
  fn: string,
  yTrue: LabelArray,
  yPred: LabelArray,
  sampleWeight: Weights | undefined,
): Targets {
  const coder = new LabelCoder();
  const t = readCodes(yTrue, 'yTrue', fn, coder);
  const p = readCodes(yPred, 'yPred', fn, coder);
  checkLengths(fn, t.codes, p.codes);
  const seen = coder.classes;
  for (const [name, read] of [
    ['yTrue', t],
    ['yPred', p],
  ] as const) {
    if (read.nonInteger >= 0) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${read.nonInteger}] is ${seen[read.codes[read.nonInteger]!]}; classification metrics need discrete labels, not continuous values`,
      );
    }
  }
  if (t.codes.length > 0 && typeof seen[t.codes[0]!] !== typeof seen[p.codes[0]!]) {
    throw new InputError('INPUT_INVALID', `${fn}: yTrue and yPred mix string and number labels`);
  }
  const present = uniqueSorted(seen);
  // Codes in order of first appearance to codes into the sorted classes.
  const rank = encode(seen, present);
  if (rank.some((r, c) => r !== c)) {
    for (const codes of [t.codes, p.codes])
      for (let i = 0; i < codes.length; i++) codes[i] = rank[codes[i]!]!;
  }
  return {
    trueCodes: t.codes,
    predCodes: p.codes,
    present,
    type: present.length <= 2 ? 'binary' : 'multiclass',
    weights: readWeights(sampleWeight, t.codes.length, fn),
  };
}

/**
 * Weighted counts of each (true, predicted) pair of present classes, `kp × kp` with `kp` the
 * number of present classes, in sample order (so weighted sums add up as a loop over the
 * samples would).
 */
export function pairCounts(targets: Targets): Float64Array {
  const k = targets.present.length;
  const cells = new Float64Array(k * k);
  const { trueCodes: t, predCodes: p, weights: w } = targets;
  if (w === undefined) for (let i = 0; i < t.length; i++) cells[t[i]! * k + p[i]!]!++;
  else for (let i = 0; i < t.length; i++) cells[t[i]! * k + p[i]!]! += w[i]!;
  return cells;
}

/** Weighted per-class counts: true positives, predicted and actual totals. */
export function classCounts(
  targets: Targets,
  labels: readonly Label[],
): { tp: Float64Array; pred: Float64Array; actual: Float64Array } {
  const k = labels.length;
  const tp = new Float64Array(k);
  const pred = new Float64Array(k);
  const actual = new Float64Array(k);
  // Each present class's index in `labels` (−1 when not asked for).
  const at = encode(targets.present, labels);
  const { trueCodes, predCodes, weights: w } = targets;
  for (let i = 0; i < trueCodes.length; i++) {
    const wi = w === undefined ? 1 : w[i]!;
    const a = at[trueCodes[i]!]!;
    const b = at[predCodes[i]!]!;
    if (a >= 0) actual[a] = actual[a]! + wi;
    if (b >= 0) pred[b] = pred[b]! + wi;
    if (a >= 0 && a === b) tp[a] = tp[a]! + wi;
  }
  return { tp, pred, actual };
}

export interface PrfResult {
  precision: number | number[];
  recall: number | number[];
  fScore: number | number[];
}

/**
 * Precision, recall and F-beta together, with scikit-learn's `precision_recall_fscore_support`
 * semantics: label selection, the binary checks, zero division and each average.
 */
export function precisionRecallFscore(
  fn: string,
  yTrue: LabelArray,
  yPred: LabelArray,
  beta: number,
  options: SetWiseOptions = {},
): PrfResult {
  checkOptions(fn, options, OPTIONS);
  const average = options.average ?? 'binary';
  if (!AVERAGES.includes(average))
    throw invalidArgument(fn, `average must be one of ${AVERAGES.join(', ')}`, average);
  const zd = options.zeroDivision ?? 'warn';
  if (zd !== 'warn' && zd !== 0 && zd !== 1)
    throw invalidArgument(fn, "zeroDivision must be 'warn', 0 or 1", zd);
  if (typeof beta !== 'number' || Number.isNaN(beta) || beta < 0)
    throw invalidArgument(fn, 'beta must be a non-negative number', beta);
  const targets = readTargets(fn, yTrue, yPred, options.sampleWeight);
  const zero = zd === 1 ? 1 : 0;
  const positive = options.positiveLabel ?? 1;
  let labels: readonly Label[];
  if (average === 'binary') {
    if (targets.type !== 'binary') {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: the targets are multiclass but average is 'binary'; choose 'micro', 'macro', 'weighted' or 'none'`,
      );
    }
    if (!targets.present.includes(positive) && targets.present.length >= 2) {
      throw invalidArgument(
        fn,
        `positiveLabel=${JSON.stringify(positive)} is not a valid label; it should be one of ${formatLabels(targets.present)}`,
        positive,
      );
    }
    labels = [positive];
  } else {
    labels = options.labels === undefined ? targets.present : readLabelsOption(fn, options.labels);
  }
  let { tp, pred, actual } = classCounts(targets, labels);
  if (average === 'micro') {
    tp = Float64Array.of(sum(tp));
    pred = Float64Array.of(sum(pred));
    actual = Float64Array.of(sum(actual));
  }
  const divide = (num: Float64Array, den: Float64Array) =>
    Array.from(num, (n, i) => (den[i] === 0 ? zero : n / den[i]!));
  const precision = divide(tp, pred);
  const recall = divide(tp, actual);
  const b2 = beta * beta;
  const fScore = precision.map((p, i) => {
    const r = recall[i]!;
    if (beta === Number.POSITIVE_INFINITY) return r;
    const denom = b2 * p + r;
    return ((1 + b2) * p * r) / (denom === 0 ? 1 : denom);
  });
  if (average === 'none') return { precision, recall, fScore };
  if (average === 'weighted') {
    const total = sum(actual);
    if (total === 0) {
      // scikit-learn's special case: no true samples of the chosen labels at all.
      return sum(pred) === 0
        ? { precision: zero, recall: zero, fScore: zero }
        : { precision: 0, recall: zero, fScore: 0 };
    }
    const avg = (v: number[]) => v.reduce((acc, x, i) => acc + x * actual[i]!, 0) / total;
    return { precision: avg(precision), recall: avg(recall), fScore: avg(fScore) };
  }
  const mean = (v: number[]) => (v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length);
  return { precision: mean(precision), recall: mean(recall), fScore: mean(fScore) };
}

function readLabelsOption(fn: string, labels: unknown): Label[] {
  const l = readLabels(labels, 'labels', fn);
  if (l.length === 0) throw invalidArgument(fn, 'labels must name at least one class', labels);
  return l;
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
