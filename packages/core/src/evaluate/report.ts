import { ModelshipError } from '../errors';
import { confusionMatrix, f1, precision, recall } from '../metrics/classification';
import { aucFromCurve, type BinaryCurve, binaryCurve } from '../metrics/curve-core';
import { type Label, uniqueSorted } from '../metrics/labels';
import { apFromCurve } from '../metrics/ranking';
import {
  analyticFor,
  type BootstrapPlan,
  percentileInterval,
  resampleCounts,
  seededRandom,
} from './bootstrap';
import { binaryCurveOf, encoded, isLabel, isPositive, type Scorer, scorer, unavailable } from './metric-set';
import type { Scored } from './scored';
import { normalQuantile } from './special';
import type {
  CalibrationReport,
  ClassStats,
  EvaluateProgress,
  MetricName,
  MetricValue,
  PrCurveReport,
  ResidualSummary,
  RocCurveReport,
} from './types';

/** Curves in a report keep at most this many points; `rocCurve` gives the full curve. */
export const CURVE_POINTS = 1000;

/** Point estimates and bootstrap intervals of the chosen metrics. */
export function scoreMetrics(
  s: Scored,
  names: readonly MetricName[],
  plan: BootstrapPlan | null,
  notes: string[],
  onProgress?: (p: EvaluateProgress) => void,
): Partial<Record<MetricName, MetricValue>> {
  const scorers: [MetricName, Scorer][] = [];
  const out: Partial<Record<MetricName, MetricValue>> = {};
  // Analytic intervals are made as each metric is scored, so a big evaluation holds one
  // metric's working arrays at a time; resampling needs them all until the last resample.
  const analytic = plan !== null && s.n > 0 && analyticFor(plan, s.n);
  const z = analytic ? normalQuantile(1 - (1 - plan.confidence) / 2) : 0;
  for (const [i, name] of names.entries()) {
    if (i > 0) onProgress?.({ phase: 'metrics', done: i, total: names.length });
    const s1 = scorer(name, s);
    try {
      out[name] = { value: s1() };
    } catch (e) {
      if (!ModelshipError.isInstance(e)) throw e;
      notes.push(`${name} left out: ${e.message}`);
      continue;
    }
    if (!analytic) {
      if (plan !== null) scorers.push([name, s1]);
      continue;
    }
    const interval = s1.interval?.(out[name]!.value, z);
    if (interval !== undefined) Object.assign(out[name]!, interval);
    else notes.push(`${name}: no analytic interval (too few rows of a class)`);
  }
  onProgress?.({ phase: 'metrics', done: names.length, total: names.length });
  if (plan === null || s.n === 0 || analytic) return out;
  const draws = scorers.map(() => new Float64Array(plan.resamples));
  const random = seededRandom(plan.seed);
  const counts = new Float64Array(s.n);
  const every = Math.max(1, Math.floor(plan.resamples / 100));
  for (let b = 0; b < plan.resamples; b++) {
    resampleCounts(s.n, random, counts);
    for (let m = 0; m < scorers.length; m++) draws[m]![b] = scorers[m]![1](counts);
    if (onProgress !== undefined && ((b + 1) % every === 0 || b + 1 === plan.resamples))
      onProgress({ phase: 'bootstrap', done: b + 1, total: plan.resamples });
  }
  scorers.forEach(([name], m) => {
    const interval = percentileInterval(draws[m]!, plan.confidence);
    if (interval !== undefined) Object.assign(out[name]!, interval);
    const skipped = draws[m]!.reduce((c, v) => c + (Number.isNaN(v) ? 1 : 0), 0);
    if (skipped > 0)
      notes.push(
        `${name}: ${skipped} of ${plan.resamples} resamples lacked a class and were skipped for its interval`,
      );
  });
  return out;
}

/** Checks that the requested metrics fit the task, with the reason when one does not. */
export function checkMetrics(names: readonly MetricName[], s: Scored, where: string): void {
  for (const name of names) {
    const why = unavailable(name, s);
    if (why !== undefined) throw new ModelshipError('INVALID_ARGUMENT', `${where}: ${why}`);
  }
}

/** Precision, recall, F1 and support per class. */
/**
 * The per-class table. Like the metrics (see `encoded`), it scores the k² (true, predicted)
 * pairs weighted by their row counts: the full arrays' values, at k² rows instead of n.
 */
