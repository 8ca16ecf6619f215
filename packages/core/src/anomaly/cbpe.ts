/**
 * Performance without labels: confidence-based performance estimation (CBPE), as NannyML
 * publishes it. A binary classifier's probabilities are calibrated on a labelled reference
 * (isotonic regression); on unlabelled rows the calibrated probability p of each row is the
 * chance its true label is positive, so the confusion matrix is expected rather than counted:
 * TP = Σ p·[ŷ=1], FP = Σ (1 − p)·[ŷ=1], FN = Σ p·[ŷ=0], TN = Σ (1 − p)·[ŷ=0]. It holds while
 * the relation between inputs and label stays the reference's (covariate shift, not concept
 * shift): labels, when they arrive, tell which.
 */
import { invalidArgument } from '../errors';
import { type IsotonicJson, IsotonicRegression } from './isotonic';

export const ESTIMATED_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const;
export type EstimatedMetric = (typeof ESTIMATED_METRICS)[number];

export interface PerformanceEstimatorOptions {
  /** Score at or above which the model predicts the positive class (default 0.5). */
  threshold?: number;
  /** Reference chunks the alert thresholds are taken from (default 10). */
  chunks?: number;
  /** Width of the alert thresholds and the confidence band, in standard deviations (default 3). */
  sigmas?: number;
  /** Calibrate the scores on the reference (default true); false takes them as probabilities. */
  calibrate?: boolean;
}

/** One metric of one estimate. */
export interface MetricEstimate {
  value: number;
  /** The metric's standard error at this many rows, from the reference. */
  samplingError: number;
  /** value ∓ sigmas · samplingError, within [0, 1]. */
  lower: number;
  upper: number;
  /** The reference's range: mean ∓ sigmas · std of the realized metric over its chunks. */
  thresholds: { lower: number; upper: number };
  /** True when the value is outside the thresholds. */
  alert: boolean;
}

export type PerformanceEstimate = Record<EstimatedMetric, MetricEstimate> & { rows: number };

export interface PerformanceEstimatorJson {
  version: 1;
  kind: 'cbpe';
  threshold: number;
  sigmas: number;
  calibrator: IsotonicJson | null;
  /** Per metric: the reference std of its per-row contributions and the share of rows they cover. */
  components: Record<Exclude<EstimatedMetric, 'rocAuc'>, [number, number]>;
  referenceRocAuc: number;
  positiveShare: number;
  thresholds: Record<EstimatedMetric, [number, number]>;
}

function labelsOf(where: string, labels: ArrayLike<unknown>, n: number): Uint8Array {
  if (labels?.length !== n)
    throw invalidArgument(where, `labels must have ${n} values like the scores`, labels);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (v === 1 || v === true || v === 1n) out[i] = 1;
    else if (!(v === 0 || v === false || v === 0n))
      throw invalidArgument(where, `labels[${i}] must be 0 or 1 (or a boolean)`, v);
  }
  return out;
}

function scoresOf(where: string, scores: ArrayLike<number>): void {
  if (!(scores?.length > 0))
    throw invalidArgument(where, 'scores must be a non-empty array of numbers', scores);
  for (let i = 0; i < scores.length; i++)
    if (typeof scores[i] !== 'number' || !Number.isFinite(scores[i]))
      throw invalidArgument(where, `scores[${i}] must be a finite number`, scores[i]);
}

const std = (sum: number, sq: number, n: number) => Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));

/** The standard deviation (ddof 0) of values, 0 for none. */
export function stdOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

/** Precision, recall and F1 of (expected) counts; 0 where undefined, as scikit-learn's zero_division. */
export function rates(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  return {
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    f1: 2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
  };
}

/** Hanley and McNeil's standard error of a ROC AUC `a` with `n1` positives and `n0` negatives. */
export function hanleyMcNeil(a: number, n1: number, n0: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0));
}

