/**
 * Monitoring a fraud model in one script: a Monitor on a Deployer, an alert guarding a canary,
 * drift of live inputs against the training profile, and accuracy from labels that arrive later.
 * Run: pnpm --filter node-monitoring start
 */
import { fileURLToPath } from 'node:url';
import { Deployer, loadModel, Monitor, Profile, type Row, readCsv } from '@modelship/node';

const fixtures = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const rows: Row[] = [];
for await (const r of readCsv(`${fixtures}data/fraud.csv`)) rows.push(r);
const features = Array.from({ length: 12 }, (_, i) => `f${i}`);
const vector = (r: Row) => features.map((f) => r[f] as number);

const deployer = new Deployer();
const monitor = new Monitor({ windowMs: 60_000, intervalMs: 1_000 });
monitor.attach(deployer);
monitor.on('alert', (a) => console.log(`ALERT     ${a.message}`));
monitor.on('resolved', (a) => console.log(`RESOLVED  ${a.message}`));
deployer.on('rolledBack', (e) => console.log(`ROLLBACK  ${e.name} version ${e.version}: ${e.reason}`));

// The production model, and a candidate that errors on half its requests.
await deployer.deploy('fraud', () => loadModel(`${fixtures}models/fraud.onnx`), {
  version: '1',
  replace: false,
});
monitor.addAlert({ name: 'errors', metric: 'errorRate', above: 0.1, resolveAt: 0.02, minRequests: 10 });
const flaky = await loadModel(`${fixtures}models/fraud_baseline.onnx`, { version: '2' });
let calls = 0;
await deployer.deploy(
  'fraud',
  async () => ({
    ...flaky,
    name: flaky.name,
    version: '2',
    signature: flaky.signature,
    predict: (inputs, options) =>
      ++calls % 2 === 0 ? Promise.reject(new Error('flaky')) : flaky.predict(inputs, options),
    dispose: () => flaky.dispose(),
  }),
  {
    version: '2',
    warmup: false,
    policy: {
      type: 'canary',
      weight: 0.5,
      guards: { minRequests: 10, check: monitor.guard('errors', 'fraud') },
    },
  },
);

// Drift: the profile of the training-like rows, and live rows whose f3 has moved.
monitor.watchDrift('fraud', Profile.fromDataset(rows.slice(0, 250), { exclude: ['label'] }), {
  features,
  windowRows: 200,
});

for (const [i, r] of rows.slice(250, 450).entries()) {
  const x = vector(r);
  x[3] = x[3]! + 2;
  const id = `req-${i}`;
  try {
    let version = '';
    const out = await deployer.predict(
      'fraud',
      { features: [x] },
      {
        routingKey: id,
        onRoute: (v) => {
          version = v;
        },
      },
    );
    monitor.recordPrediction(id, {
      model: 'fraud',
      version,
      predicted: Number((out.label!.data as BigInt64Array)[0]),
      score: (out.probability!.data as Float32Array)[0],
    });
  } catch {
    // the canary's failures are what the alert sees
  }
}
// Labels arrive later (here: the held-out truth).
for (const [i, r] of rows.slice(250, 450).entries()) monitor.recordOutcome(`req-${i}`, r.label as number);
monitor.check();

for (const s of monitor.snapshot())
  console.log(
    `WINDOW    fraud v${s.version}: ${s.requests} requests, errors ${(s.errorRate * 100).toFixed(1)}%, p50 ${s.latencyMs.p50?.toFixed(3)} ms, p99 ${s.latencyMs.p99?.toFixed(3)} ms`,
  );
for (const p of monitor.performance({ positiveLabel: 1 }))
  console.log(
    `LIVE      fraud v${p.version}: ${p.labeled} labeled, accuracy ${p.accuracy.toFixed(3)}, f1 ${p.f1.toFixed(3)}, rocAuc ${p.rocAuc?.toFixed(3)}`,
  );
const drift = monitor.drift('fraud');
console.log(
  `DRIFT     ${drift.driftedFeatures} of ${drift.features.length} features: ${drift.features
    .filter((f) => f.drifted)
    .map((f) => `${f.feature} (${f.method} p=${f.score.toExponential(1)})`)
    .join(', ')}`,
);
console.log(
  `SERVING   ${deployer
    .status('fraud')
    .versions.map((v) => `v${v.version} ${Math.round(v.traffic * 100)}%`)
    .join(', ')}`,
);
await deployer.close();
