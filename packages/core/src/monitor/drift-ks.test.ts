import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ksStatisticSortedFirst, ksTwoSample } from './drift-stats';

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
