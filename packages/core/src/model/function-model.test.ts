import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import type { ModelSignature } from '../tensor/spec';
import { type Tensor, tensor, toArray } from '../tensor/tensor';
import { functionModel } from './function-model';
import { modelContract } from './model.case';

const signature: ModelSignature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
  outputs: [
    { name: 'sum', dtype: 'float32', shape: ['batch'] },
    { name: 'positive', dtype: 'bool', shape: ['batch'] },
  ],
};

function rowSums({ x }: Record<string, Tensor>) {
  const data = x!.data as Float32Array;
  const n = x!.shape[0]!;
  const sum = new Float32Array(n);
  for (let i = 0; i < n; i++) sum[i] = data[2 * i]! + data[2 * i + 1]!;
  return {
    sum: tensor('float32', sum),
    positive: tensor(
      'bool',
      Array.from(sum, (s) => s > 0),
    ),
  };
}

const slowSums = async (inputs: Record<string, Tensor>) => {
  await new Promise((r) => setTimeout(r, 5));
  return rowSums(inputs);
};

modelContract('functionModel', async () => ({
  model: functionModel(slowSums, { name: 'sums', version: '2', signature }),
  inputs: { x: tensor('float32', [[1, 2]]) },
  otherInputs: { x: tensor('float32', [[-5, 1]]) },
}));

describe('functionModel', () => {
  it('validates inputs before calling the function and converts plain arrays', async () => {
    let calls = 0;
    const model = functionModel(
      (inputs) => {
        calls++;
        return rowSums(inputs);
      },
      { signature },
    );
    const out = await model.predict({
      x: [
        [1, 2],
        [3, -4],
      ],
    });
    expect(Array.from(out.sum!.data as Float32Array)).toEqual([3, -1]);
    expect(toArray(out.positive as Tensor<'bool'>)).toEqual([true, false]);
    await expect(model.predict({ x: [[1, 2, 3]] })).rejects.toMatchObject({ code: 'INPUT_SHAPE_MISMATCH' });
    expect(calls).toBe(1);
    expect(model.name).toBe('model');
    expect(model.version).toBe('1');
  });

  it('turns a throwing function into INFERENCE_FAILED with the cause kept', async () => {
    const boom = new Error('boom');
    const model = functionModel(
      () => {
        throw boom;
      },
      { signature },
    );
    const err = await model.predict({ x: [[1, 2]] }).catch((e: unknown) => e);
    expect(ModelshipError.isInstance(err)).toBe(true);
    expect((err as ModelshipError).code).toBe('INFERENCE_FAILED');
    expect((err as ModelshipError).cause).toBe(boom);
  });

  it('checks what the function returns against the signature', async () => {
    const wrongDtype = functionModel(
      () => ({ sum: tensor('float64', [1]), positive: tensor('bool', [true]) }),
      { signature },
    );
    await expect(wrongDtype.predict({ x: [[1, 2]] })).rejects.toThrow(
      /output 'sum' is declared float32 but the function returned float64/,
    );
    const missing = functionModel(() => ({ sum: tensor('float32', [1]) }), { signature });
    await expect(missing.predict({ x: [[1, 2]] })).rejects.toThrow(/returned no output 'positive'/);
    const notObject = functionModel(() => 5 as never, { signature });
    await expect(notObject.predict({ x: [[1, 2]] })).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
  });

  it('refuses a bad signature or options when made', () => {
    expect(() => functionModel(rowSums, { signature: { inputs: [], outputs: 'x' } as never })).toThrow(
      /signature.outputs must be an array/,
    );
    expect(() =>
      functionModel(rowSums, {
        signature: {
          inputs: [
            { name: 'x', dtype: 'float32', shape: [] },
            { name: 'x', dtype: 'float32', shape: [] },
          ],
          outputs: [],
        },
      }),
    ).toThrow(/names 'x' twice/);
    expect(() =>
      functionModel(rowSums, {
        signature: { inputs: [{ name: 'x', dtype: 'complex' as never, shape: [] }], outputs: [] },
      }),
    ).toThrow(/unknown dtype/);
    expect(() => functionModel(rowSums, { signature, name: '' })).toThrow(/name must be a non-empty string/);
    expect(() => functionModel(rowSums, { signature, validation: { maxElements: -1 } })).toThrow(
      /maxElements/,
    );
    expect(() => functionModel('nope' as never, { signature })).toThrow(/must be a function/);
  });

  it('calls the dispose hook once, after in-flight calls', async () => {
    const events: string[] = [];
    const model = functionModel(
      async (inputs) => {
        await new Promise((r) => setTimeout(r, 20));
        events.push('predicted');
        return rowSums(inputs);
      },
      { signature, dispose: () => void events.push('disposed') },
    );
    const call = model.predict({ x: [[1, 2]] });
    await Promise.all([model.dispose(), model.dispose(), call]);
    expect(events).toEqual(['predicted', 'disposed']);
  });
});