/** A fit's `chunks` and `sigmas` (defaults 10 and 3), checked against the reference's `n` rows. */
export function chunking(
  where: string,
  n: number,
  options: { chunks?: number; sigmas?: number },
): { chunks: number; sigmas: number } {
  const chunks = options.chunks ?? 10;
  if (!Number.isInteger(chunks) || chunks < 2)
    throw invalidArgument(where, 'chunks must be an integer ≥ 2', chunks);
  if (n < chunks * 20)
    throw invalidArgument(where, `${chunks} reference chunks need at least ${chunks * 20} rows (20 each)`, n);
  const sigmas = options.sigmas ?? 3;
  if (!(sigmas > 0)) throw invalidArgument(where, 'sigmas must be positive', sigmas);
  return { chunks, sigmas };
}

/**
 * Each metric's alert range: the mean ∓ `sigmas` standard deviations (ddof 0) of its realized
 * value over the reference's chunks (numpy.array_split's), within [0, 1].
 */
export function chunkThresholds(
  n: number,
  chunks: number,
  sigmas: number,
  realizedIn: (from: number, to: number) => Record<EstimatedMetric, number>,
): Record<EstimatedMetric, [number, number]> {
  const per: Record<EstimatedMetric, number[]> = {
    accuracy: [],
    precision: [],
    recall: [],
    f1: [],
    rocAuc: [],
  };
  const base = Math.floor(n / chunks);
  const extra = n % chunks;
  let from = 0;
  for (let c = 0; c < chunks; c++) {
    const to = from + base + (c < extra ? 1 : 0);
    const r = realizedIn(from, to);
    for (const m of ESTIMATED_METRICS) per[m].push(r[m]);
    from = to;
  }
  const thresholds = {} as Record<EstimatedMetric, [number, number]>;
  for (const m of ESTIMATED_METRICS) {
    const v = per[m];
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = stdOf(v);
    thresholds[m] = [Math.max(0, mean - sigmas * sd), Math.min(1, mean + sigmas * sd)];
  }
  return thresholds;
}

/** Every metric's estimate on `rows` rows: its value, standard error, band and the reference's range. */
export function estimateOf(
  values: Record<EstimatedMetric, number>,
  rows: number,
  samplingError: (metric: EstimatedMetric, rows: number) => number,
  thresholds: Record<EstimatedMetric, [number, number]>,
  sigmas: number,
): PerformanceEstimate {
  const out = { rows } as PerformanceEstimate;
  for (const m of ESTIMATED_METRICS) {
    const value = values[m];
    const se = samplingError(m, rows);
    const [lo, hi] = thresholds[m];
    out[m] = {
      value,
      samplingError: se,
      lower: Math.max(0, value - sigmas * se),
      upper: Math.min(1, value + sigmas * se),
      thresholds: { lower: lo, upper: hi },
      alert: value < lo || value > hi,
    };
  }
  return out;
}

/** Realized metrics of labelled rows (precision, recall, F1 are 0 when undefined, as scikit-learn's zero_division). */
function realized(y: Uint8Array, yhat: Uint8Array, scores: ArrayLike<number>, from: number, to: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = from; i < to; i++) {
    if (yhat[i] === 1) y[i] === 1 ? tp++ : fp++;
    else y[i] === 1 ? fn++ : tn++;
  }
  const p = new Float64Array(to - from);
  for (let i = from; i < to; i++) p[i - from] = y[i]!;
  return {
    accuracy: (tp + tn) / (to - from),
    ...rates(tp, fp, fn),
    rocAuc: expectedRocAuc(Array.prototype.slice.call(scores, from, to) as number[], p),
  };
}

/**
 * The area under the expected ROC curve: rows ranked by the model's score (ties grouped), each
 * counting p as a positive and 1 − p as a negative. With p the true 0/1 labels this is the
 * ordinary ROC AUC.
 */
export function expectedRocAuc(scores: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  let P = 0;
  let N = 0;
  for (let i = 0; i < n; i++) {
    P += p[i]!;
    N += 1 - p[i]!;
  }
  if (!(P > 0 && N > 0)) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let area = 0;
  let prevTpr = 0;
  let prevFpr = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    for (let k = i; k <= j; k++) {
      tp += p[order[k]!]!;
      fp += 1 - p[order[k]!]!;
    }
    const tpr = tp / P;
    const fpr = fp / N;
    area += ((fpr - prevFpr) * (tpr + prevTpr)) / 2;
    prevTpr = tpr;
    prevFpr = fpr;
    i = j + 1;
  }
  return area;
}

