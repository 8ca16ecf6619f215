import { type BinaryCurve, curveFor, defaultPositive, readBinary } from './curve-core';
import { checkOptions, type Label, type LabelArray, type Weights } from './labels';

export interface CurveOptions {
  /** The positive class (default 1 when the labels are {0, 1} or {-1, 1}; required otherwise). */
  positiveLabel?: Label;
  sampleWeight?: Weights;
}

/**
 * The ROC curve, as `sklearn.metrics.roc_curve` (scikit-learn 1.2): thresholds from the
 * highest score down, the first being `max(score) + 1`. `dropIntermediate` (default `true`)
 * drops points that lie on a straight line between their neighbours; the area is unchanged.
 * Without positives (or negatives) the corresponding rate is NaN, as in scikit-learn.
 */
export function rocCurve(
  yTrue: LabelArray,
  yScore: ArrayLike<number>,
  options: CurveOptions & { dropIntermediate?: boolean } = {},
): { fpr: Float64Array; tpr: Float64Array; thresholds: Float64Array } {
  checkOptions('rocCurve', options, ['positiveLabel', 'sampleWeight', 'dropIntermediate']);
  const input = readBinary('rocCurve', yTrue, yScore, options.sampleWeight);
  const pos = defaultPositive('rocCurve', input.classes, options.positiveLabel);
  return rocFromCurve(curveFor(input, pos), options.dropIntermediate !== false);
}

/** The ROC curve from a binary curve's counts, as {@link rocCurve} gives it. */
export function rocFromCurve(
  curve: BinaryCurve,
  dropIntermediate: boolean,
): { fpr: Float64Array; tpr: Float64Array; thresholds: Float64Array } {
  let { tps, fps, thresholds } = curve;
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      if (fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 || tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0)
        keep.push(i);
    }
    keep.push(fps.length - 1);
    tps = Float64Array.from(keep, (i) => tps[i]!);
    fps = Float64Array.from(keep, (i) => fps[i]!);
    thresholds = Float64Array.from(keep, (i) => thresholds[i]!);
  }
  const m = tps.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const th = new Float64Array(m);
  const lastF = fps[fps.length - 1] ?? 0;
  const lastT = tps[tps.length - 1] ?? 0;
  th[0] = (thresholds[0] ?? 0) + 1;
  for (let i = 1; i < m; i++) {
    fpr[i] = lastF > 0 ? fps[i - 1]! / lastF : Number.NaN;
    tpr[i] = lastT > 0 ? tps[i - 1]! / lastT : Number.NaN;
    th[i] = thresholds[i - 1]!;
  }
  if (lastF <= 0) fpr[0] = Number.NaN;
  if (lastT <= 0) tpr[0] = Number.NaN;
  return { fpr, tpr, thresholds: th };
}

/**
 * Precision and recall at each threshold, as `sklearn.metrics.precision_recall_curve`
 * (scikit-learn 1.2): thresholds increasing, with a final point (precision 1, recall 0) that
 * has no threshold. Without positives recall is 1 everywhere, as in scikit-learn.
 */
export function precisionRecallCurve(
  yTrue: LabelArray,
  yScore: ArrayLike<number>,
  options: CurveOptions = {},
): { precision: Float64Array; recall: Float64Array; thresholds: Float64Array } {
  checkOptions('precisionRecallCurve', options, ['positiveLabel', 'sampleWeight']);
  const input = readBinary('precisionRecallCurve', yTrue, yScore, options.sampleWeight);
  const pos = defaultPositive('precisionRecallCurve', input.classes, options.positiveLabel);
  const c = curveFor(input, pos);
  return prFromCurve(c);
}

export function prFromCurve(c: BinaryCurve): {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
} {
  const m = c.tps.length;
  const lastT = c.tps[m - 1] ?? 0;
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const thresholds = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = m - 1 - i;
    const ps = c.tps[i]! + c.fps[i]!;
    precision[j] = ps !== 0 ? c.tps[i]! / ps : 0;
    recall[j] = lastT === 0 ? 1 : c.tps[i]! / lastT;
    thresholds[j] = c.thresholds[i]!;
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds };
}
