/**
 * What every linear baseline classifier shares (logistic regression, SGD, linear SVM): class
 * scores `x·coefᵀ + intercept`, the argmax label, the outputs built from them, the JSON fields
 * and the export as ONNX-ML `LinearClassifier`, shaped as skl2onnx shapes a scikit-learn model.
 */
import { invalidArgument } from '../errors';
import { encodeOnnxModel, type OnnxNodeSpec } from '../load/onnx-writer';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { ModelSignature, TensorSpec } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { type ClassLabel, integerClasses, labelSpec, labelTensor, sortedClasses } from './classes';
import { type DesignMatrix, readRows, readSaved } from './design';

/**
 * How class scores become the first output: `none` answers the scores themselves (`scores`,
 * scikit-learn's `decision_function`); `logistic` the sigmoid of each (two classes: `probability`
 * of `classes[1]`; more: one-vs-rest sigmoids normalised to sum to 1, as scikit-learn's
 * `_predict_proba_lr`); `softmax` the multinomial probabilities.
 */
export type ScoreTransform = 'none' | 'logistic' | 'softmax';

/** Options of `toOnnx()`. */
export interface OnnxExportOptions {
  /**
   * End classifiers in `ZipMap`, as skl2onnx does by default (default true): `loadModel` then
   * reads the class labels into the signature. `false` leaves the `[batch, classes]` tensor,
   * which raw onnxruntime-js can return.
   */
  zipmap?: boolean;
}

/** The fields a saved linear classifier holds. */
export interface LinearClassifierFields {
  name: string;
  modelVersion: string;
  input: string;
  classes: ClassLabel[];
  /** One row per class, or one row for two classes (scikit-learn's `coef_`). */
  coef: number[][];
  intercept: number[];
}

const ML_OPSETS = { '': 13, 'ai.onnx.ml': 3 };

/** The name of the first output for a transform and a class count. */
function scoreOutput(transform: ScoreTransform, classes: number): string {
  if (transform === 'none') return 'scores';
  return classes === 2 ? 'probability' : 'probabilities';
}

function signatureOf(
  input: string,
  k: number,
  classes: readonly ClassLabel[],
  transform: ScoreTransform,
): ModelSignature {
  const C = classes.length;
  const first: TensorSpec = {
    name: scoreOutput(transform, C),
    dtype: 'float32',
    shape: C === 2 ? ['batch'] : ['batch', C],
  };
  return {
    inputs: [{ name: input, dtype: 'float32', shape: ['batch', k] }],
    outputs: [first, labelSpec(classes)],
  };
}

/**
 * A fitted linear classifier. Input `features` (or the name given) float32 `[batch, k]`;
 * outputs the transformed scores (see {@link ScoreTransform}) and `label`. Ties go to the first
 * class, as scikit-learn's argmax does; two classes pick `classes[1]` when the score is > 0.
 */
export abstract class LinearClassifierModel extends BaseModel {
  /** Iterations (epochs, passes) the fit took, the most of any class; 0 for a model read back. */
  readonly nIter: number;
  /** Whether the fit met its tolerance before its iteration limit. */
  readonly converged: boolean;

  protected constructor(
    readonly classes: readonly ClassLabel[],
    /** scikit-learn's `coef_`: one row per class, or one row for two classes. */
    readonly coef: readonly (readonly number[])[],
    readonly intercept: readonly number[],
    readonly input: string,
    protected readonly transform: ScoreTransform,
    options: BaseModelOptions,
    fit: { nIter: number; converged: boolean } = { nIter: 0, converged: true },
  ) {
    super(signatureOf(input, coef[0]!.length, classes, transform), options);
    this.nIter = fit.nIter;
    this.converged = fit.converged;
  }

  /** scikit-learn's `decision_function`: `[n]` for two classes, else `[n][classes]`. */
  decisionFunction(X: DesignMatrix): number[] | number[][] {
    const { x, n, k } = this.rows(X, 'decisionFunction');
    const z = new Float64Array(this.coef.length);
    const rows: (number | number[])[] = [];
    for (let i = 0; i < n; i++) {
      this.scores(x, i * k, z);
      rows.push(z.length === 1 ? z[0]! : Array.from(z));
    }
    return rows as number[] | number[][];
  }

