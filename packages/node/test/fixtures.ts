/** Paths and expected values of the committed fixture models (see fixtures/README.md). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DType, ModelshipError, type Tensor, tensor } from '@modelship/core';

export const fixturesDir = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
export const modelPath = (name: string): string => `${fixturesDir}models/${name}.onnx`;

interface JsonTensor {
  dtype: DType;
  shape: number[];
  data: (number | string | boolean)[];
}
interface JsonCase {
  inputs: Record<string, JsonTensor>;
  outputs: Record<string, JsonTensor>;
}
export interface JsonSpec {
  name: string;
  dtype: DType;
  shape: (number | string | null)[] | null;
}
export interface FixtureModel {
  cases: JsonCase[];
  signature: { inputs: JsonSpec[]; outputs: JsonSpec[] };
  test_accuracy?: number;
  train_accuracy?: number;
}

export const expected: Record<string, FixtureModel> = JSON.parse(
  readFileSync(`${fixturesDir}models/expected.json`, 'utf8'),
);

/** A JSON tensor from expected.json as a Modelship tensor (64-bit integers come as strings). */
export function fromJson(t: JsonTensor): Tensor {
  const data =
    t.dtype === 'int64' || t.dtype === 'uint64'
      ? t.data.map((v) => BigInt(v as string))
      : t.dtype === 'bool'
        ? t.data.map((v) => v === true || v === 1)
        : t.data;
  return tensor(t.dtype, data as never, t.shape);
}

export function casesOf(
  model: string,
): { inputs: Record<string, Tensor>; outputs: Record<string, Tensor> }[] {
  const m = expected[model];
  if (m === undefined) throw new Error(`no expected values for fixture '${model}'`);
  return m.cases.map((c) => ({
    inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, fromJson(v)])),
    outputs: Object.fromEntries(Object.entries(c.outputs).map(([k, v]) => [k, fromJson(v)])),
  }));
}

/** The ModelshipError `work` rejects with (any other outcome fails the test). */
export async function failure(work: Promise<unknown>): Promise<ModelshipError> {
  try {
    await work;
  } catch (e) {
    if (ModelshipError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

/** The converter-shaped tabular models (fixtures/make_tabular.py) and scikit-learn's answers. */
export const tabularPath = (name: string): string => `${fixturesDir}models/tabular/${name}.onnx`;
export interface TabularCase {
  inputs: number[];
  rows: number;
  features: number;
  labels?: (number | string)[];
  probabilities?: number[];
  predicted: (number | string)[];
  accuracy?: number;
  roc_auc?: number;
}
export const tabular: Record<string, TabularCase> = JSON.parse(
  readFileSync(`${fixturesDir}models/tabular/expected.json`, 'utf8'),
);
