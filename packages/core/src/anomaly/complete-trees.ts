/**
 * An isolation forest's trees re-laid for scoring: each tree as a complete binary tree of the
 * forest's depth (heap order: the children of position p are 2p + 1 and 2p + 2), split features
 * as Int32, split points as Float64, leaf path lengths (depth + c(rows)) in their own array. A
 * leaf above the bottom becomes splits that send every row one way (split point +∞) down to
 * copies of it, so every row takes exactly `depth` steps and a step is arithmetic, not a branch:
 * p = 2p + 2 − (x ≤ t). Branches on random data are mispredicted half the time; fixed-length
 * branch-free paths let the processor walk several trees (one row) or several rows (one tree) at
 * once, which the kernels below do. Sums run over the trees in order, so they are bit-identical
 * to walking the forest's own nodes. forest-wasm.ts runs the same walk in WebAssembly, several
 * times faster; these JavaScript kernels serve where WebAssembly is missing or refused.
 */

/** Deeper forests (a maxSamples above 1024) are walked node by node: 2^depth leaves per tree is too much memory. */
export const MAX_COMPLETE_DEPTH = 10;

/** Rows walked together through one tree by {@link CompleteTrees.pathSums}. */
const ROWS = 8;

/** What scores rows through a forest's trees: these JavaScript kernels, or forest-wasm.ts's. */
export interface ForestKernel {
  /** The sum over the trees, in order, of the path length of the row at `x[at…]`. */
  pathSum(x: Float64Array, at: number): number;
  /** `out[i]` = `pathSum` of row i of `values` (`rows × width`, row-major). */
  pathSums(values: Float64Array, rows: number, width: number, out: Float64Array): void;
}

export class CompleteTrees implements ForestKernel {
  private constructor(
    readonly trees: number,
    readonly depth: number,
    /** Per tree, per heap position above the bottom: the feature split on. */
    readonly feature: Int32Array,
    /** Per tree, per heap position above the bottom: the split point (+∞ under a leaf). */
    readonly split: Float64Array,
    /** Per tree, per bottom position: the path length. */
    readonly leaf: Float64Array,
  ) {}

  /**
   * The complete layout of the trees rooted at `roots` (node arrays as `IsolationForest` keeps
   * them: `feature` −1 for a leaf whose path length is `value`, else the split point; the left
   * child next, the right one at `right`), or undefined when a tree is deeper than
   * {@link MAX_COMPLETE_DEPTH}.
   */
  static from(
    roots: Int32Array,
    feature: Int32Array,
    value: Float64Array,
    right: Int32Array,
  ): CompleteTrees | undefined {
    const stack: number[] = [];
    let depth = 0;
    for (const root of roots) {
      stack.push(root, 0);
      while (stack.length > 0) {
        const d = stack.pop()!;
        const node = stack.pop()!;
        if (feature[node]! < 0) continue;
        if (d + 1 > MAX_COMPLETE_DEPTH) return undefined;
        if (d + 1 > depth) depth = d + 1;
        stack.push(node + 1, d + 1, right[node]!, d + 1);
      }
    }
    const inner = 2 ** depth - 1;
    const leaves = 2 ** depth;
    const t = roots.length;
    const f = new Int32Array(t * inner);
    const s = new Float64Array(t * inner);
    const l = new Float64Array(t * leaves);
    for (let k = 0; k < t; k++) {
      // node, heap position, depth
      stack.push(roots[k]!, 0, 0);
      while (stack.length > 0) {
        const d = stack.pop()!;
        const pos = stack.pop()!;
        const node = stack.pop()!;
        if (d === depth) {
          l[k * leaves + pos - inner] = value[node]!;
          continue;
        }
        const split = feature[node]! >= 0;
        f[k * inner + pos] = split ? feature[node]! : 0;
        s[k * inner + pos] = split ? value[node]! : Number.POSITIVE_INFINITY;
        stack.push(
          split ? node + 1 : node,
          2 * pos + 1,
          d + 1,
          split ? right[node]! : node,
          2 * pos + 2,
          d + 1,
        );
      }
    }
    return new CompleteTrees(t, depth, f, s, l);
  }