export function perClass(s: Scored): ClassStats[] {
  const { present, pairTrue, pairPred, counts } = encoded(s);
  const labels = uniqueSorted(s.classes, present);
  const opts = { average: 'none' as const, labels, sampleWeight: counts };
  const p = precision(pairTrue, pairPred, opts) as number[];
  const r = recall(pairTrue, pairPred, opts) as number[];
  const f = f1(pairTrue, pairPred, opts) as number[];
  const support = new Map<Label, number>();
  for (let c = 0; c < counts.length; c++)
    support.set(pairTrue[c]!, (support.get(pairTrue[c]!) ?? 0) + counts[c]!);
  return labels.map((label, i) => ({
    label,
    precision: p[i]!,
    recall: r[i]!,
    f1: f[i]!,
    support: support.get(label) ?? 0,
  }));
}

export function confusion(s: Scored): { labels: Label[]; matrix: number[][] } {
  const { present, pairTrue, pairPred, counts } = encoded(s);
  const labels = uniqueSorted(s.classes, present);
  return { labels, matrix: confusionMatrix(pairTrue, pairPred, { labels, sampleWeight: counts }).matrix };
}

/** Evenly spaced indices that keep the first and last point, so a curve stays drawable. */
function thin(length: number): number[] {
  if (length <= CURVE_POINTS) return Array.from({ length }, (_, i) => i);
  const out: number[] = [];
  for (let j = 0; j < CURVE_POINTS; j++) out.push(Math.round((j * (length - 1)) / (CURVE_POINTS - 1)));
  return out;
}

/**
 * The report's ROC curve: `rocFromCurve(curve, true)` at the {@link thin} points, computed
 * only there (the same divisions), so a curve of millions of thresholds makes one index array
 * of the points it keeps rather than six arrays of rates.
 */
function thinRoc(curve: BinaryCurve): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  const { tps, fps, thresholds } = curve;
  let keep: Uint32Array;
  if (fps.length > 2) {
    keep = new Uint32Array(fps.length);
    let kept = 1;
    for (let i = 1; i < fps.length - 1; i++) {
      if (fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 || tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0)
        keep[kept++] = i;
    }
    keep[kept++] = fps.length - 1;
    keep = keep.subarray(0, kept);
  } else keep = Uint32Array.from(fps, (_, i) => i);
  const lastF = fps[fps.length - 1] ?? 0;
  const lastT = tps[tps.length - 1] ?? 0;
  const idx = thin(keep.length + 1);
  return {
    fpr: idx.map((i) =>
      i === 0 ? (lastF <= 0 ? Number.NaN : 0) : lastF > 0 ? fps[keep[i - 1]!]! / lastF : Number.NaN,
    ),
    tpr: idx.map((i) =>
      i === 0 ? (lastT <= 0 ? Number.NaN : 0) : lastT > 0 ? tps[keep[i - 1]!]! / lastT : Number.NaN,
    ),
    thresholds: idx.map((i) => (i === 0 ? (thresholds[0] ?? 0) + 1 : thresholds[keep[i - 1]!]!)),
  };
}

/**
 * The report's precision-recall curve: `prFromCurve(curve)` at the {@link thin} points (its
 * point j is the curve's m − 1 − j; the last, precision 1 and recall 0, has no threshold: NaN).
 */
function thinPr(curve: BinaryCurve): { precision: number[]; recall: number[]; thresholds: number[] } {
  const m = curve.tps.length;
  const lastT = curve.tps[m - 1] ?? 0;
  const idx = thin(m + 1);
  const precision = idx.map((j) => {
    if (j === m) return 1;
    const i = m - 1 - j;
    const ps = curve.tps[i]! + curve.fps[i]!;
    return ps !== 0 ? curve.tps[i]! / ps : 0;
  });
  const recall = idx.map((j) => (j === m ? 0 : lastT === 0 ? 1 : curve.tps[m - 1 - j]! / lastT));
  const thresholds = idx.map((j) => (j < m ? curve.thresholds[m - 1 - j]! : Number.NaN));
  return { precision, recall, thresholds };
}

