/**
 * CBPE for classifiers of K ≥ 3 classes: one isotonic calibrator per class (that class against
 * the rest), each row's calibrated probabilities renormalised to sum to 1. The predicted class is
 * the argmax of the model's scores; accuracy is the mean calibrated probability of the predicted
 * class; per class the expected confusion counts are the binary case's, macro-averaged into
 * precision, recall and F1; ROC AUC is the expected one-against-the-rest AUC per class,
 * macro-averaged. Sampling errors per class as in the binary case, combined as √(Σ SE²) / K.
 */
import { invalidArgument } from '../errors';
import {
  chunking,
  chunkThresholds,
  ESTIMATED_METRICS,
  type EstimatedMetric,
  estimateOf,
  expectedRocAuc,
  hanleyMcNeil,
  type PerformanceEstimate,
  probabilityOutput,
  rates,
  stdOf,
} from './cbpe';
import { type IsotonicJson, IsotonicRegression } from './isotonic';

/** Rows of K class scores: an array of rows, or a row-major matrix with its shape. */
export type ScoreRows = readonly ArrayLike<number>[] | { data: ArrayLike<number>; shape: readonly number[] };

export interface MulticlassEstimatorJson {
  version: 1;
  kind: 'cbpe-multiclass';
  classes: number;
  sigmas: number;
  calibrators: IsotonicJson[];
  /** [std of correct] for accuracy; per class [std, share] for precision, recall, F1; [reference AUC, share of the class] for ROC AUC. */
  accuracyStd: number;
  perClass: Record<Exclude<EstimatedMetric, 'accuracy'>, [number, number][]>;
  thresholds: Record<EstimatedMetric, [number, number]>;
}

function matrixOf(
  where: string,
  scores: ScoreRows,
  k?: number,
): { data: Float64Array; n: number; k: number } {
  let n: number;
  let width: number;
  let data: Float64Array;
  if (Array.isArray(scores)) {
    n = scores.length;
    width = n === 0 ? 0 : (scores[0] as ArrayLike<number>).length;
    data = new Float64Array(n * width);
    for (let i = 0; i < n; i++) {
      const row = scores[i] as ArrayLike<number>;
      if (row?.length !== width)
        throw invalidArgument(where, `score row ${i} must have ${width} values like row 0`, row);
      for (let j = 0; j < width; j++) data[i * width + j] = row[j]!;
    }
  } else {
    const m = scores as { data?: ArrayLike<number>; shape?: readonly number[] };
    if (!Array.isArray(m?.shape) || m.shape.length !== 2 || m.data === undefined)
      throw invalidArgument(
        where,
        'scores must be rows of class scores or { data, shape: [n, classes] }',
        scores,
      );
    [n, width] = m.shape as [number, number];
    if (m.data.length !== n * width)
      throw invalidArgument(where, `scores must hold ${n} × ${width} values`, m.data);
    data = Float64Array.from(m.data);
  }
  if (!(n > 0)) throw invalidArgument(where, 'scores must have at least one row', scores);
  if (width < 3)
    throw invalidArgument(where, 'a multiclass estimator needs at least 3 class scores per row', width);
  if (k !== undefined && width !== k)
    throw invalidArgument(where, `each row must have ${k} class scores`, width);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw invalidArgument(where, `score ${i} must be a finite number`, data[i]);
  return { data, n, k: width };
}

function argmax(data: Float64Array, i: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (data[i * k + j]! > data[i * k + best]!) best = j;
  return best;
}

/** The realized macro metrics of labelled rows, scikit-learn's `average='macro'` with zero_division 0. */
function realizedMacro(y: Int32Array, data: Float64Array, k: number, from: number, to: number) {
  let correct = 0;
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const fn = new Float64Array(k);
  for (let i = from; i < to; i++) {
    const h = argmax(data, i, k);
    if (h === y[i]) {
      correct++;
      tp[h]!++;
    } else {
      fp[h]!++;
      fn[y[i]!]!++;
    }
  }
  let p = 0;
  let r = 0;
  let f = 0;
  let auc = 0;
  for (let c = 0; c < k; c++) {
    const x = rates(tp[c]!, fp[c]!, fn[c]!);
    p += x.precision;
    r += x.recall;
    f += x.f1;
    const s = new Float64Array(to - from);
    const l = new Float64Array(to - from);
    for (let i = from; i < to; i++) {
      s[i - from] = data[i * k + c]!;
      l[i - from] = y[i] === c ? 1 : 0;
    }
    auc += expectedRocAuc(s, l);
  }
  return { accuracy: correct / (to - from), precision: p / k, recall: r / k, f1: f / k, rocAuc: auc / k };
}

