/**
 * Isolation forest (Liu, Ting and Zhou, 2008) with scikit-learn's algorithm and defaults: 100
 * trees, each grown on 256 rows drawn without replacement (or all rows when fewer), a random
 * non-constant feature per node split at a uniform random point between its minimum and
 * maximum, depth limited to ⌈log2 256⌉ = 8. A row's path length in a tree is the depth of its
 * leaf plus c(rows in that leaf), c(n) = 2 H(n − 1) − 2 (n − 1) / n the average path length of
 * an unsuccessful search in a binary search tree; its score is 2^(−mean path / c(samples)),
 * near 1 for rows isolated quickly, near 0.5 or below for ordinary rows. scikit-learn's
 * `score_samples` is the negative of this score.
 */

import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { CompleteTrees, type ForestKernel } from './complete-trees';
import { BaseDetector, checkDetectorJson, type DetectorJsonBase } from './detector';
import { WasmForest } from './forest-wasm';
import { type NumericRows, numericMatrix } from './matrix';

const EULER_GAMMA = 0.5772156649015329;

/** c(n): the average path length of an unsuccessful search among n rows (0 for n ≤ 1, 1 for n = 2). */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

export interface IsolationForestOptions {
  /** Features to use, by name (default: every numeric field of the first record, or all columns of numeric rows). */
  features?: readonly string[];
  /** Trees (default 100). */
  nEstimators?: number;
  /** Rows per tree: a count, a fraction of the rows, or `'auto'` = min(256, rows) (default). */
  maxSamples?: number | 'auto';
  /**
   * Share of outliers expected in the training rows: the threshold becomes that upper quantile
   * of the training scores. `'auto'` (default) puts it at 0.5, as the paper and scikit-learn do.
   */
  contamination?: number | 'auto';
  /** Seed of the subsampling and the splits (default 0). */
  seed?: number;
}

export interface IsolationForestJson extends DetectorJsonBase {
  kind: 'isolation-forest';
  samples: number;
  roots: number[];
  /** Per node: the feature index split on, −1 for a leaf. */
  feature: number[];
  /** Per node: the split point (rows ≤ it go left), or for a leaf its depth + c(rows in the leaf). */
  value: number[];
  /** Per node: the index of its right child (the left child is the next node), 0 for a leaf. */
  right: number[];
}

export class IsolationForest extends BaseDetector {
  readonly kind = 'isolation-forest';
  /**
   * The same trees laid out for scoring, walked in WebAssembly where it runs, else in
   * JavaScript; undefined for a forest too deep for the layout (walked node by node).
   */
  private readonly kernel: ForestKernel | undefined;
  /** c(samples), the normaliser of the mean path length. */
  private readonly norm: number;

  private constructor(
    features: readonly string[],
    /** Rows each tree was grown on. */
    readonly samples: number,
    private readonly roots: Int32Array,
    private readonly feature: Int32Array,
    private readonly value: Float64Array,
    private readonly right: Int32Array,
  ) {
    super(features);
    const complete = CompleteTrees.from(roots, feature, value, right);
    this.kernel = complete && (WasmForest.from(complete, features.length) ?? complete);
    this.norm = averagePathLength(samples);
  }

  /** Trees in the forest. */
  get trees(): number {
    return this.roots.length;
  }

  static fit(rows: NumericRows, options: IsolationForestOptions = {}): IsolationForest {
    const where = 'IsolationForest.fit';
    const m = numericMatrix(rows, options.features, where);
    const n = m.rows;
    const d = m.features.length;
    const trees = options.nEstimators ?? 100;
    if (!Number.isInteger(trees) || trees < 1)
      throw invalidArgument(where, 'nEstimators must be a positive integer', trees);
    const ms = options.maxSamples ?? 'auto';
    let samples: number;
    if (ms === 'auto') samples = Math.min(256, n);
    else if (typeof ms === 'number' && Number.isInteger(ms) && ms >= 1) samples = Math.min(ms, n);
    else if (typeof ms === 'number' && ms > 0 && ms < 1) samples = Math.floor(ms * n);
    else
      throw invalidArgument(
        where,
        "maxSamples must be 'auto', a positive integer or a fraction in (0, 1)",
        ms,
      );
    if (samples < 2)
      throw invalidArgument(where, 'an isolation forest needs at least 2 rows per tree', samples);
    const contamination = options.contamination ?? 'auto';
    if (
      contamination !== 'auto' &&
      !(typeof contamination === 'number' && contamination > 0 && contamination <= 0.5)
    )
      throw invalidArgument(where, "contamination must be 'auto' or a number in (0, 0.5]", contamination);
    const random = seededRandom(options.seed ?? 0);
    const maxDepth = Math.ceil(Math.log2(Math.max(samples, 2)));

    const feature: number[] = [];
    const value: number[] = [];
    const right: number[] = [];
    const roots = new Int32Array(trees);
    const all = new Int32Array(n);
    const idx = new Int32Array(samples);
    const candidates = new Int32Array(d);

    const grow = (lo: number, hi: number, depth: number): void => {
      const node = feature.length;
      const count = hi - lo;
      const leaf = () => {
        feature.push(-1);
        value.push(depth + averagePathLength(count));
        right.push(0);
      };
      if (depth >= maxDepth || count < 2) {
        leaf();
        return;
      }
      // the features not constant in this node, one drawn uniformly
      let k = 0;
      const mins = new Float64Array(d);
      const maxs = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        let mn = Number.POSITIVE_INFINITY;
        let mx = Number.NEGATIVE_INFINITY;
        for (let i = lo; i < hi; i++) {
          const v = m.values[idx[i]! * d + j]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
        mins[j] = mn;
        maxs[j] = mx;
        if (mx > mn) candidates[k++] = j;
      }
      if (k === 0) {
        leaf();
        return;
      }
      const j = candidates[Math.floor(random() * k)]!;
      let t = mins[j]! + random() * (maxs[j]! - mins[j]!);
      if (t >= maxs[j]!) t = mins[j]!;
      // partition: values ≤ t to the front
      let a = lo;
      let b = hi - 1;
      while (a <= b) {
        if (m.values[idx[a]! * d + j]! <= t) a++;
        else {
          const s = idx[a]!;
          idx[a] = idx[b]!;
          idx[b] = s;
          b--;
        }
      }
      feature.push(j);
      value.push(t);
      right.push(0);
      grow(lo, a, depth + 1);
      right[node] = feature.length;
      grow(a, hi, depth + 1);
    };

    for (let i = 0; i < n; i++) all[i] = i;
    for (let t = 0; t < trees; t++) {
      // a uniform subsample without replacement: a partial Fisher–Yates shuffle
      for (let i = 0; i < samples; i++) {
        const r = i + Math.floor(random() * (n - i));
        const s = all[i]!;
        all[i] = all[r]!;
        all[r] = s;
        idx[i] = all[i]!;
      }
      roots[t] = feature.length;
      grow(0, samples, 0);
    }
    const forest = new IsolationForest(
      m.features,
      samples,
      roots,
      Int32Array.from(feature),
      Float64Array.from(value),
      Int32Array.from(right),
    );
    if (contamination === 'auto') forest.threshold = 0.5;
    else {
      const scores = new Float64Array(n);
      forest.scoreMatrix(m.values, n, scores);
      scores.sort();
      // numpy's percentile (linear) at 100 × (1 − contamination) of the anomaly scores
      const pos = (1 - contamination) * (n - 1);
      const f = Math.floor(pos);
      forest.threshold =
        scores[f]! + (pos - f) * ((scores[Math.min(f + 1, n - 1)] ?? scores[f]!) - scores[f]!);
    }
    return forest;
  }