export class PerformanceEstimator {
  private constructor(private readonly j: PerformanceEstimatorJson) {
    this.calibrator = j.calibrator === null ? undefined : IsotonicRegression.fromJSON(j.calibrator);
  }

  private readonly calibrator: IsotonicRegression | undefined;

  /** The score at or above which the model predicts the positive class. */
  get threshold(): number {
    return this.j.threshold;
  }

  /** Per metric, the reference's alert range. */
  get thresholds(): Readonly<Record<EstimatedMetric, readonly [number, number]>> {
    return this.j.thresholds;
  }

  /**
   * Fits on a labelled reference: the positive class's scores and the true labels (0/1), a
   * few thousand rows the model did not train on.
   */
  static fit(
    reference: { scores: ArrayLike<number>; labels: ArrayLike<unknown> },
    options: PerformanceEstimatorOptions = {},
  ): PerformanceEstimator {
    const where = 'PerformanceEstimator.fit';
    if (typeof reference !== 'object' || reference === null)
      throw invalidArgument(where, 'reference must be { scores, labels }', reference);
    const { scores } = reference;
    scoresOf(where, scores);
    const n = scores.length;
    const y = labelsOf(where, reference.labels, n);
    const threshold = options.threshold ?? 0.5;
    if (!Number.isFinite(threshold)) throw invalidArgument(where, 'threshold must be a number', threshold);
    const { chunks, sigmas } = chunking(where, n, options);
    let positives = 0;
    for (let i = 0; i < n; i++) positives += y[i]!;
    if (positives === 0 || positives === n)
      throw invalidArgument(where, 'the reference needs both classes among its labels', positives);
    const yhat = new Uint8Array(n);
    for (let i = 0; i < n; i++) yhat[i] = scores[i]! >= threshold ? 1 : 0;
    const calibrator =
      options.calibrate === false ? undefined : IsotonicRegression.fit(scores, y, { yMin: 0, yMax: 1 });

    // sampling-error components: std (ddof 0) of each metric's per-row contribution, share of rows
    const acc = [0, 0];
    const prec = [0, 0, 0];
    const rec = [0, 0, 0];
    const f1 = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const c = y[i] === yhat[i] ? 1 : 0;
      acc[0]! += c;
      acc[1]! += c;
      if (yhat[i] === 1) {
        prec[0]! += y[i]!;
        prec[1]! += y[i]!;
        prec[2]!++;
      }
      if (y[i] === 1) {
        rec[0]! += yhat[i]!;
        rec[1]! += yhat[i]!;
        rec[2]!++;
      }
      if (y[i] === 1 || yhat[i] === 1) {
        const tp = y[i] === 1 && yhat[i] === 1 ? 1 : 0;
        f1[0]! += tp;
        f1[1]! += tp;
        f1[2]!++;
      }
    }
    const components: PerformanceEstimatorJson['components'] = {
      accuracy: [std(acc[0]!, acc[1]!, n), 1],
      precision: [prec[2] === 0 ? 0 : std(prec[0]!, prec[1]!, prec[2]!), prec[2]! / n],
      recall: [std(rec[0]!, rec[1]!, rec[2]!), rec[2]! / n],
      f1: [f1[2] === 0 ? 0 : std(f1[0]!, f1[1]!, f1[2]!), f1[2]! / n],
    };
    const p = Float64Array.from(y);
    const referenceRocAuc = expectedRocAuc(scores, p);

