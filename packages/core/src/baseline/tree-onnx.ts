/**
 * Trees and forests as ONNX-ML `TreeEnsembleClassifier` / `TreeEnsembleRegressor`, in the shape
 * skl2onnx gives them: every node with `BRANCH_LEQ` (left when `x ≤ value`), leaf class weights
 * the leaf's class fractions divided by the number of trees (a forest averages), `post_transform`
 * NONE, the labels as `classlabels_int64s` / `classlabels_strings`, and by default a `ZipMap`
 * after the probabilities (which Modelship's loader serves as the tensor, with the labels).
 *
 * Thresholds: scikit-learn splits at a float64 midpoint and compares float32 features against it;
 * ONNX holds float thresholds. For a float32 x, `x ≤ t` exactly when `x ≤ t↓`, t↓ the largest
 * float32 not above t, so t↓ is written: the file makes every decision the model makes.
 */
import {
  encodeOnnxModel,
  type OnnxAttributeValue,
  type OnnxNodeSpec,
  type OnnxTensorSpec,
} from '../load/onnx-writer';
import type { TreeArrays } from './cart';
import type { ClassLabel } from './logistic-regression';

const ML = 'ai.onnx.ml';
const OPSETS = { '': 13, [ML]: 3 };
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest float32 ≤ t. */
export function float32Below(t: number): number {
  f32[0] = t;
  if (f32[0]! <= t) return f32[0]!;
  // Rounded up: step one unit toward −∞ (away from zero for negatives).
  if (f32[0] === 0) return -(2 ** -149);
  u32[0] = f32[0]! > 0 ? u32[0]! - 1 : u32[0]! + 1;
  return f32[0]!;
}

/** Export options of the tree models. */
export interface TreeOnnxOptions {
  /**
   * End the classifier with a `ZipMap`, as skl2onnx does by default (default true): Modelship
   * serves it as the probability tensor with the class labels; raw onnxruntime-js cannot return
   * it, so write `false` for a file to run there with `probabilities` as a plain tensor.
   */
  zipmap?: boolean;
}

function nodeAttributes(trees: readonly TreeArrays[]) {
  const a = {
    treeids: [] as number[],
    nodeids: [] as number[],
    featureids: [] as number[],
    values: [] as number[],
    modes: [] as string[],
    truenodeids: [] as number[],
    falsenodeids: [] as number[],
    hitrates: [] as number[],
    missing: [] as number[],
  };
  trees.forEach((t, tree) => {
    for (let n = 0; n < t.nodeCount; n++) {
      const leaf = t.left[n] === -1;
      a.treeids.push(tree);
      a.nodeids.push(n);
      a.featureids.push(leaf ? 0 : t.feature[n]!);
      a.values.push(leaf ? 0 : float32Below(t.threshold[n]!));
      a.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      a.truenodeids.push(leaf ? 0 : t.left[n]!);
      a.falsenodeids.push(leaf ? 0 : t.right[n]!);
      a.hitrates.push(1);
      a.missing.push(0);
    }
  });
  return {
    nodes_treeids: { ints: a.treeids },
    nodes_nodeids: { ints: a.nodeids },
    nodes_featureids: { ints: a.featureids },
    nodes_values: { floats: a.values },
    nodes_modes: { strings: a.modes },
    nodes_truenodeids: { ints: a.truenodeids },
    nodes_falsenodeids: { ints: a.falsenodeids },
    nodes_hitrates: { floats: a.hitrates },
    nodes_missing_value_tracks_true: { ints: a.missing },
  };
}

/** Leaf weights: per leaf, `weights(tree, node)` gives [target or class id, weight] pairs. */
function leafAttributes(
  trees: readonly TreeArrays[],
  weights: (t: TreeArrays, node: number) => [number, number][],
) {
  const treeids: number[] = [];
  const nodeids: number[] = [];
  const ids: number[] = [];
  const w: number[] = [];
  trees.forEach((t, tree) => {
    for (let n = 0; n < t.nodeCount; n++) {
      if (t.left[n] !== -1) continue;
      for (const [id, weight] of weights(t, n)) {
        treeids.push(tree);
        nodeids.push(n);
        ids.push(id);
        w.push(weight);
      }
    }
  });
  return { treeids, nodeids, ids, weights: w };
}

