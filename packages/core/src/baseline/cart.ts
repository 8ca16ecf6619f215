/**
 * CART as scikit-learn 1.2 grows it (`DepthFirstTreeBuilder` with the `best` splitter): features
 * read as float32, a node split at the position of the best criterion proxy, the threshold the
 * float64 midpoint of the two float32 values either side (or the lower one when the midpoint
 * rounds up to the upper), values closer than 1e-7 treated as equal, nodes numbered depth first
 * with the left child first. Where scikit-learn sorts the node's rows per feature at every node,
 * this presorts every feature once and keeps each node's rows as a segment of every feature's
 * order, split by a stable partition: O(n·k) per level, no sort and no allocation per node.
 */

/** The arrays of a fitted tree, as scikit-learn's `tree_` (node 0 is the root). */
export interface TreeArrays {
  /** Left and right child of each node; −1 for a leaf. */
  left: Int32Array;
  right: Int32Array;
  /** Feature split on; −2 for a leaf (scikit-learn's `TREE_UNDEFINED`). */
  feature: Int32Array;
  /** Rows with `x[feature] ≤ threshold` go left; −2 for a leaf. */
  threshold: Float64Array;
  /** Per node, `width` values: weighted class counts (classifier) or the weighted mean (regressor). */
  value: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Int32Array;
  weightedNNodeSamples: Float64Array;
  nodeCount: number;
  /** Values per node in `value` (classes, or 1). */
  width: number;
}

export type Criterion = 'gini' | 'entropy' | 'squared_error';

export interface GrowSettings {
  criterion: Criterion;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  /** Features tried per node (all: k). */
  maxFeatures: number;
  /** Draws the features tried when fewer than all. */
  random: () => number;
}

/** Training rows as float32 with every feature's row order, computed once (a forest shares it). */
export interface Presorted {
  x: Float32Array;
  n: number;
  k: number;
  /** k × n: row indices sorted by each feature. */
  order: Int32Array;
}

const FEATURE_THRESHOLD = 1e-7;
const EPSILON = 2.220446049250313e-16;
const LN2 = Math.log(2);
const INDEX_BITS = 2 ** 21;

/** Sorts every feature's rows once: typed-array sorts of (sortable float bits · 2^21 + row). */
export function presort(x: Float32Array, n: number, k: number): Presorted {
  const order = new Int32Array(k * n);
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  if (n <= INDEX_BITS) {
    const keys = new Float64Array(n);
    for (let f = 0; f < k; f++) {
      for (let i = 0; i < n; i++) {
        const b = bits[i * k + f]!;
        // IEEE order as unsigned: flip all bits of negatives, the sign bit of positives.
        const s = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
        keys[i] = s * INDEX_BITS + i;
      }
      keys.sort();
      for (let i = 0; i < n; i++) order[f * n + i] = keys[i]! % INDEX_BITS;
    }
  } else {
    for (let f = 0; f < k; f++) {
      const o = Int32Array.from({ length: n }, (_, i) => i);
      o.sort((a, b) => x[a * k + f]! - x[b * k + f]! || a - b);
      order.set(o, f * n);
    }
  }
  return { x, n, k, order };
}

const PER_NODE = [
  'left',
  'right',
  'feature',
  'threshold',
  'impurity',
  'nNodeSamples',
  'weightedNNodeSamples',
] as const;

function resized<T extends Int32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a.subarray(0, Math.min(a.length, size)));
  return b;
}

/** The tree arrays with room to grow: `t.nodeCount` nodes in use, capacity doubled when full. */
class TreeStore {
  readonly t: TreeArrays;
  private cap: number;

  constructor(width: number, cap: number) {
    this.cap = cap;
    this.t = {
      left: new Int32Array(cap),
      right: new Int32Array(cap),
      feature: new Int32Array(cap),
      threshold: new Float64Array(cap),
      value: new Float64Array(cap * width),
      impurity: new Float64Array(cap),
      nNodeSamples: new Int32Array(cap),
      weightedNNodeSamples: new Float64Array(cap),
      nodeCount: 0,
      width,
    };
  }

  add(): number {
    const t = this.t;
    if (t.nodeCount === this.cap) {
      this.cap *= 2;
      for (const key of PER_NODE) (t[key] as Int32Array | Float64Array) = resized(t[key], this.cap);
      t.value = resized(t.value, this.cap * t.width);
    }
    return t.nodeCount++;
  }

  /** The arrays cut to the nodes in use. */
  arrays(): TreeArrays {
    const t = this.t;
    const out = { ...t };
    for (const key of PER_NODE) (out[key] as Int32Array | Float64Array) = resized(t[key], t.nodeCount);
    out.value = resized(t.value, t.nodeCount * t.width);
    return out;
  }
}

/**
 * Grows one tree. `y` holds class indices (classifier, `nClasses` ≥ 1) or targets (regressor,
 * `nClasses` 0); rows of weight 0 are left out, as scikit-learn does (a forest's bootstrap
 * passes draw counts as weights).
 */
