import { InputError, invalidArgument } from '../errors';
import {
  aucFromCurve,
  type BinaryCurve,
  binaryCurve,
  curveFor,
  readBinary,
  requireTwoClasses,
} from './curve-core';
import {
  checkLengths,
  checkOptions,
  encode,
  formatLabels,
  type Label,
  type LabelArray,
  readLabels,
  readWeights,
  uniqueSorted,
  type Weights,
} from './labels';

/** Probabilities per class: one row per sample, or a flat row-major array with `k` columns. */
export type ScoreMatrix = readonly (readonly number[])[] | ArrayLike<number>;

export interface RocAucOptions {
  /** Multiclass strategy: one-vs-rest or one-vs-one (required for more than two classes). */
  multiClass?: 'ovr' | 'ovo';
  /** How per-class (or per-pair) AUCs combine for multiclass (default `'macro'`). */
  average?: 'macro' | 'weighted';
  /** The classes of the probability columns, in order (default: the classes in `yTrue`). */
  labels?: readonly Label[];
  /** Columns of a flat probability array. */
  k?: number;
  sampleWeight?: Weights;
}

/**
 * Area under the ROC curve, as `sklearn.metrics.roc_auc_score`. Binary: `yScore` holds one
 * score per sample for the greater label. Multiclass: an n×k probability matrix with
 * `multiClass: 'ovr'` or `'ovo'` (Hand & Till); rows must sum to 1.
 *
 * @example
 * rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);  // 0.75
 */
export function rocAuc(
  yTrue: LabelArray,
  yScore: ArrayLike<number> | ScoreMatrix,
  options: RocAucOptions = {},
): number {
  checkOptions('rocAuc', options, ['multiClass', 'average', 'labels', 'k', 'sampleWeight']);
  if (!isMatrix(yScore, options.k)) {
    // Binary: one score per sample for the greater label.
    const input = readBinary('rocAuc', yTrue, yScore, options.sampleWeight);
    if (input.scores.length === 0)
      throw new InputError('INPUT_INVALID', 'rocAuc: found no samples; at least one is required');
    requireTwoClasses('rocAuc', input.classes);
    return aucFromCurve(curveFor(input, input.classes[1]!));
  }
  const labels = readLabels(yTrue, 'yTrue', 'rocAuc');
  if (labels.length === 0)
    throw new InputError('INPUT_INVALID', 'rocAuc: found no samples; at least one is required');
  const classes = uniqueSorted(labels);
  if (options.multiClass !== 'ovr' && options.multiClass !== 'ovo') {
    throw invalidArgument(
      'rocAuc',
      "multiClass must be 'ovr' or 'ovo' for multiclass targets",
      options.multiClass,
    );
  }
  const average = options.average ?? 'macro';
  if (average !== 'macro' && average !== 'weighted')
    throw invalidArgument('rocAuc', "average must be 'macro' or 'weighted'", average);
  const { data, k } = readMatrix('rocAuc', yScore, options.k, labels.length);
  const cls = options.labels === undefined ? classes : readLabels(options.labels, 'labels', 'rocAuc');
  if (cls.length !== k) {
    throw new InputError(
      'INPUT_INVALID',
      `rocAuc: number of classes in yTrue (${cls.length}) not equal to the number of columns in yScore (${k})`,
    );
  }
  for (let i = 0; i < labels.length; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += data[i * k + j]!;
    if (Math.abs(s - 1) > 1e-8 + 1e-5) {
      throw new InputError(
        'INPUT_INVALID',
        `rocAuc: row ${i} of yScore sums to ${s}; multiclass scores must be probabilities that sum to 1`,
      );
    }
  }
  const y = encode(labels, cls);
  const weights = readWeights(options.sampleWeight, labels.length, 'rocAuc');
  const column = (j: number, rows?: Uint32Array) =>
    rows === undefined
      ? Float64Array.from({ length: labels.length }, (_, i) => data[i * k + j]!)
      : Float64Array.from(rows, (i) => data[i * k + j]!);
  if (options.multiClass === 'ovr') {
    const scores: number[] = [];
    const support: number[] = [];
    for (let c = 0; c < k; c++) {
      const pos = Uint8Array.from(y, (v) => (v === c ? 1 : 0));
      requireTwoClasses('rocAuc', [...new Set(pos)]);
      scores.push(aucFromCurve(binaryCurve(pos, column(c), weights)));
      let s = 0;
      for (let i = 0; i < pos.length; i++) if (pos[i]) s += weights === undefined ? 1 : weights[i]!;
      support.push(s);
    }
    return combine(scores, average === 'weighted' ? support : undefined);
  }
  if (weights !== undefined)
    throw invalidArgument(
      'rocAuc',
      "sampleWeight is not supported with multiClass 'ovo' (as in scikit-learn)",
      'sampleWeight',
    );
  const pairs: number[] = [];
  const prevalence: number[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const members: number[] = [];
      for (let i = 0; i < y.length; i++) if (y[i] === a || y[i] === b) members.push(i);
      const rows = Uint32Array.from(members);
      const isA = Uint8Array.from(rows, (i) => (y[i] === a ? 1 : 0));
      const isB = Uint8Array.from(isA, (v) => 1 - v);
      requireTwoClasses('rocAuc', [...new Set(isA)]);
      const aScore = aucFromCurve(binaryCurve(isA, column(a, rows), undefined));
      const bScore = aucFromCurve(binaryCurve(isB, column(b, rows), undefined));
      pairs.push((aScore + bScore) / 2);
      prevalence.push(rows.length / labels.length);
    }
  }
  return combine(pairs, average === 'weighted' ? prevalence : undefined);
}

