/**
 * Special functions, paired tests and the paired-test p-values against SciPy 1.10
 * (test/golden/make_stats_golden.py), plus their invariants.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { delong, mcnemar } from './paired-tests';
import {
  binomialTestTwoSided,
  chiSquaredSf,
  erfc,
  gammaP,
  gammaQ,
  logGamma,
  normalCdf,
  normalQuantile,
  normalSf,
} from './special';

type Num = number;
const golden: {
  scipy: string;
  cases: {
    logGamma: [Num, Num][];
    gamma: [Num, Num, Num, Num][];
    erfc: [Num, Num][];
    normal: [Num, Num, Num][];
    normalQuantile: [Num, Num][];
    chiSquaredSf: [Num, Num, Num][];
    binomialTestTwoSided: [Num, Num, Num][];
    delong: { positive: number[]; a: number[]; b: number[]; expected: Record<string, number> }[];
    mcnemar: { b: number; c: number; exactP: number; chi2: number; chi2P: number }[];
  };
} = JSON.parse(readFileSync(new URL('../../test/golden/stats.golden.json', import.meta.url), 'utf8'));

/** Relative agreement to `rel`; values that are exactly 0 must come out 0. */
function close(actual: number, expected: number, what: string, rel = 1e-9, abs = 0): void {
  const err = Math.abs(actual - expected);
  expect(err, `${what}: ${actual} vs SciPy ${expected}`).toBeLessThanOrEqual(
    Math.max(abs, rel * Math.abs(expected)),
  );
}

describe(`special functions against SciPy ${golden.scipy}`, () => {
  it('logGamma', () => {
    // Near its zeros at 1 and 2 log Γ is small, so agreement there is absolute (1e-14).
    for (const [x, v] of golden.cases.logGamma) close(logGamma(x), v, `logGamma(${x})`, 1e-12, 1e-14);
  });

  it('gammaP and gammaQ, tails included', () => {
    for (const [a, x, p, q] of golden.cases.gamma) {
      close(gammaP(a, x), p, `gammaP(${a}, ${x})`, 1e-9, 1e-15);
      close(gammaQ(a, x), q, `gammaQ(${a}, ${x})`, 1e-9, 1e-15);
    }
  });

  it('erfc, normal tails and quantiles', () => {
    for (const [x, v] of golden.cases.erfc) close(erfc(x), v, `erfc(${x})`);
    for (const [z, cdf, sf] of golden.cases.normal) {
      close(normalCdf(z), cdf, `normalCdf(${z})`);
      close(normalSf(z), sf, `normalSf(${z})`);
    }
    for (const [p, q] of golden.cases.normalQuantile)
      close(normalQuantile(p), q, `normalQuantile(${p})`, 1e-9, 1e-12);
  });

  it('chiSquaredSf', () => {
    for (const [x, df, v] of golden.cases.chiSquaredSf)
      close(chiSquaredSf(x, df), v, `chiSquaredSf(${x}, ${df})`);
  });

  it('binomialTestTwoSided', () => {
    for (const [k, n, v] of golden.cases.binomialTestTwoSided)
      close(binomialTestTwoSided(k, n), v, `binomtest(${k}, ${n})`);
  });

  it('P + Q = 1 and the quantile inverts the CDF (properties)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 300, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        (a, x) => {
          expect(Math.abs(gammaP(a, x) + gammaQ(a, x) - 1)).toBeLessThan(1e-12);
        },
      ),
    );
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 1 - 1e-9, noNaN: true }), (p) => {
        const x = normalQuantile(p);
        const back = p < 0.5 ? normalCdf(x) : 1 - normalSf(x);
        expect(Math.abs(back - p)).toBeLessThanOrEqual(1e-12 * Math.max(p, 1e-3));
      }),
    );
  });

  it('refuses arguments outside the domain', () => {
    for (const call of [
      () => logGamma(0),
      () => logGamma(Number.NaN),
      () => gammaP(-1, 1),
      () => gammaQ(1, -1),
      () => normalQuantile(1.5),
      () => chiSquaredSf(1, 0),
      () => binomialTestTwoSided(3, 2),
      () => binomialTestTwoSided(1.5, 4),
    ]) {
      expect(call).toThrow(ModelshipError);
      try {
        call();
      } catch (e) {
        expect((e as ModelshipError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});

describe('paired tests', () => {
  it('DeLong agrees with the direct O(n²) definition computed by SciPy/numpy', () => {
    for (const c of golden.cases.delong) {
      const r = delong(Uint8Array.from(c.positive), c.a, c.b);
      for (const [key, expected] of Object.entries(c.expected))
        close(r[key as keyof typeof r], expected, `delong n=${c.positive.length} ${key}`, 1e-9, 1e-15);
    }
  });

  it('DeLong: a model against itself gives p = 1; swapping the models negates z', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), {
          minLength: 4,
          maxLength: 80,
        }),
        (rows) => {
          const positive = Uint8Array.from(rows, (r) => (r[0] ? 1 : 0));
          if (positive.every((v) => v === 1) || positive.every((v) => v === 0)) return;
          const a = rows.map((r) => r[1]);
          const b = rows.map((r) => r[2]);
          const same = delong(positive, a, a);
          expect(same.pValue).toBe(1);
          expect(same.z).toBe(0);
          const ab = delong(positive, a, b);
          const ba = delong(positive, b, a);
          expect(ba.z).toBeCloseTo(-ab.z, 12);
          expect(ba.pValue).toBeCloseTo(ab.pValue, 12);
        },
      ),
    );
  });

  it('McNemar: exact below 25 discordant pairs, chi-squared from 25, as SciPy computes them', () => {
    for (const c of golden.cases.mcnemar) {
      const a = new Uint8Array(c.b + c.c + 5);
      const b = new Uint8Array(c.b + c.c + 5);
      for (let i = 0; i < c.b; i++) a[i] = 1;
      for (let i = c.b; i < c.b + c.c; i++) b[i] = 1;
      for (let i = c.b + c.c; i < a.length; i++) a[i] = b[i] = 1; // concordant rows do not count
      const exact = mcnemar(a, b, { exact: true });
      const chi = mcnemar(a, b, { exact: false });
      expect([exact.b, exact.c]).toEqual([c.b, c.c]);
      close(exact.pValue, c.exactP, `exact b=${c.b} c=${c.c}`);
      close(chi.statistic, c.chi2, `chi2 statistic b=${c.b} c=${c.c}`);
      close(chi.pValue, c.chi2P, `chi2 p b=${c.b} c=${c.c}`);
      expect(mcnemar(a, b).method).toBe(c.b + c.c < 25 ? 'exact' : 'chi2');
    }
  });

  it('refuses malformed input with INPUT_INVALID', () => {
    const bad = [
      () => delong(Uint8Array.of(1, 1), [1, 2], [1, 2]),
      () => delong(Uint8Array.of(1, 0), [1], [1, 2]),
      () => delong(Uint8Array.of(1, 0), [1, Number.NaN], [1, 2]),
      () => delong([1, 0] as never, [1, 2], [1, 2]),
      () => mcnemar(Uint8Array.of(1), Uint8Array.of(1, 0)),
      () => mcnemar(Uint8Array.of(2), Uint8Array.of(1)),
      () => mcnemar(Uint8Array.of(1), Uint8Array.of(1), { exact: 'yes' as never }),
    ];
    for (const call of bad) {
      try {
        call();
        expect.unreachable();
      } catch (e) {
        expect((e as ModelshipError).code).toBe('INPUT_INVALID');
      }
    }
  });
});
