import { describe, expect, it } from 'vitest';
import { AbortError, describe as describeValue, InputError, ModelLoadError, ModelshipError } from './errors';

describe('ModelshipError', () => {
  it('carries a stable code, details and cause', () => {
    const cause = new Error('ort said no');
    const e = new ModelLoadError('MODEL_REJECTED', 'refused', { cause, details: { source: 'a.onnx' } });
    expect(e).toBeInstanceOf(ModelshipError);
    expect(e.name).toBe('ModelLoadError');
    expect(e.code).toBe('MODEL_REJECTED');
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ source: 'a.onnx' });
    expect(new AbortError().code).toBe('ABORTED');
    expect(new InputError('INPUT_MISSING', 'x').name).toBe('InputError');
  });

  it('is recognised across copies of the package by its symbol marker', () => {
    const foreign = Object.assign(new Error('other copy'), {
      [Symbol.for('modelship.error')]: true,
      code: 'MODEL_REJECTED',
    });
    expect(ModelshipError.isInstance(foreign)).toBe(true);
    expect(ModelshipError.isInstance(new Error('plain'))).toBe(false);
    expect(ModelshipError.isInstance(null)).toBe(false);
  });

  it('describes values briefly', () => {
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue('x'.repeat(100))).toMatch(/^"x{57}\.\.\."$/);
    expect(describeValue(5n)).toBe('5n');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(new Map())).toBe('a Map');
  });
});
