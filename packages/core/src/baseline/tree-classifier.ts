/** What a decision tree and a random forest classifier share: predicting, outputs, export, saving. */
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import type { TreeArrays } from './cart';
import type { DesignMatrix } from './design';
import type { ClassLabel } from './logistic-regression';
import {
  addProba,
  argmax,
  classifierOutputs,
  classifierSignature,
  float32Rows,
  readClasses,
  readHeader,
  type TreeParams,
} from './tree-common';
import { type TreeOnnxOptions, treeClassifierOnnx } from './tree-onnx';

/** The saved fields every tree classifier has. */
export interface TreeClassifierJsonHeader<K extends string> {
  format: 'modelship-baseline';
  kind: K;
  version: 1;
  name: string;
  modelVersion: string;
  input: string;
  nFeatures: number;
  classes: ClassLabel[];
}

/**
 * Trees voting by their leaves' class fractions: the mean over the trees (one tree: its own).
 * Inputs: `features` float32 `[batch, k]`; outputs `label` (int64 for integer classes, else
 * string) and `probabilities` `[batch, classes]` with the class labels on its spec.
 */
export abstract class TreeClassifierModel extends BaseModel {
  protected constructor(
    /** The class labels, sorted (scikit-learn's `classes_`). */
    readonly classes: readonly ClassLabel[],
    protected readonly trees: readonly TreeArrays[],
    /** Features per row. */
    readonly nFeatures: number,
    readonly input: string,
    private readonly className: string,
    options: BaseModelOptions,
  ) {
    super(classifierSignature(input, nFeatures, classes), options);
  }

  /** Class probabilities of rows (`[n][classes]`), as scikit-learn's `predict_proba`. */
  predictProba(X: DesignMatrix): number[][] {
    const { x, n } = float32Rows(X, this.nFeatures, `${this.className}.predictProba`);
    const p = this.proba(x, n);
    const C = this.classes.length;
    return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * C, i * C + C)));
  }

  /** The predicted class of each row (the first most probable), as scikit-learn's `predict`. */
  predictLabels(X: DesignMatrix): ClassLabel[] {
    const { x, n } = float32Rows(X, this.nFeatures, `${this.className}.predictLabels`);
    return Array.from(argmax(this.proba(x, n), n, this.classes.length), (b) => this.classes[b]!);
  }

  private proba(x: ArrayLike<number>, n: number): Float64Array {
    const C = this.classes.length;
    const out = new Float64Array(n * C);
    // Summed, then divided once, as scikit-learn does (a forest of sure trees says exactly 1).
    for (let i = 0; i < n; i++) for (const t of this.trees) addProba(t, x, i * this.nFeatures, out, i * C);
    const trees = this.trees.length;
    if (trees > 1) for (let i = 0; i < out.length; i++) out[i]! /= trees;
    return out;
  }

  protected async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    return classifierOutputs(this.proba(t.data as Float32Array, n), n, this.classes, this.signature, outputs);
  }

  /**
   * The model as one ONNX `TreeEnsembleClassifier` (leaf weights: class fractions / trees),
   * ending in a `ZipMap` unless `{ zipmap: false }` (see {@link TreeOnnxOptions}).
   */
  toOnnx(options: TreeOnnxOptions = {}): Uint8Array {
    return treeClassifierOnnx(this.trees, this.classes, this.nFeatures, this.input, this.name, options);
  }

  /** The saved fields every tree classifier has. */
  protected savedHeader<K extends string>(kind: K): TreeClassifierJsonHeader<K> {
    return {
      format: 'modelship-baseline',
      kind,
      version: 1,
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      nFeatures: this.nFeatures,
      classes: [...this.classes],
    };
  }

  protected async release(): Promise<void> {}
}

/** Reads the header and classes of a saved tree classifier. */
export function readClassifierHeader(
  json: unknown,
  kind: string,
  where: string,
  options: Pick<BaseModelOptions, 'name' | 'version'>,
) {
  const { j, input, nFeatures } = readHeader(json, kind, where);
  const classes = readClasses(j.classes, where);
  return {
    j,
    input,
    nFeatures,
    classes,
    params: j.params as TreeParams,
    names: {
      name: options.name ?? (j.name as string),
      version: options.version ?? (j.modelVersion as string),
    },
  };
}
