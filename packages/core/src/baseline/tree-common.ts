/** What the tree models share: their options, training data as float32, saved trees, outputs. */
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import type { ModelSignature, TensorSpec } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import { type Criterion, type GrowSettings, leafOf, type Presorted, presort, type TreeArrays } from './cart';
import { type ClassLabel, sortedClasses } from './classes';
import { type DesignMatrix, readDesign, readRows, readSaved } from './design';

/** scikit-learn's tree parameters, camelCased. */
export interface TreeOptions extends BaseModelOptions {
  /** Deepest a leaf may be (default: no limit). */
  maxDepth?: number | null;
  /** Rows a node needs to be split: a count ≥ 2, or a fraction of the rows in (0, 1) (default 2). */
  minSamplesSplit?: number;
  /** Rows each child must keep: a count ≥ 1, or a fraction of the rows in (0, 1) (default 1). */
  minSamplesLeaf?: number;
  /** A split must lower the weighted impurity by at least this (default 0). */
  minImpurityDecrease?: number;
  /**
   * Features tried per node: a count, a fraction, `'sqrt'`, `'log2'`, or null for all (default:
   * all for a tree, `'sqrt'` for a forest). With all, ties between features go to the lowest index.
   */
  maxFeatures?: number | 'sqrt' | 'log2' | null;
  /** Seed of the features drawn per node (and of a forest's bootstrap) (default 0). */
  seed?: number;
  /** Weight of each training row (default 1 each). */
  sampleWeight?: ArrayLike<number>;
  /** Name of the model input (default `'features'`). */
  input?: string;
}

/** A fitted tree as saved: scikit-learn's `tree_` arrays. */
export interface TreeJson {
  left: number[];
  right: number[];
  feature: number[];
  threshold: number[];
  /** Per node: weighted class counts (classifier) or the weighted mean (regressor), flattened. */
  value: number[];
  impurity: number[];
  nNodeSamples: number[];
  weightedNNodeSamples: number[];
}

/** The parameters as the fitted model reports them (scikit-learn's `get_params`, camelCased). */
export interface TreeParams {
  criterion: Criterion;
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  maxFeatures: number | 'sqrt' | 'log2' | null;
  seed: number;
}

/** X as float32 (scikit-learn casts to float32 before growing or applying a tree), checked. */
export function float32Design(
  X: DesignMatrix,
  targets: number,
  sampleWeight: unknown,
  where: string,
): { x: Float32Array; n: number; k: number; w: Float64Array } {
  const d = readDesign(X, targets, sampleWeight, where);
  const x = Float32Array.from(d.x);
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]!))
      throw invalidArgument(
        where,
        `X[${Math.floor(i / d.k)}][${i % d.k}] is ${d.x[i]}, beyond float32's range`,
        d.x[i],
      );
  return { x, n: d.n, k: d.k, w: d.w };
}

/** Rows to predict on, as float32, with the width the model takes. */
export function float32Rows(X: DesignMatrix, k: number, where: string): { x: Float32Array; n: number } {
  const d = readRows(X, where);
  if (d.k !== k) throw invalidArgument(where, `rows have ${d.k} values; the model takes ${k}`, d.k);
  return { x: Float32Array.from(d.x), n: d.n };
}

function count(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  n: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  if (typeof value === 'number' && value > 0 && value < 1) return Math.max(min, Math.ceil(value * n));
  throw invalidArgument(where, `${name} must be an integer ≥ ${min} or a fraction in (0, 1)`, value);
}

