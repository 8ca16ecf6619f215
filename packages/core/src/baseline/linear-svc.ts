/**
 * scikit-learn's `LinearSVC` (squared hinge, L2) in TypeScript: liblinear's dual coordinate
 * descent (Hsieh et al. 2008, "A dual coordinate descent method for large-scale linear SVM",
 * with its shrinking of the active set), the intercept learned as the weight of an extra
 * column of value `interceptScaling` (so it is penalised, as liblinear does), one-vs-rest
 * beyond two classes. The primal is strictly convex, so every order of the coordinates ends at
 * the same weights: the answer agrees with scikit-learn's within the stopping tolerance.
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { BaseModelOptions } from '../model/base-model';
import { type ClassLabel, classIndex, sortedClasses } from './classes';
import { type Design, type DesignMatrix, flag, positive, positiveInteger, readDesign } from './design';
import { type LinearClassifierFields, LinearClassifierModel, readClassifierJson } from './linear-classifier';

export interface LinearSVCOptions extends BaseModelOptions {
  /** Inverse regularisation strength (default 1). */
  C?: number;
  /** Stop when the projected gradients span less than this (default 1e-4). */
  tol?: number;
  /** Passes over the data at most (default 1000). */
  maxIter?: number;
  /** Fit an intercept (default true), as the weight of a constant column… */
  fitIntercept?: boolean;
  /** …of this value (default 1); a larger one penalises the intercept less. */
  interceptScaling?: number;
  /** Seed of the coordinate order (default 0). */
  randomState?: number;
  /** Weight of each training row: row i's C is `C · sampleWeight[i]` (default 1 each). */
  sampleWeight?: ArrayLike<number>;
  /** Name of the model input (default `'features'`). */
  input?: string;
}

/** The serialised form of a {@link LinearSVC}. */
export interface LinearSVCJson extends LinearClassifierFields {
  format: 'modelship-baseline';
  kind: 'linearSVC';
  version: 1;
}

/**
 * Dual coordinate descent for one binary problem (targets ±1): liblinear's
 * `solve_l2r_l1l2_svc` with the squared hinge (diagonal 1/(2C), no upper bound). Returns the
 * weights over the k features and the extra column, and the passes it took.
 */
function dualCd(
  d: Design,
  y: Float64Array,
  C: number,
  bias: number,
  tol: number,
  maxIter: number,
  random: () => number,
): { w: Float64Array; iterations: number } {
  const { x, n, k, w: sw } = d;
  const K = bias > 0 ? k + 1 : k;
  const w = new Float64Array(K);
  const alpha = new Float64Array(n);
  const diag = new Float64Array(n);
  const QD = new Float64Array(n);
  const index: number[] = [];
  for (let i = 0; i < n; i++) {
    if (sw[i] === 0) continue; // a row of weight 0 is no term of the objective
    diag[i] = 0.5 / (C * sw[i]!);
    let sq = bias * bias;
    for (let j = 0; j < k; j++) sq += x[i * k + j]! * x[i * k + j]!;
    QD[i] = diag[i]! + sq;
    index.push(i);
  }
  const l = index.length;
  let active = l;
  let pgMaxOld = Number.POSITIVE_INFINITY;
  let iter = 0;
  while (iter < maxIter) {
    let pgMax = Number.NEGATIVE_INFINITY;
    let pgMin = Number.POSITIVE_INFINITY;
    for (let s = 0; s < active; s++) {
      const j = s + Math.floor(random() * (active - s));
      const v = index[s]!;
      index[s] = index[j]!;
      index[j] = v;
    }
    for (let s = 0; s < active; s++) {
      const i = index[s]!;
      const yi = y[i]!;
      const at = i * k;
      let dot = bias > 0 ? w[k]! * bias : 0;
      for (let j = 0; j < k; j++) dot += w[j]! * x[at + j]!;
      const G = yi * dot - 1 + alpha[i]! * diag[i]!;
      let PG = 0;
      if (alpha[i] === 0) {
        if (G > pgMaxOld) {
          active--;
          index[s] = index[active]!;
          index[active] = i;
          s--;
          continue;
        }
        if (G < 0) PG = G;
      } else PG = G;
      pgMax = Math.max(pgMax, PG);
      pgMin = Math.min(pgMin, PG);
      if (Math.abs(PG) > 1e-12) {
        const old = alpha[i]!;
        alpha[i] = Math.max(old - G / QD[i]!, 0);
        const step = (alpha[i]! - old) * yi;
        for (let j = 0; j < k; j++) w[j] = w[j]! + step * x[at + j]!;
        if (bias > 0) w[k] = w[k]! + step * bias;
      }
    }
    iter++;
    if (pgMax - pgMin <= tol) {
      if (active === l) break;
      active = l;
      pgMaxOld = Number.POSITIVE_INFINITY;
      continue;
    }
    pgMaxOld = pgMax <= 0 ? Number.POSITIVE_INFINITY : pgMax;
  }
  return { w, iterations: iter };
}

