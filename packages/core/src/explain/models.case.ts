/**
 * The models of test/golden/make_explain_golden.py as function models (float64 throughout, so
 * parity holds to 1e-9), and rows as the script writes them.
 */
import { expect } from 'vitest';
import { ModelshipError } from '../errors';
import type { Row } from '../evaluate/types';
import { type FunctionModel, functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';

const W_LIN = [0.7, -1.3, 0.25, 2.0, -0.5];
const B_LIN = 0.1;
const W_LOG = [1.2, -0.8, 0.5, 0.0, 1.5, -2.0];
const B_LOG = -0.3;

type RowFn = (x: Float64Array, at: number) => number;

const ROW_FNS: Record<string, { width: number; fn: RowFn; output: string }> = {
  linear: {
    width: 5,
    output: 'value',
    fn: (x, at) => W_LIN.reduce((s, w, j) => s + w * x[at + j]!, 0) + B_LIN,
  },
  logistic: {
    width: 6,
    output: 'probability',
    fn: (x, at) => 1 / (1 + Math.exp(-(W_LOG.reduce((s, w, j) => s + w * x[at + j]!, 0) + B_LOG))),
  },
  interaction: {
    width: 8,
    output: 'value',
    fn: (x, at) =>
      x[at]! * x[at + 1]! * x[at + 2]! +
      Math.sin(x[at + 3]!) * x[at + 4]! +
      Math.max(x[at + 5]!, x[at + 6]!, x[at + 7]!) +
      x[at + 6]! ** 2 -
      x[at + 7]!,
  },
};

/** One of the golden script's models; `calls` counts predict calls and `rows` the rows they carried. */
export function goldenModel(name: string): FunctionModel & { calls: number; rows: number } {
  const spec = ROW_FNS[name]!;
  const model = functionModel(
    ({ features }) => {
      const x = features!.data as Float64Array;
      const n = features!.shape[0]!;
      counted.calls++;
      counted.rows += n;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = spec.fn(x, i * spec.width);
      return { [spec.output]: tensor('float64', out, [n]) };
    },
    {
      name,
      signature: {
        inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', spec.width] }],
        outputs: [{ name: spec.output, dtype: 'float64', shape: ['batch'] }],
      },
    },
  );
  const counted = Object.assign(model, { calls: 0, rows: 0 });
  return counted;
}

/** Rows as records `{ x0, x1, … }`, with an optional label column. */
export function records(values: readonly (readonly number[])[], labels?: readonly number[]): Row[] {
  return values.map((v, i) => {
    const row: Row = {};
    v.forEach((x, j) => {
      row[`x${j}`] = x;
    });
    if (labels !== undefined) row.label = labels[i];
    return row;
  });
}

/** The ModelshipError `work` rejects with (failing the test when it resolves or throws anything else). */
export async function failure(work: Promise<unknown>): Promise<ModelshipError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(ModelshipError.isInstance(error), `expected a ModelshipError, got ${String(error)}`).toBe(true);
  return error as ModelshipError;
}
