/**
 * The input screen's cost on the serving path: Open Inference Protocol requests (one row)
 * through the HTTP handler to a Deployer with a screen (data-quality checks on every feature
 * and a Mahalanobis outlier score, both on every request) against the same Deployer without,
 * interleaved in one process, on fraud.onnx (12 features) and an MLP of 20 inputs
 * (make_mlp.py, 20-1024-1024-2); and the per-record cost of each check and of an isolation
 * forest's score on 20 features.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsolationForest, MahalanobisDetector } from '@modelship/core/anomaly';
import {
  createInferenceHandler,
  DataQualityChecker,
  Deployer,
  InputScreen,
  loadModel,
  Profile,
  type Row,
} from '@modelship/node';
import { formatNs, interleave, pairedRatio, table } from './lib/interleave';

const PYTHON = process.env.ONNX_PYTHON ?? '/usr/bin/python3';
const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

function gaussianRows(n: number, d: number, seed: number): Row[] {
  let s = seed;
  const u = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: n }, () => {
    const r: Row = {};
    for (let j = 0; j < d; j++) r[`x${j}`] = g();
    return r;
  });
}

export async function screenOverhead(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlp = join(dir, 'mlp-20.onnx');
  const made = spawnSync(
    PYTHON,
    [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), mlp, '20,1024,1024,2'],
    {
      encoding: 'utf8',
    },
  );
  const models = [
    { name: 'fraud.onnx (12 features)', path: FRAUD, d: 12 },
    ...(made.status === 0 ? [{ name: 'mlp 20-1024-1024-2 (20 features)', path: mlp, d: 20 }] : []),
  ];
  const rows: string[][] = [];
  for (const m of models) {
    const reference = gaussianRows(2000, m.d, 7);
    const features = Array.from({ length: m.d }, (_, j) => `x${j}`);
    const screen = new InputScreen({
      quality: new DataQualityChecker(Profile.fromDataset(reference)),
      outliers: { detector: MahalanobisDetector.fit(reference, { features }) },
      features,
    });
    const plain = new Deployer();
    const screened = new Deployer();
    for (const d of [plain, screened])
      await d.deploy('m', () => loadModel(m.path, { intraOpNumThreads: 1, interOpNumThreads: 1 }), {
        version: '1',
      });
    screened.screen('m', screen);
    const input = (await loadModel(m.path)).signature.inputs[0]!.name;
    const body = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          { name: input, shape: [1, m.d], datatype: 'FP32', data: features.map((f) => reference[5]![f]) },
        ],
      }),
    );
    const request = { method: 'POST', path: '/v2/models/m/infer', headers: {}, body };
    const a = createInferenceHandler(plain, { metrics: false });
    const b = createInferenceHandler(screened, { metrics: false });
    const [without, withScreen] = (await interleave(
      [
        { name: 'without', run: () => a.handle(request) },
        { name: 'with screen', run: () => b.handle(request) },
      ],
      { rounds: 501 },
    )) as [Awaited<ReturnType<typeof interleave>>[0], Awaited<ReturnType<typeof interleave>>[0]];
    rows.push([
      m.name,
      formatNs(without.medianNs),
      formatNs(withScreen.medianNs),
      pairedRatio(withScreen, without).toFixed(3),
    ]);
    await Promise.all([plain.close(), screened.close()]);
  }
  rmSync(dir, { recursive: true, force: true });

  // Per record, 20 features: each check alone, many records in a loop.
  const reference = gaussianRows(2000, 20, 11);
  const features = Array.from({ length: 20 }, (_, j) => `x${j}`);
  const probe = gaussianRows(10_000, 20, 12);
  const vectors = probe.map((r) => features.map((f) => r[f] as number));
  const quality = new DataQualityChecker(Profile.fromDataset(reference));
  const mahalanobis = MahalanobisDetector.fit(reference, { features });
  const forest = IsolationForest.fit(reference, { features, seed: 1 });
  let sink = 0; // the scores are summed so that no call can be dropped as dead code
  const perRecord = (fn: () => void, n: number) => {
    fn(); // warm up
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t = process.hrtime.bigint();
      fn();
      times.push(Number(process.hrtime.bigint() - t) / n);
    }
    return times.sort((x, y) => x - y)[3]!;
  };
  const each = [
    ['data-quality checks (record of 20 fields)', perRecord(() => quality.check(probe), probe.length)],
    [
      'Mahalanobis score (20 numbers)',
      perRecord(() => {
        for (const v of vectors) sink += mahalanobis.score(v);
      }, vectors.length),
    ],
    [
      'isolation forest score, 100 trees (20 numbers)',
      perRecord(() => {
        for (const v of vectors) sink += forest.score(v);
      }, vectors.length),
    ],
  ].map(([name, ns]) => [name as string, formatNs(ns as number)]);
  if (!Number.isFinite(sink)) throw new Error('a score was not finite');
  return `${table(['OIP request through the handler', 'without', 'with screen', 'ratio'], rows)}\n\n${table(['per record', 'median time'], each)}`;
}