/**
 * A linear support vector classifier, as scikit-learn's `LinearSVC` with its defaults (squared
 * hinge, L2, dual). Outputs `scores` (the decision function) and `label`.
 *
 * @example
 * const svm = LinearSVC.fit(X, y, { C: 0.5 });
 * svm.decisionFunction(holdoutRows);
 */
export class LinearSVC extends LinearClassifierModel {
  private constructor(
    classes: readonly ClassLabel[],
    coef: readonly (readonly number[])[],
    intercept: readonly number[],
    input: string,
    options: BaseModelOptions,
    fit: { nIter: number; converged: boolean },
  ) {
    super(classes, coef, intercept, input, 'none', options, fit);
  }

  /** Fits on rows `X` and labels `y`; see {@link LinearSVCOptions}. */
  static fit(X: DesignMatrix, y: readonly ClassLabel[], options: LinearSVCOptions = {}): LinearSVC {
    const where = 'LinearSVC.fit';
    if (options === null || typeof options !== 'object')
      throw invalidArgument(where, 'options must be an object', options);
    if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of labels', y);
    const C = positive(where, 'C', options.C, 1);
    const tol = positive(where, 'tol', options.tol, 1e-4);
    const maxIter = positiveInteger(where, 'maxIter', options.maxIter, 1000);
    const fitIntercept = flag(where, 'fitIntercept', options.fitIntercept, true);
    const scaling = positive(where, 'interceptScaling', options.interceptScaling, 1);
    const seed = options.randomState ?? 0;
    if (!Number.isSafeInteger(seed)) throw invalidArgument(where, 'randomState must be an integer', seed);
    const design = readDesign(X, y.length, options.sampleWeight, where);
    const classes = sortedClasses(y, where, 'LinearSVC');
    const target = classIndex(y, classes);
    const K = classes.length === 2 ? 1 : classes.length;
    const random = seededRandom(seed);
    const bias = fitIntercept ? scaling : 0;
    const coef: number[][] = [];
    const intercept: number[] = [];
    let nIter = 0;
    const yi = new Float64Array(design.n);
    for (let c = 0; c < K; c++) {
      const positiveClass = K === 1 ? 1 : c;
      for (let i = 0; i < design.n; i++) yi[i] = target[i] === positiveClass ? 1 : -1;
      const fit = dualCd(design, yi, C, bias, tol, maxIter, random);
      coef.push(Array.from(fit.w.subarray(0, design.k)));
      intercept.push(fitIntercept ? scaling * fit.w[design.k]! : 0);
      nIter = Math.max(nIter, fit.iterations);
    }
    return new LinearSVC(classes, coef, intercept, options.input ?? 'features', options, {
      nIter,
      converged: nIter < maxIter,
    });
  }

  toJSON(): LinearSVCJson {
    return { format: 'modelship-baseline', kind: 'linearSVC', version: 1, ...this.fields() };
  }

  /** Reads a model back from {@link toJSON}'s output. */
  static fromJSON(json: unknown, options: Pick<BaseModelOptions, 'name' | 'version'> = {}): LinearSVC {
    const j = readClassifierJson(json, 'linearSVC', 'linear SVC', 'LinearSVC.fromJSON');
    return new LinearSVC(
      j.classes,
      j.coef,
      j.intercept,
      j.input,
      { name: options.name ?? j.name, version: options.version ?? j.modelVersion },
      { nIter: 0, converged: true },
    );
  }
}
