/**
 * One SGD epoch on 100k × 20 against scikit-learn on the same data: SGDClassifier (log_loss,
 * hinge) and SGDRegressor with maxIter 1 and no tolerance, fit timed whole (input checks
 * included, as scikit-learn's fit does them too). The data is seeded and written to files for
 * Debian's Python; the rounds alternate ours and scikit-learn's, and the figures are medians
 * of CPU time (process.cpuUsage, Python's process_time): on a shared machine wall time mostly
 * measures the wait for a core. Both fits are single-threaded.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SGDClassifier, SGDRegressor } from '@modelship/core/baselines';
import { table } from './lib/interleave';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';
const N = 100_000;
const K = 20;
const ROUNDS = Number(process.env.TRAIN_ROUNDS ?? 7);

/** The columns of {@link trainSgdRows}' rows. */
export const TRAIN_SGD_HEADERS = [
  'model',
  'data',
  'modelship',
  'scikit-learn',
  'ratio',
  'score (ours / sklearn)',
];

function data() {
  let state = 2024;
  const rand = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const w = Array.from({ length: K }, () => gauss());
  const X = new Float64Array(N * K);
  const yc: number[] = [];
  const yr: number[] = [];
  for (let i = 0; i < N; i++) {
    let z = 0;
    for (let j = 0; j < K; j++) {
      const v = gauss();
      X[i * K + j] = v;
      z += v * w[j]!;
    }
    yc.push(z + gauss() > 0 ? 1 : 0);
    yr.push(z + 0.5 * gauss());
  }
  return { X, yc, yr };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function r2(pred: number[], y: readonly number[]): number {
  const m = y.reduce((a, v) => a + v, 0) / y.length;
  let ssr = 0;
  let sst = 0;
  for (let i = 0; i < y.length; i++) {
    ssr += (y[i]! - pred[i]!) ** 2;
    sst += (y[i]! - m) ** 2;
  }
  return 1 - ssr / sst;
}

/** The rows of the table: one per model, ours vs scikit-learn's median epoch time. */
export async function trainSgdRows(): Promise<string[][]> {
  const { X, yc, yr } = data();
  const dir = mkdtempSync(join(tmpdir(), 'modelship-train-sgd-'));
  try {
    writeFileSync(join(dir, 'X.f64'), new Uint8Array(X.buffer));
    writeFileSync(join(dir, 'yc.f64'), new Uint8Array(Float64Array.from(yc).buffer));
    writeFileSync(join(dir, 'yr.f64'), new Uint8Array(Float64Array.from(yr).buffer));
    const design = { data: X, shape: [N, K] as [number, number] };
    const ours: Record<string, { times: number[]; score: number }> = {};
    const sk: Record<string, { times: number[]; score: number }> = {};
    const accuracy = (m: SGDClassifier) =>
      (m.decisionFunction(design) as number[]).filter((v, i) => (v > 0 ? 1 : 0) === yc[i]).length / N;
    const fits: Record<string, { fit: () => SGDClassifier | SGDRegressor; score: (m: never) => number }> = {
      'SGDClassifier log_loss': {
        fit: () => SGDClassifier.fit(design, yc, { loss: 'log_loss', maxIter: 1, tol: null }),
        score: accuracy,
      },
      'SGDClassifier hinge': {
        fit: () => SGDClassifier.fit(design, yc, { maxIter: 1, tol: null }),
        score: accuracy,
      },
      'SGDRegressor squared_error': {
        fit: () => SGDRegressor.fit(design, yr, { maxIter: 1, tol: null }),
        score: (m: SGDRegressor) => r2(m.predictValues(design), yr),
      },
    };
    // Three rotations before timing: V8 compiles the loops, and settles the code that serves all
    // three losses, before the first timed round.
    for (const [name, f] of Object.entries(fits))
      ours[name] = { times: [], score: f.score(f.fit() as never) };
    for (let warm = 0; warm < 2; warm++) for (const f of Object.values(fits)) f.fit();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, f] of Object.entries(fits)) {
        const t0 = process.cpuUsage();
        f.fit();
        const used = process.cpuUsage(t0);
        ours[name]!.times.push((used.user + used.system) / 1e6);
      }
      const py = spawnSync(
        PYTHON,
        [fileURLToPath(new URL('./train_sgd_sklearn.py', import.meta.url)), dir, String(N), String(K)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      if (py.status !== 0)
        throw new Error(
          `scikit-learn baseline failed (${PYTHON}; apt-get install -y python3-sklearn): ${py.stderr.slice(-400)}`,
        );
      const result = JSON.parse(py.stdout) as Record<string, { seconds: number; score: number }>;
      for (const [name, r] of Object.entries(result)) {
        sk[name] ??= { times: [], score: r.score };
        sk[name]!.times.push(r.seconds);
      }
    }
    return Object.keys(fits).map((name) => {
      const a = median(ours[name]!.times);
      const b = median(sk[name]!.times);
      return [
        name,
        `${N / 1000}k × ${K}, 1 epoch`,
        `${(a * 1000).toFixed(1)} ms`,
        `${(b * 1000).toFixed(1)} ms`,
        (a / b).toFixed(2),
        `${ours[name]!.score.toFixed(3)} / ${sk[name]!.score.toFixed(3)}`,
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function trainSgd(): Promise<string> {
  return table(TRAIN_SGD_HEADERS, await trainSgdRows());
}
