/**
 * rocAuc, averagePrecision and f1 on 10^6 and 10^7 samples against scikit-learn on the same
 * data: written to files here, timed by Debian's Python in the same run. Median of three each.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { averagePrecision, f1, rocAuc } from '@modelship/core';
import { table } from './lib/interleave';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';

function median3(f: () => unknown): { seconds: number; value: number } {
  const times: number[] = [];
  let value = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    value = f() as number;
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: times.sort((a, b) => a - b)[1]!, value };
}

export async function metricsVsSklearn(): Promise<string> {
  const rows: string[][] = [];
  for (const n of [1e6, 1e7]) {
    // A seeded generator so both sides see the same data every run.
    let state = 12345;
    const rand = () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const y = new Uint8Array(n);
    const p = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rand() < 0.3 ? 1 : 0;
      s[i] = Math.round((rand() + y[i]! * 0.3) * 1e4) / 1e4; // ties, as real scores have
      p[i] = s[i]! > 0.6 ? 1 : 0;
    }
    const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
    writeFileSync(join(dir, 'y.u8'), y);
    writeFileSync(join(dir, 'p.u8'), p);
    writeFileSync(join(dir, 's.f64'), new Uint8Array(s.buffer));
    const py = spawnSync(
      PYTHON,
      [fileURLToPath(new URL('./metrics_sklearn.py', import.meta.url)), dir, String(n)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    rmSync(dir, { recursive: true, force: true });
    if (py.status !== 0)
      return `scikit-learn baseline failed (${PYTHON}; apt-get install -y python3-sklearn): ${py.stderr.slice(-400)}`;
    const sk = JSON.parse(py.stdout) as Record<string, { seconds: number; value: number }>;
    const ours: Record<string, { seconds: number; value: number }> = {
      rocAuc: median3(() => rocAuc(y, s)),
      averagePrecision: median3(() => averagePrecision(y, s)),
      f1: median3(() => f1(y, p)),
    };
    for (const name of ['rocAuc', 'averagePrecision', 'f1']) {
      const a = ours[name]!;
      const b = sk[name]!;
      const agree = Math.abs(a.value - b.value) <= 1e-9 * Math.max(1, Math.abs(b.value));
      rows.push([
        name,
        n.toExponential(0),
        `${(a.seconds * 1000).toFixed(0)} ms`,
        `${(b.seconds * 1000).toFixed(0)} ms`,
        (a.seconds / b.seconds).toFixed(2),
        agree ? 'yes' : `NO (${a.value} vs ${b.value})`,
      ]);
    }
  }
  return table(['metric', 'n', 'modelship', 'scikit-learn', 'ratio', 'same value'], rows);
}
