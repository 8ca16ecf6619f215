/**
 * The complete-tree layout and its batch kernels give the same numbers, bit for bit, as walking
 * the forest's own nodes (the reference walk below reads `toJSON()`'s arrays, as the forest
 * was scored before the layout existed), for one row and for batches of every remainder.
 */
import { describe, expect, it } from 'vitest';
import { MAX_COMPLETE_DEPTH } from './complete-trees';
import { gaussian, layoutOf } from './forests.case';
import { averagePathLength, IsolationForest, type IsolationForestJson } from './isolation-forest';
import { MahalanobisDetector } from './mahalanobis';

/** The score as the node arrays define it: left when x ≤ split, sum over trees in order. */
function walked(json: IsolationForestJson, x: ArrayLike<number>): number {
  let total = 0;
  for (const root of json.roots) {
    let node = root;
    while (json.feature[node]! >= 0)
      node = x[json.feature[node]!]! <= json.value[node]! ? node + 1 : json.right[node]!;
    total += json.value[node]!;
  }
  return 2 ** (-(total / json.roots.length) / averagePathLength(json.samples));
}

function flat(rows: number[][]): Float64Array {
  const d = rows[0]!.length;
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    out.set(r, i * d);
  });
  return out;
}

describe('isolation forest scores through the complete-tree layout', () => {
  const reference = gaussian(1500, 20, 11);
  const probe = gaussian(1003, 20, 12); // 1003 = 125 blocks of 8 rows and 3 more
  // far rows too, so that short paths (leaves above the bottom) are taken
  for (let i = 0; i < 40; i++) probe[i * 25] = probe[i * 25]!.map((v, j) => v * (j % 3 === 0 ? 9 : 1));
  const forests: [string, IsolationForest][] = [
    ['100 trees, 256 samples', IsolationForest.fit(reference, { seed: 1 })],
    ['7 trees (not a multiple of 4)', IsolationForest.fit(reference, { seed: 2, nEstimators: 7 })],
    ['20 samples per tree (shallow)', IsolationForest.fit(reference, { seed: 3, maxSamples: 20 })],
    [
      `1500 samples per tree (depth 11 > ${MAX_COMPLETE_DEPTH}: node by node)`,
      IsolationForest.fit(reference, { seed: 4, nEstimators: 10, maxSamples: 1500 }),
    ],
  ];

  it.each(forests)('%s: score, scoreValues and scoreRows are the node walk, bit for bit', (_, forest) => {
    const json = forest.toJSON();
    const values = flat(probe);
    const batch = forest.scoreRows(values, probe.length);
    let differing = 0;
    for (let i = 0; i < probe.length; i++) {
      const expected = walked(json, probe[i]!);
      if (!Object.is(batch[i], expected)) differing++;
      if (!Object.is(forest.score(probe[i]!), expected)) differing++;
      if (!Object.is(forest.scoreValues(Float64Array.from(probe[i]!)), expected)) differing++;
    }
    expect(differing).toBe(0);
    // every remainder of a batch of 8, and batches smaller than one block
    for (const n of [0, 1, 7, 8, 9, 15, 16, 17]) {
      const some = forest.scoreRows(values.subarray(0, n * 20), n);
      expect(Array.from(some)).toEqual(Array.from(batch.subarray(0, n)));
    }
  });

  it('lays out forests up to the depth limit and leaves deeper ones to the node walk', () => {
    expect(layoutOf(forests[0]![1])?.depth).toBe(8);
    expect(layoutOf(forests[2]![1])?.depth).toBe(5);
    expect(layoutOf(forests[3]![1])).toBeUndefined();
  });

  it('gives NaN for rows with a value that is not finite, and the other rows their scores', () => {
    const forest = forests[0]![1];
    const rows = probe.slice(0, 10).map((r) => [...r]);
    rows[3]![5] = Number.NaN;
    rows[8]![19] = Number.POSITIVE_INFINITY;
    const scores = forest.scoreRows(flat(rows), rows.length);
    rows.forEach((r, i) => {
      if (i === 3 || i === 8) expect(scores[i]).toBeNaN();
      else expect(scores[i]).toBe(forest.score(r));
    });
  });

  it('scores Mahalanobis rows in a batch exactly as one by one', () => {
    const det = MahalanobisDetector.fit(reference);
    const scores = det.scoreRows(flat(probe), probe.length, new Float64Array(probe.length + 5));
    expect(scores.length).toBe(probe.length + 5);
    for (let i = 0; i < probe.length; i++) expect(scores[i]).toBe(det.score(probe[i]!));
  });

  it('refuses values, rows and out that do not fit, with typed errors', () => {
    const forest = forests[1]![1];
    const values = new Float64Array(40);
    const bad = (fn: () => unknown, message: RegExp) =>
      expect(fn).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }),
      );
    bad(() => forest.scoreRows([1, 2] as unknown as Float64Array, 1), /values must be a Float64Array/);
    bad(
      () => forest.scoreRows(values, 3),
      /rows must be an integer from 0 to 2 \(values holds 40 numbers, 20 per row\)/,
    );
    bad(() => forest.scoreRows(values, 1.5), /rows must be an integer/);
    bad(
      () => forest.scoreRows(values, 2, new Float64Array(1)),
      /out must be a Float64Array of at least 2 numbers/,
    );
  });
});
