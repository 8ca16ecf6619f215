/**
 * The Deployer in one script, on the shipped fraud classifier:
 *   1. serve version 1 with dynamic batching and answer 64 concurrent requests;
 *   2. canary a broken version 2 with a disagreement guard, which rolls it back by itself;
 *   3. shadow version 3, whose answers are compared and never returned;
 *   4. roll version 3 out in steps, promoted at the end;
 *   5. try to deploy a corrupt file: version 3 keeps serving;
 *   6. roll back to version 1 in one call.
 *
 *   pnpm --filter node-deployer start
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Deployer, functionModel, loadModel, ModelshipError, type NamedTensors } from '@modelship/node';

const fixtures = new URL('../../../fixtures/', import.meta.url);
const modelFile = fileURLToPath(new URL('models/fraud.onnx', fixtures));
const csv = await readFile(new URL('data/fraud.csv', fixtures), 'utf8');
const rows = csv
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').slice(0, 12).map(Number));

const deployer = new Deployer();
deployer.on('promoted', (e) => console.log(`  promoted ${e.name} v${e.version} (was v${e.previous ?? '-'})`));
deployer.on('rolledBack', (e) => console.log(`  rolled back v${e.version} to v${e.restored}: ${e.reason}`));
deployer.on('rolloutStep', (e) =>
  console.log(`  rollout of v${e.version}: step ${e.step}, weight ${e.weight}`),
);
deployer.on('loadFailed', (e) =>
  console.log(`  v${e.version} failed to ${e.stage}: ${(e.error as Error).message}`),
);
const request = (i: number) => ({ features: [rows[i % rows.length]!] });

console.log('1. version 1 with dynamic batching');
await deployer.deploy('fraud', () => loadModel(modelFile), {
  version: '1',
  batching: { maxBatchSize: 32, maxQueueDelayMs: 2 },
});
const answers = await Promise.all(rows.slice(0, 64).map((_, i) => deployer.predict('fraud', request(i))));
const v1 = deployer.status('fraud').versions[0]!;
console.log(`  ${answers.length} concurrent requests answered in ${v1.batching!.batches} model calls`);

console.log('2. a broken version 2 as a guarded canary');
// Inverts version 1's answers: a bad export, caught by comparing with the primary.
const base = await loadModel(modelFile);
const broken = functionModel(
  async (inputs): Promise<NamedTensors> => {
    const out = await base.predict(inputs);
    const p = (out.probability!.data as Float32Array).map((x) => 1 - x);
    const label = (out.label!.data as BigInt64Array).map((l) => 1n - l);
    return { probability: { ...out.probability!, data: p }, label: { ...out.label!, data: label } };
  },
  { signature: base.signature, version: '2', dispose: () => base.dispose() },
);
await deployer.deploy('fraud', broken, {
  policy: { type: 'canary', weight: 0.2, guards: { maxDisagreement: 0.05, minRequests: 20 } },
});
let served = 0;
while (deployer.status('fraud').policy.type === 'canary' && served < 2000) {
  await deployer.predict('fraud', request(served++));
}
console.log(`  after ${served} requests the policy is '${deployer.status('fraud').policy.type}'`);

console.log('3. version 3 as a shadow');
let compared = 0;
let disagreed = 0;
deployer.on('compared', (e) => {
  if (e.candidate !== '3') return; // a late comparison from the canary can still arrive
  compared++;
  if ((e.disagreement ?? 1) > 0) disagreed++;
});
await deployer.deploy('fraud', () => loadModel(modelFile), {
  version: '3',
  policy: { type: 'shadow' },
  // When version 3 becomes the primary, keep version 1 loaded: rollback is then instant.
  replace: false,
});
for (let i = 0; i < 100; i++) await deployer.predict('fraud', request(i));
await new Promise((r) => setTimeout(r, 50));
console.log(`  ${compared} requests compared with the shadow, ${disagreed} disagreed`);

console.log('4. version 3 rolled out in steps');
deployer.setPolicy('fraud', {
  type: 'rollout',
  version: '3',
  steps: [
    { weight: 0.1, minRequests: 20 },
    { weight: 0.5, minRequests: 50 },
    { weight: 1, minRequests: 20 },
  ],
  guards: { maxErrorRate: 0.01, minRequests: 20 },
});
for (let i = 0; deployer.status('fraud').primary !== '3' && i < 5000; i++) {
  await deployer.predict('fraud', request(i), { routingKey: `customer-${i}` });
}

console.log('5. a corrupt file as version 4');
try {
  await deployer.deploy('fraud', () => loadModel(new TextEncoder().encode('not a model')), { version: '4' });
} catch (e) {
  if (!ModelshipError.isInstance(e)) throw e;
  console.log(`  deploy refused [${e.code}]; primary is still v${deployer.status('fraud').primary}`);
}

console.log('6. roll back');
console.log(`  now serving v${deployer.rollback('fraud', 'operator: roll back')}`);

console.log('\nversion  state  traffic  requests  errors  p99 ms');
for (const v of deployer.status('fraud').versions) {
  console.log(
    `${v.version.padEnd(9)}${v.state.padEnd(7)}${String(v.traffic).padEnd(9)}${String(v.requests).padEnd(10)}${String(v.errors).padEnd(8)}${(v.p99Ms ?? 0).toFixed(2)}`,
  );
}
await deployer.close();
