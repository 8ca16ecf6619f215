import { InputError, invalidArgument } from '../errors';
import { checkOptions, encode, type Label, type LabelArray, readLabels, type Weights } from './labels';
import { pairCounts, precisionRecallFscore, readTargets, type SetWiseOptions, sum } from './set-wise';

export type { Average, SetWiseOptions, ZeroDivision } from './set-wise';

/**
 * Precision, `tp / (tp + fp)`, as `sklearn.metrics.precision_score`.
 *
 * @example
 * precision([0, 1, 1, 0], [0, 1, 0, 1]);                      // 0.5
 * precision(['a', 'b', 'c'], ['a', 'c', 'c'], { average: 'macro' });
 */
export function precision(yTrue: LabelArray, yPred: LabelArray, options?: SetWiseOptions): number | number[] {
  return precisionRecallFscore('precision', yTrue, yPred, 1, options).precision;
}

/** Recall, `tp / (tp + fn)`, as `sklearn.metrics.recall_score`. */
export function recall(yTrue: LabelArray, yPred: LabelArray, options?: SetWiseOptions): number | number[] {
  return precisionRecallFscore('recall', yTrue, yPred, 1, options).recall;
}

/** F1, the harmonic mean of precision and recall, as `sklearn.metrics.f1_score`. */
export function f1(yTrue: LabelArray, yPred: LabelArray, options?: SetWiseOptions): number | number[] {
  return precisionRecallFscore('f1', yTrue, yPred, 1, options).fScore;
}

/** F-beta: recall weighted `beta` times as much as precision, as `sklearn.metrics.fbeta_score`. */
export function fbeta(
  yTrue: LabelArray,
  yPred: LabelArray,
  beta: number,
  options?: SetWiseOptions,
): number | number[] {
  return precisionRecallFscore('fbeta', yTrue, yPred, beta, options).fScore;
}

export interface AccuracyOptions {
  /** `true` (default): the fraction correct; `false`: the (weighted) count correct. */
  normalize?: boolean;
  sampleWeight?: Weights;
}

/** The fraction of exact matches, as `sklearn.metrics.accuracy_score` (NaN for no samples). */
export function accuracy(yTrue: LabelArray, yPred: LabelArray, options: AccuracyOptions = {}): number {
  checkOptions('accuracy', options, ['normalize', 'sampleWeight']);
  const t = readTargets('accuracy', yTrue, yPred, options.sampleWeight);
  let hit = 0;
  let total = 0;
  for (let i = 0; i < t.trueCodes.length; i++) {
    const w = t.weights === undefined ? 1 : t.weights[i]!;
    if (t.trueCodes[i] === t.predCodes[i]) hit += w;
    total += w;
  }
  return options.normalize === false ? hit : hit / total;
}

export interface ConfusionMatrixOptions {
  /** Rows and columns in this order (default: every class in either array, sorted). */
  labels?: readonly Label[];
  sampleWeight?: Weights;
  /** Divide by row sums (`'true'`), column sums (`'pred'`) or the total (`'all'`). */
  normalize?: 'true' | 'pred' | 'all';
}

/**
 * The confusion matrix: `matrix[i][j]` counts samples of class `labels[i]` predicted as
 * `labels[j]`, as `sklearn.metrics.confusion_matrix`.
 */
export function confusionMatrix(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: ConfusionMatrixOptions = {},
): { labels: Label[]; matrix: number[][] } {
  checkOptions('confusionMatrix', options, ['labels', 'sampleWeight', 'normalize']);
  const t = readTargets('confusionMatrix', yTrue, yPred, options.sampleWeight);
  const labels =
    options.labels === undefined ? t.present : readLabels(options.labels, 'labels', 'confusionMatrix');
  if (options.labels !== undefined) {
    if (labels.length === 0)
      throw invalidArgument('confusionMatrix', "'labels' should contain at least one label", labels);
    const inTrue = new Uint8Array(t.present.length);
    for (let i = 0; i < t.trueCodes.length; i++) inTrue[t.trueCodes[i]!] = 1;
    if (t.trueCodes.length > 0 && !t.present.some((c, j) => inTrue[j] === 1 && labels.includes(c))) {
      throw new InputError('INPUT_INVALID', 'confusionMatrix: at least one label specified must be in yTrue');
    }
  }
  const k = labels.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  // Counted by present class first (one pass over the codes), then placed: each cell of the
  // result gets one pair's sum, added in sample order as before.
  const kp = t.present.length;
  const cells = pairCounts(t);
  const at = encode(t.present, labels);
  for (let a = 0; a < kp; a++) {
    for (let b = 0; b < kp; b++) {
      if (at[a]! >= 0 && at[b]! >= 0 && cells[a * kp + b]! !== 0)
        matrix[at[a]!]![at[b]!]! += cells[a * kp + b]!;
    }
  }
  if (options.normalize !== undefined) normalizeMatrix(matrix, options.normalize);
  return { labels, matrix };
}

