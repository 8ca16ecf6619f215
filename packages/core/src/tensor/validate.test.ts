import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import type { ModelSignature } from './spec';
import { tensor } from './tensor';
import { validateInputs, validateOutputNames } from './validate';

const signature: ModelSignature = {
  inputs: [
    { name: 'a', dtype: 'float32', shape: ['batch', 3] },
    { name: 'b', dtype: 'float32', shape: ['batch', 3] },
    { name: 'ids', dtype: 'int64', shape: ['batch', null] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
};

const good = () => ({
  a: tensor('float32', new Float32Array(6), [2, 3]),
  b: tensor('float32', new Float32Array(6), [2, 3]),
  ids: tensor('int64', new BigInt64Array(10), [2, 5]),
});

function failure(inputs: Record<string, unknown>, options = {}): ModelshipError {
  try {
    validateInputs(signature, inputs, options);
  } catch (e) {
    if (ModelshipError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected validation to fail');
}

describe('validateInputs', () => {
  it('accepts inputs that fit, and returns them unchanged', () => {
    const inputs = good();
    expect(validateInputs(signature, inputs)).toBe(inputs);
  });

  it('reports a missing input with what was expected', () => {
    const { b: _b, ...rest } = good();
    const e = failure(rest);
    expect(e.code).toBe('INPUT_MISSING');
    expect(e.message).toBe("missing input 'b': expected float32 [batch, 3]");
    expect(e.details.input).toBe('b');
  });

  it('reports an unknown input with the names the model has', () => {
    const e = failure({ ...good(), c: tensor('float32', [1]) });
    expect(e.code).toBe('INPUT_UNKNOWN');
    expect(e.message).toBe("unknown input 'c': the model's inputs are 'a', 'b', 'ids'");
  });

  it('reports a wrong dtype', () => {
    const e = failure({ ...good(), a: tensor('float64', new Float64Array(6), [2, 3]) });
    expect(e.code).toBe('INPUT_DTYPE_MISMATCH');
    expect(e.message).toBe("input 'a': expected dtype float32, received float64");
    expect(e.details).toMatchObject({ input: 'a', expected: 'float32', received: 'float64' });
  });

  it('reports a wrong rank', () => {
    const e = failure({ ...good(), a: tensor('float32', new Float32Array(6), [6]) });
    expect(e.code).toBe('INPUT_RANK_MISMATCH');
    expect(e.message).toBe("input 'a': expected rank 2 [batch, 3], received rank 1 [6]");
  });

  it('reports a fixed dimension that does not match', () => {
    const e = failure({ ...good(), a: tensor('float32', new Float32Array(8), [2, 4]) });
    expect(e.code).toBe('INPUT_SHAPE_MISMATCH');
    expect(e.message).toBe("input 'a': dimension 1 must be 3 [batch, 3], received 4 [2, 4]");
  });

  it('reports a symbolic dimension that two inputs disagree on', () => {
    const e = failure({ ...good(), b: tensor('float32', new Float32Array(9), [3, 3]) });
    expect(e.code).toBe('INPUT_SHAPE_MISMATCH');
    expect(e.message).toBe("input 'b': dimension 0 ('batch') is 3, but input 'a' set 'batch' to 2");
  });

  it('reports data whose length disagrees with the shape', () => {
    const e = failure({ ...good(), a: { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) } });
    expect(e.code).toBe('INPUT_DATA_LENGTH_MISMATCH');
    expect(e.message).toBe("input 'a': shape [2, 3] holds 6 elements, but data has 5");
    expect(e.details).toMatchObject({ expected: 6, received: 5 });
  });

  it('reports data in the wrong storage type', () => {
    const e = failure({ ...good(), ids: { dtype: 'int64', shape: [2, 5], data: new Float64Array(10) } });
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toBe(
      "input 'ids': int64 data must be a BigInt64Array, received a Float64Array of length 10",
    );
  });

  it('reports values that are not tensors, and bad shapes', () => {
    expect(failure({ ...good(), a: 5 }).code).toBe('INPUT_INVALID');
    expect(failure({ ...good(), a: { dtype: 'complex', shape: [1], data: [] } }).code).toBe('INPUT_INVALID');
    const e = failure({ ...good(), a: { dtype: 'float32', shape: [2, -3], data: new Float32Array(6) } });
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toMatch(/shape must be an array of non-negative integers, received \[2,-3\]/);
    expect(failure(null as never).code).toBe('INPUT_INVALID');
    expect(failure([] as never).code).toBe('INPUT_INVALID');
  });

  it('checks finiteness only when asked', () => {
    const a = tensor('float32', [0, 1, 2, Number.NaN, 4, 5], [2, 3]);
    expect(() => validateInputs(signature, { ...good(), a })).not.toThrow();
    const e = failure({ ...good(), a }, { checkFinite: true });
    expect(e.code).toBe('INPUT_NOT_FINITE');
    expect(e.message).toBe("input 'a': element 3 is NaN; finite values are required");
    const inf = tensor('float32', [0, 1, 2, 3, 4, Number.NEGATIVE_INFINITY], [2, 3]);
    expect(failure({ ...good(), a: inf }, { checkFinite: true }).message).toMatch(/element 5 is -Infinity/);
  });

  it('checks float16 finiteness on the raw bits', () => {
    const sig: ModelSignature = { inputs: [{ name: 'h', dtype: 'float16', shape: [2] }], outputs: [] };
    const h = tensor('float16', [1, Number.POSITIVE_INFINITY]);
    expect(() => validateInputs(sig, { h }, { checkFinite: true })).toThrow(/element 1 is not finite/);
  });

  it('enforces the element limit across all inputs', () => {
    const e = failure(good(), { maxElements: 15 });
    expect(e.code).toBe('INPUT_TOO_LARGE');
    expect(e.message).toBe("input 'ids' brings the request to 22 elements, over the limit of 15");
  });

  it('lets unknown dimensions and unknown ranks take any size', () => {
    const sig: ModelSignature = {
      inputs: [
        { name: 'x', dtype: 'float32', shape: [null, 3] },
        { name: 'z', dtype: 'float32', shape: null },
      ],
      outputs: [],
    };
    const x = tensor('float32', new Float32Array(12), [4, 3]);
    const z = tensor('float32', new Float32Array(8), [2, 2, 2]);
    expect(validateInputs(sig, { x, z })).toEqual({ x, z });
  });
});

describe('validateOutputNames', () => {
  it('accepts known outputs and refuses unknown ones', () => {
    expect(validateOutputNames(signature, undefined)).toBeUndefined();
    expect(validateOutputNames(signature, ['y'])).toEqual(['y']);
    expect(() => validateOutputNames(signature, ['z'])).toThrow(
      "unknown output 'z': the model's outputs are 'y'",
    );
    expect(() => validateOutputNames(signature, [])).toThrow(/non-empty array of output names/);
    expect(() => validateOutputNames(signature, 'y')).toThrow(/non-empty array of output names/);
  });
});

describe('public functions refuse what they cannot use', () => {
  it('names the argument', async () => {
    const { toArray, sizeOf } = await import('./tensor');
    const { computeIntegrity, verifyIntegrity } = await import('../load/integrity');
    const { detectModelFormat } = await import('../load/onnx-format');
    expect(() => toArray(undefined as never)).toThrow(
      /toArray: expected a tensor \{ dtype, shape, data \}, received undefined/,
    );
    expect(() => sizeOf('2x3' as never)).toThrow(/sizeOf: shape must be an array/);
    expect(() => detectModelFormat('model.onnx' as never)).toThrow(
      /detectModelFormat: bytes must be a Uint8Array, received "model.onnx"/,
    );
    await expect(computeIntegrity([1, 2] as never)).rejects.toThrow(
      /computeIntegrity: bytes must be a Uint8Array/,
    );
    await expect(verifyIntegrity(null as never, 'sha256-x')).rejects.toThrow(
      /verifyIntegrity: bytes must be a Uint8Array/,
    );
    expect(() => validateInputs(null as never, {})).toThrow(
      /validateInputs: signature must be \{ inputs, outputs \}/,
    );
  });
});
