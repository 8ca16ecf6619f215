/**
 * explain, permutationImportance and partialDependence on the committed ONNX fraud model
 * through @modelship/node: the black-box explainers need nothing from a model but batched predict.
 */
import { explain, loadModel, partialDependence, permutationImportance, readCsv } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, modelPath } from './fixtures';

describe('explaining fraud.onnx', () => {
  let model: Awaited<ReturnType<typeof loadModel>>;
  const rows: Record<string, number>[] = [];
  beforeAll(async () => {
    model = await loadModel(modelPath('fraud'), { name: 'fraud' });
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r as Record<string, number>);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('KernelSHAP with every coalition equals exact Shapley values; sampled, it still sums to f(x) − base', async () => {
    const explained = rows.slice(0, 3);
    const background = rows.slice(100, 120);
    const exact = await explain(model, explained, { background, method: 'exact' });
    expect(exact.features).toEqual(Array.from({ length: 12 }, (_, i) => `f${i}`));
    const full = await explain(model, explained, { background, method: 'kernel', nsamples: 4094 });
    const sampled = await explain(model, explained, { background, method: 'kernel', seed: 3 });
    for (let r = 0; r < explained.length; r++) {
      for (const f of exact.features)
        expect(Math.abs(full.values[r]![f]! - exact.values[r]![f]!)).toBeLessThanOrEqual(1e-9);
      const sum = Object.values(sampled.values[r]!).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - (sampled.predictions[r]! - sampled.baseValue))).toBeLessThanOrEqual(1e-9);
    }
    // the label column is not a feature; the base value is the mean fraud probability over the background
    expect(exact.baseValue).toBeGreaterThan(0);
    expect(exact.baseValue).toBeLessThan(1);
    // logit link: the attributions are in log-odds and sum to logit(p) − logit(mean p)
    const logit = await explain(model, explained.slice(0, 1), { background, method: 'exact', link: 'logit' });
    const p = exact.predictions[0]!;
    expect(logit.predictions[0]).toBeCloseTo(Math.log(p / (1 - p)), 9);
  });

  // one call per instance runs while the next call's rows are written into a buffer of their own
  it.each([
    [1, 2],
    [2, 3],
  ])(
    'on a worker pool of %i, explain keeps %i calls in flight and gives the same values to the bit',
    async (instances, inFlightMost) => {
      const pool = await loadModel(modelPath('fraud'), { name: 'fraud', instances });
      try {
        let inFlight = 0;
        let most = 0;
        let calls = 0;
        const predict = pool.predict.bind(pool);
        pool.predict = (inputs, options) => {
          calls++;
          most = Math.max(most, ++inFlight);
          return predict(inputs, options).finally(() => {
            inFlight--;
          });
        };
        const explained = rows.slice(0, 2);
        const options = {
          background: rows.slice(100, 120),
          method: 'kernel' as const,
          seed: 4,
          batchSize: 400,
        };
        const pooled = await explain(pool, explained, options);
        const inThread = await explain(model, explained, options);
        expect(calls).toBeGreaterThan(10);
        expect(most).toBe(inFlightMost);
        expect(pooled.evaluations).toBe(inThread.evaluations);
        expect(pooled.baseValue).toBe(inThread.baseValue);
        // the same rows in the same blocks through the same model: the same numbers, to the bit
        expect(pooled.values).toEqual(inThread.values);
      } finally {
        await pool.dispose();
      }
    },
  );

  it('permutation importance and partial dependence run on the same model', async () => {
    const holdout = rows.slice(250, 450);
    const imp = await permutationImportance(model, holdout, { metric: 'rocAuc', repeats: 3, seed: 1 });
    expect(imp.features).toHaveLength(12);
    expect(imp.baseline).toBeGreaterThan(0.9);
    expect(Math.max(...imp.importancesMean)).toBeGreaterThan(0);
    const pd = await partialDependence(model, holdout, { feature: 'f0', gridResolution: 10, kind: 'both' });
    expect(pd.grid).toHaveLength(10);
    pd.average!.forEach((a, g) => {
      const mean = pd.individual!.reduce((s, curve) => s + curve[g]!, 0) / holdout.length;
      expect(a).toBeCloseTo(mean, 12);
    });
  });
});
