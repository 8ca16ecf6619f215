/**
 * `pnpm bench train`: fitting trees in TypeScript against scikit-learn on the same data,
 * 100,000 rows × 20 features (seeded; written to a temporary file both sides read):
 * DecisionTreeClassifier, DecisionTreeRegressor (both to full depth) and a 10-tree
 * RandomForestClassifier (one thread on both sides). Rounds alternate the two sides; the
 * figures are medians over rounds and the ratio is the median of the per-round ratios.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  RandomForestClassifier,
} from '@modelship/core/baselines';
import { table } from './lib/interleave';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';
const N = 100_000;
const K = 20;
const ROUNDS = Number(process.env.TRAIN_ROUNDS ?? 3);

/** Seeded data: 20 float32 features, a class from a noisy non-linear rule, a noisy target. */
function makeData() {
  let state = 20261130;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const x = new Float32Array(N * K);
  const yc = new Int32Array(N);
  const yr = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < K; j++) x[i * K + j] = rand() * 2 - 1;
    const r = x.subarray(i * K, i * K + K);
    const score = r[0]! * r[1]! + Math.sin(3 * r[2]!) + r[3]! - 0.5 * r[4]! ** 2 + 0.3 * (rand() - 0.5);
    yc[i] = score > 0.4 ? 2 : score > -0.3 ? 1 : 0;
    yr[i] = 2 * r[0]! - r[1]! * r[5]! + Math.cos(2 * r[6]!) + 0.5 * (rand() - 0.5);
  }
  return { x, yc, yr };
}

type Fits = Record<string, number>;

function ours(X: { data: Float32Array; shape: [number, number] }, yc: number[], yr: Float64Array): Fits {
  const out: Fits = {};
  let t0 = performance.now();
  const c = DecisionTreeClassifier.fit(X, yc);
  out.DecisionTreeClassifier = (performance.now() - t0) / 1000;
  out['DecisionTreeClassifier nodes'] = c.tree.nodeCount;
  t0 = performance.now();
  const r = DecisionTreeRegressor.fit(X, yr);
  out.DecisionTreeRegressor = (performance.now() - t0) / 1000;
  out['DecisionTreeRegressor nodes'] = r.tree.nodeCount;
  t0 = performance.now();
  const f = RandomForestClassifier.fit(X, yc, { nEstimators: 10, seed: 0 });
  out.RandomForestClassifier = (performance.now() - t0) / 1000;
  out['RandomForestClassifier nodes'] = f.estimators.reduce((s, t) => s + t.nodeCount, 0);
  return out;
}

export async function trainBench(): Promise<string> {
  const { x, yc, yr } = makeData();
  const dir = mkdtempSync(join(tmpdir(), 'modelship-train-'));
  try {
    writeFileSync(join(dir, 'X.f32'), new Uint8Array(x.buffer));
    writeFileSync(join(dir, 'yc.i32'), new Uint8Array(yc.buffer));
    writeFileSync(join(dir, 'yr.f64'), new Uint8Array(yr.buffer));
    const X = { data: x, shape: [N, K] as [number, number] };
    const labels = Array.from(yc);
    const script = fileURLToPath(new URL('./train_sklearn.py', import.meta.url));
    const sklearn = (): Fits => {
      const py = spawnSync(PYTHON, [script, dir, String(N), String(K)], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      if (py.status !== 0)
        throw new Error(
          `scikit-learn baseline failed (${PYTHON}; apt-get install -y python3-sklearn): ${py.stderr.slice(-400)}`,
        );
      return JSON.parse(py.stdout) as Fits;
    };
    const a: Fits[] = [];
    const b: Fits[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        a.push(ours(X, labels, yr));
        b.push(sklearn());
      } else {
        b.push(sklearn());
        a.push(ours(X, labels, yr));
      }
    }
    const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
    const rows = ['DecisionTreeClassifier', 'DecisionTreeRegressor', 'RandomForestClassifier'].map((name) => [
      name === 'RandomForestClassifier' ? `${name} (10 trees)` : name,
      `${(median(a.map((r) => r[name]!)) * 1000).toFixed(0)} ms`,
      `${(median(b.map((r) => r[name]!)) * 1000).toFixed(0)} ms`,
      median(a.map((r, i) => r[name]! / b[i]![name]!)).toFixed(2),
      `${a[0]![`${name} nodes`]} / ${b[0]![`${name} nodes`]}`,
    ]);
    return `${N.toLocaleString('en')} rows × ${K} features, ${ROUNDS} interleaved rounds\n\n${table(
      ['fit', 'modelship', 'scikit-learn', 'ratio', 'nodes (ours / sklearn)'],
      rows,
    )}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
