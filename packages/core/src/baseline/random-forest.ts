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
import type { BaseModelOptions } from '../model/base-model';
import { growTree, type TreeArrays } from './cart';
import type { DesignMatrix } from './design';
import type { ClassLabel } from './logistic-regression';
import { readClassifierHeader, type TreeClassifierJsonHeader, TreeClassifierModel } from './tree-classifier';
import {
  classifierData,
  growSettings,
  inputName,
  type TreeJson,
  type TreeOptions,
  type TreeParams,
  treeFromJson,
  treeToJson,
} from './tree-common';

export interface RandomForestClassifierOptions extends TreeOptions {
  /** Trees (default 100). */
  nEstimators?: number;
  /** Grow each tree on a bootstrap sample of the rows (default true). */
  bootstrap?: boolean;
  /** `'gini'` (default) or `'entropy'`. */
  criterion?: 'gini' | 'entropy';
}

/** The serialised form of a {@link RandomForestClassifier}. */
export interface RandomForestClassifierJson extends TreeClassifierJsonHeader<'randomForestClassifier'> {
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
export class RandomForestClassifier extends TreeClassifierModel {
  private constructor(
    classes: readonly ClassLabel[],
    estimators: readonly TreeArrays[],
    nFeatures: number,
    readonly params: RandomForestClassifierJson['params'],
    input: string,
    options: BaseModelOptions,
  ) {
    super(classes, estimators, nFeatures, input, 'RandomForestClassifier', options);
  }

  /** Each tree's scikit-learn-style `tree_` arrays. */
  get estimators(): readonly TreeArrays[] {
    return this.trees;
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
    const { data, target, w, classes } = classifierData(X, y, options.sampleWeight, where);
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

  toJSON(): RandomForestClassifierJson {
    return {
      ...this.savedHeader('randomForestClassifier'),
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
    const h = readClassifierHeader(json, 'randomForestClassifier', where, options);
    const saved = h.j.trees;
    if (!Array.isArray(saved) || saved.length === 0)
      throw invalidArgument(where, 'trees must list at least one tree', saved);
    const trees = saved.map((t) => treeFromJson(t, h.classes.length, h.nFeatures, where));
    return new RandomForestClassifier(
      h.classes,
      trees,
      h.nFeatures,
      h.params as RandomForestClassifierJson['params'],
      h.input,
      h.names,
    );
  }
}