/** Checks the options and resolves them against the data (n rows, k features). */
export function growSettings(
  options: TreeOptions & { criterion?: unknown },
  n: number,
  k: number,
  where: string,
  defaults: { criterion: Criterion; criteria: readonly Criterion[]; maxFeatures: TreeParams['maxFeatures'] },
  random: () => number,
): { settings: GrowSettings; params: TreeParams } {
  const criterion = (options.criterion ?? defaults.criterion) as Criterion;
  if (!defaults.criteria.includes(criterion))
    throw invalidArgument(
      where,
      `criterion must be ${defaults.criteria.map((c) => `'${c}'`).join(' or ')}`,
      criterion,
    );
  const maxDepth = options.maxDepth ?? null;
  if (maxDepth !== null && !(Number.isInteger(maxDepth) && maxDepth >= 1))
    throw invalidArgument(where, 'maxDepth must be a positive integer or null', maxDepth);
  const minSamplesLeaf = count(where, 'minSamplesLeaf', options.minSamplesLeaf, 1, 1, n);
  const minSamplesSplit = count(where, 'minSamplesSplit', options.minSamplesSplit, 2, 2, n);
  const mid = options.minImpurityDecrease ?? 0;
  if (typeof mid !== 'number' || !Number.isFinite(mid) || mid < 0)
    throw invalidArgument(where, 'minImpurityDecrease must be a non-negative finite number', mid);
  const mf = options.maxFeatures === undefined ? defaults.maxFeatures : options.maxFeatures;
  let maxFeatures: number;
  if (mf === null) maxFeatures = k;
  else if (mf === 'sqrt') maxFeatures = Math.max(1, Math.floor(Math.sqrt(k)));
  else if (mf === 'log2') maxFeatures = Math.max(1, Math.floor(Math.log2(k)));
  else if (typeof mf === 'number' && Number.isInteger(mf) && mf >= 1 && mf <= k) maxFeatures = mf;
  else if (typeof mf === 'number' && mf > 0 && mf < 1) maxFeatures = Math.max(1, Math.floor(mf * k));
  else
    throw invalidArgument(
      where,
      `maxFeatures must be an integer in [1, ${k}], a fraction in (0, 1), 'sqrt', 'log2' or null`,
      mf,
    );
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  return {
    settings: {
      criterion,
      maxDepth: maxDepth ?? Number.POSITIVE_INFINITY,
      minSamplesLeaf,
      minSamplesSplit: Math.max(minSamplesSplit, 2 * minSamplesLeaf),
      minImpurityDecrease: mid,
      maxFeatures,
      random,
    },
    params: {
      criterion,
      maxDepth,
      minSamplesSplit: options.minSamplesSplit ?? 2,
      minSamplesLeaf: options.minSamplesLeaf ?? 1,
      minImpurityDecrease: mid,
      maxFeatures: mf,
      seed,
    },
  };
}

/** The data a classifier grows on: float32 rows presorted, class indices, weights. */
export function classifierData(
  X: DesignMatrix,
  y: readonly ClassLabel[],
  sampleWeight: unknown,
  where: string,
): { data: Presorted; target: Int32Array; w: Float64Array; classes: ClassLabel[] } {
  if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of labels', y);
  const { x, n, k, w } = float32Design(X, y.length, sampleWeight, where);
  const classes = sortedClasses(y, where, where.split('.')[0] as string);
  const index = new Map<unknown, number>(classes.map((c, j) => [c, j]));
  const target = Int32Array.from(y, (v) => index.get(v)!);
  return { data: presort(x, n, k), target, w, classes };
}

export function treeToJson(t: TreeArrays): TreeJson {
  return {
    left: Array.from(t.left),
    right: Array.from(t.right),
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold),
    value: Array.from(t.value),
    impurity: Array.from(t.impurity),
    nNodeSamples: Array.from(t.nNodeSamples),
    weightedNNodeSamples: Array.from(t.weightedNNodeSamples),
  };
}

