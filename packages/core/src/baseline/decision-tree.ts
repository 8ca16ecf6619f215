/**
 * Decision trees trained in TypeScript, as scikit-learn's `DecisionTreeClassifier` and
 * `DecisionTreeRegressor` (CART, best splitter; see cart.ts for what is the same): on data
 * without tied split candidates they grow scikit-learn's tree, node for node. Each is a `Model`
 * and writes itself as an ONNX `TreeEnsemble*` file (`toOnnx`).
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { BaseModel, type BaseModelOptions } from '../model/base-model';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { growTree, leafOf, presort, type TreeArrays } from './cart';
import type { DesignMatrix } from './design';
import type { ClassLabel } from './logistic-regression';
import { readClassifierHeader, type TreeClassifierJsonHeader, TreeClassifierModel } from './tree-classifier';
import {
  classifierData,
  float32Design,
  float32Rows,
  growSettings,
  inputName,
  readHeader,
  type TreeJson,
  type TreeOptions,
  type TreeParams,
  treeFromJson,
  treeToJson,
} from './tree-common';
import { treeRegressorOnnx } from './tree-onnx';

export interface DecisionTreeClassifierOptions extends TreeOptions {
  /** `'gini'` (default) or `'entropy'`. */
  criterion?: 'gini' | 'entropy';
}

export interface DecisionTreeRegressorOptions extends TreeOptions {
  /** `'squared_error'` (the only one). */
  criterion?: 'squared_error';
}

/** The serialised form of a {@link DecisionTreeClassifier}. */
export interface DecisionTreeClassifierJson extends TreeClassifierJsonHeader<'decisionTreeClassifier'> {
  params: TreeParams;
  tree: TreeJson;
}

/** The serialised form of a {@link DecisionTreeRegressor}. */
export interface DecisionTreeRegressorJson extends Omit<DecisionTreeClassifierJson, 'kind' | 'classes'> {
  kind: 'decisionTreeRegressor';
}

function fitOptions(options: TreeOptions) {
  return { name: options.name, version: options.version, validation: options.validation };
}

/**
 * A fitted classification tree. Inputs: `features` float32 `[batch, k]`. Outputs: `label`
 * (int64 for integer classes, else string) and `probabilities` `[batch, classes]`, the leaf's
 * weighted class fractions, with the class labels on its spec.
 *
 * @example
 * const tree = DecisionTreeClassifier.fit(X, y, { maxDepth: 5 });
 * tree.predictLabels([[5.1, 3.5, 1.4, 0.2]]); // ['setosa']
 * writeFileSync('tree.onnx', tree.toOnnx());
 */
export class DecisionTreeClassifier extends TreeClassifierModel {
  private constructor(
    classes: readonly ClassLabel[],
    tree: TreeArrays,
    nFeatures: number,
    readonly params: TreeParams,
    input: string,
    options: BaseModelOptions,
  ) {
    super(classes, [tree], nFeatures, input, 'DecisionTreeClassifier', options);
  }

  /** scikit-learn's `tree_` arrays (`value` holds weighted class counts). */
  get tree(): TreeArrays {
    return this.trees[0]!;
  }

  /** Fits on rows `X` and labels `y`; see {@link DecisionTreeClassifierOptions}. */
  static fit(
    X: DesignMatrix,
    y: readonly ClassLabel[],
    options: DecisionTreeClassifierOptions = {},
  ): DecisionTreeClassifier {
    const where = 'DecisionTreeClassifier.fit';
    const { data, target, w, classes } = classifierData(X, y, options.sampleWeight, where);
    const { settings, params } = growSettings(
      options,
      data.n,
      data.k,
      where,
      { criterion: 'gini', criteria: ['gini', 'entropy'], maxFeatures: null },
      seededRandom(options.seed ?? 0),
    );
    const tree = growTree(data, target, classes.length, w, settings);
    return new DecisionTreeClassifier(
      classes,
      tree,
      data.k,
      params,
      inputName(options, where),
      fitOptions(options),
    );
  }

  toJSON(): DecisionTreeClassifierJson {
    return {
      ...this.savedHeader('decisionTreeClassifier'),
      params: { ...this.params },
      tree: treeToJson(this.tree),
    };
  }

