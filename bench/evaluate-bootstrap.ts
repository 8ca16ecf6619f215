/**
 * Bootstrap confidence intervals: `evaluate`'s 1000 resamples of rocAuc, averagePrecision and f1
 * against the usual scikit-learn loop (resample indices with numpy, call each metric), on the
 * same scores, timed by Debian's Python in the same run. Python runs fewer resamples (its loop
 * is slow); the table compares time per resample.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, functionModel, type Tensor } from '@modelship/core';
import { table } from './lib/interleave';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';

/** A model that returns the score its row carries: the bench times the Evaluator alone. */
const passThrough = functionModel(({ score }) => ({ probability: score as Tensor }), {
  name: 'scores',
  signature: {
    inputs: [{ name: 'score', dtype: 'float64', shape: ['batch'] }],
    outputs: [{ name: 'probability', dtype: 'float64', shape: ['batch'] }],
  },
});

async function seconds(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function evaluateBootstrap(): Promise<string> {
  const rows: string[][] = [];
  for (const [n, pyResamples] of [
    [1e4, 200],
    [1e5, 30],
  ] as const) {
    let state = 777;
    const rand = () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const y = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rand() < 0.3 ? 1 : 0;
      s[i] = Math.min(1, Math.round((rand() * 0.7 + y[i]! * 0.3) * 1e4) / 1e4);
    }
    const data = { score: s, label: y };
    const metrics = ['rocAuc', 'averagePrecision', 'f1'] as const;
    const resamples = 1000;
    await evaluate(passThrough, data, { metrics: [...metrics], bootstrap: { resamples: 20 } }); // warm up
    const base = await seconds(() =>
      evaluate(passThrough, data, { metrics: [...metrics], bootstrap: false }),
    );
    let report: Awaited<ReturnType<typeof evaluate>> | undefined;
    const full = await seconds(async () => {
      report = await evaluate(passThrough, data, { metrics: [...metrics], bootstrap: { resamples } });
    });
    const ours = (full - base) / resamples;

    const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
    writeFileSync(join(dir, 'y.u8'), y);
    writeFileSync(join(dir, 's.f64'), new Uint8Array(s.buffer));
    const py = spawnSync(
      PYTHON,
      [
        fileURLToPath(new URL('./bootstrap_sklearn.py', import.meta.url)),
        dir,
        String(n),
        String(pyResamples),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    rmSync(dir, { recursive: true, force: true });
    if (py.status !== 0)
      return `scikit-learn baseline failed (${PYTHON}; apt-get install -y python3-sklearn): ${py.stderr.slice(-400)}`;
    const sk = JSON.parse(py.stdout) as { perResample: number; rocAuc: [number, number] };
    const auc = report!.metrics.rocAuc!;
    rows.push([
      n.toExponential(0),
      `${resamples} / ${pyResamples}`,
      `${(ours * 1000).toFixed(2)} ms`,
      `${(sk.perResample * 1000).toFixed(2)} ms`,
      (ours / sk.perResample).toFixed(3),
      `${auc.low!.toFixed(4)}…${auc.high!.toFixed(4)}`,
      `${sk.rocAuc[0].toFixed(4)}…${sk.rocAuc[1].toFixed(4)}`,
    ]);
  }
  return table(
    [
      'n',
      'resamples (ours / sklearn)',
      'modelship per resample',
      'scikit-learn per resample',
      'ratio',
      'rocAuc 95% (ours)',
      'rocAuc 95% (sklearn)',
    ],
    rows,
  );
}
