import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { DTYPES, float16BitsToNumber, numberToFloat16Bits } from './dtype';
import { asDType, checkTensor, sizeOf, tensor, toArray, toNested } from './tensor';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return ModelshipError.isInstance(e) ? e.code : `not a ModelshipError: ${String(e)}`;
  }
  return undefined;
}

describe('tensor()', () => {
  it('infers the shape of nested arrays', () => {
    const t = tensor('float32', [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(Object.prototype.toString.call(t.data)).toBe('[object Float32Array]');
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('uses a typed array of the right storage without copying', () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const t = tensor('float32', data, [2, 2]);
    expect(t.data).toBe(data);
    expect(t.shape).toEqual([2, 2]);
  });

  it('converts other array-likes, checking every value', () => {
    expect(Array.from(tensor('int32', new Float64Array([1, -2, 3])).data)).toEqual([1, -2, 3]);
    expect(codeOf(() => tensor('int32', new Float64Array([1.5])))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('int8', [300]))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('uint8', [-1]))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('float32', ['a'] as never))).toBe('TENSOR_INVALID');
  });

  it('makes scalars and empty tensors', () => {
    const s = tensor('float64', 2.5);
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data)).toEqual([2.5]);
    const e = tensor('float32', [], [0, 3]);
    expect(e.shape).toEqual([0, 3]);
    expect(e.data.length).toBe(0);
  });

  it('refuses ragged arrays and shapes that do not fit the data', () => {
    expect(codeOf(() => tensor('float32', [[1, 2], [3]]))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('float32', [[1, 2], 3] as never))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('float32', [1, 2, 3], [2, 2]))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('float32', [1, 2], [-2]))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('float32', [1, 2], [1.5] as never))).toBe('TENSOR_INVALID');
    expect(codeOf(() => tensor('nope' as never, [1]))).toBe('TENSOR_INVALID');
    expect(() => tensor('float32', [1, 2, 3], [2, 2])).toThrow(
      /shape \[2,2\] holds 4 elements but the data has 3/,
    );
  });

  it('keeps 64-bit integers exact and refuses numbers that lost precision', () => {
    const t = tensor('int64', [2n ** 62n, -5n, 7]);
    expect(toArray(t)).toEqual([2n ** 62n, -5n, 7n]);
    expect(codeOf(() => tensor('int64', [2 ** 60]))).toBe('TENSOR_INVALID');
    expect(() => tensor('int64', [2 ** 60])).toThrow(/pass int64 values as bigint/);
    expect(codeOf(() => tensor('int64', [2n ** 63n]))).toBe('TENSOR_INVALID');
    expect(toArray(tensor('uint64', [2n ** 64n - 1n]))).toEqual([2n ** 64n - 1n]);
    expect(codeOf(() => tensor('uint64', [-1n]))).toBe('TENSOR_INVALID');
  });

  it('stores bool as 0/1 bytes and strings as arrays', () => {
    const b = tensor('bool', [true, false, 1, 0]);
    expect(Array.from(b.data)).toEqual([1, 0, 1, 0]);
    expect(toArray(b)).toEqual([true, false, true, false]);
    expect(codeOf(() => tensor('bool', [2]))).toBe('TENSOR_INVALID');
    const s = tensor('string', [['héllo', '世界']]);
    expect(s.shape).toEqual([1, 2]);
    expect(s.data).toEqual(['héllo', '世界']);
  });

  it('encodes float16 and decodes it back', () => {
    const t = tensor('float16', [1, -2.5, 65504, 2 ** -14, 1e-8, Number.POSITIVE_INFINITY]);
    expect(toArray(t)).toEqual([1, -2.5, 65504, 2 ** -14, 0, Number.POSITIVE_INFINITY]);
    // A finite number beyond the range is refused rather than made infinite (numpy would warn and overflow).
    expect(() => tensor('float16', [70000])).toThrow(
      'element 0 is 70000, outside the float16 range (±65504)',
    );
    expect(() => tensor('float32', [1, -1e39])).toThrow(
      'element 1 is -1e+39, outside the float32 range (±3.4028234663852886e38)',
    );
    expect(toArray(tensor('float32', [3.4028234663852886e38, Number.NEGATIVE_INFINITY]))).toEqual([
      3.4028234663852886e38,
      Number.NEGATIVE_INFINITY,
    ]);
    const raw = tensor('float16', new Uint16Array([0x3c00]));
    expect(toArray(raw)).toEqual([1]);
  });

  it('reads back nested arrays', () => {
    const t = tensor('int32', [1, 2, 3, 4, 5, 6], [2, 3]);
    expect(toNested(t)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(toNested(tensor('float32', 3))).toBe(3);
  });

  it('builds a tensor of every dtype', () => {
    for (const dtype of DTYPES) {
      const value =
        dtype === 'string'
          ? 'x'
          : dtype === 'bool'
            ? true
            : dtype.endsWith('64') && dtype !== 'float64'
              ? 1n
              : 1;
      const t = tensor(dtype, [value, value] as never);
      expect(t.shape).toEqual([2]);
      expect(checkTensor(t, 'test')).toBe(t);
    }
  });
});

describe('asDType()', () => {
  it('narrows a tensor of the named dtype and refuses another', () => {
    const t = tensor('float32', [1, 2]);
    expect(asDType(t, 'float32').data).toBe(t.data);
    expect(() => asDType(t, 'int64')).toThrow('expected a int64 tensor, received float32');
  });
});

describe('float16', () => {
  it('round-trips every finite half-precision value exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exp = (bits >> 10) & 0x1f;
      if (exp === 0x1f) continue; // Inf and NaN checked below
      expect(numberToFloat16Bits(float16BitsToNumber(bits))).toBe(bits);
    }
    expect(Number.isNaN(float16BitsToNumber(numberToFloat16Bits(Number.NaN)))).toBe(true);
    expect(float16BitsToNumber(numberToFloat16Bits(Number.NEGATIVE_INFINITY))).toBe(Number.NEGATIVE_INFINITY);
  });

  it('rounds to nearest even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(float16BitsToNumber(numberToFloat16Bits(1 + 2 ** -11))).toBe(1);
    expect(float16BitsToNumber(numberToFloat16Bits(1 + 3 * 2 ** -11))).toBe(1 + 2 * 2 ** -10);
  });
});

describe('checkTensor()', () => {
  it('names what is wrong', () => {
    expect(codeOf(() => checkTensor({ dtype: 'float32', shape: [2], data: new Float64Array(2) }, 'x'))).toBe(
      'TENSOR_INVALID',
    );
    expect(() => checkTensor({ dtype: 'float32', shape: [2], data: new Float64Array(2) }, 'x')).toThrow(
      /float32 tensor keeps its data in a Float32Array, received a Float64Array of length 2/,
    );
    expect(codeOf(() => checkTensor({ dtype: 'float32', shape: [3], data: new Float32Array(2) }, 'x'))).toBe(
      'INPUT_DATA_LENGTH_MISMATCH',
    );
    expect(codeOf(() => checkTensor(null, 'x'))).toBe('TENSOR_INVALID');
  });

  it('sizes shapes', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([5, 0])).toBe(0);
  });
});