  /** The mean path length of a feature vector over the trees. */
  pathLength(x: Float64Array): number {
    return this.pathSum(x, 0) / this.roots.length;
  }

  /** The sum over the trees, in order, of the path length of the row at `x[at…]`. */
  private pathSum(x: Float64Array, at: number): number {
    if (this.kernel !== undefined) return this.kernel.pathSum(x, at);
    const { roots, feature, value, right } = this;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = x[at + f]! <= value[node]! ? node + 1 : right[node]!;
        f = feature[node]!;
      }
      total += value[node]!;
    }
    return total;
  }

  protected scoreVector(x: Float64Array): number {
    return 2 ** (-(this.pathSum(x, 0) / this.roots.length) / this.norm);
  }

  /** Many rows tree by tree (see `CompleteTrees.pathSums`): the same scores as one by one, bit for bit. */
  protected override scoreMatrix(values: Float64Array, rows: number, out: Float64Array): void {
    const d = this.features.length;
    if (this.kernel !== undefined) this.kernel.pathSums(values, rows, d, out);
    else for (let i = 0; i < rows; i++) out[i] = this.pathSum(values, i * d);
    const trees = this.roots.length;
    for (let i = 0; i < rows; i++) out[i] = 2 ** (-(out[i]! / trees) / this.norm);
  }

  toJSON(): IsolationForestJson {
    return {
      ...this.baseJSON(),
      kind: 'isolation-forest',
      samples: this.samples,
      roots: Array.from(this.roots),
      feature: Array.from(this.feature),
      value: Array.from(this.value),
      right: Array.from(this.right),
    };
  }

  static fromJSON(json: unknown): IsolationForest {
    const where = 'IsolationForest.fromJSON';
    const j = checkDetectorJson(json, 'isolation-forest', where) as IsolationForestJson;
    const d = j.features.length;
    const nodes = Array.isArray(j.feature) ? j.feature.length : -1;
    if (!Number.isInteger(j.samples) || j.samples < 2)
      throw invalidArgument(where, 'samples must be an integer ≥ 2', j.samples);
    if (
      nodes < 1 ||
      !Array.isArray(j.value) ||
      j.value.length !== nodes ||
      !Array.isArray(j.right) ||
      j.right.length !== nodes
    )
      throw invalidArgument(where, 'feature, value and right must be arrays of one length', nodes);
    if (
      !Array.isArray(j.roots) ||
      j.roots.length === 0 ||
      j.roots.some((r) => !Number.isInteger(r) || r < 0 || r >= nodes)
    )
      throw invalidArgument(where, 'roots must be node indices', j.roots);
    for (let i = 0; i < nodes; i++) {
      const f = j.feature[i]!;
      const ok =
        Number.isInteger(f) &&
        f >= -1 &&
        f < d &&
        Number.isFinite(j.value[i]) &&
        (f === -1 ||
          (Number.isInteger(j.right[i]) && j.right[i]! > i + 1 && j.right[i]! < nodes && i + 1 < nodes));
      if (!ok) throw invalidArgument(where, `node ${i} is not a leaf or a split with children after it`, f);
    }
    const forest = new IsolationForest(
      j.features,
      j.samples,
      Int32Array.from(j.roots),
      Int32Array.from(j.feature),
      Float64Array.from(j.value),
      Int32Array.from(j.right),
    );
    forest.restoreBase(j, where);
    return forest;
  }
}