  /** Class probabilities of rows in float64 (`[n][classes]`), for the models that have them. */
  predictProba(X: DesignMatrix): number[][] {
    if (this.transform === 'none')
      throw invalidArgument(
        `${this.constructor.name}.predictProba`,
        'probabilities exist for log-loss models only (scikit-learn has no predict_proba here)',
        this.transform,
      );
    const { x, n, k } = this.rows(X, 'predictProba');
    const z = new Float64Array(this.coef.length);
    const p = new Float64Array(this.classes.length);
    return Array.from({ length: n }, (_, i) => {
      this.scores(x, i * k, z);
      this.probabilities(z, p);
      return Array.from(p);
    });
  }

  /** Checked rows for a method named `method`. */
  protected rows(X: DesignMatrix, method: string) {
    const where = `${this.constructor.name}.${method}`;
    const d = readRows(X, where);
    const k = this.coef[0]!.length;
    if (d.k !== k) throw invalidArgument(where, `rows have ${d.k} values; the model takes ${k}`, d.k);
    return d;
  }

  /** z[c] = x·coef[c] + intercept[c], for the row starting at `at`. */
  protected scores(x: ArrayLike<number>, at: number, z: Float64Array): void {
    const k = this.coef[0]!.length;
    for (let c = 0; c < z.length; c++) {
      const row = this.coef[c]!;
      let s = this.intercept[c]!;
      for (let j = 0; j < k; j++) s += row[j]! * x[at + j]!;
      z[c] = s;
    }
  }

  /** Probabilities from scores, by the model's transform (not `none`). */
  protected probabilities(z: Float64Array, p: Float64Array): void {
    if (z.length === 1) {
      const q = 1 / (1 + Math.exp(-z[0]!));
      p[0] = 1 - q;
      p[1] = q;
      return;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (const v of z) max = Math.max(max, v);
    let sum = 0;
    for (let c = 0; c < z.length; c++) {
      p[c] = this.transform === 'softmax' ? Math.exp(z[c]! - max) : 1 / (1 + Math.exp(-z[c]!));
      sum += p[c]!;
    }
    for (let c = 0; c < z.length; c++) p[c] = p[c]! / sum;
  }

  protected async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    const k = this.coef[0]!.length;
    const x = t.data as Float32Array;
    const C = this.classes.length;
    const K = this.coef.length;
    const first = new Float32Array(C === 2 ? n : n * C);
    const best = new Int32Array(n);
    const z = new Float64Array(K);
    const p = new Float64Array(C);
    for (let i = 0; i < n; i++) {
      this.scores(x, i * k, z);
      if (K === 1) best[i] = z[0]! > 0 ? 1 : 0;
      else {
        let b = 0;
        for (let c = 1; c < K; c++) if (z[c]! > z[b]!) b = c;
        best[i] = b;
      }
      if (this.transform === 'none') first.set(z, i * K);
      else {
        this.probabilities(z, p);
        if (C === 2) first[i] = p[1]!;
        else first.set(p, i * C);
      }
    }
    const out: NamedTensors = {};
    const name = scoreOutput(this.transform, C);
    if (outputs.includes(name)) out[name] = { dtype: 'float32', shape: C === 2 ? [n] : [n, C], data: first };
    if (outputs.includes('label')) out.label = labelTensor(this.classes, best);
    return out;
  }

  protected async release(): Promise<void> {}

  /** The fields every saved linear classifier holds. */
  protected fields(): LinearClassifierFields {
    return {
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      classes: [...this.classes],
      coef: this.coef.map((r) => [...r]),
      intercept: [...this.intercept],
    };
  }

