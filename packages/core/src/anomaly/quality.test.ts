import { describe, expect, it } from 'vitest';
import { Profile } from '../monitor/profile';
import { DataQualityChecker } from './quality';

const reference = Array.from({ length: 200 }, (_, i) => ({
  amount: 10 + (i % 100), // 10 … 109
  age: i % 7 === 0 ? null : 20 + (i % 50), // missing in 29 of 200 rows
  country: ['fr', 'de', 'es'][i % 3]!,
  pixels: [i % 5, 4 - (i % 5)],
}));
const profile = Profile.fromDataset(reference);

describe('DataQualityChecker', () => {
  it('finds nothing in clean records, without allocating a list', () => {
    const q = new DataQualityChecker(profile);
    const a = q.check([{ amount: 50, age: 30, country: 'de', pixels: [1, 3] }]);
    const b = q.check([{ amount: 109, age: null, country: 'fr', pixels: [0, 4] }]);
    expect(a).toEqual([]);
    expect(a).toBe(b);
  });

  it('names record, feature, rule, value and what the reference allows', () => {
    const q = new DataQualityChecker(profile, { rangeTolerance: 0 });
    const findings = q.check([
      { amount: 50, age: 30, country: 'de', pixels: [1, 3] },
      { amount: 110, age: 30, country: 'it', pixels: [1, 3] },
      { amount: '12', country: 'fr', pixels: [Number.POSITIVE_INFINITY, 3] },
      { age: 30, country: { nested: 1 }, pixels: [1, 3] },
    ]);
    expect(findings.map((f) => [f.record, f.feature, f.rule, f.value])).toEqual([
      [1, 'amount', 'out_of_range', 110],
      [1, 'country', 'unseen_category', 'it'],
      [2, 'amount', 'wrong_type', '12'],
      [2, 'pixels[0]', 'non_finite', Number.POSITIVE_INFINITY],
      [3, 'amount', 'missing', null],
      [3, 'country', 'wrong_type', { nested: 1 }],
    ]);
    expect(findings[0]!.expected).toBe('a finite number in [10, 109]');
    expect(findings[1]!.expected).toBe('one of the 3 reference categories (fr, de, es)');
    expect(findings.every((f) => f.mode === 'count')).toBe(true);
  });

  it('allows a tolerance beyond the reference range: 10% of it by default', () => {
    const q = new DataQualityChecker(profile);
    // range 99 → slack 9.9 on each side
    expect(q.check([{ amount: 118.8, age: 30, country: 'fr', pixels: [1, 3] }])).toEqual([]);
    expect(q.check([{ amount: 119, age: 30, country: 'fr', pixels: [1, 3] }]).map((f) => f.rule)).toEqual([
      'out_of_range',
    ]);
    expect(q.check([{ amount: 0.05, age: 30, country: 'fr', pixels: [1, 3] }]).map((f) => f.rule)).toEqual([
      'out_of_range',
    ]);
    const loose = new DataQualityChecker(profile, { features: { amount: { rangeTolerance: 1 } } });
    expect(loose.check([{ amount: 200, age: 30, country: 'fr', pixels: [1, 3] }])).toEqual([]);
  });

  it('counts a missing value only where the reference (almost) never missed it', () => {
    const q = new DataQualityChecker(profile);
    expect(q.check([{ amount: 20, country: 'fr', pixels: [1, 3] }])).toEqual([]); // age missed 14.5%
    const strict = new DataQualityChecker(profile, { missingShare: 0.2 });
    expect(strict.check([{ amount: 20, country: 'fr', pixels: [1, 3] }]).map((f) => f.feature)).toEqual([
      'age',
    ]);
    expect(
      q.check([{ amount: Number.NaN, age: 20, country: 'fr', pixels: [1, 3] }]).map((f) => f.rule),
    ).toEqual(['missing']);
  });

  it('gives each feature its mode, and leaves off features unchecked', () => {
    const q = new DataQualityChecker(profile, {
      mode: 'flag',
      features: { country: { mode: 'reject' }, amount: { mode: 'off' } },
    });
    const f = q.check([{ amount: -5, age: 1000, country: 'xx', pixels: [1, 3] }]);
    expect(f.map((x) => [x.feature, x.mode])).toEqual([
      ['age', 'flag'],
      ['country', 'reject'],
    ]);
    expect(q.features).toEqual(['age', 'country', 'pixels[0]', 'pixels[1]']);
  });

  it('checks numeric rows in a given feature order', () => {
    const numeric = Profile.fromDataset(reference.map((r) => ({ a: r.amount, b: r.pixels[0]! })));
    const q = new DataQualityChecker(numeric, { rangeTolerance: 0 });
    expect(
      q
        .checkRows(
          [
            [50, 2],
            [200, Number.NaN],
            [12n, 9],
          ] as unknown as number[][],
          ['a', 'b'],
        )
        .map((f) => [f.record, f.feature, f.rule]),
    ).toEqual([
      [1, 'a', 'out_of_range'],
      [1, 'b', 'missing'],
      [2, 'b', 'out_of_range'],
    ]);
  });

  it('refuses options that do not match the profile, with typed errors', () => {
    expect(() => new DataQualityChecker(profile, { features: { salary: { mode: 'flag' } } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining("feature 'salary' is not in the profile"),
      }),
    );
    expect(() => new DataQualityChecker(profile, { mode: 'shout' as 'flag' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new DataQualityChecker(profile, { rangeTolerance: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new DataQualityChecker({ features: [] } as unknown as Profile)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('expected a Profile'),
      }),
    );
    const q = new DataQualityChecker(profile);
    expect(() => q.check([null as unknown as Record<string, unknown>])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
