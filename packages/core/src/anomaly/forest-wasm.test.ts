/**
 * The WebAssembly kernels give the JavaScript kernels' sums bit for bit (so the scores the
 * golden tests check hold on either path), on forests of every shape the layout takes and on
 * rows that tie with split points, are far out or are not finite; a forest uses them where
 * WebAssembly runs and falls back to JavaScript, with the same scores, where it is missing or
 * refused. The committed bytes are what the committed text assembles to.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import wabtInit from 'wabt';
import { CompleteTrees } from './complete-trees';
import { FOREST_KERNELS } from './forest-kernels';
import { WasmForest } from './forest-wasm';
import { gaussian, layoutOf, uniforms } from './forests.case';
import { IsolationForest } from './isolation-forest';

/** Rows that go everywhere: ordinary, far out, exactly on split points, and not finite. */
function probeFor(forest: IsolationForest, n: number, seed: number): Float64Array {
  const d = forest.features.length;
  const rows = gaussian(n, d, seed);
  const u = uniforms(seed + 1);
  const j = forest.toJSON();
  const splits = j.feature.flatMap((f, node) => (f >= 0 ? [node] : []));
  rows.forEach((r, i) => {
    if (i % 5 === 0) for (let k = 0; k < d; k++) r[k]! *= 9; // short paths: leaves above the bottom
    if (i % 3 === 0 && splits.length > 0) {
      // ties: x equal to a split point goes left (x ≤ t) on both paths
      for (let k = 0; k < 4; k++) {
        const node = splits[Math.floor(u() * splits.length)]!;
        r[j.feature[node]!] = j.value[node]!;
      }
    }
    if (i % 17 === 0) r[i % d] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0][i % 4]!;
  });
  return Float64Array.from(rows.flat());
}

const reference = gaussian(1500, 20, 11);
const forests: [string, IsolationForest][] = [
  ['100 trees, 256 samples (the defaults)', IsolationForest.fit(reference, { seed: 1 })],
  ['7 trees (not a multiple of 4)', IsolationForest.fit(reference, { seed: 2, nEstimators: 7 })],
  ['1 tree', IsolationForest.fit(reference, { seed: 5, nEstimators: 1 })],
  ['20 samples per tree (depth 5)', IsolationForest.fit(reference, { seed: 3, maxSamples: 20 })],
  [
    '1024 samples per tree (depth 10, the deepest laid out)',
    IsolationForest.fit(reference, { seed: 4, nEstimators: 9, maxSamples: 1024 }),
  ],
  [
    'one feature',
    IsolationForest.fit(
      reference.map((r) => [r[0]!]),
      { seed: 6 },
    ),
  ],
  [
    '300 features (blocks of 48 rows)',
    IsolationForest.fit(gaussian(600, 300, 13), { seed: 8, nEstimators: 10 }),
  ],
  [
    'two samples per tree (depth 1)',
    IsolationForest.fit(reference, { seed: 7, nEstimators: 13, maxSamples: 2 }),
  ],
];

describe('the isolation forest kernels in WebAssembly', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('are the bytes forest-kernels.wat assembles to, small enough to compile on a main thread', async () => {
    const wabt = await wabtInit();
    const text = readFileSync(new URL('./forest-kernels.wat', import.meta.url), 'utf8');
    const module = wabt.parseWat('forest-kernels.wat', text);
    module.validate();
    const bytes = module.toBinary({}).buffer;
    module.destroy();
    expect(Array.from(FOREST_KERNELS)).toEqual(Array.from(bytes));
    expect(FOREST_KERNELS.length).toBeLessThan(4096); // Chromium's limit for a synchronous compile
  });

  it.each(forests)('%s: sum and sums equal the JavaScript kernels, bit for bit', (_, forest) => {
    const d = forest.features.length;
    const layout = layoutOf(forest)!;
    const wasm = WasmForest.from(layout, d)!;
    expect(wasm).toBeInstanceOf(WasmForest);
    const values = probeFor(forest, 1003, 12); // 3 blocks of 256 rows, then 235 = 29 × 8 + 3
    const n = values.length / d;
    const expected = new Float64Array(n);
    layout.pathSums(values, n, d, expected);
    let differing = 0;
    for (let i = 0; i < n; i++) {
      if (!Object.is(wasm.pathSum(values, i * d), expected[i])) differing++;
      if (!Object.is(layout.pathSum(values, i * d), expected[i])) differing++;
    }
    expect(differing).toBe(0);
    for (const rows of [0, 1, 7, 8, 9, 255, 256, 257, 263, n]) {
      const out = new Float64Array(rows + 1).fill(-1);
      wasm.pathSums(values, rows, d, out);
      expect(Array.from(out.subarray(0, rows))).toEqual(Array.from(expected.subarray(0, rows)));
      expect(out[rows]).toBe(-1); // nothing written past the rows
    }
    // a row read from the middle of an array, as scoreVector and pathLength pass it
    expect(Object.is(wasm.pathSum(values, 5 * d), expected[5])).toBe(true);
  });

  it('leave a forest of single leaves (depth 0) to the JavaScript kernels', () => {
    const same = Array.from({ length: 50 }, () => [1, 2, 3]);
    const forest = IsolationForest.fit(same, { seed: 1 });
    const layout = layoutOf(forest)!;
    expect(layout.depth).toBe(0);
    expect(WasmForest.from(layout, 3)).toBeUndefined();
    // every tree is one leaf of path length c(50): scores of 2^−1
    expect(forest.score([1, 2, 3])).toBeCloseTo(0.5, 12);
    expect(Array.from(forest.scoreRows(Float64Array.of(1, 2, 3, 9, 9, 9), 2))).toEqual([
      forest.score([1, 2, 3]),
      forest.score([9, 9, 9]),
    ]);
  });

  const kernelOf = (f: IsolationForest) => (f as unknown as { kernel: unknown }).kernel;

  it.each([
    ['missing', () => undefined],
    [
      'refused (a Content-Security-Policy without wasm-unsafe-eval)',
      (real: typeof WebAssembly) => ({
        ...real,
        Module: class {
          constructor() {
            throw new real.CompileError('WebAssembly.Module(): Wasm code generation disallowed by embedder');
          }
        },
      }),
    ],
    [
      'short of memory',
      (real: typeof WebAssembly) => ({
        ...real,
        Module: real.Module,
        Instance: real.Instance,
        Memory: class {
          constructor() {
            throw new RangeError('WebAssembly.Memory(): could not allocate memory');
          }
        },
      }),
    ],
  ])('score with WebAssembly where it runs, and the same scores in JavaScript where it is %s', (_, stub) => {
    const forest = forests[0]![1];
    expect(kernelOf(forest)).toBeInstanceOf(WasmForest);
    const values = probeFor(forest, 300, 21);
    const scores = forest.scoreRows(values, 300);
    vi.stubGlobal('WebAssembly', stub(WebAssembly));
    const js = IsolationForest.fromJSON(forest.toJSON());
    expect(kernelOf(js)).toBeInstanceOf(CompleteTrees);
    expect(Array.from(js.scoreRows(values, 300))).toEqual(Array.from(scores));
    for (let i = 0; i < 300; i++)
      expect(js.scoreValues(values.slice(i * 20, i * 20 + 20))).toBe(
        forest.scoreValues(values.slice(i * 20, i * 20 + 20)),
      );
    vi.unstubAllGlobals();
    expect(kernelOf(IsolationForest.fromJSON(forest.toJSON()))).toBeInstanceOf(WasmForest);
  });
});
