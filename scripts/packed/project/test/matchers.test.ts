// Every matcher of the installed @modelship/core/testing, registered by its setup entry, on
// models loaded with the installed @modelship/node.
import { readFileSync } from 'node:fs';
import { addNoise, shift } from '@modelship/core/testing';
import { loadModel, Profile, type Row, readCsv, tensor } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

let model: Awaited<ReturnType<typeof loadModel>>;
let baseline: Awaited<ReturnType<typeof loadModel>>;
const holdout: Row[] = [];

beforeAll(async () => {
  model = await loadModel('fixtures/fraud.onnx', { name: 'fraud', version: '2' });
  baseline = await loadModel('fixtures/fraud_baseline.onnx', { name: 'fraud', version: '1' });
  for await (const row of readCsv('fixtures/fraud.csv')) holdout.push(row);
});
afterAll(async () => {
  await Promise.all([model.dispose(), baseline.dispose()]);
});

describe('@modelship/core/testing from the tarball', () => {
  test('toHaveSignature', () => {
    expect(model).toHaveSignature({
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 12] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
    });
  });

  test('toMeetMetrics, and its failure message', async () => {
    await expect(model).toMeetMetrics(holdout, { rocAuc: { min: 0.95 }, recall: { min: 0.8 } });
    await expect(expect(baseline).toMeetMetrics(holdout, { recall: { min: 0.8 } })).rejects.toThrow(
      /misses 1 of 1 metric bound on 500 rows/,
    );
  });

  test('toBeInvariantTo', async () => {
    await expect(model).toBeInvariantTo(addNoise(0.01), holdout, { maxFlipRate: 0.01 });
  });

  test('toRespondTo', async () => {
    await expect(model).toRespondTo(shift('f4', 0.5), holdout, { direction: 'increase' });
  });

  test('toRegressFrom', async () => {
    await expect(model).not.toRegressFrom(baseline, holdout, { metric: 'rocAuc' });
  });

  test('toBeCalibrated', async () => {
    await expect(model).toBeCalibrated(holdout, { maxEce: 0.05 });
  });

  test('toBeCloseToTensor, toHaveShape, toHaveDType', async () => {
    const expected = JSON.parse(readFileSync('fixtures/expected.json', 'utf8')).fraud.cases[1];
    const { data, shape } = expected.inputs.features;
    const out = await model.predict({ features: tensor('float32', data, shape) });
    expect(out.probability).toBeCloseToTensor(expected.outputs.probability.data, { rtol: 1e-5, atol: 1e-7 });
    expect(out.probability).toHaveShape([3]);
    expect(out.probability).toHaveDType('float32');
  });

  test('toMatchTensorSnapshot', async () => {
    const features = holdout
      .slice(0, 20)
      .map((r) => Array.from({ length: 12 }, (_, i) => r[`f${i}`] as number));
    const out = await model.predict({ features });
    expect(out.probability).toMatchTensorSnapshot({ rtol: 1e-5, atol: 1e-7 });
  });

  test('toDriftFrom, with a Profile made by the main entry', () => {
    const reference = Profile.fromDataset(holdout.slice(0, 250), { exclude: ['label'] });
    expect(holdout.slice(250)).not.toDriftFrom(reference);
    const moved = holdout
      .slice(250)
      .map((r) => ({ ...r, f0: (r.f0 as number) + 3, f1: (r.f1 as number) + 3 }));
    expect(moved).toDriftFrom(reference, { driftShare: 2 / 12 });
  });
});