/** Reads a saved tree and checks it is a tree: children in range, every node reached once. */
export function treeFromJson(j: unknown, width: number, k: number, where: string): TreeArrays {
  const t = j as Partial<TreeJson> | null;
  if (t === null || typeof t !== 'object') throw invalidArgument(where, 'a tree must be an object', j);
  const nodes = Array.isArray(t.left) ? t.left.length : 0;
  const numbers = (name: keyof TreeJson, length: number): number[] => {
    const a = t[name];
    if (
      !Array.isArray(a) ||
      a.length !== length ||
      !a.every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      throw invalidArgument(where, `tree.${name} must be ${length} finite numbers`, a);
    return a;
  };
  if (nodes < 1) throw invalidArgument(where, 'tree.left must list at least one node', t.left);
  const left = Int32Array.from(numbers('left', nodes));
  const right = Int32Array.from(numbers('right', nodes));
  const feature = Int32Array.from(numbers('feature', nodes));
  const seen = new Uint8Array(nodes);
  seen[0] = 1;
  for (let i = 0; i < nodes; i++) {
    const leaf = left[i] === -1;
    if (leaf ? right[i] !== -1 : !(feature[i]! >= 0 && feature[i]! < k))
      throw invalidArgument(
        where,
        `tree node ${i} must be a leaf (−1, −1) or split a feature in [0, ${k})`,
        i,
      );
    if (leaf) continue;
    for (const c of [left[i]!, right[i]!]) {
      if (!(c > i && c < nodes) || seen[c] === 1)
        throw invalidArgument(where, `tree node ${i} has a bad child ${c}`, c);
      seen[c] = 1;
    }
  }
  return {
    left,
    right,
    feature,
    threshold: Float64Array.from(numbers('threshold', nodes)),
    value: Float64Array.from(numbers('value', nodes * width)),
    impurity: Float64Array.from(numbers('impurity', nodes)),
    nNodeSamples: Int32Array.from(numbers('nNodeSamples', nodes)),
    weightedNNodeSamples: Float64Array.from(numbers('weightedNNodeSamples', nodes)),
    nodeCount: nodes,
    width,
  };
}

/** Adds a tree's leaf class fractions for the row at `at` to `into[o … o + C)`. */
export function addProba(
  t: TreeArrays,
  x: ArrayLike<number>,
  at: number,
  into: Float64Array,
  o: number,
): void {
  const C = t.width;
  const base = leafOf(t, x, at) * C;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += t.value[base + c]!;
  if (sum === 0) sum = 1;
  for (let c = 0; c < C; c++) into[o + c]! += t.value[base + c]! / sum;
}

/** A classifier's signature: `label` and `probabilities` `[batch, classes]` with the labels. */
export function classifierSignature(
  input: string,
  k: number,
  classes: readonly ClassLabel[],
): ModelSignature {
  const integers = classes.every((c) => typeof c === 'number' && Number.isInteger(c));
  const label: TensorSpec = { name: 'label', dtype: integers ? 'int64' : 'string', shape: ['batch'] };
  const labels = integers ? (classes as number[]) : classes.map(String);
  return {
    inputs: [{ name: input, dtype: 'float32', shape: ['batch', k] }],
    outputs: [label, { name: 'probabilities', dtype: 'float32', shape: ['batch', classes.length], labels }],
  };
}

/** `label` (the first most probable class, as scikit-learn's argmax) and `probabilities`. */
export function classifierOutputs(
  proba: Float64Array,
  n: number,
  classes: readonly ClassLabel[],
  signature: ModelSignature,
  outputs: readonly string[],
): NamedTensors {
  const C = classes.length;
  const out: NamedTensors = {};
  if (outputs.includes('probabilities'))
    out.probabilities = { dtype: 'float32', shape: [n, C], data: Float32Array.from(proba) };
  if (outputs.includes('label')) {
    const best = argmax(proba, n, C);
    out.label =
      signature.outputs[0]!.dtype === 'int64'
        ? { dtype: 'int64', shape: [n], data: BigInt64Array.from(best, (b) => BigInt(classes[b] as number)) }
        : { dtype: 'string', shape: [n], data: Array.from(best, (b) => String(classes[b])) };
  }
  return out;
}

/** The index of the most probable class of each row of `proba` (`n × C`), first on ties as numpy's argmax. */
export function argmax(proba: Float64Array, n: number, C: number): Int32Array {
  const best = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < C; c++) if (proba[i * C + c]! > proba[i * C + b]!) b = c;
    best[i] = b;
  }
  return best;
}

/** Checks the parts of a saved tree model's header. */
export function readHeader(
  json: unknown,
  kind: string,
  where: string,
): { j: Record<string, unknown>; input: string; nFeatures: number } {
  const j = readSaved<Record<string, unknown>>(json, kind, kind, where);
  if (typeof j.params !== 'object' || j.params === null)
    throw invalidArgument(where, 'params must be the fitted parameters object', j.params);
  const nFeatures = j.nFeatures;
  if (typeof nFeatures !== 'number' || !Number.isInteger(nFeatures) || nFeatures < 1)
    throw invalidArgument(where, 'nFeatures must be a positive integer', nFeatures);
  return { j, input: j.input as string, nFeatures };
}

export function inputName(options: TreeOptions, where: string): string {
  const input = options.input ?? 'features';
  if (typeof input !== 'string' || input === '')
    throw invalidArgument(where, 'input must be a non-empty string', input);
  return input;
}

/** Saved classes: at least two, all numbers or all strings, sorted as fit sorts them. */
export function readClasses(classes: unknown, where: string): ClassLabel[] {
  if (!Array.isArray(classes) || classes.length < 2)
    throw invalidArgument(where, 'classes must list at least two labels', classes);
  const sorted = sortedClasses(classes, where, where.split('.')[0] as string);
  if (sorted.length !== classes.length || sorted.some((c, i) => c !== classes[i]))
    throw invalidArgument(where, 'classes must be distinct and sorted', classes);
  return sorted;
}
