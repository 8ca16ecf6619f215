/**
 * Profiles and drift reports, to the last bit, as the code before the issue 24 speed work
 * computed them (test/golden/make_drift_parity.ts): rows, plain and typed columns, gaps, late
 * and reordered keys, array values, every numeric method.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parityCases } from '../../test/golden/drift-parity-cases';
import { detectDrift } from './drift';
import { Profile } from './profile';

describe('drift parity with the recorded values', () => {
  it('profiles and reports equal the fixture exactly', () => {
    const golden = JSON.parse(
      readFileSync(new URL('../../test/golden/drift-parity.golden.json', import.meta.url), 'utf8'),
    );
    // Through JSON, as the fixture was written: NaN and -0 read back as the file holds them.
    const now = JSON.parse(JSON.stringify(parityCases(Profile, detectDrift)));
    expect(Object.keys(now.reports)).toEqual(Object.keys(golden.reports));
    for (const key of Object.keys(golden.profiles))
      expect(now.profiles[key], key).toEqual(golden.profiles[key]);
    for (const key of Object.keys(golden.reports)) expect(now.reports[key], key).toEqual(golden.reports[key]);
  });
});