function combine(values: number[], weights: number[] | undefined): number {
  if (weights === undefined) return values.reduce((a, b) => a + b, 0) / values.length;
  const total = weights.reduce((a, b) => a + b, 0);
  return values.reduce((a, v, i) => a + v * weights[i]!, 0) / total;
}

function isMatrix(yScore: unknown, k: number | undefined): boolean {
  return k !== undefined || (Array.isArray(yScore) && Array.isArray(yScore[0]));
}

/** Reads an n×k matrix from rows or a flat array with `k` columns. */
export function readMatrix(
  fn: string,
  yScore: unknown,
  k: number | undefined,
  n: number,
): { data: Float64Array; k: number } {
  if (k !== undefined) {
    if (!Number.isSafeInteger(k) || k < 1) throw invalidArgument(fn, 'k must be a positive integer', k);
    const flat = yScore as ArrayLike<number>;
    if (typeof flat?.length !== 'number' || flat.length !== n * k) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: a flat yScore with k=${k} must hold ${n * k} values for ${n} samples`,
      );
    }
    const data = Float64Array.from(flat as ArrayLike<number>);
    if (data.some((v) => !Number.isFinite(v)))
      throw new InputError('INPUT_INVALID', `${fn}: yScore holds values that are not finite numbers`);
    return { data, k };
  }
  const rows = yScore as readonly (readonly number[])[];
  checkLengths(fn, rows, { length: n });
  const width = rows[0]?.length ?? 0;
  const data = new Float64Array(n * width);
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width)
      throw new InputError('INPUT_INVALID', `${fn}: yScore row ${i} does not have ${width} columns`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new InputError('INPUT_INVALID', `${fn}: yScore[${i}][${j}] is not a finite number`);
      data[i * width + j] = v;
    });
  });
  return { data, k: width };
}

/**
 * Average precision, the step-wise area under the precision-recall curve, as
 * `sklearn.metrics.average_precision_score` for binary targets (`positiveLabel` default 1).
 */
export function averagePrecision(
  yTrue: LabelArray,
  yScore: ArrayLike<number>,
  options: { positiveLabel?: Label; sampleWeight?: Weights } = {},
): number {
  checkOptions('averagePrecision', options, ['positiveLabel', 'sampleWeight']);
  const input = readBinary('averagePrecision', yTrue, yScore, options.sampleWeight);
  if (input.codes.length === 0)
    throw new InputError('INPUT_INVALID', 'averagePrecision: found no samples; at least one is required');
  if (input.classes.length > 2)
    throw new InputError(
      'INPUT_INVALID',
      'averagePrecision: multiclass targets are not supported; binarize them per class',
    );
  const pos = options.positiveLabel ?? 1;
  if (input.classes.length === 2 && !input.classes.includes(pos)) {
    throw invalidArgument(
      'averagePrecision',
      `positiveLabel=${JSON.stringify(pos)} is not a valid label; it should be one of ${formatLabels(input.classes)}`,
      pos,
    );
  }
  return apFromCurve(curveFor(input, pos));
}

/** Average precision from a binary curve's counts: Σ (Rₖ − Rₖ₋₁) Pₖ. */
export function apFromCurve(c: BinaryCurve): number {
  const lastT = c.tps[c.tps.length - 1]!;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < c.tps.length; i++) {
    const r = lastT === 0 ? 1 : c.tps[i]! / lastT;
    const ps = c.tps[i]! + c.fps[i]!;
    ap += (r - prevRecall) * (ps === 0 ? 0 : c.tps[i]! / ps);
    prevRecall = r;
  }
  return ap;
}
