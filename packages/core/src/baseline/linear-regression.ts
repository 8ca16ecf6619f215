/**
 * Linear regression trained in TypeScript: least squares as scikit-learn's `LinearRegression`,
 * or with an L2 penalty as its `Ridge`. Solved exactly on ml-matrix, on the centred and
 * weighted data (the SVD for least squares, Cholesky for ridge), since least squares has a
 * closed form that gradient descent would only approach.
 */
import { CholeskyDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { invalidArgument } from '../errors';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { type DesignMatrix, positive, readDesign, readRows } from './design';

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
export class LinearRegression extends BaseModel {
  private constructor(
    readonly coef: readonly number[],
    readonly intercept: number,
    readonly input: string,
    options: BaseModelOptions,
  ) {
    super(
      {
        inputs: [{ name: input, dtype: 'float32', shape: ['batch', coef.length] }],
        outputs: [{ name: 'prediction', dtype: 'float32', shape: ['batch'] }],
      },
      options,
    );
  }

  static fit(X: DesignMatrix, y: readonly number[], options: LinearRegressionOptions = {}): LinearRegression {
    const where = 'LinearRegression.fit';
    if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of numbers', y);
    y.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw invalidArgument(where, `y[${i}] is ${String(v)}; targets must be finite numbers`, v);
    });
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

  /** Predictions for rows, in float64. */
  predictValues(X: DesignMatrix): number[] {
    const { x, n, k } = readRows(X, 'LinearRegression.predictValues');
    if (k !== this.coef.length)
      throw invalidArgument(
        'LinearRegression.predictValues',
        `rows have ${k} values; the model takes ${this.coef.length}`,
        k,
      );
    return Array.from({ length: n }, (_, i) => this.row(x, i * k));
  }

  private row(x: ArrayLike<number>, at: number): number {
    let s = this.intercept;
    for (let j = 0; j < this.coef.length; j++) s += this.coef[j]! * x[at + j]!;
    return s;
  }

  protected async run(inputs: Record<string, Tensor>): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    const k = this.coef.length;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.row(t.data as Float32Array, i * k);
    return { prediction: { dtype: 'float32', shape: [n], data } };
  }

  toJSON(): LinearRegressionJson {
    return {
      format: 'modelship-baseline',
      kind: 'linearRegression',
      version: 1,
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      coef: [...this.coef],
      intercept: this.intercept,
    };
  }

  static fromJSON(json: unknown, options: Pick<BaseModelOptions, 'name' | 'version'> = {}): LinearRegression {
    const where = 'LinearRegression.fromJSON';
    const j = json as Partial<LinearRegressionJson>;
    if (
      typeof j !== 'object' ||
      j === null ||
      j.format !== 'modelship-baseline' ||
      j.kind !== 'linearRegression' ||
      j.version !== 1
    )
      throw invalidArgument(where, 'not a version 1 modelship linear regression', json);
    if (!Array.isArray(j.coef) || j.coef.length === 0 || !j.coef.every(Number.isFinite))
      throw invalidArgument(where, 'coef must be a non-empty list of finite numbers', j.coef);
    if (!Number.isFinite(j.intercept))
      throw invalidArgument(where, 'intercept must be a finite number', j.intercept);
    if (typeof j.input !== 'string' || j.input === '')
      throw invalidArgument(where, 'input must name the model input', j.input);
    return new LinearRegression(j.coef, j.intercept as number, j.input, {
      name: options.name ?? j.name,
      version: options.version ?? j.modelVersion,
    });
  }

  protected async release(): Promise<void> {}
}