  /**
   * The model as an ONNX file that onnxruntime runs to the same answers (in float32): a
   * `LinearClassifier` with the class labels (`classlabels_ints` / `classlabels_strings`), its
   * scores turned into probabilities as skl2onnx does (two classes: `[-coef, coef]` with
   * `LOGISTIC`; one-vs-rest: `LOGISTIC` then an L1 `Normalizer`; multinomial: `SOFTMAX`;
   * decision-function models: the raw scores, `[-z, z]` for two classes). Outputs: `label` and
   * `probabilities` (or `scores`) `[batch, classes]`, through `ZipMap` unless `zipmap: false`.
   *
   * @example
   * writeFileSync('baseline.onnx', model.toOnnx());
   * const served = await loadModel('baseline.onnx'); // labels in served.signature
   */
  toOnnx(options: OnnxExportOptions = {}): Uint8Array {
    const zipmap = readZipmap(options, `${this.constructor.name}.toOnnx`);
    const C = this.classes.length;
    const k = this.coef[0]!.length;
    const binary = this.coef.length === 1;
    const coefficients = binary ? [...this.coef[0]!.map((v) => -v), ...this.coef[0]!] : this.coef.flat();
    const intercepts = binary ? [-this.intercept[0]!, this.intercept[0]!] : [...this.intercept];
    const ints = integerClasses(this.classes);
    const post =
      this.transform === 'none' ? 'NONE' : this.transform === 'softmax' && !binary ? 'SOFTMAX' : 'LOGISTIC';
    const out = this.transform === 'none' ? 'scores' : 'probabilities';
    const nodes: OnnxNodeSpec[] = [
      {
        opType: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        inputs: [this.input],
        outputs: ['label', 'linear_scores'],
        attributes: {
          ...(ints
            ? { classlabels_ints: { ints: this.classes as number[] } }
            : { classlabels_strings: { strings: this.classes.map(String) } }),
          coefficients: { floats: coefficients },
          intercepts: { floats: intercepts },
          post_transform: { string: post },
        },
      },
    ];
    let last = 'linear_scores';
    if (this.transform === 'logistic' && !binary) {
      nodes.push({
        opType: 'Normalizer',
        domain: 'ai.onnx.ml',
        inputs: [last],
        outputs: ['normalised_scores'],
        attributes: { norm: { string: 'L1' } },
      });
      last = 'normalised_scores';
    }
    nodes.push(
      zipmap
        ? {
            opType: 'ZipMap',
            domain: 'ai.onnx.ml',
            inputs: [last],
            outputs: [out],
            attributes: ints
              ? { classlabels_int64s: { ints: this.classes as number[] } }
              : { classlabels_strings: { strings: this.classes.map(String) } },
          }
        : { opType: 'Identity', inputs: [last], outputs: [out] },
    );
    return encodeOnnxModel({
      graphName: this.name,
      inputs: [{ name: this.input, type: 'float', shape: ['batch', k] }],
      outputs: [
        { name: 'label', type: ints ? 'int64' : 'string', shape: ['batch'] },
        zipmap
          ? { name: out, type: 'float', shape: [], mapKey: ints ? 'int64' : 'string' }
          : { name: out, type: 'float', shape: ['batch', C] },
      ],
      nodes,
      opsets: ML_OPSETS,
      metadata: { name: this.name, version: this.version },
    });
  }
}

export function readZipmap(options: OnnxExportOptions, where: string): boolean {
  if (options === null || typeof options !== 'object')
    throw invalidArgument(where, 'options must be an object', options);
  const zipmap = options.zipmap ?? true;
  if (typeof zipmap !== 'boolean') throw invalidArgument(where, 'zipmap must be a boolean', zipmap);
  return zipmap;
}

/** Checks a saved linear classifier of `kind` and returns its fields. */
export function readClassifierJson(
  json: unknown,
  kind: string,
  what: string,
  where: string,
): LinearClassifierFields & Record<string, unknown> {
  const j = readSaved<LinearClassifierFields>(json, kind, what, where);
  const classes = j.classes;
  if (!Array.isArray(classes) || classes.length < 2)
    throw invalidArgument(where, 'classes must list at least two labels', classes);
  sortedClasses(classes, where, what);
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
  return j as LinearClassifierFields & Record<string, unknown>;
}
