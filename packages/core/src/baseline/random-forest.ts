/**
 * A random forest trained in TypeScript, as scikit-learn's `RandomForestClassifier`: each tree
 * grown (cart.ts) on a bootstrap sample, passed as draw counts in the sample weights as
 * scikit-learn does, trying `maxFeatures` random features per node (`'sqrt'` by default); the
 * forest averages the trees' class fractions. The draws come from our own seeded generator
 * (scikit-learn's cannot be reproduced), so forests agree with scikit-learn's in accuracy, not
 * tree by tree. The rows are sorted once for all trees.
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { growTree, type TreeArrays } from './cart';
import { inputName, readClasses } from './decision-tree';
import type { DesignMatrix } from './design';
import { type ClassLabel, sortedClasses } from './logistic-regression';
import {
  addProba,
  argmax,
  classifierData,
  classifierOutputs,
  classifierSignature,
  float32Rows,
  growSettings,
  readHeader,
  type TreeJson,
  type TreeOptions,
  type TreeParams,
  treeFromJson,
  treeToJson,
} from './tree-common';
import { type TreeOnnxOptions, treeClassifierOnnx } from './tree-onnx';

export interface RandomForestClassifierOptions extends TreeOptions {
  /** Trees (default 100). */
  nEstimators?: number;
  /** Grow each tree on a bootstrap sample of the rows (default true). */
  bootstrap?: boolean;
  /** `'gini'` (default) or `'entropy'`. */
  criterion?: 'gini' | 'entropy';
}

/** The serialised form of a {@link RandomForestClassifier}. */
export interface RandomForestClassifierJson {
  format: 'modelship-baseline';
  kind: 'randomForestClassifier';
  version: 1;
  name: string;
  modelVersion: string;
  input: string;
  nFeatures: number;
  classes: ClassLabel[];
  params: TreeParams & { nEstimators: number; bootstrap: boolean };
  trees: TreeJson[];
}

/**
 * A fitted random forest. Inputs: `features` float32 `[batch, k]`. Outputs: `label` and
 * `probabilities` `[batch, classes]` (the mean of the trees' leaf class fractions), with the
 * class labels on its spec.
 *
 * @example
 * const forest = RandomForestClassifier.fit(X, y, { nEstimators: 100, seed: 1 });
 * writeFileSync('forest.onnx', forest.toOnnx());
 */
export class RandomForestClassifier extends BaseModel {
  private constructor(
    readonly classes: readonly ClassLabel[],
    /** Each tree's scikit-learn-style `tree_` arrays. */
    readonly estimators: readonly TreeArrays[],
    readonly nFeatures: number,
    readonly params: RandomForestClassifierJson['params'],
    readonly input: string,
    options: BaseModelOptions,
  ) {
    super(classifierSignature(input, nFeatures, classes), options);
  }

  /** Fits on rows `X` and labels `y`; see {@link RandomForestClassifierOptions}. */
  static fit(
    X: DesignMatrix,
    y: readonly ClassLabel[],
    options: RandomForestClassifierOptions = {},
  ): RandomForestClassifier {
    const where = 'RandomForestClassifier.fit';
    const nEstimators = options.nEstimators ?? 100;
    if (!Number.isInteger(nEstimators) || nEstimators < 1)
      throw invalidArgument(where, 'nEstimators must be a positive integer', nEstimators);
    const bootstrap = options.bootstrap ?? true;
    if (typeof bootstrap !== 'boolean')
      throw invalidArgument(where, 'bootstrap must be a boolean', bootstrap);
    const { data, target, w, classes } = classifierData(X, y, options.sampleWeight, where, sortedClasses);
    const random = seededRandom(options.seed ?? 0);
    const { settings, params } = growSettings(
      options,
      data.n,
      data.k,
      where,
      { criterion: 'gini', criteria: ['gini', 'entropy'], maxFeatures: 'sqrt' },
      random,
    );
    const n = data.n;
    const weights = new Float64Array(n);
    const trees: TreeArrays[] = [];
    for (let t = 0; t < nEstimators; t++) {
      if (bootstrap) {
        weights.fill(0);
        for (let d = 0; d < n; d++) weights[Math.floor(random() * n)]! += 1;
        for (let i = 0; i < n; i++) weights[i]! *= w[i]!;
      } else weights.set(w);
      trees.push(growTree(data, target, classes.length, weights, settings));
    }
    return new RandomForestClassifier(
      classes,
      trees,
      data.k,
      { ...params, nEstimators, bootstrap },
      inputName(options, where),
      { name: options.name, version: options.version, validation: options.validation },
    );
  }

  /** Class probabilities of rows (`[n][classes]`), as scikit-learn's `predict_proba`. */
  predictProba(X: DesignMatrix): number[][] {
    const { x, n } = float32Rows(X, this.nFeatures, 'RandomForestClassifier.predictProba');
    const p = this.proba(x, n);
    const C = this.classes.length;
    return Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * C, i * C + C)));
  }

  /** The predicted class of each row, as scikit-learn's `predict`. */
  predictLabels(X: DesignMatrix): ClassLabel[] {
    const { x, n } = float32Rows(X, this.nFeatures, 'RandomForestClassifier.predictLabels');
    return Array.from(argmax(this.proba(x, n), n, this.classes.length), (b) => this.classes[b]!);
  }

  private proba(x: ArrayLike<number>, n: number): Float64Array {
    const C = this.classes.length;
    const out = new Float64Array(n * C);
    // Summed, then divided once, as scikit-learn does (a forest of sure trees says exactly 1).
    for (let i = 0; i < n; i++)
      for (const t of this.estimators) addProba(t, x, i * this.nFeatures, out, i * C);
    const trees = this.estimators.length;
    for (let i = 0; i < out.length; i++) out[i]! /= trees;
    return out;
  }

  protected async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    return classifierOutputs(this.proba(t.data as Float32Array, n), n, this.classes, this.signature, outputs);
  }

  /** The forest as one ONNX `TreeEnsembleClassifier`, leaf weights 1/nEstimators (see {@link TreeOnnxOptions}). */
  toOnnx(options: TreeOnnxOptions = {}): Uint8Array {
    return treeClassifierOnnx(this.estimators, this.classes, this.nFeatures, this.input, this.name, options);
  }

  toJSON(): RandomForestClassifierJson {
    return {
      format: 'modelship-baseline',
      kind: 'randomForestClassifier',
      version: 1,
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      nFeatures: this.nFeatures,
      classes: [...this.classes],
      params: { ...this.params },
      trees: this.estimators.map(treeToJson),
    };
  }

  /** Reads a model back from {@link toJSON}'s output; it predicts as the one saved. */
  static fromJSON(
    json: unknown,
    options: Pick<BaseModelOptions, 'name' | 'version'> = {},
  ): RandomForestClassifier {
    const where = 'RandomForestClassifier.fromJSON';
    const { j, input, nFeatures } = readHeader(json, 'randomForestClassifier', where);
    const classes = readClasses(j.classes, where);
    if (!Array.isArray(j.trees) || j.trees.length === 0)
      throw invalidArgument(where, 'trees must list at least one tree', j.trees);
    const trees = j.trees.map((t) => treeFromJson(t, classes.length, nFeatures, where));
    return new RandomForestClassifier(
      classes,
      trees,
      nFeatures,
      j.params as RandomForestClassifierJson['params'],
      input,
      { name: options.name ?? (j.name as string), version: options.version ?? (j.modelVersion as string) },
    );
  }

  protected async release(): Promise<void> {}
}