export function growTree(
  data: Presorted,
  y: Int32Array | Float64Array,
  nClasses: number,
  weight: Float64Array,
  s: GrowSettings,
): TreeArrays {
  const { x, n, k } = data;
  const classify = nClasses > 0;
  const C = classify ? nClasses : 1;
  const yc = y as Int32Array;
  const yr = y as Float64Array;
  let m = 0;
  for (let i = 0; i < n; i++) if (weight[i]! > 0) m++;
  // Each feature's order of the rows in use, and the feature values in that order.
  const idx = new Int32Array(k * m);
  const vals = new Float32Array(k * m);
  for (let f = 0; f < k; f++) {
    let p = f * m;
    for (let q = f * n, end = q + n; q < end; q++) {
      const i = data.order[q]!;
      if (weight[i]! > 0) {
        idx[p] = i;
        vals[p++] = x[i * k + f]!;
      }
    }
  }
  let totalWeight = 0;
  for (let i = 0; i < n; i++) totalWeight += weight[i]!;

  const store = new TreeStore(classify ? C : 1, Math.max(16, Math.min(2 * m, 1024)));
  const t = store.t;
  const total = new Float64Array(C); // the node's class weights (or its Σ w·y)
  const leftSum = new Float64Array(C);
  const goLeft = new Uint8Array(n);
  const tmpIdx = new Int32Array(m);
  const tmpVal = new Float32Array(m);
  const features = Int32Array.from({ length: k }, (_, f) => f);
  const criterion = s.criterion;

  // The stack of nodes to grow: start, end, depth, parent (−1 root), is-left, impurity (−1: compute).
  const stackStart: number[] = [0];
  const stackEnd: number[] = [m];
  const stackDepth: number[] = [0];
  const stackParent: number[] = [-1];
  const stackLeft: boolean[] = [false];
  const stackImpurity: number[] = [Number.NaN];

  /** Impurity from class weights / sums (`sq` is Σ w·y² for squared error). */
  const impurityOf = (sum: Float64Array, wn: number, sq: number): number => {
    if (criterion === 'gini') {
      let sqc = 0;
      for (let c = 0; c < C; c++) sqc += sum[c]! * sum[c]!;
      return 1 - sqc / (wn * wn);
    }
    if (criterion === 'entropy') {
      let e = 0;
      for (let c = 0; c < C; c++) {
        let p = sum[c]!;
        if (p > 0) {
          p /= wn;
          e -= p * (Math.log(p) / LN2);
        }
      }
      return e;
    }
    const mean = sum[0]! / wn;
    return sq / wn - mean * mean;
  };

  while (stackStart.length > 0) {
    const start = stackStart.pop()!;
    const end = stackEnd.pop()!;
    const depth = stackDepth.pop()!;
    const parent = stackParent.pop()!;
    const isLeft = stackLeft.pop()!;
    let impurity = stackImpurity.pop()!;
    const count = end - start;

    // Node totals, from feature 0's segment.
    total.fill(0);
    let wn = 0;
    let sqTotal = 0;
    for (let p = start; p < end; p++) {
      const i = idx[p]!;
      const w = weight[i]!;
      wn += w;
      if (classify) total[yc[i]!]! += w;
      else {
        const v = yr[i]!;
        total[0]! += w * v;
        sqTotal += w * v * v;
      }
    }
    if (Number.isNaN(impurity)) impurity = impurityOf(total, wn, sqTotal);

    const node = store.add();
    if (parent >= 0) {
      if (isLeft) t.left[parent] = node;
      else t.right[parent] = node;
    }
    t.impurity[node] = impurity;
    t.nNodeSamples[node] = count;
    t.weightedNNodeSamples[node] = wn;
    if (classify) t.value.set(total, node * C);
    else t.value[node] = total[0]! / wn;

    let isLeaf =
      depth >= s.maxDepth || count < s.minSamplesSplit || count < 2 * s.minSamplesLeaf || impurity <= EPSILON;

    let bestFeature = -1;
    let bestPos = end;
    let bestThreshold = 0;
    if (!isLeaf) {
      let bestProxy = Number.NEGATIVE_INFINITY;
      let visited = 0;
      let informative = 0;
      let remaining = k;
      const minLeaf = s.minSamplesLeaf;
      while (remaining > 0 && (visited < s.maxFeatures || informative === 0)) {
        let f: number;
        if (s.maxFeatures < k) {
          // Fisher–Yates: draw one of the features not yet tried at this node.
          const j = Math.floor(s.random() * remaining);
          f = features[j]!;
          features[j] = features[remaining - 1]!;
          features[remaining - 1] = f;
        } else f = k - remaining;
        remaining--;
        visited++;
        const off = f * m;
        if (vals[off + end - 1]! <= vals[off + start]! + FEATURE_THRESHOLD) continue; // constant here
        informative++;
        leftSum.fill(0);
        let wl = 0;
        let p = start;
        while (p < end) {
          // Add the rows of one run of (nearly) equal values to the left side.
          for (;;) {
            const i = idx[off + p]!;
            const w = weight[i]!;
            wl += w;
            if (classify) leftSum[yc[i]!]! += w;
            else leftSum[0]! += w * yr[i]!;
            if (p + 1 < end && vals[off + p + 1]! <= vals[off + p]! + FEATURE_THRESHOLD) p++;
            else break;
          }
          p++;
          if (p >= end) break;
          if (p - start < minLeaf || end - p < minLeaf) continue;
          const wr = wn - wl;
          let proxy: number;
          if (criterion === 'squared_error') {
            const l = leftSum[0]!;
            const r = total[0]! - l;
            proxy = (l * l) / wl + (r * r) / wr;
          } else if (criterion === 'gini') {
            let sl = 0;
            let sr = 0;
            for (let c = 0; c < C; c++) {
              const l = leftSum[c]!;
              const r = total[c]! - l;
              sl += l * l;
              sr += r * r;
            }
            proxy = -wr * (1 - sr / (wr * wr)) - wl * (1 - sl / (wl * wl));
          } else {
            let el = 0;
            let er = 0;
            for (let c = 0; c < C; c++) {
              let l = leftSum[c]!;
              let r = total[c]! - l;
              if (l > 0) {
                l /= wl;
                el -= l * (Math.log(l) / LN2);
              }
              if (r > 0) {
                r /= wr;
                er -= r * (Math.log(r) / LN2);
              }
            }
            proxy = -wr * er - wl * el;
          }
          if (proxy > bestProxy) {
            bestProxy = proxy;
            bestFeature = f;
            bestPos = p;
            const a = vals[off + p - 1]!;
            const b = vals[off + p]!;
            let mid = a / 2 + b / 2;
            if (mid === b || mid === Number.POSITIVE_INFINITY || mid === Number.NEGATIVE_INFINITY) mid = a;
            bestThreshold = mid;
          }
        }
      }
      if (bestPos >= end) isLeaf = true;
    }

    let impurityLeft = 0;
    let impurityRight = 0;
    if (!isLeaf) {
      // The children's impurity and the weighted improvement, as scikit-learn computes them.
      const off = bestFeature * m;
      leftSum.fill(0);
      let wl = 0;
      let sqLeft = 0;
      for (let p = start; p < bestPos; p++) {
        const i = idx[off + p]!;
        const w = weight[i]!;
        wl += w;
        if (classify) leftSum[yc[i]!]! += w;
        else {
          const v = yr[i]!;
          leftSum[0]! += w * v;
          sqLeft += w * v * v;
        }
      }
      const wr = wn - wl;
      impurityLeft = impurityOf(leftSum, wl, sqLeft);
      for (let c = 0; c < C; c++) leftSum[c] = total[c]! - leftSum[c]!;
      impurityRight = impurityOf(leftSum, wr, sqTotal - sqLeft);
      const improvement =
        (wn / totalWeight) * (impurity - (wr / wn) * impurityRight - (wl / wn) * impurityLeft);
      if (improvement + EPSILON < s.minImpurityDecrease) isLeaf = true;
    }

    if (isLeaf) {
      t.left[node] = -1;
      t.right[node] = -1;
      t.feature[node] = -2;
      t.threshold[node] = -2;
      continue;
    }
    t.feature[node] = bestFeature;
    t.threshold[node] = bestThreshold;

    // Split every feature's segment stably: the rows left of bestPos in the split feature's
    // order go first.
    const bOff = bestFeature * m;
    for (let p = start; p < end; p++) goLeft[idx[bOff + p]!] = p < bestPos ? 1 : 0;
    for (let f = 0; f < k; f++) {
      if (f === bestFeature) continue;
      const off = f * m;
      let l = off + start;
      let r = 0;
      for (let p = off + start, stop = off + end; p < stop; p++) {
        const i = idx[p]!;
        if (goLeft[i] === 1) {
          idx[l] = i;
          vals[l++] = vals[p]!;
        } else {
          tmpIdx[r] = i;
          tmpVal[r++] = vals[p]!;
        }
      }
      idx.set(tmpIdx.subarray(0, r), l);
      vals.set(tmpVal.subarray(0, r), l);
    }

    // Right pushed first: the left child is grown (and numbered) first.
    stackStart.push(bestPos, start);
    stackEnd.push(end, bestPos);
    stackDepth.push(depth + 1, depth + 1);
    stackParent.push(node, node);
    stackLeft.push(false, true);
    stackImpurity.push(impurityRight, impurityLeft);
  }
  return store.arrays();
}

/** The leaf a float32 row ends in (`x[at … at + k)`). */
export function leafOf(t: TreeArrays, x: ArrayLike<number>, at: number): number {
  let node = 0;
  const left = t.left;
  while (left[node]! !== -1) {
    node = x[at + t.feature[node]!]! <= t.threshold[node]! ? left[node]! : t.right[node]!;
  }
  return node;
}
