/**
 * Logistic regression trained in TypeScript, as scikit-learn's `LogisticRegression` (L2
 * penalty, lbfgs): the same objective, minimised by L-BFGS gradient descent with the products
 * on ml-matrix, so its coefficients agree with scikit-learn's. It is a `Model`, so a baseline
 * goes through the Deployer, the Evaluator and the Monitor as an ONNX model does.
 */
import { Matrix } from 'ml-matrix';
import { invalidArgument, ModelshipError } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { type ClassLabel, classIndex, sortedClasses } from './classes';
import { type DesignMatrix, flag, positive, positiveInteger, readDesign } from './design';
import { lbfgs } from './lbfgs';
import { type LinearClassifierFields, LinearClassifierModel, readClassifierJson } from './linear-classifier';

export type { ClassLabel } from './classes';

export interface LogisticRegressionOptions extends BaseModelOptions {
  /** Inverse regularisation strength, as scikit-learn's `C` (default 1). */
  C?: number;
  /** Fit an unpenalised intercept (default true). */
  fitIntercept?: boolean;
  /** Weight of each training row (default 1 each). */
  sampleWeight?: ArrayLike<number>;
  /** L-BFGS iterations at most (default 1,000). */
  maxIter?: number;
  /** Stop when every gradient component of the mean loss is below this (default 1e-10). */
  tol?: number;
  /** Name of the model input (default `'features'`). */
  input?: string;
}
/** The serialised form of a {@link LogisticRegression}. */
export interface LogisticRegressionJson extends LinearClassifierFields {
  format: 'modelship-baseline';
  kind: 'logisticRegression';
  version: 1;
}

/**
 * A fitted logistic regression. Inputs: `features` float32 `[batch, k]`. Outputs: for two
 * classes `probability` (of `classes[1]`, `[batch]`), else `probabilities` (`[batch, classes]`),
 * and `label` (int64 for integer classes, else string). Ties in the probabilities go to the
 * first class, as scikit-learn's argmax does.
 *
 * @example
 * const baseline = LogisticRegression.fit(X, y, { C: 1, name: 'fraud-baseline' });
 * const report = await evaluate(baseline, holdout);
 */
export class LogisticRegression extends LinearClassifierModel {
  private constructor(
    classes: readonly ClassLabel[],
    coef: readonly (readonly number[])[],
    intercept: readonly number[],
    input: string,
    options: BaseModelOptions,
    fit: { nIter: number; converged: boolean },
  ) {
    super(classes, coef, intercept, input, classes.length === 2 ? 'logistic' : 'softmax', options, fit);
  }

