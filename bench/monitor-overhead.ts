/**
 * The Monitor's cost: requests through a Deployer (fraud.onnx, one row each) with a Monitor
 * attached against the same Deployer without, interleaved in one process; and drift on 10⁶ rows
 * × 20 features (a profile of the reference, then detectDrift), time and memory.
 */
import { fileURLToPath } from 'node:url';
import {
  createInferenceHandler,
  Deployer,
  detectDrift,
  loadModel,
  Monitor,
  Profile,
  type Row,
} from '@modelship/node';
import { formatNs, interleave, pairedRatio, table } from './lib/interleave';

const MODEL = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

export async function monitorOverhead(): Promise<string> {
  const plain = new Deployer();
  const watched = new Deployer();
  for (const d of [plain, watched])
    await d.deploy('fraud', () => loadModel(MODEL, { intraOpNumThreads: 1, interOpNumThreads: 1 }), {
      version: '1',
    });
  const monitor = new Monitor();
  monitor.attach(watched);
  monitor.addAlert({ name: 'slow', metric: 'p99LatencyMs', above: 100 });
  const features = {
    features: {
      dtype: 'float32' as const,
      shape: [1, 12],
      data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
    },
  };
  const results = await interleave([
    { name: 'without', run: () => plain.predict('fraud', features) },
    { name: 'with Monitor', run: () => watched.predict('fraud', features) },
  ]);
  const [without, withMonitor] = results as [(typeof results)[0], (typeof results)[0]];
  // The serving path: an Open Inference Protocol request through the HTTP handler (parsing,
  // validation, the Deployer, the answer), without the socket.
  const body = new TextEncoder().encode(
    JSON.stringify({
      inputs: [
        { name: 'features', shape: [1, 12], datatype: 'FP32', data: Array.from(features.features.data) },
      ],
    }),
  );
  const request = { method: 'POST', path: '/v2/models/fraud/infer', headers: {}, body };
  const plainHandler = createInferenceHandler(plain, { metrics: false });
  const watchedHandler = createInferenceHandler(watched, { metrics: false });
  const served = await interleave([
    { name: 'without', run: () => plainHandler.handle(request) },
    { name: 'with Monitor', run: () => watchedHandler.handle(request) },
  ]);
  const [servedWithout, servedWith] = served as [(typeof served)[0], (typeof served)[0]];
  await Promise.all([plain.close(), watched.close()]);
  const rows: string[][] = [
    [
      'Deployer.predict',
      formatNs(without.medianNs),
      formatNs(withMonitor.medianNs),
      pairedRatio(withMonitor, without).toFixed(3),
    ],
    [
      'HTTP handler, OIP request',
      formatNs(servedWithout.medianNs),
      formatNs(servedWith.medianNs),
      pairedRatio(servedWith, servedWithout).toFixed(3),
    ],
  ];

  // Drift at scale: 10^6 rows × 20 numeric features.
  let state = 42;
  const rand = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const make = (n: number, shift: number): Row[] =>
    Array.from({ length: n }, () => {
      const r: Row = {};
      for (let f = 0; f < 20; f++) r[`f${f}`] = rand() + (f < 5 ? shift : 0);
      return r;
    });
  const reference = make(1_000_000, 0);
  const current = make(1_000_000, 0.1);
  const heap0 = process.memoryUsage().heapUsed;
  let t = process.hrtime.bigint();
  const profile = Profile.fromDataset(reference);
  const profileMs = Number(process.hrtime.bigint() - t) / 1e6;
  t = process.hrtime.bigint();
  const report = detectDrift(profile, current);
  const driftMs = Number(process.hrtime.bigint() - t) / 1e6;
  const profileBytes = JSON.stringify(profile).length;
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const drift = table(
    ['step (10^6 rows × 20 features)', 'time', 'note'],
    [
      [
        'Profile.fromDataset (reference)',
        `${profileMs.toFixed(0)} ms`,
        `profile JSON ${(profileBytes / 1024).toFixed(0)} KiB`,
      ],
      [
        'detectDrift (current)',
        `${driftMs.toFixed(0)} ms`,
        `${report.driftedFeatures} of 20 drifted (5 shifted), ${report.features[0]!.method}`,
      ],
      ['heap growth during both', `${heapMb.toFixed(0)} MiB`, 'the rows themselves are held by the caller'],
    ],
  );
  return `${table(['', 'without', 'with Monitor', 'ratio'], rows)}\n\n${drift}`;
}
