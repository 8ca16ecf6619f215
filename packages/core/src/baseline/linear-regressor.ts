/**
 * What every linear baseline regressor shares (least squares, ridge, SGD): the prediction
 * `x·coef + intercept`, its output, the JSON fields and the export as ONNX-ML `LinearRegressor`.
 */
import { invalidArgument } from '../errors';
import { encodeOnnxModel } from '../load/onnx-writer';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { type DesignMatrix, readRows, readSaved } from './design';

/** The fields a saved linear regressor holds. */
export interface LinearRegressorFields {
  name: string;
  modelVersion: string;
  input: string;
  coef: number[];
  intercept: number;
}

/** Checks the targets of a regression: finite numbers. */
export function readTargets(y: unknown, where: string): Float64Array {
  if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of numbers', y);
  // One plain loop (forEach and Float64Array.from cost ~3 ms per 100k targets).
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v: unknown = y[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw invalidArgument(where, `y[${i}] is ${String(v)}; targets must be finite numbers`, v);
    out[i] = v;
  }
  return out;
}

/** A fitted linear regressor. Input float32 `[batch, k]`; output `prediction` float32 `[batch]`. */
export abstract class LinearRegressorModel extends BaseModel {
  protected constructor(
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

  /** Predictions for rows, in float64. */
  predictValues(X: DesignMatrix): number[] {
    const where = `${this.constructor.name}.predictValues`;
    const { x, n, k } = readRows(X, where);
    if (k !== this.coef.length)
      throw invalidArgument(where, `rows have ${k} values; the model takes ${this.coef.length}`, k);
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

  protected async release(): Promise<void> {}

  protected fields(): LinearRegressorFields {
    return {
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      coef: [...this.coef],
      intercept: this.intercept,
    };
  }

  /**
   * The model as an ONNX file that onnxruntime runs to the same predictions (in float32): an
   * ONNX-ML `LinearRegressor` (skl2onnx's shape for linear regressors) whose `[batch, 1]` result
   * is reshaped to the `prediction` `[batch]` this model answers, under the same input name.
   *
   * @example
   * writeFileSync('regressor.onnx', model.toOnnx());
   */
  toOnnx(): Uint8Array {
    return encodeOnnxModel({
      graphName: this.name,
      inputs: [{ name: this.input, type: 'float', shape: ['batch', this.coef.length] }],
      outputs: [{ name: 'prediction', type: 'float', shape: ['batch'] }],
      nodes: [
        {
          opType: 'LinearRegressor',
          domain: 'ai.onnx.ml',
          inputs: [this.input],
          outputs: ['variable'],
          attributes: { coefficients: { floats: this.coef }, intercepts: { floats: [this.intercept] } },
        },
        { opType: 'Reshape', inputs: ['variable', 'flat'], outputs: ['prediction'] },
      ],
      initializers: [{ name: 'flat', type: 'int64', dims: [1], values: [-1] }],
      opsets: { '': 13, 'ai.onnx.ml': 3 },
      metadata: { name: this.name, version: this.version },
    });
  }
}

/** Checks a saved linear regressor of `kind` and returns its fields. */
export function readRegressorJson(
  json: unknown,
  kind: string,
  what: string,
  where: string,
): LinearRegressorFields & Record<string, unknown> {
  const j = readSaved<LinearRegressorFields>(json, kind, what, where);
  if (!Array.isArray(j.coef) || j.coef.length === 0 || !j.coef.every(Number.isFinite))
    throw invalidArgument(where, 'coef must be a non-empty list of finite numbers', j.coef);
  if (!Number.isFinite(j.intercept))
    throw invalidArgument(where, 'intercept must be a finite number', j.intercept);
  return j as LinearRegressorFields & Record<string, unknown>;
}
