/**
 * `pnpm bench [scenario…]`: runs the benchmark scenarios and prints each one's table of
 * Modelship against its baseline, measured side by side in this run.
 */
import { cpus } from 'node:os';
import { batchPredict } from './batch-predict';
import { browserOverhead } from './browser-overhead';
import { deployerBatching } from './deployer-batching';
import { driftVsScipy } from './drift-vs-scipy';
import { evaluateBootstrap } from './evaluate-bootstrap';
import { evaluateLarge } from './evaluate-large';
import { explainBench } from './explain';
import { jsonDecode } from './json-decode';
import { metricsVsSklearn } from './metrics-vs-sklearn';
import { monitorOverhead } from './monitor-overhead';
import { pipelineOverhead } from './pipeline-overhead';
import { poolOverhead } from './pool-overhead';
import { predictOverhead } from './predict-overhead';
import { screenOverhead } from './screen-overhead';
import { serverThroughput } from './server-throughput';
import { soak } from './soak';
import { trainBench } from './train';
import { trainSgd } from './train-sgd';

const scenarios: Record<string, { title: string; run: () => Promise<string>; onlyWhenNamed?: boolean }> = {
  'predict-overhead': {
    title: 'predict() overhead vs raw InferenceSession.run (fraud.onnx, 1 intra-op thread)',
    run: predictOverhead,
  },
  'deployer-batching': {
    title:
      'Deployer throughput at 64 concurrent callers, one row per request, vs raw InferenceSession.run (default threads)',
    run: deployerBatching,
  },
  'metrics-vs-sklearn': {
    title:
      'rocAuc, averagePrecision, f1, logLoss, confusionMatrix, precisionRecallCurve vs scikit-learn 1.2 on the same data (median of 3)',
    run: metricsVsSklearn,
  },
  'drift-vs-scipy': {
    title:
      'Drift on 10^6 rows × 20 numeric features: Profile.fromDataset + detectDrift vs SciPy wasserstein_distance / ks_2samp on the same arrays',
    run: driftVsScipy,
  },
  'evaluate-bootstrap': {
    title:
      'Bootstrap intervals of rocAuc, averagePrecision and f1: evaluate() vs the usual scikit-learn resampling loop (time per resample)',
    run: evaluateBootstrap,
  },
  'evaluate-large': {
    title:
      'modelship eval on a 2,000,000 × 12 CSV (fraud.onnx) vs pandas read_csv + numpy + scikit-learn metrics and curves on the same file: wall time, peak RSS',
    run: evaluateLarge,
    onlyWhenNamed: true,
  },
  'server-throughput': {
    title:
      'HTTP serving (Open Inference Protocol, one row per request): createServer vs a plain node:http + onnxruntime-node server, wrk (autocannon without it), alternating rounds',
    run: serverThroughput,
  },
  'pool-overhead': {
    title:
      'Worker-thread pool: CPU time per call on the main thread and on the others, in-thread vs 1 worker thread (Deployer, 64 callers; Linux)',
    run: poolOverhead,
  },
  'monitor-overhead': {
    title:
      'Monitor: Deployer requests with a Monitor attached vs without (fraud.onnx, interleaved), and drift on 10^6 rows × 20 features',
    run: monitorOverhead,
  },
  'screen-overhead': {
    title:
      'Input screen: OIP requests through the handler with data-quality checks and a Mahalanobis score on every request vs without (fraud.onnx, a 20-input MLP; interleaved), each check per record on 20 features, and isolation forest scoring against the same forest in C and scikit-learn',
    run: screenOverhead,
  },
  'pipeline-overhead': {
    title:
      'Records through a 10-field pipeline + model (pipeline.wrap) vs the model alone on pre-built tensors (fraud.onnx, interleaved)',
    run: pipelineOverhead,
  },
  'json-decode': {
    title:
      'One large JSON inference body (FP32 rows) through the server vs JSON.parse of it, each in a fresh process: time, peak RSS growth, longest event-loop stall, live probes answered meanwhile',
    run: jsonDecode,
  },
  soak: {
    title:
      'Soak: modelship serve on the example repository under mixed traffic with a hot swap every 30 s (SOAK_SECONDS, default 480): answers by status and resident memory over time',
    run: soak,
    onlyWhenNamed: true,
  },
  explain: {
    title:
      'explain (KernelSHAP, M = 12 players, 100 background rows) vs the same model rows through raw InferenceSession.run in batches of the same size (1 intra-op thread)',
    run: explainBench,
  },
  train: {
    title:
      'Training: DecisionTreeClassifier/Regressor (full depth) and RandomForestClassifier (10 trees) fit, then one SGD epoch (SGDClassifier log_loss and hinge, SGDRegressor), vs scikit-learn 1.2 on the same 100k × 20 data (interleaved rounds, medians)',
    run: async () => `${await trainBench()}\n\n${await trainSgd()}`,
  },
  'train-sgd': {
    title:
      'One SGD epoch (SGDClassifier log_loss and hinge, SGDRegressor; maxIter 1, no tol) on 100k × 20 vs scikit-learn 1.2 on the same data (interleaved rounds, medians of CPU time)',
    run: trainSgd,
    onlyWhenNamed: true,
  },
  'batch-predict': {
    title:
      'modelship predict (CSV in, JSONL out; 1 and 2 workers) vs a hand-written loop (readCsv, batches of 1,024, raw session.run, JSONL) on fraud.onnx and the digits MLP: rows/s and peak RSS, each run a fresh process, with an A/A probe',
    run: batchPredict,
  },
  'browser-overhead': {
    title: 'predict() overhead in Chromium vs raw onnxruntime-web session.run (fraud.onnx, wasm, 1 thread)',
    run: browserOverhead,
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in scenarios));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
console.log(`node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);
for (const [id, s] of Object.entries(scenarios)) {
  if (wanted.length > 0 ? !wanted.includes(id) : s.onlyWhenNamed === true) continue;
  console.log(`## ${s.title}\n`);
  console.log(await s.run());
  console.log();
}