/** A classifier (one tree or a forest averaging its trees) as ONNX bytes. */
export function treeClassifierOnnx(
  trees: readonly TreeArrays[],
  classes: readonly ClassLabel[],
  k: number,
  input: string,
  name: string,
  options: TreeOnnxOptions = {},
): Uint8Array {
  const zipmap = options.zipmap ?? true;
  const C = classes.length;
  const scale = 1 / trees.length;
  const leaves = leafAttributes(trees, (t, node) => {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += t.value[node * C + c]!;
    if (sum === 0) sum = 1;
    return Array.from({ length: C }, (_, c) => [c, (t.value[node * C + c]! / sum) * scale]);
  });
  const integers = classes.every((c) => typeof c === 'number' && Number.isInteger(c));
  const labels: Record<string, OnnxAttributeValue> = integers
    ? { classlabels_int64s: { ints: classes as number[] } }
    : { classlabels_strings: { strings: classes.map(String) } };
  const probs = zipmap ? 'probability_tensor' : 'probabilities';
  // onnxruntime labels a two-class ensemble by "class 1 scored above 0" when both classes have
  // weights: the label is taken as the first most probable class here instead, as the model
  // (and scikit-learn's argmax) does.
  const binary = C === 2;
  const nodes: OnnxNodeSpec[] = [
    {
      opType: 'TreeEnsembleClassifier',
      domain: ML,
      name: 'TreeEnsembleClassifier',
      inputs: [input],
      outputs: [binary ? 'ensemble_label' : 'label', probs],
      attributes: {
        ...nodeAttributes(trees),
        class_treeids: { ints: leaves.treeids },
        class_nodeids: { ints: leaves.nodeids },
        class_ids: { ints: leaves.ids },
        class_weights: { floats: leaves.weights },
        post_transform: { string: 'NONE' },
        ...labels,
      },
    },
  ];
  const initializers: OnnxTensorSpec[] = [];
  if (binary) {
    nodes.push(
      {
        opType: 'ArgMax',
        name: 'ArgMax',
        inputs: [probs],
        outputs: ['label_index'],
        attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
      },
      {
        opType: 'Gather',
        name: 'Label',
        inputs: ['classes', 'label_index'],
        outputs: ['label'],
        attributes: { axis: { int: 0 } },
      },
    );
    initializers.push(
      integers
        ? { name: 'classes', type: 'int64', dims: [C], values: classes as number[] }
        : { name: 'classes', type: 'string', dims: [C], values: classes.map(String) },
    );
  }
  if (zipmap)
    nodes.push({
      opType: 'ZipMap',
      domain: ML,
      name: 'ZipMap',
      inputs: [probs],
      outputs: ['probabilities'],
      attributes: labels,
    });
  const spec = {
    graphName: name,
    inputs: [{ name: input, type: 'float' as const, shape: ['batch', k] }],
    outputs: [
      { name: 'label', type: integers ? ('int64' as const) : ('string' as const), shape: ['batch'] },
      zipmap
        ? {
            name: 'probabilities',
            type: 'float' as const,
            shape: [],
            mapKey: integers ? ('int64' as const) : ('string' as const),
          }
        : { name: 'probabilities', type: 'float' as const, shape: ['batch', C] },
    ],
    nodes,
    initializers,
    opsets: OPSETS,
    producerName: 'modelship',
  };
  return encodeOnnxModel(spec);
}

/** A regression tree as ONNX bytes: `prediction` `[batch]`. */
export function treeRegressorOnnx(tree: TreeArrays, k: number, input: string, name: string): Uint8Array {
  const leaves = leafAttributes([tree], (t, node) => [[0, t.value[node]!]]);
  return encodeOnnxModel({
    graphName: name,
    inputs: [{ name: input, type: 'float', shape: ['batch', k] }],
    outputs: [{ name: 'prediction', type: 'float', shape: ['batch'] }],
    nodes: [
      {
        opType: 'TreeEnsembleRegressor',
        domain: ML,
        name: 'TreeEnsembleRegressor',
        inputs: [input],
        outputs: ['variable'],
        attributes: {
          ...nodeAttributes([tree]),
          n_targets: { int: 1 },
          target_treeids: { ints: leaves.treeids },
          target_nodeids: { ints: leaves.nodeids },
          target_ids: { ints: leaves.ids },
          target_weights: { floats: leaves.weights },
          aggregate_function: { string: 'SUM' },
          post_transform: { string: 'NONE' },
        },
      },
      { opType: 'Reshape', name: 'Flatten', inputs: ['variable', 'flat'], outputs: ['prediction'] },
    ],
    initializers: [{ name: 'flat', type: 'int64', dims: [1], values: [-1] }],
    opsets: OPSETS,
    producerName: 'modelship',
  });
}
