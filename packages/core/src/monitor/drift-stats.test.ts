/** Drift statistics against SciPy 1.10 (test/golden/make_drift_golden.py). */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import {
  chiSquareDrift,
  chiSquareTest,
  jensenShannonDistance,
  kolmogorovSf,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  twoProportionZTest,
  wassersteinDistance,
} from './drift-stats';

interface Golden {
  scipy: string;
  ks: ({ a?: number[]; b?: number[]; generated?: boolean; n1?: number; n2?: number; shift?: number } & {
    statistic: number;
    pValue: number;
    kstwobign: number;
  })[];
  histograms: {
    reference: number[];
    current: number[];
    psi: number;
    jensenShannon: number;
    chiSquareDrift: { statistic: number; pValue: number } | null;
  }[];
  wasserstein: {
    u: number[];
    v: number[];
    uWeights: number[] | null;
    vWeights: number[] | null;
    distance: number;
    normalized: number;
  }[];
  chisquare: { observed: number[]; expected: number[]; statistic: number; pValue: number }[];
  z: { s1: number; n1: number; s2: number; n2: number; statistic: number; pValue: number }[];
  kolmogorov: [number, number][];
}

const golden: Golden = JSON.parse(
  readFileSync(new URL('../../test/golden/drift.golden.json', import.meta.url), 'utf8'),
);

function close(actual: number, expected: number, what: string, rel = 1e-9, abs = 1e-15): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs SciPy ${expected}`).toBeLessThanOrEqual(
    Math.max(abs, rel * Math.abs(expected)),
  );
}

describe(`drift statistics against SciPy ${golden.scipy}`, () => {
  it('ksTwoSample: the statistic always, the exact p-value up to 10,000 per sample', () => {
    for (const c of golden.ks) {
      const a = c.generated ? Array.from({ length: c.n1! }, (_, i) => ((i * 7919) % 10007) / 10007) : c.a!;
      const b = c.generated
        ? Array.from({ length: c.n2! }, (_, i) => ((i * 104729) % 30011) / 30011 + c.shift!)
        : c.b!;
      const r = ksTwoSample(a, b);
      const what = `ks n=${a.length},${b.length}`;
      close(r.statistic, c.statistic, `${what} statistic`, 1e-12);
      if (Math.max(a.length, b.length) <= 10_000) {
        expect(r.method).toBe('exact');
        close(r.pValue, c.pValue, `${what} p-value`, 1e-9, 1e-300);
      } else {
        // Asymptotic: the limiting distribution, exactly as SciPy's kstwobign, and within 3% of
        // SciPy 1.10's finite-n kstwo at these sizes (2.3% at 12,000 × 9,000, p ≈ 1e-4).
        expect(r.method).toBe('asymptotic');
        close(r.pValue, c.kstwobign, `${what} kstwobign`, 1e-9);
        close(r.pValue, c.pValue, `${what} vs kstwo`, 0.03);
      }
    }
  });

  it('kolmogorovSf is the limiting Kolmogorov distribution', () => {
    for (const [x, v] of golden.kolmogorov) close(kolmogorovSf(x), v, `kstwobign.sf(${x})`, 1e-9, 1e-16);
  });

  it('psi, Jensen–Shannon distance and the chi-squared drift test on histograms', () => {
    for (const h of golden.histograms) {
      const what = `${h.reference.length} bins`;
      close(psi(h.reference, h.current), h.psi, `${what} psi`);
      close(jensenShannonDistance(h.reference, h.current), h.jensenShannon, `${what} js`);
      if (h.chiSquareDrift !== null) {
        const r = chiSquareDrift(h.reference, h.current);
        close(r.statistic, h.chiSquareDrift.statistic, `${what} chi2`);
        close(r.pValue, h.chiSquareDrift.pValue, `${what} chi2 p`, 1e-9, 1e-300);
      }
    }
  });

  it('wassersteinDistance, weighted or not, and its normalised form', () => {
    for (const w of golden.wasserstein) {
      const d = wassersteinDistance(w.u, w.v, w.uWeights ?? undefined, w.vWeights ?? undefined);
      close(d, w.distance, `wasserstein n=${w.u.length}`);
      close(normalizedWasserstein(w.u, w.v), w.normalized, `normalized n=${w.u.length}`);
    }
  });

  it('chiSquareTest and the two-proportion z test', () => {
    for (const c of golden.chisquare) {
      const r = chiSquareTest(c.observed, c.expected);
      close(r.statistic, c.statistic, 'chisquare statistic');
      close(r.pValue, c.pValue, 'chisquare p');
    }
    for (const c of golden.z) {
      const r = twoProportionZTest(c.s1, c.n1, c.s2, c.n2);
      close(r.statistic, c.statistic, 'z statistic', 1e-12, 1e-15);
      close(r.pValue, c.pValue, 'z p');
    }
  });

  it('identical samples show no drift; scaling the shares changes nothing (properties)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 2, maxLength: 12 }),
        fc.integer({ min: 1, max: 9 }),
        (counts, k) => {
          if (counts.every((c) => c === 0)) return;
          expect(psi(counts, counts)).toBeCloseTo(0, 12);
          expect(jensenShannonDistance(counts, counts)).toBeCloseTo(0, 7);
          expect(
            jensenShannonDistance(
              counts,
              counts.map((c) => c * k),
            ),
          ).toBeCloseTo(0, 7);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 40 }),
        (xs) => {
          const r = ksTwoSample(xs, xs);
          expect(r.statistic).toBe(0);
          expect(r.pValue).toBe(1);
          expect(wassersteinDistance(xs, xs)).toBeCloseTo(0, 12);
        },
      ),
    );
  });

  it('refuses empty, non-finite and mismatched inputs', () => {
    for (const call of [
      () => ksTwoSample([], [1]),
      () => ksTwoSample([1, Number.NaN], [1]),
      () => psi([1, 2], [1, 2, 3]),
      () => psi([0, 0], [1, 1]),
      () => jensenShannonDistance([1, -1], [1, 1]),
      () => chiSquareTest([1, 2], [1, 1]),
      () => wassersteinDistance([1, 2], [1], [1], undefined),
    ]) {
      expect(call).toThrow(ModelshipError);
    }
  });
});
