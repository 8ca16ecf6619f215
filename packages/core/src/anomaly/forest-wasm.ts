/**
 * The complete-tree kernels in WebAssembly (forest-kernels.wat, assembled by
 * scripts/forest-wasm.mjs): the same walk and the same sums as complete-trees.ts, bit for bit,
 * several times faster in V8 (docs/performance.md), where JavaScript pays a bounds check on
 * every load and turns each comparison into a number. Each forest gets its own instance and
 * memory: its trees laid out twice (by tree for batches, by groups of trees for one row at a
 * time), then room for a block of rows and their sums. Where WebAssembly is missing
 * or refused (a Content-Security-Policy without 'wasm-unsafe-eval'), `from` says so and the
 * forest keeps the JavaScript kernels. The module is 1.2 kB, under the 4 kB Chromium allows to
 * compile synchronously on a page's main thread.
 */
import type { CompleteTrees, ForestKernel } from './complete-trees';
import { FOREST_KERNELS, GROUP } from './forest-kernels';

/** The part of the WebAssembly API used here (core's `lib` is ES2022, which does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

type Sums = (
  nodes: number,
  leaves: number,
  trees: number,
  depth: number,
  x: number,
  rows: number,
  width8: number,
  out: number,
) => void;
type Sum = (nodes: number, leaves: number, groups: number, depth: number) => number;

/**
 * Rows copied into the module's memory per call of `sums`: 256 (a tree's nodes stay in cache
 * while they go through it), fewer for wide rows so that a block stays near 128 kB; a multiple
 * of the kernel's 8.
 */
const blockRows = (width: number): number => Math.max(8, Math.min(256, 8 * Math.floor(2048 / width)));
/** Bytes of an inner node in the module's memory: the split point (f64), the feature's byte offset in a row (i32), 4 unused (see scripts/forest-wasm.mjs). */
const NODE = 16;

/** The compiled module for the `WebAssembly` global it was compiled with; `module` undefined when compiling was refused. */
let compiled: { api: WasmApi; module: object | undefined } | undefined;

function kernels(): { api: WasmApi; module: object } | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (typeof api !== 'object' || api === null) return undefined;
  if (compiled?.api !== api) {
    let module: object | undefined;
    try {
      module = new api.Module(FOREST_KERNELS);
    } catch {
      module = undefined; // refused by the page's policy, or not supported: the JavaScript kernels serve
    }
    compiled = { api, module };
  }
  const { module } = compiled;
  return module === undefined ? undefined : { api, module };
}

export class WasmForest implements ForestKernel {
  private constructor(
    private readonly trees: number,
    /** Groups of GROUP trees in the layout by group (the last one padded). */
    private readonly groups: number,
    private readonly depth: number,
    private readonly width: number,
    /** Byte offsets in the module's memory: the layout by tree (its nodes at 0), by group, the block of rows (the first row's place is the one `sum` reads) and their sums. */
    private readonly at: { leaves: number; groupNodes: number; groupLeaves: number; x: number; out: number },
    /** The block of rows and their sums, as views of the module's memory (it never grows, so they stay valid). */
    private readonly x: Float64Array,
    private readonly out: Float64Array,
    private readonly sums: Sums,
    private readonly sum: Sum,
  ) {}

  /**
   * The kernels over `layout`'s trees for rows of `width` numbers, or undefined where
   * WebAssembly is missing or refused, or the forest does not suit them (depth 0, or too big
   * for one memory). The trees are copied in (twice: by tree for `pathSums`, by group for
   * `pathSum`), so `layout` may go.
   */
  static from(layout: CompleteTrees, width: number): WasmForest | undefined {
    const { trees, depth, feature, split, leaf } = layout;
    if (depth < 1) return undefined;
    const k = kernels();
    if (k === undefined) return undefined;
    const inner = 2 ** depth - 1;
    const groups = Math.ceil(trees / GROUP);
    const leaves = split.length * NODE;
    const groupNodes = leaves + leaf.length * 8;
    const groupLeaves = groupNodes + groups * GROUP * inner * NODE;
    const x = groupLeaves + groups * GROUP * (inner + 1) * 8;
    const block = blockRows(width);
    const out = x + block * width * 8;
    const bytes = out + block * 8;
    if (bytes > 2 ** 30) return undefined;
    try {
      const memory = new k.api.Memory({ initial: Math.ceil(bytes / 65536) });
      const { exports } = new k.api.Instance(k.module, { forest: { memory } });
      const f64 = new Float64Array(memory.buffer);
      const i32 = new Int32Array(memory.buffer);
      for (let t = 0; t < trees; t++) {
        // by group: node p of tree j of group g at g · GROUP · inner + GROUP · p + j (in nodes), leaves alike
        const g = Math.floor(t / GROUP);
        const j = t % GROUP;
        for (let p = 0; p < inner; p++) {
          const a = t * inner + p;
          const b = groupNodes / NODE + (g * inner + p) * GROUP + j;
          f64[2 * a] = f64[2 * b] = split[a]!;
          i32[4 * a + 2] = feature[a]! * 8;
          i32[4 * b + 2] = x + feature[a]! * 8; // by group: where the value is, in the row's place
        }
        for (let p = 0; p <= inner; p++) {
          const a = t * (inner + 1) + p;
          f64[leaves / 8 + a] = f64[groupLeaves / 8 + (g * (inner + 1) + p) * GROUP + j] = leaf[a]!;
        }
      }
      return new WasmForest(
        trees,
        groups,
        depth,
        width,
        { leaves, groupNodes, groupLeaves, x, out },
        new Float64Array(memory.buffer, x, block * width),
        new Float64Array(memory.buffer, out, block),
        exports.sums as Sums,
        exports.sum as Sum,
      );
    } catch {
      return undefined; // no memory of that size here: the JavaScript kernels serve
    }
  }

  pathSum(x: Float64Array, at: number): number {
    const { width, x: row } = this;
    for (let j = 0; j < width; j++) row[j] = x[at + j]!;
    return this.sum(this.at.groupNodes, this.at.groupLeaves, this.groups, this.depth);
  }

  /** `width` is the one the kernels were made for. */
  pathSums(values: Float64Array, rows: number, width: number, out: Float64Array): void {
    const { trees, depth, at } = this;
    const block = this.out.length;
    for (let start = 0; start < rows; start += block) {
      const n = Math.min(block, rows - start);
      this.x.set(values.subarray(start * width, (start + n) * width));
      const whole = n - (n % 8);
      if (whole > 0) {
        this.out.fill(0, 0, whole);
        this.sums(0, at.leaves, trees, depth, at.x, whole, width * 8, at.out);
        out.set(this.out.subarray(0, whole), start);
      }
      // one by one in the first row's place (the rows before are done)
      for (let i = start + whole; i < start + n; i++) out[i] = this.pathSum(values, i * width);
    }
  }
}
