import { describe, expect, it } from 'vitest';
import { inputRows, tensorRows } from './tensor-rows';

describe('tensorRows (what the Monitor and the input screen read)', () => {
  it("reads a tensor's rows in place, by shape or onnxruntime's dims", () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const m = tensorRows({ shape: [3, 2], data });
    expect(m).toEqual({ data, rows: 3, width: 2 });
    expect(m.data).toBe(data);
    expect(tensorRows({ dims: [2, 1, 3], data })).toMatchObject({ rows: 2, width: 3 });
    expect(tensorRows({ shape: [], data: [7] })).toMatchObject({ rows: 1, width: 1 });
    expect(tensorRows({ shape: [0, 4], data: [] }).rows).toBe(0);
  });

  it('flattens nested rows, 64-bit integers as numbers, padded to the widest', () => {
    expect(tensorRows([[1, [2, 3n]], [4], 5])).toEqual({
      data: [1, 2, 3, 4, undefined, undefined, 5, undefined, undefined],
      rows: 3,
      width: 3,
    });
  });

  it('has no rows for anything else, and picks the named or first input', () => {
    for (const t of [undefined, null, 3, 'x', { shape: [2] }, { data: [1] }])
      expect(tensorRows(t).rows).toBe(0);
    const inputs = { a: { shape: [1, 2], data: [1, 2] }, b: [[3], [4]] };
    expect(inputRows(inputs, undefined)).toMatchObject({ rows: 1, width: 2 });
    expect(inputRows(inputs, 'b')).toMatchObject({ rows: 2, width: 1 });
    expect(inputRows(inputs, 'c').rows).toBe(0);
    expect(inputRows(undefined, undefined).rows).toBe(0);
  });
});
