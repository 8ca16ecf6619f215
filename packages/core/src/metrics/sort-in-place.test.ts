import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortFloat64InPlace } from './sort';

/** Same numbers in the same order, bit for bit (−0 is not +0 here). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, 2 * b.length);
  return x.every((v, i) => v === y[i]);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

const r = lcg(7);
const cases: Record<string, (i: number) => number> = {
  uniform: () => r(),
  'both signs': () => (r() - 0.5) * 1e3,
  'few distinct': () => Math.floor(r() * 5) - 2,
  // One high word for every value: a single run longer than the native-sort size.
  'nearly equal': () => 1e6 + r() * 1e-3,
  // Runs of 17–512 equal high words.
  clustered: (i) => Math.floor(i / 100) + r() * 1e-7,
  'zeros, infinities, denormals': (i) =>
    [0, -0, 5e-324, -5e-324, 1e-310, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e308][i % 8]!,
};

describe('sortFloat64InPlace', () => {
  for (const [name, make] of Object.entries(cases))
    it(`sorts as Float64Array.prototype.sort: ${name}`, () => {
      for (const n of [100, 600, 5000, 40_000]) {
        const a = Float64Array.from({ length: n }, (_, i) => make(i));
        const want = a.slice().sort();
        const got = sortFloat64InPlace(a);
        expect(got).toBe(a);
        expect(sameBits(got, want), `${name}, ${n} values`).toBe(true);
      }
    });

  it('sorts a view in place, through a scratch buffer when one is long enough', () => {
    const backing = Float64Array.from({ length: 9000 }, () => r() - 0.5);
    const view = backing.subarray(1000, 8000);
    const want = view.slice().sort();
    const before = backing.slice(0, 1000);
    const scratch = new Float64Array(8000);
    sortFloat64InPlace(view, scratch);
    expect(sameBits(view, want)).toBe(true);
    expect(sameBits(backing.subarray(0, 1000), before)).toBe(true);
    expect(scratch.some((v) => v !== 0)).toBe(true); // the buffer did the work
    const short = new Float64Array(10);
    const again = Float64Array.from({ length: 3000 }, () => r());
    expect(sameBits(sortFloat64InPlace(again.slice(), short), again.slice().sort())).toBe(true);
    expect(short.every((v) => v === 0)).toBe(true); // too short: left alone
  });

  it('leaves NaN to the native sort (NaN last)', () => {
    const a = Float64Array.from({ length: 2000 }, (_, i) => (i % 9 === 0 ? Number.NaN : r()));
    const want = a.slice().sort();
    const got = sortFloat64InPlace(a);
    expect(Array.from(got.subarray(0, 1777))).toEqual(Array.from(want.subarray(0, 1777)));
    expect(got.subarray(1777).every(Number.isNaN)).toBe(true);
  });

  it('agrees with the native sort on arbitrary doubles (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { minLength: 513, maxLength: 3000 }), (xs) => {
        const a = Float64Array.from(xs);
        return sameBits(sortFloat64InPlace(a.slice()), a.slice().sort());
      }),
      { numRuns: 60 },
    );
  });
});
