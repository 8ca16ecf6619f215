import { describe, expect, it } from 'vitest';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { detectDrift } from './drift';
import { Profile } from './profile';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function data(n: number, seed: number, shift: { amount?: number; country?: boolean } = {}): Row[] {
  const random = seededRandom(seed);
  const countries = ['FR', 'DE', 'ES', 'IT'];
  return Array.from({ length: n }, () => ({
    amount: 100 + 20 * gaussian(random) + (shift.amount ?? 0),
    age: 40 + 10 * gaussian(random),
    country: shift.country && random() < 0.5 ? 'FR' : countries[Math.floor(random() * 4)]!,
    member: random() < 0.3,
    label: random() < 0.1 ? 1 : 0,
  }));
}

describe('Profile', () => {
  it('summarises each feature and round-trips through JSON', () => {
    const p = Profile.fromDataset(data(500, 1), { exclude: ['label'], sampleSize: 200 });
    expect(p.rows).toBe(500);
    expect(p.features.map((f) => [f.name, f.type])).toEqual([
      ['amount', 'numeric'],
      ['age', 'numeric'],
      ['country', 'categorical'],
      ['member', 'categorical'],
    ]);
    const amount = p.feature('amount')!;
    expect(amount.type === 'numeric' && amount.sample.length).toBe(200);
    expect(amount.type === 'numeric' && Math.abs(amount.mean - 100)).toBeLessThan(3);
    const country = p.feature('country')!;
    expect(country.type === 'categorical' && Object.values(country.categories).reduce((a, b) => a + b)).toBe(
      500,
    );
    const again = Profile.fromJSON(JSON.parse(JSON.stringify(p)));
    expect(again).toEqual(p);
    expect(() => Profile.fromJSON({ version: 2 })).toThrow(/not a version 1 profile/);
    expect(() => Profile.fromDataset([])).toThrow(/no rows/);
    expect(() => Profile.fromDataset([{ a: 1 }, { a: 'x' }])).toThrow(
      /row 1, column 'a' is "x"; a numeric feature needs finite numbers/,
    );
  });
});

describe('detectDrift', () => {
  it('finds drift where it was injected, with the test Evidently would pick', () => {
    const reference = Profile.fromDataset(data(800, 2), { exclude: ['label'] });
    const report = detectDrift(reference, data(600, 3, { amount: 15 }));
    const by = Object.fromEntries(report.features.map((f) => [f.feature, f]));
    expect(by.amount).toMatchObject({ method: 'ks', drifted: true, threshold: 0.05 });
    expect(by.amount!.score).toBeLessThan(1e-10);
    expect(by.age).toMatchObject({ method: 'ks', drifted: false });
    expect(by.country).toMatchObject({ method: 'chisquare', drifted: false });
    expect(by.member).toMatchObject({ method: 'z', drifted: false });
    expect(report).toMatchObject({
      driftedFeatures: 1,
      share: 0.25,
      datasetDrift: false,
      referenceRows: 800,
      currentRows: 600,
    });
    const both = detectDrift(reference, data(600, 4, { amount: 15, country: true }));
    expect(both.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['amount', 'country']);
    expect(both.datasetDrift).toBe(true); // 2 of 4 ≥ 0.5
  });

  it('uses distances above 1,000 reference rows, and a chosen method when asked', () => {
    const reference = Profile.fromDataset(data(3000, 5), { exclude: ['label'] });
    const report = detectDrift(reference, data(1000, 6, { amount: 10 }));
    const by = Object.fromEntries(report.features.map((f) => [f.feature, f]));
    expect(by.amount).toMatchObject({ method: 'wasserstein', drifted: true, threshold: 0.1 });
    expect(by.amount!.score).toBeGreaterThan(0.4); // a shift of half a standard deviation
    expect(by.age).toMatchObject({ method: 'wasserstein', drifted: false });
    expect(by.country).toMatchObject({ method: 'jensenshannon', drifted: false });
    const psi = detectDrift(reference, data(1000, 6, { amount: 10 }), { methods: { amount: 'psi' } });
    expect(psi.features[0]).toMatchObject({ feature: 'amount', method: 'psi', drifted: true });
  });

  it('keeps false alarms within the test level on resamples of the reference', () => {
    const reference = Profile.fromDataset(data(800, 7), { exclude: ['label'] });
    let alarms = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const report = detectDrift(reference, data(300, 100 + t));
      if (report.features.find((f) => f.feature === 'amount')!.drifted) alarms++;
    }
    // At level 0.05 the expected count is 10; 4 standard deviations of Binomial(200, 0.05) is 12.3.
    expect(alarms).toBeLessThanOrEqual(22);
  });
});