/** One-vs-rest curves: the positive class for a binary task, each class for multiclass. */
export function curves(
  s: Scored,
  notes: string[],
): { roc: RocCurveReport[]; pr: PrCurveReport[] } | undefined {
  const columns: { label: Label; scores: ArrayLike<number> }[] = [];
  if (s.positiveScores !== undefined) columns.push({ label: s.positive!, scores: s.positiveScores });
  else if (s.matrix !== undefined) {
    const k = s.classes.length;
    s.classes.forEach((label, j) => {
      const col = new Float64Array(s.n);
      for (let i = 0; i < s.n; i++) col[i] = s.matrix![i * k + j]!;
      columns.push({ label, scores: col });
    });
  } else return undefined;
  const roc: RocCurveReport[] = [];
  const pr: PrCurveReport[] = [];
  for (const { label, scores } of columns) {
    const y = s.positiveScores !== undefined ? isPositive(s) : isLabel(s, label);
    let hasPos = false;
    let hasNeg = false;
    for (const v of y) {
      if (v) hasPos = true;
      else hasNeg = true;
    }
    if (!hasPos || !hasNeg) {
      notes.push(
        `curves for class ${JSON.stringify(label)} left out: the data ${hasPos ? 'has only this class' : 'has no sample of it'}`,
      );
      continue;
    }
    // A binary task's curve is the one the metrics sorted; other columns sort their own.
    const curve =
      s.positiveScores !== undefined
        ? binaryCurveOf(s)
        : binaryCurve(y, Float64Array.from(scores), undefined);
    roc.push({ label, ...thinRoc(curve), auc: aucFromCurve(curve) });
    pr.push({ label, ...thinPr(curve), averagePrecision: apFromCurve(curve) });
  }
  return { roc, pr };
}

/**
 * Reliability bins of equal width over [0, 1], as `sklearn.calibration.calibration_curve`
 * (`strategy='uniform'`): a probability on an inner edge belongs to the lower bin. Binary tasks
 * bin the positive class's probability; multiclass tasks bin the top probability against
 * whether the top class was right.
 */
export function calibration(s: Scored, bins: number): CalibrationReport | undefined {
  if (!s.probabilities) return undefined;
  let prob: Float64Array | Float32Array;
  let hit: Uint8Array;
  let of: CalibrationReport['of'];
  if (s.positiveScores !== undefined) {
    prob = s.positiveScores;
    hit = isPositive(s);
    of = 'positive';
  } else if (s.matrix !== undefined) {
    const k = s.classes.length;
    prob = new Float64Array(s.n);
    hit = new Uint8Array(s.n);
    const codes = s.codes;
    const truthAt = (i: number): Label => (codes === undefined ? s.yTrue[i]! : codes.table[codes.truth[i]!]!);
    for (let i = 0; i < s.n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (s.matrix[i * k + j]! > s.matrix[i * k + best]!) best = j;
      prob[i] = s.matrix[i * k + best]!;
      hit[i] = s.classes[best] === truthAt(i) ? 1 : 0;
    }
    of = 'top-label';
  } else return undefined;
  const step = 1 / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * step));
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumHit = new Float64Array(bins);
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i]!;
    // Number of inner edges strictly below p: numpy.searchsorted(edges[1:-1], p, 'left').
    let b = Math.min(bins - 1, Math.max(0, Math.ceil(p * bins) - 1));
    while (b > 0 && edges[b]! >= p) b--;
    while (b < bins - 1 && edges[b + 1]! < p) b++;
    count[b]!++;
    sumP[b]! += p;
    sumHit[b]! += hit[i]!;
  }
  let ece = 0;
  const out = Array.from({ length: bins }, (_, b) => {
    const c = count[b]!;
    const meanPredicted = c === 0 ? Number.NaN : sumP[b]! / c;
    const observed = c === 0 ? Number.NaN : sumHit[b]! / c;
    if (c > 0) ece += (c / prob.length) * Math.abs(observed - meanPredicted);
    return { lower: edges[b]!, upper: edges[b + 1]!, count: c, meanPredicted, observed };
  });
  return { of, bins: out, expectedCalibrationError: ece };
}

export function residuals(s: Scored): ResidualSummary | undefined {
  if (s.truth === undefined || s.n === 0) return undefined;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < s.n; i++) {
    const r = s.truth[i]! - s.estimate![i]!;
    sum += r;
    min = Math.min(min, r);
    max = Math.max(max, r);
  }
  const mean = sum / s.n;
  let ss = 0;
  for (let i = 0; i < s.n; i++) ss += (s.truth[i]! - s.estimate![i]! - mean) ** 2;
  return { mean, std: Math.sqrt(ss / s.n), min, max };
}
