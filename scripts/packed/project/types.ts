// Type-checked with --strict under moduleResolution node16, bundler and legacy node: every
// entry's declarations, the matchers merged into Vitest's expect, the browser entries.
import { type BrowserModel, loadModel as loadInBrowser } from '@modelship/browser';
import { loadModel as loadWithWebGpu } from '@modelship/browser/webgpu';
import { ModelshipError, Pipeline, Profile, type Tensor, tensor } from '@modelship/core';
import { LogisticRegression } from '@modelship/core/baselines';
import { predictBatches, type ScoredBatch } from '@modelship/core/batch';
import { createFetchHandler } from '@modelship/core/serve';
import { addNoise, type ModelMatchers, modelMatchers } from '@modelship/core/testing';
import '@modelship/core/testing/setup';
import { createServer, Deployer, loadModel, type Model } from '@modelship/node';
import { expect } from 'vitest';

export async function useEverything(): Promise<number> {
  const model: Model = await loadModel('fraud.onnx', { name: 'fraud' });
  const t: Tensor = tensor('float32', new Float32Array(12), [1, 12]);
  await model.predict({ features: t });
  const profile: Profile = Profile.fromDataset([{ a: 1 }, { a: 2 }]);
  const same: boolean = Profile.isInstance(profile) && !Pipeline.isInstance(profile);
  expect([{ a: 1 }]).not.toDriftFrom(profile, { driftShare: 0.5 });
  await expect(model).toMeetMetrics([{ f0: 1, label: 1 }], { rocAuc: { min: 0.5 } });
  const matchers: Record<keyof ModelMatchers, unknown> = modelMatchers;
  const baseline = LogisticRegression.fit([[0], [1]], [0, 1]);
  const page: BrowserModel = await loadInBrowser('/m.onnx', { worker: true, cache: true });
  const gpu: BrowserModel = await loadWithWebGpu('/m.onnx', { executionProviders: ['webgpu', 'wasm'] });
  const server = createServer(new Deployer());
  const fetchHandler = createFetchHandler(new Deployer());
  const answer: Response = await fetchHandler(new Request('http://localhost/v2/health/live'));
  const { url } = await server.listen(0, '127.0.0.1');
  await server.close();
  const scored: ScoredBatch[] = [];
  for await (const b of predictBatches(model, [{ f0: 1 }], { batchSize: 1 })) scored.push(b);
  addNoise(0.01);
  const err: unknown = new Error();
  if (ModelshipError.isInstance(err)) return err.code.length;
  return [same, matchers, baseline, page, gpu, url, answer.status, scored].length;
}
