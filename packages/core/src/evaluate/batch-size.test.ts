import { describe, expect, it } from 'vitest';
import { functionModel } from '../model/function-model';
import type { Model } from '../model/model';
import type { TensorSpec } from '../tensor/spec';
import { tensor } from '../tensor/tensor';
import { defaultBatchSize, evaluate } from './evaluate';

function withInputs(...inputs: Pick<TensorSpec, 'dtype' | 'shape'>[]): Model {
  return functionModel(() => ({ y: tensor('float32', [0]) }), {
    name: 'm',
    signature: {
      inputs: inputs.map((s, i) => ({ name: `x${i}`, ...s })),
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
    },
  });
}

describe('the batch size from the signature', () => {
  it('aims at 1 MiB of input per call, between 256 and 65,536 rows; a fixed batch is kept', () => {
    expect(defaultBatchSize([withInputs({ dtype: 'float32', shape: ['batch', 12] })])).toBe(21_845);
    expect(
      defaultBatchSize([
        withInputs({ dtype: 'float32', shape: ['batch', 10] }, { dtype: 'int64', shape: ['batch', 3] }),
      ]),
    ).toBe(Math.floor(2 ** 20 / 64));
    expect(defaultBatchSize([withInputs({ dtype: 'float64', shape: ['batch'] })])).toBe(65_536);
    // Open dimensions count 64 each: an image of unknown size gets the floor.
    expect(defaultBatchSize([withInputs({ dtype: 'float32', shape: ['batch', 3, 'h', 'w'] })])).toBe(256);
    expect(defaultBatchSize([withInputs({ dtype: 'float32', shape: [4, 3] })])).toBe(4);
    // Two models read the same batches: the smaller size wins.
    expect(
      defaultBatchSize([
        withInputs({ dtype: 'float32', shape: ['batch', 12] }),
        withInputs({ dtype: 'float32', shape: ['batch', 100] }),
      ]),
    ).toBe(Math.floor(2 ** 20 / 400));
  });

  it('evaluate calls predict with batches of that size unless batchSize says otherwise', async () => {
    const calls: number[] = [];
    const model = functionModel(
      ({ features }) => {
        const n = features!.shape[0]!;
        calls.push(n);
        const x = features!.data as Float32Array;
        return {
          probability: tensor(
            'float32',
            Float32Array.from({ length: n }, (_, i) => x[i * 12]!),
          ),
        };
      },
      {
        name: 'first',
        signature: {
          inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 12] }],
          outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
        },
      },
    );
    const n = 50_000;
    const columns: Record<string, Float32Array | Uint8Array> = { label: new Uint8Array(n) };
    for (let j = 0; j < 12; j++) columns[`f${j}`] = new Float32Array(n).fill(0.25);
    for (let i = 0; i < n; i += 2) {
      columns.label![i] = 1;
      columns.f0![i] = 0.75;
    }
    const report = await evaluate(model, columns, { metrics: ['accuracy'], bootstrap: false });
    expect(calls).toEqual([21_845, 21_845, n - 2 * 21_845]);
    expect(report.metrics.accuracy!.value).toBe(1);
    calls.length = 0;
    await evaluate(model, columns, { metrics: ['accuracy'], bootstrap: false, batchSize: 20_000 });
    expect(calls).toEqual([20_000, 20_000, 10_000]);
  });
});