    const thresholds = chunkThresholds(n, chunks, sigmas, (from, to) => realized(y, yhat, scores, from, to));
    return new PerformanceEstimator({
      version: 1,
      kind: 'cbpe',
      threshold,
      sigmas,
      calibrator: calibrator?.toJSON() ?? null,
      components,
      referenceRocAuc,
      positiveShare: positives / n,
      thresholds,
    });
  }

  /** The calibrated probability that a row with this score is positive. */
  calibrated(score: number): number {
    return this.calibrator === undefined
      ? Math.min(1, Math.max(0, score))
      : this.calibrator.predictOne(score);
  }

  /** The standard error of a metric estimated on `rows` rows. */
  samplingError(metric: EstimatedMetric, rows: number): number {
    if (metric === 'rocAuc') {
      const share = this.j.positiveShare;
      return hanleyMcNeil(this.j.referenceRocAuc, rows * share, rows * (1 - share));
    }
    const [sd, share] = this.j.components[metric];
    return sd / Math.sqrt(rows * share);
  }

  /** Estimates every metric on unlabelled rows: the positive class's scores. */
  estimate(scores: ArrayLike<number>): PerformanceEstimate {
    const where = 'PerformanceEstimator.estimate';
    scoresOf(where, scores);
    const n = scores.length;
    const p = new Float64Array(n);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    for (let i = 0; i < n; i++) {
      const q = this.calibrated(scores[i]!);
      p[i] = q;
      if (scores[i]! >= this.j.threshold) {
        tp += q;
        fp += 1 - q;
      } else {
        fn += q;
        tn += 1 - q;
      }
    }
    const values = { accuracy: (tp + tn) / n, ...rates(tp, fp, fn), rocAuc: expectedRocAuc(scores, p) };
    return estimateOf(values, n, (m, rows) => this.samplingError(m, rows), this.j.thresholds, this.j.sigmas);
  }

  toJSON(): PerformanceEstimatorJson {
    return JSON.parse(JSON.stringify(this.j)) as PerformanceEstimatorJson;
  }

  static fromJSON(json: unknown): PerformanceEstimator {
    const j = json as Partial<PerformanceEstimatorJson> | null;
    const where = 'PerformanceEstimator.fromJSON';
    if (typeof j !== 'object' || j === null || j.version !== 1 || j.kind !== 'cbpe')
      throw invalidArgument(where, 'not a version 1 CBPE estimator', json);
    for (const key of ['threshold', 'sigmas', 'referenceRocAuc', 'positiveShare'] as const)
      if (!Number.isFinite(j[key])) throw invalidArgument(where, `${key} must be a number`, j[key]);
    for (const m of ESTIMATED_METRICS) {
      const t = j.thresholds?.[m];
      if (!Array.isArray(t) || t.length !== 2 || !t.every(Number.isFinite))
        throw invalidArgument(where, `thresholds.${m} must be [lower, upper]`, t);
      if (m !== 'rocAuc') {
        const c = j.components?.[m];
        if (!Array.isArray(c) || c.length !== 2 || !c.every(Number.isFinite))
          throw invalidArgument(where, `components.${m} must be [std, share]`, c);
      }
    }
    return new PerformanceEstimator(JSON.parse(JSON.stringify(j)) as PerformanceEstimatorJson);
  }
}

/**
 * The positive class's score of each row of a model's answer: output `output` (default: the
 * first output whose name contains "prob", else the first), one value per row or column 1 of
 * two. Empty when the answer has no such output.
 */
export function positiveScores(outputs: unknown, output?: string): Float64Array {
  const t = probabilityOutput(outputs, output);
  if (t === undefined) return new Float64Array(0);
  const rows = t.shape.length === 0 ? 1 : t.shape[0]!;
  if (!(rows > 0)) return new Float64Array(0);
  const width = t.data.length / rows;
  if (width !== 1 && width !== 2) return new Float64Array(0);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = Number(t.data[i * width + width - 1]);
  return out;
}

/**
 * The probability output of a model's answer: `output`, else the first whose name contains
 * "prob", else the first; undefined when it is not a tensor.
 */
export function probabilityOutput(
  outputs: unknown,
  output?: string,
): { shape: readonly number[]; data: ArrayLike<unknown> } | undefined {
  if (typeof outputs !== 'object' || outputs === null) return undefined;
  const record = outputs as Record<
    string,
    { shape?: readonly number[]; data?: ArrayLike<unknown> } | undefined
  >;
  const name =
    output ?? Object.keys(record).find((k) => k.toLowerCase().includes('prob')) ?? Object.keys(record)[0];
  const t = name === undefined ? undefined : record[name];
  return t?.data === undefined || !Array.isArray(t.shape)
    ? undefined
    : (t as { shape: number[]; data: ArrayLike<unknown> });
}
