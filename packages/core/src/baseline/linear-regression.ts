/**
 * Linear regression trained in TypeScript: least squares as scikit-learn's `LinearRegression`,
 * or with an L2 penalty as its `Ridge`. Solved exactly on ml-matrix, on the centred and
 * weighted data (the SVD for least squares, Cholesky for ridge), since least squares has a
 * closed form that gradient descent would only approach.
 */
import { CholeskyDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { type DesignMatrix, positive, readDesign } from './design';
import { LinearRegressorModel, readRegressorJson, readTargets } from './linear-regressor';

export interface LinearRegressionOptions extends BaseModelOptions {
  /** L2 penalty, as scikit-learn's `Ridge(alpha)` (default 0: plain least squares). */
  alpha?: number;
  /** Fit an unpenalised intercept (default true). */
  fitIntercept?: boolean;
  /** Weight of each training row (default 1 each). */
  sampleWeight?: ArrayLike<number>;
  /** Name of the model input (default `'features'`). */
  input?: string;
}

/** The serialised form of a {@link LinearRegression}. */
export interface LinearRegressionJson {
  format: 'modelship-baseline';
  kind: 'linearRegression';
  version: 1;
  name: string;
  modelVersion: string;
  input: string;
  coef: number[];
  intercept: number;
}

/**
 * A fitted linear regression. Input `features` float32 `[batch, k]`; output `prediction`
 * float32 `[batch]`.
 *
 * @example
 * const baseline = LinearRegression.fit(X, y, { alpha: 1 });
 * await evaluate(baseline, holdout, { task: 'regression' });
 */
export class LinearRegression extends LinearRegressorModel {
  private constructor(coef: readonly number[], intercept: number, input: string, options: BaseModelOptions) {
    super(coef, intercept, input, options);
  }

  static fit(X: DesignMatrix, y: readonly number[], options: LinearRegressionOptions = {}): LinearRegression {
    const where = 'LinearRegression.fit';
    readTargets(y, where);
    const alpha = positive(where, 'alpha', options.alpha, 0, true);
    const fitIntercept = options.fitIntercept ?? true;
    if (typeof fitIntercept !== 'boolean')
      throw invalidArgument(where, 'fitIntercept must be a boolean', fitIntercept);
    const { x, n, k, w } = readDesign(X, y.length, options.sampleWeight, where);
    let sw = 0;
    for (let i = 0; i < n; i++) sw += w[i]!;
    // Centre on the weighted means so the intercept stays out of the penalty (as scikit-learn does).
    const xMean = new Float64Array(k);
    let yMean = 0;
    if (fitIntercept) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) xMean[j] = xMean[j]! + (w[i]! * x[i * k + j]!) / sw;
        yMean += (w[i]! * y[i]!) / sw;
      }
    }
    // Rows scaled by √w: least squares on them is the weighted problem.
    const A = new Matrix(n, k);
    const b = new Matrix(n, 1);
    for (let i = 0; i < n; i++) {
      const r = Math.sqrt(w[i]!);
      for (let j = 0; j < k; j++) A.set(i, j, r * (x[i * k + j]! - xMean[j]!));
      b.set(i, 0, r * (y[i]! - yMean));
    }
    let solution: Matrix;
    if (alpha > 0) {
      // Ridge: the penalised normal equations are positive definite; Cholesky, as Ridge's solver.
      const AtA = A.transpose().mmul(A);
      for (let j = 0; j < k; j++) AtA.set(j, j, AtA.get(j, j) + alpha);
      solution = new CholeskyDecomposition(AtA).solve(A.transpose().mmul(b));
    } else {
      // Least squares through the SVD, as LinearRegression's lstsq: exact on well-posed data,
      // and the minimum-norm answer when features are collinear.
      solution = new SingularValueDecomposition(A, { autoTranspose: true }).solve(b);
    }
    const coef = Array.from({ length: k }, (_, j) => solution.get(j, 0));
    let intercept = 0;
    if (fitIntercept) {
      intercept = yMean;
      for (let j = 0; j < k; j++) intercept -= xMean[j]! * coef[j]!;
    }
    return new LinearRegression(coef, intercept, options.input ?? 'features', options);
  }

  toJSON(): LinearRegressionJson {
    return { format: 'modelship-baseline', kind: 'linearRegression', version: 1, ...this.fields() };
  }

  static fromJSON(json: unknown, options: Pick<BaseModelOptions, 'name' | 'version'> = {}): LinearRegression {
    const j = readRegressorJson(json, 'linearRegression', 'linear regression', 'LinearRegression.fromJSON');
    return new LinearRegression(j.coef, j.intercept as number, j.input, {
      name: options.name ?? j.name,
      version: options.version ?? j.modelVersion,
    });
  }
}