function normalizeMatrix(m: number[][], how: 'true' | 'pred' | 'all'): void {
  if (!['true', 'pred', 'all'].includes(how))
    throw invalidArgument('confusionMatrix', "normalize must be 'true', 'pred' or 'all'", how);
  const k = m.length;
  const total = m.reduce((a, row) => a + sum(row), 0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const d = how === 'all' ? total : how === 'true' ? sum(m[i]!) : m.reduce((a, row) => a + row[j]!, 0);
      m[i]![j] = d === 0 ? 0 : m[i]![j]! / d;
    }
  }
}

/**
 * Balanced accuracy: the mean recall over the classes present in `yTrue`, as
 * `sklearn.metrics.balanced_accuracy_score`; `adjusted` rescales chance to 0.
 */
export function balancedAccuracy(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: { sampleWeight?: Weights; adjusted?: boolean } = {},
): number {
  checkOptions('balancedAccuracy', options, ['sampleWeight', 'adjusted']);
  const { matrix } = confusionMatrix(yTrue, yPred, { sampleWeight: options.sampleWeight });
  const perClass: number[] = [];
  matrix.forEach((row, i) => {
    const support = sum(row);
    if (support > 0) perClass.push(row[i]! / support);
  });
  let score = perClass.length === 0 ? Number.NaN : sum(perClass) / perClass.length;
  if (options.adjusted === true) {
    const chance = 1 / perClass.length;
    score = (score - chance) / (1 - chance);
  }
  return score;
}

/** The Matthews correlation coefficient (multiclass R_K), as `sklearn.metrics.matthews_corrcoef`. */
export function matthewsCorrcoef(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: { sampleWeight?: Weights } = {},
): number {
  checkOptions('matthewsCorrcoef', options, ['sampleWeight']);
  const { matrix } = confusionMatrix(yTrue, yPred, { sampleWeight: options.sampleWeight });
  const k = matrix.length;
  const t = matrix.map((row) => sum(row));
  const p = Array.from({ length: k }, (_, j) => matrix.reduce((a, row) => a + row[j]!, 0));
  const correct = matrix.reduce((a, row, i) => a + row[i]!, 0);
  const n = sum(p);
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  const covYtYp = correct * n - dot(t, p);
  const covYpYp = n * n - dot(p, p);
  const covYtYt = n * n - dot(t, t);
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/**
 * Cohen's kappa, agreement beyond chance between two labelings, as
 * `sklearn.metrics.cohen_kappa_score`, with `weights: 'linear' | 'quadratic'` for ordinal labels.
 */
export function cohenKappa(
  y1: LabelArray,
  y2: LabelArray,
  options: { labels?: readonly Label[]; weights?: 'linear' | 'quadratic'; sampleWeight?: Weights } = {},
): number {
  checkOptions('cohenKappa', options, ['labels', 'weights', 'sampleWeight']);
  if (options.weights !== undefined && options.weights !== 'linear' && options.weights !== 'quadratic') {
    throw invalidArgument('cohenKappa', "weights must be 'linear' or 'quadratic'", options.weights);
  }
  const { matrix } = confusionMatrix(y1, y2, { labels: options.labels, sampleWeight: options.sampleWeight });
  const k = matrix.length;
  const rows = matrix.map((row) => sum(row));
  const cols = Array.from({ length: k }, (_, j) => matrix.reduce((a, row) => a + row[j]!, 0));
  const n = sum(rows);
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w =
        options.weights === 'linear'
          ? Math.abs(i - j)
          : options.weights === 'quadratic'
            ? (i - j) ** 2
            : i === j
              ? 0
              : 1;
      observed += w * matrix[i]![j]!;
      expected += (w * rows[i]! * cols[j]!) / n;
    }
  }
  return 1 - observed / expected;
}
