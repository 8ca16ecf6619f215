import { describe, expect, it } from 'vitest';
import { encode, uniqueSorted } from './labels';
import { logLoss } from './probabilistic';

describe('label lookups', () => {
  it('uniqueSorted gives the same classes through the short list and past it (Set)', () => {
    const few = [3, 1, -0, 2, 1, 0, 3];
    expect(uniqueSorted(few, [2, 5])).toEqual([-0, 1, 2, 3, 5]);
    expect(Object.is(uniqueSorted(few)[0], -0)).toBe(true); // the first of −0/+0 seen is kept
    const many = Array.from({ length: 100 }, (_, i) => (i * 7) % 40);
    expect(uniqueSorted(many)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(uniqueSorted(['b', 'a', 'b'], ['c'])).toEqual(['a', 'b', 'c']);
  });

  it('encode maps to the first index of a class, −0 as 0, absent as −1, with few or many classes', () => {
    expect(Array.from(encode([1, 0, -0, 7, 1], [0, 1, 1]))).toEqual([1, 0, 0, -1, 1]);
    const classes = Array.from({ length: 30 }, (_, i) => i);
    expect(Array.from(encode([29, -0, 31], classes))).toEqual([29, 0, -1]);
    expect(Array.from(encode([Number.NaN, 2], [Number.NaN, 2]))).toEqual([0, 1]);
  });

  it('logLoss on one probability column equals the two-column form, to the last bit', () => {
    const y = Array.from({ length: 500 }, (_, i) => ((i * 13) % 7 < 3 ? 1 : 0));
    const p = y.map((_, i) => ((i * 37) % 101) / 100);
    const two = p.flatMap((v) => {
      const c = Math.min(Math.max(v, 2.220446049250313e-16), 1 - 2.220446049250313e-16);
      return [1 - c, c];
    });
    expect(logLoss(y, p)).toBe(logLoss(y, two, { k: 2 }));
    expect(() => logLoss([0, 1, 2], [0.1, 0.5, 0.9])).toThrow(/different numbers of classes \(3, 2\)/);
  });
});
