/** The Evaluator and the Vitest matchers take records through a pipeline. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../evaluate/bootstrap';
import { evaluate } from '../evaluate/evaluate';
import { functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';
import { addNoise } from '../testing';
import '../testing/setup';
import { Pipeline } from './pipeline';
import { impute, oneHot, standardize } from './transforms';

const random = seededRandom(11);
// A churn-like set: the label depends on tenure and on the plan.
const records = Array.from({ length: 400 }, () => {
  const tenure = random() * 48;
  const plan = ['basic', 'plus', 'pro'][Math.floor(random() * 3)]!;
  const risk = 2 - tenure / 12 + (plan === 'basic' ? 1 : plan === 'pro' ? -1 : 0) + (random() - 0.5);
  return { tenure: random() < 0.05 ? null : tenure, plan, label: risk > 0 ? 1 : 0 };
});

const pipeline = Pipeline.fit(records, {
  features: { tenure: [impute('median'), standardize()], plan: oneHot() },
});

// tenure (standardized), plan=basic, plan=plus, plan=pro → P(churn).
const model = functionModel(
  ({ features }) => {
    const x = features!.data as Float32Array;
    const n = features!.shape[0]!;
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const z = -2.5 * x[i * 4]! + 1.5 * x[i * 4 + 1]! - 1.5 * x[i * 4 + 3]!;
      p[i] = 1 / (1 + Math.exp(-z));
    }
    return { probability: tensor('float32', p, [n]) };
  },
  {
    name: 'churn',
    signature: {
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
    },
  },
);

describe('records through a pipeline', () => {
  it('evaluate takes records and equals evaluating the transformed rows', async () => {
    const onRecords = await evaluate(model, records, { pipeline, batchSize: 64, bootstrap: false });
    const x = pipeline.transform(records).features!.data as Float32Array;
    const names = pipeline.featureNames();
    const rows = records.map((r, i) => ({
      ...Object.fromEntries(names.map((n, j) => [n, x[i * 4 + j]])),
      label: r.label,
    }));
    const onTensors = await evaluate(model, rows, { features: names, batchSize: 64, bootstrap: false });
    expect(onRecords.metrics).toEqual(onTensors.metrics);
    expect(onRecords.metrics.rocAuc!.value).toBeGreaterThan(0.9);
    expect(onRecords.samples).toBe(400);
  });

  it('names the data set row of a bad record, not its place in the batch', async () => {
    const bad = records.map((r, i) => (i === 130 ? { ...r, plan: 'gold' } : r));
    await expect(evaluate(model, bad, { pipeline, batchSize: 64 })).rejects.toThrow(
      `record 130, field 'plan' is "gold", a category not seen in training (known: basic, plus, pro)`,
    );
    expect(() => pipeline.transform([], { offset: -1 })).toThrow('offset must be a non-negative integer');
    await expect(evaluate(model, records, { pipeline: {} as never })).rejects.toThrow(
      'pipeline must be a fitted Pipeline',
    );
    await expect(evaluate(model, records, { pipeline, features: ['tenure'] })).rejects.toThrow(
      'leave out toInputs and features',
    );
  });

  it('the Vitest matchers take records with the pipeline option', async () => {
    const clean = records.filter((r) => r.tenure !== null);
    await expect(model).toMeetMetrics(records, { rocAuc: { min: 0.9 } }, { pipeline });
    await expect(model).toBeInvariantTo(addNoise(0.01, { columns: ['tenure'], seed: 1 }), clean, {
      pipeline,
      maxFlipRate: 0.05,
    });
  });
});
