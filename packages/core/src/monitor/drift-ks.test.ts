import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectDrift } from './drift';
import { ksStatisticSortedFirst, ksTwoSample } from './drift-stats';
import { Profile } from './profile';

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

describe('ksStatisticSortedFirst', () => {
  it('gives ksTwoSample’s statistic bit for bit without sorting the second sample (property)', () => {
    // Few distinct values on a coarse grid, so ties within and across the samples are common,
    // with zeros of both signs and values beyond the reference's range.
    const value = fc.oneof(
      fc.integer({ min: -20, max: 20 }).map((k) => k / 4),
      fc.constantFrom(0, -0, 1e9, -1e9),
      fc.double({ min: -10, max: 10, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 300 }),
        fc.array(value, { minLength: 1, maxLength: 2000 }),
        (a, b) => {
          const want = ksTwoSample(a, b).statistic;
          const got = ksStatisticSortedFirst(sorted(a), Float64Array.from(b));
          return Object.is(got, want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles a reference of one repeated value and a long current sample', () => {
    const b = Float64Array.from({ length: 20_000 }, (_, i) => ((i * 7919) % 101) / 50 - 1);
    for (const a of [[0.5], [0.5, 0.5, 0.5], [-3], [3]]) {
      expect(ksStatisticSortedFirst(sorted(a), b)).toBe(ksTwoSample(a, b).statistic);
    }
  });
});

describe('detectDrift counts KS values as it reads them', () => {
  // Rows of every kind the reader meets: one shape, reordered keys, a missing feature, a null
  // prototype, a nested value, a non-enumerable property, and values that are not finite.
  let s = 11;
  const r = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const value = () => {
    const x = r();
    return x < 0.03
      ? null
      : x < 0.05
        ? Number.NaN
        : x < 0.06
          ? Number.POSITIVE_INFINITY
          : x < 0.07
            ? 'n/a'
            : Math.round(r() * 40) / 8;
  };
  const rows = Array.from({ length: 3000 }, (_, i) => {
    const row: Record<string, unknown> = i % 17 === 0 ? Object.create(null) : {};
    if (i % 37 === 0) row.b = value();
    row.a = value();
    if (i % 11 !== 0) row.b = value();
    row.c = i % 29 === 0 ? [1, 2] : i % 31 === 0 ? { x: 1 } : value();
    // (A nested value would send the row through flatRow, which leaves non-enumerable keys out.)
    if (i % 41 === 0 && i % 29 !== 0) Object.defineProperty(row, 'd', { value: 3, enumerable: false });
    else row.d = r();
    return row;
  });
  const finite = (values: unknown[]) =>
    values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const reference = Array.from({ length: 800 }, () => ({
    a: r() * 5,
    b: Math.round(r() * 30) / 6,
    c: r(),
    d: r(),
  }));

  it('gives ksTwoSample’s p-value of the sample and the finite values, rows and columns alike', () => {
    const profile = Profile.fromDataset(reference, { sampleSize: 300 });
    const columns = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((k) => [k, rows.map((row) => row[k] ?? null)]),
    );
    // 800 reference rows: Evidently's choice is KS for these numeric features too.
    for (const options of [{ method: 'ks' as const }, {}, { methods: { a: 'ks' as const } }])
      for (const [form, data] of [
        ['rows', rows],
        ['columns', columns],
      ] as const) {
        for (const f of detectDrift(profile, data, options).features) {
          if (f.method !== 'ks') continue;
          const feature = profile.feature(f.feature);
          if (feature?.type !== 'numeric') throw new Error(`${f.feature} is not numeric`);
          const values = finite(columns[f.feature]!);
          const want = ksTwoSample(feature.sample, values).pValue;
          expect(f.score, `${f.feature}, ${form}, ${JSON.stringify(options)}`).toBe(want);
          expect(f.count).toBe(values.length);
        }
      }
  });

  it('refuses a feature whose values are present but none finite, as before', () => {
    const profile = Profile.fromDataset(reference, { sampleSize: 300 });
    expect(() =>
      detectDrift(profile, [{ a: Number.POSITIVE_INFINITY, b: 1, c: 1, d: 1 }], { method: 'ks' }),
    ).toThrow(/sample2 is empty/);
  });
});
