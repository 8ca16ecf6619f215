/**
 * The detectors against test/golden/make_anomaly_golden.py: Mahalanobis scores, thresholds and
 * p-values to 1e-9 against a numpy reference; the isolation forest's ranking and AUC against
 * scikit-learn 1.2's (a random forest: agreement, not equality).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rocAuc } from '../metrics/ranking';
import { IsolationForest } from './isolation-forest';
import { MahalanobisDetector } from './mahalanobis';

interface ForestGolden {
  meanScores: number[];
  aucs: number[];
  spearmanBetweenSeeds: number;
}
const golden: {
  mahalanobis: {
    reference: number[][];
    validation: number[][];
    test: number[][];
    scores: number[];
    rank: number;
    thresholds: Record<string, number>;
    pValues: number[];
  };
  singular: { reference: number[][]; test: number[][]; scores: number[]; rank: number };
  isolationForest: {
    train: number[][];
    test: number[][];
    testOutlier: number[];
    '100': ForestGolden;
    '500': ForestGolden;
  };
} = JSON.parse(readFileSync(new URL('../../test/golden/anomaly.golden.json', import.meta.url), 'utf8'));

function closeTo(actual: ArrayLike<number>, expected: readonly number[], tol: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(expected[i]!)),
    );
}

function ranks(xs: ArrayLike<number>): Float64Array {
  const order = Array.from(xs, (_, i) => i).sort((a, b) => xs[a]! - xs[b]!);
  const r = new Float64Array(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]!] === xs[order[i]!]) j++;
    for (let k = i; k <= j; k++) r[order[k]!] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe('MahalanobisDetector against numpy', () => {
  const g = golden.mahalanobis;
  it('scores rows as the reference implementation does', () => {
    const det = MahalanobisDetector.fit(g.reference);
    expect(det.components).toBe(g.rank);
    closeTo(det.scoreAll(g.test), g.scores, 1e-9);
    // one row at a time, as a record
    const record = Object.fromEntries(g.test[25]!.map((v, j) => [`x${j}`, v]));
    expect(Math.abs(det.score(record) - g.scores[25]!)).toBeLessThan(1e-9 * g.scores[25]!);
  });

  it("infers numpy's 'higher' quantile threshold and conformal p-values", () => {
    for (const [fpr, threshold] of Object.entries(g.thresholds)) {
      const det = MahalanobisDetector.fit(g.reference);
      expect(Math.abs(det.inferThreshold(g.validation, { fpr: Number(fpr) }) - threshold)).toBeLessThan(
        1e-9 * threshold,
      );
      expect(det.threshold).toBe(det.inferThreshold(g.validation, { fpr: Number(fpr) }));
    }
    const det = MahalanobisDetector.fit(g.reference);
    det.inferThreshold(g.validation, { fpr: 0.05 });
    closeTo(
      g.scores.map((s) => det.pValue(s)),
      g.pValues,
      1e-12,
    );
  });

  it("refuses a singular covariance by default and drops its directions with singular: 'drop'", () => {
    const s = golden.singular;
    expect(() => MahalanobisDetector.fit(s.reference)).toThrow(
      expect.objectContaining({
        code: 'DATASET_INVALID',
        message: expect.stringMatching(/singular.*x0.*x1.*x3/),
      }),
    );
    const det = MahalanobisDetector.fit(s.reference, { singular: 'drop' });
    expect(det.components).toBe(s.rank);
    closeTo(det.scoreAll(s.test), s.scores, 1e-9);
  });

  it('round-trips through JSON with the same scores, threshold and p-values', () => {
    const det = MahalanobisDetector.fit(g.reference);
    det.inferThreshold(g.validation, { fpr: 0.05 });
    const again = MahalanobisDetector.fromJSON(JSON.parse(JSON.stringify(det)));
    expect(Array.from(again.scoreAll(g.test))).toEqual(Array.from(det.scoreAll(g.test)));
    expect(again.threshold).toBe(det.threshold);
    expect(again.pValue(g.scores[3]!)).toBe(det.pValue(g.scores[3]!));
  });
});

describe('IsolationForest against scikit-learn', () => {
  const g = golden.isolationForest;
  const auc = (scores: ArrayLike<number>) => rocAuc(g.testOutlier, Array.from(scores));

  it('ranks like scikit-learn with 500 trees (Spearman ≥ 0.95, AUC within 0.02)', () => {
    const ours = IsolationForest.fit(g.train, { nEstimators: 500, seed: 1 }).scoreAll(g.test);
    expect(spearman(ours, g['500'].meanScores)).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(auc(ours) - mean(g['500'].aucs))).toBeLessThanOrEqual(0.02);
  });

  it('with the defaults (100 trees): Spearman ≥ 0.95 against the six-seed mean, mean AUC within 0.02', () => {
    const forests = [0, 1, 2, 3, 4, 5].map((seed) => IsolationForest.fit(g.train, { seed }));
    expect(forests[0]!.trees).toBe(100);
    expect(forests[0]!.samples).toBe(256);
    const scores = forests.map((f) => f.scoreAll(g.test));
    for (const s of scores) expect(spearman(s, g['100'].meanScores)).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(mean(scores.map(auc)) - mean(g['100'].aucs))).toBeLessThanOrEqual(0.02);
  });
});
