/**
 * Logistic regression trained in TypeScript, as scikit-learn's `LogisticRegression` (L2
 * penalty, lbfgs): the same objective, minimised by L-BFGS gradient descent with the products
 * on ml-matrix, so its coefficients agree with scikit-learn's. It is a `Model`, so a baseline
 * goes through the Deployer, the Evaluator and the Monitor as an ONNX model does.
 */
import { Matrix } from 'ml-matrix';
import { invalidArgument, ModelshipError } from '../errors';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { type DesignMatrix, positive, readDesign, readRows } from './design';
import { lbfgs } from './lbfgs';

/** A class label: a number (integer labels give an int64 `label` output) or a string. */
export type ClassLabel = number | string;

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
export interface LogisticRegressionJson {
  format: 'modelship-baseline';
  kind: 'logisticRegression';
  version: 1;
  name: string;
  modelVersion: string;
  input: string;
  classes: ClassLabel[];
  /** One row per class, or one row for two classes (scikit-learn's `coef_`). */
  coef: number[][];
  intercept: number[];
}

/** The distinct labels of y, sorted (numbers ascending, strings by code unit), checked. */
export function sortedClasses(y: readonly unknown[], where: string): ClassLabel[] {
  const distinct = [...new Set(y)];
  for (const v of distinct)
    if (!((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string'))
      throw invalidArgument(where, `labels must be finite numbers or strings, received ${String(v)}`, v);
  if (distinct.some((v) => typeof v === 'string') && distinct.some((v) => typeof v === 'number'))
    throw invalidArgument(where, 'labels must be all numbers or all strings', distinct);
  if (distinct.length < 2)
    throw invalidArgument(
      where,
      `a classifier needs at least two classes; y holds ${distinct.length}`,
      distinct,
    );
  return typeof distinct[0] === 'number'
    ? (distinct as number[]).sort((a, b) => a - b)
    : (distinct as string[]).sort();
}

function signatureOf(input: string, k: number, classes: readonly ClassLabel[]): ModelSignature {
  const integers = classes.every((c) => typeof c === 'number' && Number.isInteger(c));
  const label = {
    name: 'label',
    dtype: integers ? ('int64' as const) : ('string' as const),
    shape: ['batch'],
  };
  if (!integers && classes.some((c) => typeof c === 'number'))
    // Fractional numeric labels: answered as their text, since int64 cannot hold them.
    label.dtype = 'string';
  return {
    inputs: [{ name: input, dtype: 'float32', shape: ['batch', k] }],
    outputs:
      classes.length === 2
        ? [{ name: 'probability', dtype: 'float32', shape: ['batch'] }, label]
        : [{ name: 'probabilities', dtype: 'float32', shape: ['batch', classes.length] }, label],
  };
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
export class LogisticRegression extends BaseModel {
  /** Iterations the fit took and whether it converged (see `tol`). */
  readonly nIter: number;
  readonly converged: boolean;

  private constructor(
    readonly classes: readonly ClassLabel[],
    /** scikit-learn's `coef_`: one row per class, or one row for two classes. */
    readonly coef: readonly (readonly number[])[],
    readonly intercept: readonly number[],
    readonly input: string,
    options: BaseModelOptions,
    fit: { nIter: number; converged: boolean },
  ) {
    super(signatureOf(input, coef[0]!.length, classes), options);
    this.nIter = fit.nIter;
    this.converged = fit.converged;
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
    const maxIter = options.maxIter ?? 1000;
    if (!Number.isInteger(maxIter) || maxIter < 1)
      throw invalidArgument(where, 'maxIter must be a positive integer', maxIter);
    const fitIntercept = options.fitIntercept ?? true;
    if (typeof fitIntercept !== 'boolean')
      throw invalidArgument(where, 'fitIntercept must be a boolean', fitIntercept);
    const { x, n, k, w } = readDesign(X, y.length, options.sampleWeight, where);
    const classes = sortedClasses(y, where);
    const index = new Map<unknown, number>(classes.map((c, j) => [c, j]));
    const target = Int32Array.from(y, (v) => index.get(v)!);
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

  /** Class probabilities of rows, in float64 (`[n][classes]`). */
  predictProba(X: DesignMatrix): number[][] {
    const { x, n, k } = readRows(X, 'LogisticRegression.predictProba');
    if (k !== this.coef[0]!.length)
      throw invalidArgument(
        'LogisticRegression.predictProba',
        `rows have ${k} values; the model takes ${this.coef[0]!.length}`,
        k,
      );
    return Array.from({ length: n }, (_, i) => this.rowProba(x, i * k));
  }

  private rowProba(x: ArrayLike<number>, at: number): number[] {
    const k = this.coef[0]!.length;
    const z = this.coef.map((row, c) => {
      let s = this.intercept[c]!;
      for (let j = 0; j < k; j++) s += row[j]! * x[at + j]!;
      return s;
    });
    if (z.length === 1) {
      const p = 1 / (1 + Math.exp(-z[0]!));
      return [1 - p, p];
    }
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, v) => a + v, 0);
    return e.map((v) => v / sum);
  }

  protected async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    const k = this.coef[0]!.length;
    const x = t.data as Float32Array;
    const C = this.classes.length;
    const probs = new Float32Array(C === 2 ? n : n * C);
    const integers = this.signature.outputs[1]!.dtype === 'int64';
    const labels: bigint[] | string[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.rowProba(x, i * k);
      let best = 0;
      for (let c = 1; c < C; c++) if (p[c]! > p[best]!) best = c;
      if (C === 2) probs[i] = p[1]!;
      else probs.set(p, i * C);
      if (integers) (labels as bigint[]).push(BigInt(this.classes[best] as number));
      else (labels as string[]).push(String(this.classes[best]));
    }
    const out: NamedTensors = {};
    const probName = C === 2 ? 'probability' : 'probabilities';
    if (outputs.includes(probName))
      out[probName] = { dtype: 'float32', shape: C === 2 ? [n] : [n, C], data: probs };
    if (outputs.includes('label'))
      out.label = integers
        ? { dtype: 'int64', shape: [n], data: BigInt64Array.from(labels as bigint[]) }
        : { dtype: 'string', shape: [n], data: labels as string[] };
    return out;
  }

  toJSON(): LogisticRegressionJson {
    return {
      format: 'modelship-baseline',
      kind: 'logisticRegression',
      version: 1,
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      classes: [...this.classes],
      coef: this.coef.map((r) => [...r]),
      intercept: [...this.intercept],
    };
  }

  /** Reads a model back from {@link toJSON}'s output; it predicts bit for bit as the one saved. */
  static fromJSON(
    json: unknown,
    options: Pick<BaseModelOptions, 'name' | 'version'> = {},
  ): LogisticRegression {
    const where = 'LogisticRegression.fromJSON';
    const j = json as Partial<LogisticRegressionJson>;
    if (
      typeof j !== 'object' ||
      j === null ||
      j.format !== 'modelship-baseline' ||
      j.kind !== 'logisticRegression' ||
      j.version !== 1
    )
      throw invalidArgument(where, 'not a version 1 modelship logistic regression', json);
    const classes = j.classes;
    if (!Array.isArray(classes) || classes.length < 2)
      throw invalidArgument(where, 'classes must list at least two labels', classes);
    sortedClasses(classes, where);
    const rows = classes.length === 2 ? 1 : classes.length;
    const coef = j.coef;
    if (
      !Array.isArray(coef) ||
      coef.length !== rows ||
      !coef.every(
        (r) => Array.isArray(r) && r.length === coef[0]!.length && r.length > 0 && r.every(Number.isFinite),
      )
    )
      throw invalidArgument(where, `coef must be ${rows} equal rows of finite numbers`, coef);
    if (!Array.isArray(j.intercept) || j.intercept.length !== rows || !j.intercept.every(Number.isFinite))
      throw invalidArgument(where, `intercept must be ${rows} finite numbers`, j.intercept);
    if (typeof j.input !== 'string' || j.input === '')
      throw invalidArgument(where, 'input must name the model input', j.input);
    return new LogisticRegression(
      classes,
      coef,
      j.intercept,
      j.input,
      { name: options.name ?? j.name, version: options.version ?? j.modelVersion },
      { nIter: 0, converged: true },
    );
  }

  protected async release(): Promise<void> {}
}
