/**
 * rocAuc, averagePrecision, f1, logLoss, confusionMatrix and precisionRecallCurve on 10^6 and
 * 10^7 samples against scikit-learn on the same data: written to files here, timed by Debian's
 * Python in the same run. Median of three each, wall and CPU time (CPU time moves less with
 * the host's load; both sides run single-threaded). An A/A pair per side (the same native
 * sort timed first and last) shows how steady the host was: far from 1.00 means a loaded
 * machine; the load average is printed too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  averagePrecision,
  confusionMatrix,
  f1,
  logLoss,
  precisionRecallCurve,
  rocAuc,
} from '@modelship/core';
import { table } from './lib/interleave';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';

/** Wall and CPU seconds (median of three calls each) and the value to compare. */
type Timed = { seconds: number; cpu: number; value: number[] };

const median = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;

function median3(f: () => number[]): Timed {
  const times: number[] = [];
  const cpus: number[] = [];
  let value: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    value = f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
  }
  return { seconds: median(times), cpu: median(cpus), value };
}

function loadNote(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')} (1, 5, 15 min)`;
}

export async function metricsVsSklearn(): Promise<string> {
  const rows: string[][] = [];
  const probes: string[] = [];
  // METRICS_SIZES=1e6 runs one size (a quick look on a loaded host); both by default.
  const sizes = (process.env.METRICS_SIZES ?? '1e6,1e7').split(',').map(Number);
  for (const n of sizes) {
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
    const prob = s.map((v) => v / 1.3); // probabilities for logLoss
    writeFileSync(join(dir, 's.f64'), new Uint8Array(s.buffer));
    writeFileSync(join(dir, 'prob.f64'), new Uint8Array(prob.buffer));
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
    const sk = JSON.parse(py.stdout) as Record<string, Timed>;
    const aa = () => [s.slice().sort()[0]!];
    const sum = (a: Float64Array) => a.reduce((x, v) => x + v, 0);
    const ours: Record<string, Timed> = {
      aaFirst: median3(aa),
      rocAuc: median3(() => [rocAuc(y, s)]),
      averagePrecision: median3(() => [averagePrecision(y, s)]),
      f1: median3(() => [f1(y, p) as number]),
      logLoss: median3(() => [logLoss(y, prob)]),
      confusionMatrix: median3(() => confusionMatrix(y, p).matrix.flat()),
      precisionRecallCurve: median3(() => {
        const c = precisionRecallCurve(y, s);
        return [c.precision.length, sum(c.precision), sum(c.recall)];
      }),
      aaSecond: median3(aa),
      // The floor under logLoss: one Math.log per sample, over the same probabilities.
      logFloor: median3(() => {
        let t = 0;
        for (let i = 0; i < n; i++) t += Math.log(prob[i]!);
        return [t];
      }),
    };
    probes.push(
      `logLoss floor at n=${n.toExponential(0)}: ${n.toExponential(0)} calls of Math.log alone take ${(ours.logFloor!.seconds * 1000).toFixed(0)} ms wall, ${(ours.logFloor!.cpu * 1000).toFixed(0)} ms CPU: ${(ours.logFloor!.seconds / sk.logLoss!.seconds).toFixed(2)} / ${(ours.logFloor!.cpu / sk.logLoss!.cpu).toFixed(2)} of scikit-learn's log_loss`,
      `A/A at n=${n.toExponential(0)}: Modelship ${(ours.aaSecond!.seconds / ours.aaFirst!.seconds).toFixed(2)} wall, ${(ours.aaSecond!.cpu / ours.aaFirst!.cpu).toFixed(2)} CPU; numpy ${(sk.aaSecond!.seconds / sk.aaFirst!.seconds).toFixed(2)} wall, ${(sk.aaSecond!.cpu / sk.aaFirst!.cpu).toFixed(2)} CPU (second / first run of the same sort)`,
    );
    for (const name of [
      'rocAuc',
      'averagePrecision',
      'f1',
      'logLoss',
      'confusionMatrix',
      'precisionRecallCurve',
    ]) {
      const a = ours[name]!;
      const b = sk[name]!;
      const agree =
        a.value.length === b.value.length &&
        a.value.every((v, i) => Math.abs(v - b.value[i]!) <= 1e-9 * Math.max(1, Math.abs(b.value[i]!)));
      rows.push([
        name,
        n.toExponential(0),
        `${(a.seconds * 1000).toFixed(0)} ms`,
        `${(b.seconds * 1000).toFixed(0)} ms`,
        (a.seconds / b.seconds).toFixed(2),
        `${(a.cpu * 1000).toFixed(0)} ms`,
        `${(b.cpu * 1000).toFixed(0)} ms`,
        (a.cpu / b.cpu).toFixed(2),
        agree ? 'yes' : `NO (${a.value.slice(0, 4).join(', ')} vs ${b.value.slice(0, 4).join(', ')})`,
      ]);
    }
  }
  const head = [
    'metric',
    'n',
    'modelship',
    'scikit-learn',
    'ratio',
    'modelship CPU',
    'scikit-learn CPU',
    'CPU ratio',
  ];
  return `${table([...head, 'same value'], rows)}\n\n${probes.join('\n')}\n${loadNote()}`;
}
