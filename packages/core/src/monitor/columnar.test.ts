import { describe, expect, it } from 'vitest';
import { seededRandom } from '../evaluate/bootstrap';
import type { Columns, Row } from '../evaluate/types';
import { detectDrift } from './drift';
import { Profile } from './profile';

/** Rows with gaps (null, NaN, absent), a categorical column, a label and typed numbers. */
function rows(n: number, seed: number, shift: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => ({
    a: i % 50 === 0 ? null : random() + shift,
    b: i % 70 === 0 ? Number.NaN : Math.round(random() * 8),
    c: ['x', 'y', 'z'][Math.floor(random() * 3)]!,
    d: i % 90 === 0 ? undefined : 3 * random() - shift,
    label: random() < 0.2 ? 1 : 0,
  }));
}

function toColumns(r: Row[], typed: boolean): Columns {
  const names = ['a', 'b', 'c', 'd', 'label'];
  const cols: Columns = Object.fromEntries(names.map((k) => [k, r.map((row) => row[k])]));
  if (typed) cols.label = Float64Array.from(r, (row) => row.label as number);
  return cols;
}

describe('columns read in place', () => {
  for (const typed of [false, true]) {
    it(`profile and drift report equal those of the same data as rows (${typed ? 'a typed column' : 'plain arrays'})`, () => {
      const ref = rows(3000, 1, 0);
      const cur = rows(2000, 2, 0.3);
      const options = { exclude: ['label'], sampleSize: 500, seed: 3 };
      const fromRows = Profile.fromDataset(ref, options);
      const fromColumns = Profile.fromDataset(toColumns(ref, typed), options);
      expect(fromColumns.toJSON()).toEqual(fromRows.toJSON());
      expect((fromRows.feature('a') as { missing: number }).missing).toBe(60);
      for (const method of [undefined, 'ks', 'wasserstein', 'psi'] as const) {
        const options = method === undefined ? {} : { methods: { a: method, b: method, d: method } };
        const want = detectDrift(fromRows, cur, options);
        const got = detectDrift(fromRows, toColumns(cur, typed), options);
        expect(got).toEqual(want);
        expect(got.currentRows).toBe(2000);
        expect(got.features.find((f) => f.feature === 'a')!.count).toBe(1960);
        if (method !== undefined) expect(got.features.find((f) => f.feature === 'd')!.method).toBe(method);
      }
    });
  }

  it('columns holding arrays are spread into name[i] features, as rows are', () => {
    const random = seededRandom(5);
    const ref = Array.from({ length: 400 }, () => ({ img: [random(), random()], v: random() }));
    const cols: Columns = { img: ref.map((r) => r.img), v: ref.map((r) => r.v) };
    const p = Profile.fromDataset(cols);
    expect(p.features.map((f) => f.name)).toEqual(['img[0]', 'img[1]', 'v']);
    expect(p.toJSON()).toEqual(Profile.fromDataset(ref).toJSON());
    expect(detectDrift(p, cols)).toEqual(detectDrift(p, ref));
  });
});
