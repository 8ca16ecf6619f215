import { InputError, invalidArgument } from '../errors';
import {
  checkLengths,
  formatLabels,
  type Label,
  readScores,
  readWeights,
  uniqueSorted,
  type Weights,
} from './labels';
import { sortFloat64, sortOrder } from './sort';

/**
 * Counts at each distinct score, from the highest down (scikit-learn's `_binary_clf_curve`):
 * `tps[i]`/`fps[i]` are the (weighted) positives and negatives scoring at least `thresholds[i]`.
 */
export interface BinaryCurve {
  tps: Float64Array;
  fps: Float64Array;
  thresholds: Float64Array;
}

/**
 * Builds the curve. Unweighted, it sorts the positives' and the negatives' scores separately
 * with the radix sort ({@link sortFloat64}) and merges them; weighted, it walks a stable sort
 * order from the highest score down, each run of equal scores in input order (so the weighted
 * sums add up in the same order as a stable descending sort, to the last bit).
 */
export function binaryCurve(
  positive: Uint8Array,
  scores: Float64Array,
  weights: Float64Array | undefined,
): BinaryCurve {
  const n = scores.length;
  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  const thresholds = new Float64Array(n);
  let m = 0;
  if (weights === undefined) {
    let np = 0;
    for (let i = 0; i < n; i++) np += positive[i]!;
    const posIn = new Float64Array(np);
    const negIn = new Float64Array(n - np);
    for (let i = 0, a = 0, b = 0; i < n; i++) {
      if (positive[i]) posIn[a++] = scores[i]!;
      else negIn[b++] = scores[i]!;
    }
    const pos = sortFloat64(posIn);
    const neg = sortFloat64(negIn);
    let a = pos.length - 1;
    let b = neg.length - 1;
    let tp = 0;
    let fp = 0;
    while (a >= 0 || b >= 0) {
      const v = a < 0 ? neg[b]! : b < 0 ? pos[a]! : Math.max(pos[a]!, neg[b]!);
      while (a >= 0 && pos[a] === v) {
        tp++;
        a--;
      }
      while (b >= 0 && neg[b] === v) {
        fp++;
        b--;
      }
      tps[m] = tp;
      fps[m] = fp;
      thresholds[m++] = v;
    }
  } else {
    // −0 and +0 are one score here, as they are to `===`: sort a copy where they are the same.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = scores[i]! === 0 ? 0 : scores[i]!;
    const order = sortOrder(keys);
    let tp = 0;
    let fp = 0;
    let hi = n - 1;
    while (hi >= 0) {
      let lo = hi;
      while (lo > 0 && keys[order[lo - 1]!] === keys[order[hi]!]) lo--;
      for (let k = lo; k <= hi; k++) {
        const i = order[k]!;
        if (positive[i]) tp += weights[i]!;
        else fp += weights[i]!;
      }
      tps[m] = tp;
      fps[m] = fp;
      thresholds[m++] = scores[order[hi]!]!;
      hi = lo - 1;
    }
  }
  return { tps: tps.slice(0, m), fps: fps.slice(0, m), thresholds: thresholds.slice(0, m) };
}

/** Inputs of a binary curve metric, read and checked. */
export interface BinaryInputs {
  positive: Uint8Array;
  scores: Float64Array;
  weights: Float64Array | undefined;
  classes: Label[];
}

export function readBinary(
  fn: string,
  yTrue: unknown,
  yScore: unknown,
  sampleWeight: Weights | undefined,
): { labels: ArrayLike<Label>; scores: Float64Array; weights: Float64Array | undefined; classes: Label[] } {
  const labels = binaryLabels(fn, yTrue);
  const scores = readScores(yScore, 'yScore', fn);
  checkLengths(fn, labels.values, scores);
  return {
    labels: labels.values,
    scores,
    weights: readWeights(sampleWeight, scores.length, fn),
    classes: labels.classes,
  };
}

/**
 * Reads the labels of a binary curve metric in one pass with no per-element allocation
 * (typed arrays of 10^7 labels are common here), refusing NaN, mixed types and more than two
 * classes, which scikit-learn's curves do not support either.
 */
function binaryLabels(fn: string, values: unknown): { values: ArrayLike<Label>; classes: Label[] } {
  if (
    typeof values !== 'object' ||
    values === null ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw invalidArgument(fn, 'yTrue must be an array of labels', values);
  }
  const a = values as ArrayLike<unknown>;
  let first: unknown;
  let second: unknown;
  const kind = a.length > 0 ? typeof a[0] : 'number';
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== kind || (kind !== 'string' && (kind !== 'number' || Number.isNaN(v)))) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: yTrue[${i}] is ${String(v)}; labels are numbers or strings, not mixed`,
      );
    }
    if (v === first || v === second) continue;
    if (first === undefined) first = v;
    else if (second === undefined) second = v;
    else {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: yTrue has more than two classes; this metric needs binary targets`,
      );
    }
  }
  const classes = uniqueSorted([first, second].filter((c) => c !== undefined) as Label[]);
  return { values: a as ArrayLike<Label>, classes };
}

/**
 * The positive class when none is given, as scikit-learn's `_check_pos_label_consistency`:
 * labels must be {0, 1} or {-1, 1} (or one of those values alone), and the positive is 1.
 */
export function defaultPositive(fn: string, classes: readonly Label[], given: Label | undefined): Label {
  if (given !== undefined) return given;
  const ok =
    classes.every((c) => typeof c === 'number') &&
    [[0, 1], [-1, 1], [0], [-1], [1]].some(
      (set) => classes.length === set.length && classes.every((c, i) => c === set[i]),
    );
  if (!ok) {
    throw invalidArgument(
      fn,
      `yTrue takes values in ${formatLabels(classes)} and positiveLabel is not given: use labels {0, 1} or {-1, 1}, or give positiveLabel`,
      classes,
    );
  }
  return 1;
}

export function positives(labels: ArrayLike<Label>, positive: Label): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] === positive ? 1 : 0;
  return out;
}

/** Area under the ROC curve from its counts (trapezoids; ties count half, as Mann-Whitney). */
export function aucFromCurve(c: BinaryCurve): number {
  const P = c.tps[c.tps.length - 1]!;
  const N = c.fps[c.fps.length - 1]!;
  let area = 0;
  let prevT = 0;
  let prevF = 0;
  for (let i = 0; i < c.tps.length; i++) {
    area += (c.fps[i]! - prevF) * (c.tps[i]! + prevT);
    prevT = c.tps[i]!;
    prevF = c.fps[i]!;
  }
  return area / 2 / (P * N);
}

export function requireTwoClasses(fn: string, classes: readonly Label[]): void {
  if (classes.length !== 2) {
    throw new InputError(
      'METRIC_UNDEFINED',
      classes.length < 2
        ? `${fn}: only one class present in yTrue; ROC AUC is not defined in that case`
        : `${fn}: yTrue has ${classes.length} classes; pass an n×k probability matrix with multiClass 'ovr' or 'ovo'`,
    );
  }
}