  /** The sum over the trees, in order, of the path length of the row at `x[at…]`. */
  pathSum(x: Float64Array, at: number): number {
    const { feature: f, split: s, leaf: l, depth, trees } = this;
    const inner = 2 ** depth - 1;
    const leaves = inner + 1;
    let sum = 0;
    let t = 0;
    // four trees at once: four independent chains of loads the processor overlaps
    for (; t + 4 <= trees; t += 4) {
      const o0 = t * inner;
      const o1 = o0 + inner;
      const o2 = o1 + inner;
      const o3 = o2 + inner;
      let p0 = 0;
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      for (let k = 0; k < depth; k++) {
        p0 = 2 * p0 + 2 - bit(x[at + f[o0 + p0]!]! <= s[o0 + p0]!);
        p1 = 2 * p1 + 2 - bit(x[at + f[o1 + p1]!]! <= s[o1 + p1]!);
        p2 = 2 * p2 + 2 - bit(x[at + f[o2 + p2]!]! <= s[o2 + p2]!);
        p3 = 2 * p3 + 2 - bit(x[at + f[o3 + p3]!]! <= s[o3 + p3]!);
      }
      const b = t * leaves - inner;
      sum += l[b + p0]!;
      sum += l[b + leaves + p1]!;
      sum += l[b + 2 * leaves + p2]!;
      sum += l[b + 3 * leaves + p3]!;
    }
    for (; t < trees; t++) {
      const o = t * inner;
      let p = 0;
      for (let k = 0; k < depth; k++) p = 2 * p + 2 - bit(x[at + f[o + p]!]! <= s[o + p]!);
      sum += l[t * leaves - inner + p]!;
    }
    return sum;
  }

  /**
   * `out[i]` = the sum over the trees, in order, of the path length of row i of `values`
   * (`rows × width`, row-major). Tree by tree over blocks of rows, eight rows at a time: one
   * tree's arrays stay in cache while the rows go through it.
   */
  pathSums(values: Float64Array, rows: number, width: number, out: Float64Array): void {
    const { feature: f, split: s, leaf: l, depth, trees } = this;
    const inner = 2 ** depth - 1;
    const leaves = inner + 1;
    const whole = rows - (rows % ROWS);
    out.fill(0, 0, whole);
    for (let start = 0; start < whole; start += 256) {
      const end = Math.min(whole, start + 256);
      for (let t = 0; t < trees; t++) {
        const o = t * inner;
        const b = t * leaves - inner;
        for (let i = start; i < end; i += ROWS) {
          const a0 = i * width;
          const a1 = a0 + width;
          const a2 = a1 + width;
          const a3 = a2 + width;
          const a4 = a3 + width;
          const a5 = a4 + width;
          const a6 = a5 + width;
          const a7 = a6 + width;
          let p0 = 0;
          let p1 = 0;
          let p2 = 0;
          let p3 = 0;
          let p4 = 0;
          let p5 = 0;
          let p6 = 0;
          let p7 = 0;
          for (let k = 0; k < depth; k++) {
            p0 = 2 * p0 + 2 - bit(values[a0 + f[o + p0]!]! <= s[o + p0]!);
            p1 = 2 * p1 + 2 - bit(values[a1 + f[o + p1]!]! <= s[o + p1]!);
            p2 = 2 * p2 + 2 - bit(values[a2 + f[o + p2]!]! <= s[o + p2]!);
            p3 = 2 * p3 + 2 - bit(values[a3 + f[o + p3]!]! <= s[o + p3]!);
            p4 = 2 * p4 + 2 - bit(values[a4 + f[o + p4]!]! <= s[o + p4]!);
            p5 = 2 * p5 + 2 - bit(values[a5 + f[o + p5]!]! <= s[o + p5]!);
            p6 = 2 * p6 + 2 - bit(values[a6 + f[o + p6]!]! <= s[o + p6]!);
            p7 = 2 * p7 + 2 - bit(values[a7 + f[o + p7]!]! <= s[o + p7]!);
          }
          out[i]! += l[b + p0]!;
          out[i + 1]! += l[b + p1]!;
          out[i + 2]! += l[b + p2]!;
          out[i + 3]! += l[b + p3]!;
          out[i + 4]! += l[b + p4]!;
          out[i + 5]! += l[b + p5]!;
          out[i + 6]! += l[b + p6]!;
          out[i + 7]! += l[b + p7]!;
        }
      }
    }
    for (let i = whole; i < rows; i++) out[i] = this.pathSum(values, i * width);
  }
}

/** A comparison as 0 or 1 for arithmetic; only a type, JavaScript's `2 - true` is already 1. */
const bit = (b: boolean): number => b as unknown as number;
