/**
 * Drift on 10^6 rows × 20 numeric features (5 shifted by 0.1): `Profile.fromDataset` of the
 * reference and `detectDrift` of the current data, as columns and as rows, against SciPy's
 * `wasserstein_distance` and `ks_2samp` on the same full arrays, timed by Debian's Python in the
 * same run. The profile keeps a 1,000-value sample per feature, so its size does not grow with
 * the reference; the table shows how far the sample's scores are from SciPy's full-data ones.
 * Each time is given as wall clock and as CPU time, which a loaded host inflates less; the
 * A/A pair (one sort timed twice on each side) shows how loaded the host was.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Columns, detectDrift, Profile, type Row } from '@modelship/core';
import { table } from './lib/interleave';

const PYTHON = process.env.SCIPY_PYTHON ?? '/usr/bin/python3';
const N = 1_000_000;
const K = 20;

/** Wall and CPU seconds (this process, user + system) of one call. */
interface Took {
  wall: number;
  cpu: number;
}

function seconds(f: () => void): Took {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

function toRows(cols: Float64Array[]): Row[] {
  return Array.from({ length: N }, (_, i) => {
    const r: Row = {};
    for (let f = 0; f < K; f++) r[`f${f}`] = cols[f]![i]!;
    return r;
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');

export async function driftVsScipy(): Promise<string> {
  const loadBefore = load();
  let state = 42;
  const rand = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const ref = new Float64Array(N * K);
  const cur = new Float64Array(N * K);
  for (let f = 0; f < K; f++)
    for (let i = 0; i < N; i++) {
      ref[f * N + i] = rand();
      cur[f * N + i] = rand() + (f < 5 ? 0.1 : 0);
    }
  const refCols = Array.from({ length: K }, (_, f) => ref.subarray(f * N, (f + 1) * N));
  const curCols = Array.from({ length: K }, (_, f) => cur.subarray(f * N, (f + 1) * N));
  const asColumns = (cols: Float64Array[]): Columns => Object.fromEntries(cols.map((c, f) => [`f${f}`, c]));

  const dir = mkdtempSync(join(tmpdir(), 'modelship-drift-'));
  writeFileSync(join(dir, 'ref.f64'), new Uint8Array(ref.buffer));
  writeFileSync(join(dir, 'cur.f64'), new Uint8Array(cur.buffer));
  const py = spawnSync(
    PYTHON,
    [fileURLToPath(new URL('./drift_scipy.py', import.meta.url)), dir, String(N), String(K)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  rmSync(dir, { recursive: true, force: true });
  if (py.status !== 0) return `SciPy baseline failed (${PYTHON}): ${py.stderr.slice(-400)}`;
  const sp = JSON.parse(py.stdout) as {
    wasserstein: { seconds: number; cpu: number; values: number[] };
    ks: { seconds: number; cpu: number; values: number[] };
    aa: number;
  };

  const aa1 = seconds(() => refCols[0]!.slice().sort());
  let profile!: Profile;
  const profileCols = seconds(() => {
    profile = Profile.fromDataset(asColumns(refCols));
  });
  const small = Profile.fromDataset(asColumns(refCols.map((c) => c.subarray(0, N / 10))));
  const results: Record<string, number[]> = {};
  const run = (method: 'wasserstein' | 'ks', data: Columns | Row[]) =>
    seconds(() => {
      results[method] = detectDrift(profile, data, { method }).features.map((f) => f.score);
    });
  const wCols = run('wasserstein', asColumns(curCols));
  const ksCols = run('ks', asColumns(curCols));
  const refRows = toRows(refCols);
  const profileRows = seconds(() => Profile.fromDataset(refRows));
  const curRows = toRows(curCols);
  const wRows = run('wasserstein', curRows);
  const ksRows = run('ks', curRows);
  const aa2 = seconds(() => refCols[0]!.slice().sort());

  const gap = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  const verdicts = (a: number[], t: number, above: boolean) =>
    a.filter((v) => (above ? v >= t : v <= t)).length;
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  const row = (what: string, p: Took, d: Took, scipy: { seconds: number; cpu: number }) => [
    what,
    `${ms(p.wall)} (${ms(p.cpu)})`,
    `${ms(d.wall)} (${ms(d.cpu)})`,
    `${ms(scipy.seconds)} (${ms(scipy.cpu)})`,
    ((p.wall + d.wall) / scipy.seconds).toFixed(2),
    ((p.cpu + d.cpu) / scipy.cpu).toFixed(2),
  ];
  const times = table(
    [
      '10^6 × 20, method',
      'Profile.fromDataset wall (CPU)',
      'detectDrift wall (CPU)',
      'SciPy wall (CPU)',
      'ratio, wall',
      'ratio, CPU',
    ],
    [
      row('wasserstein, columns', profileCols, wCols, sp.wasserstein),
      row('ks, columns', profileCols, ksCols, sp.ks),
      row('wasserstein, rows', profileRows, wRows, sp.wasserstein),
      row('ks, rows', profileRows, ksRows, sp.ks),
    ],
  );
  const exact = table(
    ['score', 'drifted (Modelship)', 'drifted (SciPy)', 'largest difference per feature'],
    [
      [
        'normalised Wasserstein (≥ 0.1)',
        String(verdicts(results.wasserstein!, 0.1, true)),
        String(verdicts(sp.wasserstein.values, 0.1, true)),
        gap(results.wasserstein!, sp.wasserstein.values).toExponential(2),
      ],
      [
        'KS p-value (≤ 0.05)',
        String(verdicts(results.ks!, 0.05, false)),
        String(verdicts(sp.ks.values, 0.05, false)),
        gap(results.ks!, sp.ks.values).toExponential(2),
      ],
    ],
  );
  const size = (p: Profile) => (JSON.stringify(p).length / 1024).toFixed(0);
  return `${times}\n\n${exact}\n\nprofile JSON: ${size(profile)} KiB from 10^6 rows, ${size(small)} KiB from 10^5 rows\nA/A (second / first run of the same sort): Modelship ${(aa2.wall / aa1.wall).toFixed(2)}, numpy ${sp.aa.toFixed(2)}\nCPU time is user + system of the whole process (Node: its GC threads too; Python: process time).\nload average (1, 5, 15 min): ${loadBefore} at the start, ${load()} at the end`;
}
