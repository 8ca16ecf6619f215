import { describe, expect, it } from 'vitest';
import { averagePathLength, IsolationForest } from './isolation-forest';
import { MahalanobisDetector } from './mahalanobis';

describe('averagePathLength (c(n))', () => {
  it("is scikit-learn's: 0, 1, then 2 (ln(n − 1) + γ) − 2 (n − 1) / n", () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(3)).toBeCloseTo(2 * (Math.log(2) + 0.5772156649015329) - 4 / 3, 15);
    expect(averagePathLength(256)).toBeCloseTo(
      2 * (Math.log(255) + 0.5772156649015329) - (2 * 255) / 256,
      12,
    );
  });
});

describe('IsolationForest path lengths on hand-built trees', () => {
  // tree 0: x0 ≤ 0.5 ? leaf(depth 1, 3 rows) : (x1 ≤ 2 ? leaf(depth 2, 1 row) : leaf(depth 2, 2 rows))
  // tree 1: a single leaf holding 4 rows (depth 0)
  const c = averagePathLength;
  const json = {
    version: 1,
    kind: 'isolation-forest',
    features: ['x0', 'x1'],
    threshold: 0.5,
    fpr: null,
    referenceScores: [],
    samples: 4,
    roots: [0, 5],
    feature: [0, -1, 1, -1, -1, -1],
    value: [0.5, 1 + c(3), 2, 2 + c(1), 2 + c(2), 0 + c(4)],
    right: [2, 0, 4, 0, 0, 0],
  };
  const forest = IsolationForest.fromJSON(json);

  it('adds c(rows in the leaf) to the leaf depth and averages over trees', () => {
    expect(forest.pathLength(Float64Array.of(0.2, 9))).toBeCloseTo((1 + c(3) + c(4)) / 2, 15);
    expect(forest.pathLength(Float64Array.of(0.9, 1))).toBeCloseTo((2 + 0 + c(4)) / 2, 15);
    expect(forest.pathLength(Float64Array.of(0.9, 3))).toBeCloseTo((2 + 1 + c(4)) / 2, 15);
    expect(forest.score([0.9, 1])).toBeCloseTo(2 ** (-((2 + c(4)) / 2) / c(4)), 15);
    expect(forest.score({ x0: 0.5, x1: 3 })).toBeCloseTo(2 ** (-((1 + c(3) + c(4)) / 2) / c(4)), 15);
  });

  it('gives every row of a batch its leaves, shallow or deep, bit for bit (scoreRows)', () => {
    // one row per leaf of tree 0 and on its split points, in a batch of more than 8 (a block and a rest)
    const rows = [
      [0.2, 9, 1 + c(3)],
      [0.5, 2, 1 + c(3)],
      [0.9, 1, 2],
      [0.9, 2, 2],
      [0.9, 3, 2 + c(2)],
      [-1e300, 1e300, 1 + c(3)],
      [1e300, -1e300, 2],
      [0.2, 9, 1 + c(3)],
      [0.9, 3, 2 + c(2)],
      [0.9, 1, 2],
    ];
    const scores = forest.scoreRows(Float64Array.from(rows.flatMap(([x0, x1]) => [x0!, x1!])), rows.length);
    expect(Array.from(scores)).toEqual(rows.map(([, , leaf]) => 2 ** (-((leaf! + c(4)) / 2) / c(4))));
    expect(forest.pathLength(Float64Array.of(0.9, 3))).toBe((2 + c(2) + c(4)) / 2);
  });

  it('refuses malformed trees: children before their parent, unknown features, cycles', () => {
    for (const bad of [
      { right: [0, 0, 4, 0, 0, 0] },
      { feature: [2, -1, 1, -1, -1, -1] },
      { right: [2, 0, 2, 0, 0, 0] },
      { roots: [0, 6] },
      { value: [0.5] },
    ])
      expect(() => IsolationForest.fromJSON({ ...json, ...bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    expect(() => IsolationForest.fromJSON({ ...json, kind: 'mahalanobis' })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('not a version 1 isolation-forest detector'),
      }),
    );
  });
});

describe('IsolationForest', () => {
  const rows = Array.from({ length: 300 }, (_, i) => [
    Math.sin(i * 1.7),
    Math.cos(i * 0.9) * 2,
    (i % 13) / 13,
  ]);

  it('is reproducible by seed and isolates a far point quickly', () => {
    const a = IsolationForest.fit(rows, { seed: 3 });
    const b = IsolationForest.fit(rows, { seed: 3 });
    expect(a.scoreAll(rows.slice(0, 20))).toEqual(b.scoreAll(rows.slice(0, 20)));
    expect(a.samples).toBe(256);
    const far = a.score([9, 9, 9]);
    const usual = a.score([0, 0, 0.5]);
    // scikit-learn 1.2, mean of five seeds on the same rows: 0.608 and 0.499
    expect(Math.abs(far - 0.608)).toBeLessThan(0.03);
    expect(Math.abs(usual - 0.499)).toBeLessThan(0.03);
    expect(a.threshold).toBe(0.5);
    expect(a.isOutlier([9, 9, 9])).toBe(true);
  });

  it('sets the threshold at the contamination quantile of the training scores', () => {
    const f = IsolationForest.fit(rows, { contamination: 0.1 });
    const scores = f.scoreAll(rows);
    const above = scores.filter((s) => s > f.threshold!).length;
    expect(above).toBeLessThanOrEqual(30);
    expect(above).toBeGreaterThanOrEqual(29);
  });

  it('round-trips through JSON', () => {
    const f = IsolationForest.fit(rows, { nEstimators: 10 });
    f.inferThreshold(rows, { fpr: 0.05 });
    const g = IsolationForest.fromJSON(JSON.parse(JSON.stringify(f)));
    expect(g.scoreAll(rows)).toEqual(f.scoreAll(rows));
    expect(g.threshold).toBe(f.threshold);
    expect(g.pValue(0.6)).toBe(f.pValue(0.6));
  });

  it('refuses bad options and bad rows with typed errors', () => {
    const bad = (fn: () => unknown, message: RegExp) =>
      expect(fn).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }),
      );
    bad(() => IsolationForest.fit(rows, { nEstimators: 0 }), /nEstimators/);
    bad(() => IsolationForest.fit(rows, { maxSamples: 1.5 }), /maxSamples/);
    bad(() => IsolationForest.fit(rows, { contamination: 0.7 }), /contamination/);
    bad(() => IsolationForest.fit([[1, Number.NaN]]), /row 0, feature 'x1' must be a finite number/);
    bad(() => IsolationForest.fit([[1, 2], [3]]), /row 1 must have 2 values/);
    bad(() => IsolationForest.fit([]), /no rows/);
    const f = IsolationForest.fit(rows, { nEstimators: 5 });
    bad(() => f.score({ x0: 1, x1: 2 }), /feature 'x2' must be a finite number/);
    bad(() => f.score([1, 2, Number.POSITIVE_INFINITY]), /feature 'x2'/);
    bad(() => f.inferThreshold(rows.slice(0, 10), { fpr: 0.01 }), /needs at least 100 rows, there are 10/);
    bad(() => f.inferThreshold(rows, { fpr: 0 }), /fpr/);
  });
});

describe('MahalanobisDetector', () => {
  it('fits on records by feature name and scores the mean as 0', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ a: i, b: (i * 7) % 11, label: 'x' }));
    const det = MahalanobisDetector.fit(rows);
    expect(det.features).toEqual(['a', 'b']);
    expect(det.score({ a: det.mean[0]!, b: det.mean[1]! })).toBeCloseTo(0, 12);
  });

  it('refuses too few rows, NaN, and unknown features with typed errors', () => {
    expect(() =>
      MahalanobisDetector.fit([
        [1, 2],
        [3, 4],
      ]),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('2 features need more than 2 reference rows'),
      }),
    );
    expect(() => MahalanobisDetector.fit([{ a: 1 }, { a: 2 }, { a: 3 }], { features: ['a', 'z'] })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining("row 0, feature 'z' must be a finite number"),
      }),
    );
    expect(() => MahalanobisDetector.fit([[1], [1], [1]])).toThrow(
      expect.objectContaining({ code: 'DATASET_INVALID' }),
    );
    expect(() => MahalanobisDetector.fit([[1], [2], [3]]).pValue(1)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('call inferThreshold first') }),
    );
  });
});
