/**
 * IsotonicRegression against scikit-learn 1.2 and CBPE against a numpy implementation of the
 * published algorithm (test/golden/make_cbpe_golden.py), to 1e-9; and the estimate tracking the
 * realized metric under covariate shift.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ESTIMATED_METRICS, PerformanceEstimator } from './cbpe';
import { MulticlassPerformanceEstimator } from './cbpe-multiclass';
import { IsotonicRegression } from './isotonic';

const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/cbpe.golden.json', import.meta.url), 'utf8'),
);

function closeTo(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-9) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(
      Math.abs(actual[i]! - expected[i]!),
      `at ${i}: ${actual[i]} vs ${expected[i]}`,
    ).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!)));
}

describe('IsotonicRegression against scikit-learn', () => {
  const g = golden.isotonic;
  it('fits with weights and ties, keeps the same points, predicts and clips the same', () => {
    const iso = IsotonicRegression.fit(g.x, g.y, { sampleWeight: g.w });
    closeTo(iso.x, g.thresholdsX);
    closeTo(iso.y, g.thresholdsY);
    closeTo(iso.predict(g.grid), g.weighted);
    closeTo(IsotonicRegression.fit(g.x, g.y).predict(g.grid), g.unweighted);
    closeTo(IsotonicRegression.fit(g.x, g.y, { increasing: false }).predict(g.grid), g.decreasing);
    const again = IsotonicRegression.fromJSON(JSON.parse(JSON.stringify(iso)));
    expect(Array.from(again.predict(g.grid))).toEqual(Array.from(iso.predict(g.grid)));
  });

  it('refuses bad input with typed errors', () => {
    expect(() => IsotonicRegression.fit([1, 2], [1])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => IsotonicRegression.fit([1, Number.NaN], [1, 2])).toThrow(/x\[1\] must be a finite number/);
    expect(() => IsotonicRegression.fit([1, 2], [1, 2], { sampleWeight: [1, -1] })).toThrow(
      /sampleWeight\[1\] must be ≥ 0/,
    );
  });
});

describe('PerformanceEstimator (CBPE) against the numpy reference', () => {
  const g = golden.cbpe;
  const est = PerformanceEstimator.fit({ scores: g.reference.score, labels: g.reference.label });

  it('takes its alert thresholds from the reference chunks', () => {
    for (const m of ESTIMATED_METRICS) closeTo(est.thresholds[m], g.thresholds[m]);
  });

  it('estimates every metric and its sampling error as the reference implementation does', () => {
    for (const a of g.analysis) {
      const e = est.estimate(a.score);
      for (const m of ESTIMATED_METRICS) {
        closeTo([e[m].value], [a.estimated[m]]);
        closeTo([e[m].samplingError], [a.samplingError[m]]);
      }
    }
  });

  it('tracks the realized metric under covariate shift: within its 3σ band', () => {
    let inside = 0;
    let total = 0;
    for (const a of g.analysis) {
      const e = est.estimate(a.score);
      for (const m of ESTIMATED_METRICS) {
        total++;
        if (a.realized[m] >= e[m].lower && a.realized[m] <= e[m].upper) inside++;
      }
      // accuracy moves with the population, and the estimate follows it
      expect(Math.abs(e.accuracy.value - a.realized.accuracy)).toBeLessThan(3 * e.accuracy.samplingError);
    }
    expect(inside).toBe(total);
  });

  it('round-trips through JSON', () => {
    const again = PerformanceEstimator.fromJSON(JSON.parse(JSON.stringify(est)));
    expect(again.estimate(g.analysis[1].score)).toEqual(est.estimate(g.analysis[1].score));
  });

  it('refuses references it cannot learn from', () => {
    const bad = (fn: () => unknown, m: RegExp) =>
      expect(fn).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(m) }),
      );
    bad(() => PerformanceEstimator.fit({ scores: [0.1, 0.9], labels: [0, 1] }), /need at least 200 rows/);
    bad(
      () => PerformanceEstimator.fit({ scores: new Array(300).fill(0.5), labels: new Array(300).fill(1) }),
      /both classes/,
    );
    bad(
      () => PerformanceEstimator.fit({ scores: new Array(300).fill(0.5), labels: new Array(300).fill(2) }),
      /labels\[0\] must be 0 or 1/,
    );
    bad(() => est.estimate([0.2, Number.NaN]), /scores\[1\] must be a finite number/);
    bad(() => PerformanceEstimator.fromJSON({ version: 1, kind: 'cbpe' }), /threshold must be a number/);
  });
});

describe('MulticlassPerformanceEstimator against the numpy reference', () => {
  const g = golden.multiclass;
  const est = MulticlassPerformanceEstimator.fit({ scores: g.reference.score, labels: g.reference.label });

  it('takes its thresholds from the reference chunks, and estimates every metric and its sampling error', () => {
    for (const m of ESTIMATED_METRICS) closeTo(est.thresholds[m], g.thresholds[m]);
    for (const a of g.analysis) {
      const e = est.estimate(a.score);
      for (const m of ESTIMATED_METRICS) {
        closeTo([e[m].value], [a.estimated[m]]);
        closeTo([e[m].samplingError], [a.samplingError[m]]);
      }
    }
  });

  it('tracks the realized macro metrics under covariate shift within the 3σ band', () => {
    for (const a of g.analysis) {
      const e = est.estimate(a.score);
      for (const m of ESTIMATED_METRICS) {
        expect(a.realized[m], `${m} at mu ${a.mu}`).toBeGreaterThanOrEqual(e[m].lower);
        expect(a.realized[m], `${m} at mu ${a.mu}`).toBeLessThanOrEqual(e[m].upper);
      }
    }
  });

  it('round-trips through JSON and refuses what it cannot use', () => {
    const again = MulticlassPerformanceEstimator.fromJSON(JSON.parse(JSON.stringify(est)));
    expect(again.estimate(g.analysis[0].score)).toEqual(est.estimate(g.analysis[0].score));
    expect(() => est.estimate([[0.5, 0.5]])).toThrow(/at least 3 class scores/);
    expect(() => est.estimate([[0.2, 0.3, 0.5, 0]])).toThrow(/each row must have 3 class scores/);
    expect(() =>
      MulticlassPerformanceEstimator.fit({
        scores: g.reference.score,
        labels: g.reference.label.map(() => 3),
      }),
    ).toThrow(/labels\[0\] must be a class index from 0 to 2/);
  });
});