export class MulticlassPerformanceEstimator {
  private readonly calibrators: IsotonicRegression[];

  private constructor(private readonly j: MulticlassEstimatorJson) {
    this.calibrators = j.calibrators.map((c) => IsotonicRegression.fromJSON(c));
  }

  get classes(): number {
    return this.j.classes;
  }

  get thresholds(): Readonly<Record<EstimatedMetric, readonly [number, number]>> {
    return this.j.thresholds;
  }

  /**
   * Fits on a labelled reference: every row's class scores (probabilities) and its true class
   * as an index 0…K − 1.
   */
  static fit(
    reference: { scores: ScoreRows; labels: ArrayLike<number> },
    options: { chunks?: number; sigmas?: number } = {},
  ): MulticlassPerformanceEstimator {
    const where = 'MulticlassPerformanceEstimator.fit';
    if (typeof reference !== 'object' || reference === null)
      throw invalidArgument(where, 'reference must be { scores, labels }', reference);
    const { data, n, k } = matrixOf(where, reference.scores);
    const labels = reference.labels;
    if (labels?.length !== n)
      throw invalidArgument(where, `labels must have ${n} values like the scores`, labels);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = labels[i];
      if (!Number.isInteger(v) || v! < 0 || v! >= k)
        throw invalidArgument(where, `labels[${i}] must be a class index from 0 to ${k - 1}`, v);
      y[i] = v!;
    }
    const { chunks, sigmas } = chunking(where, n, options);
    const calibrators: IsotonicRegression[] = [];
    const perClass: MulticlassEstimatorJson['perClass'] = { precision: [], recall: [], f1: [], rocAuc: [] };
    const yhat = new Int32Array(n);
    for (let i = 0; i < n; i++) yhat[i] = argmax(data, i, k);
    for (let c = 0; c < k; c++) {
      const s = new Float64Array(n);
      const l = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        s[i] = data[i * k + c]!;
        l[i] = y[i] === c ? 1 : 0;
      }
      if (!l.includes(1))
        throw invalidArgument(where, `class ${c} never occurs among the reference labels`, c);
      calibrators.push(IsotonicRegression.fit(s, l, { yMin: 0, yMax: 1 }));
      const prec: number[] = [];
      const rec: number[] = [];
      const f1: number[] = [];
      for (let i = 0; i < n; i++) {
        if (yhat[i] === c) prec.push(y[i] === c ? 1 : 0);
        if (y[i] === c) rec.push(yhat[i] === c ? 1 : 0);
        if (y[i] === c || yhat[i] === c) f1.push(y[i] === c && yhat[i] === c ? 1 : 0);
      }
      perClass.precision.push([stdOf(prec), prec.length / n]);
      perClass.recall.push([stdOf(rec), rec.length / n]);
      perClass.f1.push([stdOf(f1), f1.length / n]);
      perClass.rocAuc.push([expectedRocAuc(s, l), rec.length / n]);
    }
    const correct: number[] = [];
    for (let i = 0; i < n; i++) correct.push(y[i] === yhat[i] ? 1 : 0);
    const thresholds = chunkThresholds(n, chunks, sigmas, (from, to) => realizedMacro(y, data, k, from, to));
    return new MulticlassPerformanceEstimator({
      version: 1,
      kind: 'cbpe-multiclass',
      classes: k,
      sigmas,
      calibrators: calibrators.map((c) => c.toJSON()),
      accuracyStd: stdOf(correct),
      perClass,
      thresholds,
    });
  }

  /** Each row's calibrated class probabilities, renormalised to sum to 1 (uniform when all are 0). */
  calibrate(scores: ScoreRows): Float64Array {
    const { data, n, k } = matrixOf('MulticlassPerformanceEstimator.calibrate', scores, this.j.classes);
    const out = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const v = this.calibrators[c]!.predictOne(data[i * k + c]!);
        out[i * k + c] = v;
        sum += v;
      }
      for (let c = 0; c < k; c++) out[i * k + c] = sum > 0 ? out[i * k + c]! / sum : 1 / k;
    }
    return out;
  }

  samplingError(metric: EstimatedMetric, rows: number): number {
    if (metric === 'accuracy') return this.j.accuracyStd / Math.sqrt(rows);
    const k = this.j.classes;
    let sq = 0;
    for (const [a, share] of this.j.perClass[metric]) {
      let se: number;
      if (metric === 'rocAuc') se = hanleyMcNeil(a, rows * share, rows * (1 - share));
      else se = share > 0 ? a / Math.sqrt(rows * share) : 0;
      sq += se * se;
    }
    return Math.sqrt(sq) / k;
  }

  /** Estimates every metric on unlabelled rows of class scores. */
  estimate(scores: ScoreRows): PerformanceEstimate {
    const where = 'MulticlassPerformanceEstimator.estimate';
    const { data, n, k } = matrixOf(where, scores, this.j.classes);
    const c = this.calibrate({ data, shape: [n, k] });
    let acc = 0;
    const tp = new Float64Array(k);
    const fp = new Float64Array(k);
    const fn = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const h = argmax(data, i, k);
      acc += c[i * k + h]!;
      for (let j = 0; j < k; j++) {
        const q = c[i * k + j]!;
        if (j === h) {
          tp[j]! += q;
          fp[j]! += 1 - q;
        } else fn[j]! += q;
      }
    }
    let p = 0;
    let r = 0;
    let f = 0;
    let auc = 0;
    for (let j = 0; j < k; j++) {
      const x = rates(tp[j]!, fp[j]!, fn[j]!);
      p += x.precision;
      r += x.recall;
      f += x.f1;
      const s = new Float64Array(n);
      const q = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        s[i] = data[i * k + j]!;
        q[i] = c[i * k + j]!;
      }
      auc += expectedRocAuc(s, q);
    }
    const values: Record<EstimatedMetric, number> = {
      accuracy: acc / n,
      precision: p / k,
      recall: r / k,
      f1: f / k,
      rocAuc: auc / k,
    };
    return estimateOf(values, n, (m, rows) => this.samplingError(m, rows), this.j.thresholds, this.j.sigmas);
  }

  toJSON(): MulticlassEstimatorJson {
    return JSON.parse(JSON.stringify(this.j)) as MulticlassEstimatorJson;
  }

  static fromJSON(json: unknown): MulticlassPerformanceEstimator {
    const where = 'MulticlassPerformanceEstimator.fromJSON';
    const j = json as Partial<MulticlassEstimatorJson> | null;
    if (typeof j !== 'object' || j === null || j.version !== 1 || j.kind !== 'cbpe-multiclass')
      throw invalidArgument(where, 'not a version 1 multiclass CBPE estimator', json);
    const k = j.classes;
    if (!Number.isInteger(k) || k! < 3) throw invalidArgument(where, 'classes must be an integer ≥ 3', k);
    if (!Array.isArray(j.calibrators) || j.calibrators.length !== k)
      throw invalidArgument(where, `calibrators must hold ${k} isotonic regressions`, j.calibrators);
    if (!Number.isFinite(j.accuracyStd) || !Number.isFinite(j.sigmas))
      throw invalidArgument(where, 'accuracyStd and sigmas must be numbers', j);
    for (const m of ['precision', 'recall', 'f1', 'rocAuc'] as const) {
      const v = j.perClass?.[m];
      if (
        !Array.isArray(v) ||
        v.length !== k ||
        !v.every((x) => Array.isArray(x) && x.length === 2 && x.every(Number.isFinite))
      )
        throw invalidArgument(where, `perClass.${m} must hold ${k} pairs of numbers`, v);
    }
    for (const m of ESTIMATED_METRICS) {
      const t = j.thresholds?.[m];
      if (!Array.isArray(t) || t.length !== 2 || !t.every(Number.isFinite))
        throw invalidArgument(where, `thresholds.${m} must be [lower, upper]`, t);
    }
    return new MulticlassPerformanceEstimator(JSON.parse(JSON.stringify(j)) as MulticlassEstimatorJson);
  }
}

/**
 * The class scores of each row of a model's answer, row-major: output `output` (default: the
 * first whose name contains "prob", else the first) of `k` values per row. Empty when the
 * answer has no such output.
 */
export function classScores(outputs: unknown, k: number, output?: string): Float64Array {
  const t = probabilityOutput(outputs, output);
  if (t === undefined || t.shape.length !== 2 || t.shape[1] !== k) return new Float64Array(0);
  return Float64Array.from(t.data as ArrayLike<number>, Number);
}
