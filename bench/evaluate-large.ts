/**
 * `modelship eval` on a big table against the Python stack on the same file, in one run:
 * pandas `read_csv`, the model's arithmetic in numpy and scikit-learn's ten binary metrics plus
 * the ROC and precision-recall curves (bench/evaluate_large_pandas.py). The table (2,000,000 ×
 * 12 by default, `EVAL_LARGE_ROWS` to change) is generated once per size and seed into /tmp by
 * bench/lib/eval-large-data.ts and never committed. Each side runs as its own process, timed
 * wall-clock from spawn to exit (node's start included; `modelship` is the built CLI, dist/cli.js,
 * unless BENCH_SOURCE=1); peak RSS from
 * `/usr/bin/time -v`. The Python stack runs before and after Modelship: the two times are an
 * A/A probe of how the machine's load moved during the run. The parser alone (`readCsvColumns`
 * into typed column blocks, bench/lib/eval-large-read.ts) is timed against pandas' `read_csv`.
 *
 * Needs Debian's python3-pandas (`apt-get install -y python3-pandas`) for the baseline; not
 * part of CI.
 */
import { execSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeEvalLarge } from './lib/eval-large-data';
import { table } from './lib/interleave';
import { CONDITIONS, cliCommand, TSX } from './lib/target';

const PYTHON = process.env.SKLEARN_PYTHON ?? '/usr/bin/python3';
const model = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));
const script = fileURLToPath(new URL('./evaluate_large_pandas.py', import.meta.url));
const readScript = fileURLToPath(new URL('./lib/eval-large-read.ts', import.meta.url));

interface Run {
  seconds: number;
  rssMb: number;
  stdout: string;
}

/** Runs a command under `/usr/bin/time -v`: wall time and peak resident set size. */
function timed(command: string, args: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr.slice(-800)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { seconds, rssMb: rss === null ? Number.NaN : Number(rss[1]) / 1024, stdout: r.stdout };
}

function python(csv: string): Run & { values: Record<string, number>; read: number } {
  const run = timed(PYTHON, [script, csv, model]);
  const out = JSON.parse(run.stdout) as { read: number; values: Record<string, number> };
  return { ...run, values: out.values, read: out.read };
}

/** `readCsvColumns` alone on the table, timed in its process as pandas' `read_csv` is in Python's. */
function reader(csv: string): Run & { read: number; cpu: number } {
  const args = ['--import', TSX, ...CONDITIONS, readScript, csv];
  const run = timed(process.execPath, args);
  const out = JSON.parse(run.stdout) as { read: number; cpu: number };
  return { ...run, read: out.read, cpu: out.cpu };
}

function modelship(csv: string, resamples: number | undefined): Run & { rocAuc: number } {
  const args = [...cliCommand(), 'eval', model, csv];
  args.push('--label', 'label', '--json');
  if (resamples !== undefined) args.push('--resamples', String(resamples));
  const run = timed(process.execPath, args);
  const report = JSON.parse(run.stdout) as { metrics: { rocAuc: { value: number } } };
  return { ...run, rocAuc: report.metrics.rocAuc.value };
}

export async function evaluateLarge(): Promise<string> {
  const rows = Number(process.env.EVAL_LARGE_ROWS ?? 2_000_000);
  const csv = writeEvalLarge(`/tmp/modelship-eval-large-${rows}-s26.csv`, rows, 26);
  const load = execSync('uptime').toString().trim();
  const before = python(csv);
  const read = reader(csv);
  const off = modelship(csv, 0);
  const on = modelship(csv, undefined);
  const after = python(csv);
  const py = (before.seconds + after.seconds) / 2;
  const f = (s: number) => `${s.toFixed(2)} s`;
  const lines = table(
    ['variant', 'wall time', '× Python stack', 'peak RSS', 'rocAuc'],
    [
      [
        'Python stack (before)',
        f(before.seconds),
        '',
        `${before.rssMb.toFixed(0)} MB`,
        before.values.rocAuc!.toFixed(6),
      ],
      [
        'modelship eval --resamples 0',
        f(off.seconds),
        (off.seconds / py).toFixed(2),
        `${off.rssMb.toFixed(0)} MB`,
        off.rocAuc.toFixed(6),
      ],
      [
        'modelship eval (default intervals)',
        f(on.seconds),
        (on.seconds / py).toFixed(2),
        `${on.rssMb.toFixed(0)} MB`,
        on.rocAuc.toFixed(6),
      ],
      [
        'Python stack (after)',
        f(after.seconds),
        '',
        `${after.rssMb.toFixed(0)} MB`,
        after.values.rocAuc!.toFixed(6),
      ],
    ],
  );
  return [
    `${rows.toLocaleString('en')} rows × 12 features (${csv}); ${load}`,
    `pandas read_csv alone: ${before.read.toFixed(2)} s / ${after.read.toFixed(2)} s; readCsvColumns alone (typed column blocks): ${read.read.toFixed(2)} s (${read.cpu.toFixed(2)} s CPU, peak RSS ${read.rssMb.toFixed(0)} MB), ${(read.read / ((before.read + after.read) / 2)).toFixed(2)}× read_csv; A/A (Python after / before): ${(after.seconds / before.seconds).toFixed(2)}`,
    '',
    lines,
  ].join('\n');
}
