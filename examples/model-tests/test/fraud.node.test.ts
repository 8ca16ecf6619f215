/**
 * An app's model tests, as a team would write them for its fraud model: quality bars on the
 * holdout, robustness to noise, no regression from the model in production, exact outputs on
 * known inputs, and a snapshot of the logits-level output.
 */
import { readFileSync } from 'node:fs';
import { addNoise, shift } from '@modelship/core/testing';
import { loadModel, type Row, readCsv, tensor } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const fixtures = new URL('../../../fixtures/', import.meta.url);
const modelFile = (name: string) => new URL(`models/${name}.onnx`, fixtures).pathname;

let model: Awaited<ReturnType<typeof loadModel>>;
let baseline: Awaited<ReturnType<typeof loadModel>>;
let holdout: Row[];

beforeAll(async () => {
  model = await loadModel(modelFile('fraud'), { name: 'fraud', version: '2' });
  baseline = await loadModel(modelFile('fraud_baseline'), { name: 'fraud', version: '1' });
  holdout = [];
  for await (const row of readCsv(new URL('data/fraud.csv', fixtures).pathname)) holdout.push(row);
});
afterAll(async () => {
  await Promise.all([model.dispose(), baseline.dispose()]);
});

describe('fraud model', () => {
  test('has the signature the service sends', () => {
    expect(model).toHaveSignature({
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 12] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
    });
  });

  test('meets the quality bar on the holdout', async () => {
    await expect(model).toMeetMetrics(holdout, {
      rocAuc: { min: 0.95 },
      recall: { min: 0.8 },
      precision: { min: 0.8 },
    });
  });

  test('is robust to 1% noise in its features', async () => {
    await expect(model).toBeInvariantTo(addNoise(0.01), holdout, { maxFlipRate: 0.01 });
  });

  test('does not regress from the model in production', async () => {
    await expect(model).not.toRegressFrom(baseline, holdout, { metric: 'rocAuc' });
    await expect(model).not.toRegressFrom(baseline, holdout, { metric: 'recall' });
  });

  test('is calibrated', async () => {
    await expect(model).toBeCalibrated(holdout, { maxEce: 0.05 });
  });

  test('scores the first holdout rows as numpy computes them', async () => {
    const expected = JSON.parse(readFileSync(new URL('models/expected.json', fixtures), 'utf8')).fraud
      .cases[1];
    const { data, shape } = expected.inputs.features;
    const out = await model.predict({ features: tensor('float32', data, shape) });
    expect(out.probability).toBeCloseToTensor(expected.outputs.probability.data, { rtol: 1e-5, atol: 1e-7 });
    expect(out.probability).toHaveShape([3]);
    expect(out.probability).toHaveDType('float32');
  });

  test('keeps its scores on the first 100 holdout rows', async () => {
    const features = holdout
      .slice(0, 100)
      .map((r) => Array.from({ length: 12 }, (_, i) => r[`f${i}`] as number));
    const out = await model.predict({ features });
    expect(out.probability).toMatchTensorSnapshot({ rtol: 1e-5, atol: 1e-7 });
  });

  test('the baseline fails the quality bar, with the reason in the message', async () => {
    await expect(expect(baseline).toMeetMetrics(holdout, { recall: { min: 0.8 } })).rejects.toThrow(
      /model 'fraud' \(version 1\) misses 1 of 1 metric bound on 500 rows:\n {2}metric +value +required\n {2}recall +0\.2157 +≥ 0\.8 +FAILS/,
    );
  });

  test('raising feature f4 does not lower the fraud probability', async () => {
    // f4's weight in the logistic regression is positive: the score rises with it.
    await expect(model).toRespondTo(shift('f4', 0.5), holdout, { direction: 'increase' });
  });
});