  /** Fits on rows `X` and labels `y`; see {@link LogisticRegressionOptions}. */
  static fit(
    X: DesignMatrix,
    y: readonly ClassLabel[],
    options: LogisticRegressionOptions = {},
  ): LogisticRegression {
    const where = 'LogisticRegression.fit';
    if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of labels', y);
    const C = positive(where, 'C', options.C, 1);
    const tol = positive(where, 'tol', options.tol, 1e-10);
    const maxIter = positiveInteger(where, 'maxIter', options.maxIter, 1000);
    const fitIntercept = flag(where, 'fitIntercept', options.fitIntercept, true);
    const { x, n, k, w } = readDesign(X, y.length, options.sampleWeight, where);
    const classes = sortedClasses(y, where, 'logistic regression');
    const target = classIndex(y, classes);
    const K = classes.length === 2 ? 1 : classes.length; // two classes: one coefficient row
    const b = fitIntercept ? 1 : 0;
    const X_ = new Matrix(n, k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) X_.set(i, j, x[i * k + j]!);
    let sw = 0;
    for (let i = 0; i < n; i++) sw += w[i]!;
    const penalty = 1 / (C * sw);

    // θ = [coef (K × k, row-major), intercept (K)]; the mean loss plus the L2 term, scaled by
    // 1/Σw so the tolerance does not depend on the data size (the argmin is scikit-learn's).
    const objective = (theta: Float64Array, grad: Float64Array): number => {
      const W = new Matrix(K, k);
      for (let c = 0; c < K; c++) for (let j = 0; j < k; j++) W.set(c, j, theta[c * k + j]!);
      const Z = X_.mmul(W.transpose()); // n × K
      const R = new Matrix(n, K); // weighted residuals
      let loss = 0;
      for (let i = 0; i < n; i++) {
        if (K === 1) {
          const z = Z.get(i, 0) + (b ? theta[k]! : 0);
          const t = target[i]!;
          // log(1 + e^z) − t·z, computed without overflow.
          loss += w[i]! * ((z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t * z);
          R.set(i, 0, w[i]! * (1 / (1 + Math.exp(-z)) - t));
        } else {
          let max = Number.NEGATIVE_INFINITY;
          for (let c = 0; c < K; c++) max = Math.max(max, Z.get(i, c) + (b ? theta[K * k + c]! : 0));
          let sum = 0;
          for (let c = 0; c < K; c++) sum += Math.exp(Z.get(i, c) + (b ? theta[K * k + c]! : 0) - max);
          const logSum = max + Math.log(sum);
          const t = target[i]!;
          loss += w[i]! * (logSum - (Z.get(i, t) + (b ? theta[K * k + t]! : 0)));
          for (let c = 0; c < K; c++) {
            const p = Math.exp(Z.get(i, c) + (b ? theta[K * k + c]! : 0) - logSum);
            R.set(i, c, w[i]! * (p - (c === t ? 1 : 0)));
          }
        }
      }
      const G = R.transpose().mmul(X_); // K × k
      let norm = 0;
      for (let c = 0; c < K; c++)
        for (let j = 0; j < k; j++) {
          const v = theta[c * k + j]!;
          norm += v * v;
          grad[c * k + j] = G.get(c, j) / sw + penalty * v;
        }
      if (b)
        for (let c = 0; c < K; c++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += R.get(i, c);
          grad[K * k + c] = s / sw;
        }
      return loss / sw + 0.5 * penalty * norm;
    };
    const result = lbfgs(objective, new Float64Array(K * k + b * K), { maxIter, tol });
    const theta = result.x;
    if (!theta.every(Number.isFinite))
      throw new ModelshipError(
        'INVALID_ARGUMENT',
        `${where}: the fit diverged; scale the features or lower C`,
      );
    const coef = Array.from({ length: K }, (_, c) => Array.from(theta.subarray(c * k, c * k + k)));
    const intercept = Array.from({ length: K }, (_, c) => (b ? theta[K * k + c]! : 0));
    if (K > 1) {
      // Softmax intercepts are defined up to a shared constant (the loss ignores it and the
      // penalty does not touch it): centre them, so equal fits give equal numbers.
      const mean = intercept.reduce((a, v) => a + v, 0) / K;
      for (let c = 0; c < K; c++) intercept[c] = intercept[c]! - mean;
    }
    return new LogisticRegression(classes, coef, intercept, options.input ?? 'features', options, {
      nIter: result.iterations,
      converged: result.converged,
    });
  }

  toJSON(): LogisticRegressionJson {
    return { format: 'modelship-baseline', kind: 'logisticRegression', version: 1, ...this.fields() };
  }

  /** Reads a model back from {@link toJSON}'s output; it predicts bit for bit as the one saved. */
  static fromJSON(
    json: unknown,
    options: Pick<BaseModelOptions, 'name' | 'version'> = {},
  ): LogisticRegression {
    const j = readClassifierJson(
      json,
      'logisticRegression',
      'logistic regression',
      'LogisticRegression.fromJSON',
    );
    return new LogisticRegression(
      j.classes,
      j.coef,
      j.intercept,
      j.input,
      { name: options.name ?? j.name, version: options.version ?? j.modelVersion },
      { nIter: 0, converged: true },
    );
  }
}
