/**
 * The row readers of Profile.fromDataset and detectDrift against the plain reading they replace
 * (`Object.entries(flatRow(row))` per row, `flatRow(row)[name]` per feature), on rows that leave
 * the fast walk: arrays and objects mid-row, class instances, reordered and late keys.
 */
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { detectDrift } from './drift';
import { flatRow } from './flat-row';
import { DistinctCount, Profile } from './profile';

class Reading {
  constructor(
    public a: number,
    public b: number,
  ) {}
}
(Reading.prototype as unknown as { inherited: number }).inherited = 5; // for…in would list it

function awkwardRows(n: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    if (i % 17 === 0) return new Reading(random(), random()) as unknown as Row;
    const row: Row = { a: random(), b: i % 7 === 0 ? 'x' : random() };
    if (i % 5 === 0) row.v = [random(), random()];
    if (i % 11 === 0) row.when = new Date(0);
    if (i % 3 === 0) return { b: row.b, ...row, c: random() };
    return row;
  });
}

describe('reading rows', () => {
  it('Profile.fromDataset equals profiling the flattened entries as plain rows', () => {
    const rows = awkwardRows(3000, 1);
    const flat = rows.map((row) => Object.fromEntries(Object.entries(flatRow(row))));
    const options = { sampleSize: 100, schema: { b: 'categorical' as const } };
    const p = Profile.fromDataset(rows, options);
    expect(p.features.map((f) => f.name)).toEqual(['a', 'b', 'c', 'v[0]', 'v[1]', 'when']);
    expect(p.feature('inherited')).toBeUndefined();
    expect(p.toJSON()).toEqual(Profile.fromDataset(flat, options).toJSON());
  });

  it('detectDrift equals reading each feature of the flattened rows', () => {
    const reference = Profile.fromDataset(awkwardRows(2000, 2), { schema: { b: 'categorical' } });
    const rows = awkwardRows(1500, 3);
    const flat = rows.map((row) => ({ ...flatRow(row) }));
    expect(detectDrift(reference, rows)).toEqual(detectDrift(reference, flat));
    const plain = Profile.fromDataset(
      rows.map((row) => ({ a: row.a, c: row.c })),
      { sampleSize: 50 },
    );
    expect(detectDrift(plain, rows)).toEqual(detectDrift(plain, flat));
  });

  it('refuses a row that is not an object with a typed error', () => {
    const p = Profile.fromDataset([{ a: 1 }, { a: 2 }]);
    for (const bad of [null, 3]) {
      const err = (() => {
        try {
          detectDrift(p, [{ a: 1 }, bad as unknown as Row]);
        } catch (e) {
          return e;
        }
      })();
      expect(ModelshipError.isInstance(err)).toBe(true);
      expect((err as Error).message).toMatch(/detectDrift: row 1 is not an object/);
    }
  });
});

describe('DistinctCount', () => {
  it('counts as a Set would (+0 and −0 as one), up to its cap', () => {
    const random = seededRandom(4);
    const values = Array.from({ length: 5000 }, (_, i) =>
      i % 3 === 0 ? Math.floor(random() * 300) : i % 3 === 1 ? -0 : random() * 1e-300,
    );
    for (const cap of [1, 10, 301, 1000, 6000]) {
      const d = new DistinctCount(cap);
      const set = new Set<number>();
      for (const v of values) {
        d.add(v);
        if (set.size < cap) set.add(v);
      }
      expect(d.size, `cap ${cap}`).toBe(set.size);
    }
    const zeros = new DistinctCount(10);
    for (const v of [0, -0, 0, -0]) zeros.add(v);
    expect(zeros.size).toBe(1);
  });
});