  /** Reads a model back from {@link toJSON}'s output; it predicts as the one saved. */
  static fromJSON(
    json: unknown,
    options: Pick<BaseModelOptions, 'name' | 'version'> = {},
  ): DecisionTreeClassifier {
    const where = 'DecisionTreeClassifier.fromJSON';
    const h = readClassifierHeader(json, 'decisionTreeClassifier', where, options);
    const tree = treeFromJson(h.j.tree, h.classes.length, h.nFeatures, where);
    return new DecisionTreeClassifier(h.classes, tree, h.nFeatures, h.params, h.input, h.names);
  }
}

/**
 * A fitted regression tree. Inputs: `features` float32 `[batch, k]`. Output: `prediction`
 * float32 `[batch]`, the weighted mean of the leaf's training targets.
 *
 * @example
 * const tree = DecisionTreeRegressor.fit(X, y, { minSamplesLeaf: 5 });
 * tree.predictValues(X.slice(0, 3));
 */
export class DecisionTreeRegressor extends BaseModel {
  private constructor(
    /** scikit-learn's `tree_` arrays (`value` holds each node's weighted mean). */
    readonly tree: TreeArrays,
    readonly nFeatures: number,
    readonly params: TreeParams,
    readonly input: string,
    options: BaseModelOptions,
  ) {
    super(
      {
        inputs: [{ name: input, dtype: 'float32', shape: ['batch', nFeatures] }],
        outputs: [{ name: 'prediction', dtype: 'float32', shape: ['batch'] }],
      },
      options,
    );
  }

  /** Fits on rows `X` and targets `y`; see {@link DecisionTreeRegressorOptions}. */
  static fit(
    X: DesignMatrix,
    y: ArrayLike<number>,
    options: DecisionTreeRegressorOptions = {},
  ): DecisionTreeRegressor {
    const where = 'DecisionTreeRegressor.fit';
    if (y === null || typeof y !== 'object' || typeof y.length !== 'number')
      throw invalidArgument(where, 'y must be an array of numbers', y);
    const { x, n, k, w } = float32Design(X, y.length, options.sampleWeight, where);
    const target = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = y[i];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw invalidArgument(where, `y[${i}] is ${String(v)}; targets must be finite numbers`, v);
      target[i] = v;
    }
    const { settings, params } = growSettings(
      options,
      n,
      k,
      where,
      { criterion: 'squared_error', criteria: ['squared_error'], maxFeatures: null },
      seededRandom(options.seed ?? 0),
    );
    const tree = growTree(presort(x, n, k), target, 0, w, settings);
    return new DecisionTreeRegressor(tree, k, params, inputName(options, where), fitOptions(options));
  }

  /** Predictions for rows, in float64, as scikit-learn's `predict`. */
  predictValues(X: DesignMatrix): number[] {
    const { x, n } = float32Rows(X, this.nFeatures, 'DecisionTreeRegressor.predictValues');
    return Array.from({ length: n }, (_, i) => this.tree.value[leafOf(this.tree, x, i * this.nFeatures)]!);
  }

  protected async run(inputs: Record<string, Tensor>): Promise<NamedTensors> {
    const t = inputs[this.input]!;
    const n = t.shape[0]!;
    const x = t.data as Float32Array;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.tree.value[leafOf(this.tree, x, i * this.nFeatures)]!;
    return { prediction: { dtype: 'float32', shape: [n], data: out } };
  }

  /** The model as an ONNX `TreeEnsembleRegressor` file with output `prediction` `[batch]`. */
  toOnnx(): Uint8Array {
    return treeRegressorOnnx(this.tree, this.nFeatures, this.input, this.name);
  }

  toJSON(): DecisionTreeRegressorJson {
    return {
      format: 'modelship-baseline',
      kind: 'decisionTreeRegressor',
      version: 1,
      name: this.name,
      modelVersion: this.version,
      input: this.input,
      nFeatures: this.nFeatures,
      params: { ...this.params },
      tree: treeToJson(this.tree),
    };
  }

  /** Reads a model back from {@link toJSON}'s output; it predicts as the one saved. */
  static fromJSON(
    json: unknown,
    options: Pick<BaseModelOptions, 'name' | 'version'> = {},
  ): DecisionTreeRegressor {
    const where = 'DecisionTreeRegressor.fromJSON';
    const { j, input, nFeatures } = readHeader(json, 'decisionTreeRegressor', where);
    const tree = treeFromJson(j.tree, 1, nFeatures, where);
    return new DecisionTreeRegressor(tree, nFeatures, j.params as TreeParams, input, {
      name: options.name ?? (j.name as string),
      version: options.version ?? (j.modelVersion as string),
    });
  }

  protected async release(): Promise<void> {}
}
