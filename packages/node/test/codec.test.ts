/** The JSON codec's fast path for FP32/FP64 gives exactly what the general path gives. */
import { tensor } from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { fromJson } from '../src/server/codec';

describe('fromJson', () => {
  it('reads flat and row-nested floats straight into typed arrays, equal to tensor()', () => {
    const rows = [
      [0.1, -0, 3.4028234663852886e38, -1e-45],
      [5, 6, 7, 8],
    ];
    for (const [datatype, dtype] of [
      ['FP32', 'float32'],
      ['FP64', 'float64'],
    ] as const) {
      const expected = tensor(dtype, rows.flat(), [2, 4]);
      for (const data of [rows, rows.flat()]) {
        const t = fromJson('x', datatype, [2, 4], data);
        expect(t.dtype).toBe(dtype);
        expect(t.shape).toEqual([2, 4]);
        expect(t.data).toEqual(expected.data);
        expect(Object.is(t.data[1], -0)).toBe(true);
      }
    }
    // Deeper nesting takes the general path, with the same result.
    expect(
      fromJson(
        'x',
        'FP32',
        [1, 2, 2],
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ).data,
    ).toEqual(Float32Array.from([1, 2, 3, 4]));
  });

  it('leaves anything unusual to the general path, which names the problem', () => {
    // A finite number float32 cannot hold is refused, not turned into Infinity.
    expect(() => fromJson('x', 'FP32', [2], [1, 1e39])).toThrow(
      "input 'x': tensor(float32): element 1 is 1e+39, outside the float32 range (±3.4028234663852886e38)",
    );
    expect(() => fromJson('x', 'FP16', [1], [70000])).toThrow('outside the float16 range (±65504)');
    expect(fromJson('x', 'FP64', [2], [1, 1e300]).data).toEqual(Float64Array.from([1, 1e300]));
    expect(() => fromJson('x', 'FP32', [3], [1, 2])).toThrow('shape [3] holds 3 elements but data has 2');
    expect(() => fromJson('x', 'FP32', [2], [1, 2, 3])).toThrow('shape [2] holds 2 elements but data has 3');
    expect(() => fromJson('x', 'FP32', [2], [1, null])).toThrow("input 'x'");
    expect(() => fromJson('x', 'FP32', [2], [1, '2'])).toThrow("input 'x'");
  });
});
