/**
 * `explain` (KernelSHAP, M = 12 players, 100 background rows) against the same number of model
 * rows through raw `InferenceSession.run`, in calls of the same batch size, on a second session
 * of the same model with the same threads. All variants run in this process, alternating, one
 * explained row per round (EXPLAIN_ROUNDS rounds, default 41, after 2 warm-up runs each); the
 * ratio is the median of per-round ratios (explain's time over onnxruntime's), with their
 * quartiles.
 *
 * Two explain variants: in this thread, and on a worker pool of one instance (`loadModel(path,
 * { instances: 1 })`, the same one intra-op thread), where explain keeps two calls in flight so
 * this thread writes the next call's rows while the worker runs the model. The pool's figure
 * hides the explainer's work behind the model's rather than removing it, so every variant also
 * prints its CPU time (`process.cpuUsage`, all threads of the process) and its CPU time over
 * onnxruntime's, and each case the machine's 1-minute load average as it started and ended.
 *
 * Models: fraud.onnx (12 features, logistic regression: the explainer's worst case, the model
 * costs almost nothing per row) and the bench MLP of make_mlp.py (256 inputs → 1024 → 1024 → 16,
 * 1.3 M weights), explained with `groups` that make its 256 columns 12 players of 21–22 columns.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExplainOptions, explain, loadModel } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { formatNs, interleave, pairedRatio, table, type VariantResult } from './lib/interleave';

const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));
const FRAUD_CSV = fileURLToPath(new URL('../fixtures/data/fraud.csv', import.meta.url));
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const ROUNDS = Number(process.env.EXPLAIN_ROUNDS ?? 41);
const BATCH = 4096;

type Row = Record<string, number>;

function fraudRows(): Row[] {
  const [header, ...lines] = readFileSync(FRAUD_CSV, 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => {
    const cells = line.split(',').map(Number);
    return Object.fromEntries(names.map((n, i) => [n, cells[i]!]));
  });
}

function randomRows(n: number, k: number, seed: number): Row[] {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, () =>
    Object.fromEntries(Array.from({ length: k }, (_, j) => [`x${j}`, (random() - 0.5) * 4])),
  );
}

interface Case {
  name: string;
  path: string;
  input: string;
  width: number;
  rows: Row[];
  background: Row[];
  options: Partial<ExplainOptions>;
  /** Rounds when not ROUNDS (the MLP's runs take seconds each). */
  rounds?: number;
}

/** Each call's CPU time (every thread of this process), in milliseconds. */
function timedCpu(run: () => Promise<unknown>, cpu: number[]): () => Promise<void> {
  return async () => {
    const before = process.cpuUsage();
    await run();
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  };
}

function quartiles(sorted: readonly number[]): string {
  return `${sorted[Math.floor(sorted.length / 4)]!.toFixed(2)}–${sorted[Math.floor((3 * sorted.length) / 4)]!.toFixed(2)}`;
}

async function measure(c: Case): Promise<string[][]> {
  const threads = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const model = await loadModel(c.path, threads);
  const pool = await loadModel(c.path, { ...threads, instances: 1 });
  const session = await ort.InferenceSession.create(c.path, threads);
  const options: ExplainOptions = {
    background: c.background,
    method: 'kernel',
    batchSize: BATCH,
    ...c.options,
  };
  const first = await explain(model, c.rows, options);
  const pooled = await explain(pool, c.rows, options);
  if (JSON.stringify(pooled.values) !== JSON.stringify(first.values))
    throw new Error(`${c.name}: explain on the pool gave other values than in this thread`);
  const total = first.evaluations;
  // the same rows, as onnxruntime tensors built before timing: only run() is timed
  const data = Float32Array.from({ length: BATCH * c.width }, (_, i) => Math.sin(i));
  const feeds: Record<string, ort.Tensor>[] = [];
  for (let left = total; left > 0; left -= BATCH) {
    const n = Math.min(BATCH, left);
    feeds.push({ [c.input]: new ort.Tensor('float32', data.subarray(0, n * c.width), [n, c.width]) });
  }
  const cpu = [[], [], []] as [number[], number[], number[]];
  const rounds = c.rounds ?? ROUNDS;
  const loadBefore = loadavg()[0]!;
  const warmup = 2;
  const results = await interleave(
    [
      {
        name: 'onnxruntime',
        run: timedCpu(async () => {
          for (const f of feeds) await session.run(f);
        }, cpu[0]),
      },
      { name: 'explain', run: timedCpu(() => explain(model, c.rows, options), cpu[1]) },
      { name: 'explain on a pool', run: timedCpu(() => explain(pool, c.rows, options), cpu[2]) },
    ],
    { rounds, opsPerRound: 1, warmup },
  );
  // the machine's 1-minute load average when the case started and ended: wall-clock figures
  // stretch with it, the CPU columns much less
  const load = `${loadBefore.toFixed(1)}–${loadavg()[0]!.toFixed(1)}`;
  await session.release();
  await model.dispose();
  await pool.dispose();
  const theirs = results[0]!;
  // the timed rounds' CPU, in round order (the warm-up calls came first)
  const cpuRounds = cpu.map((c) => c.slice(warmup)) as [number[], number[], number[]];
  const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (ours: VariantResult, ourCpu: number[], variant: string): string[] => {
    const ratios = ours.rounds.map((t, i) => t / theirs.rounds[i]!).sort((a, b) => a - b);
    const cpuRatios = ourCpu.map((t, i) => t / cpuRounds[0][i]!).sort((a, b) => a - b);
    return [
      c.name,
      variant,
      String(first.features.length),
      String(total),
      String(feeds.length),
      formatNs(theirs.medianNs),
      `${median(cpuRounds[0]).toFixed(2)} ms`,
      formatNs(ours.medianNs),
      `${median(ourCpu).toFixed(2)} ms`,
      pairedRatio(ours, theirs).toFixed(3),
      quartiles(ratios),
      median(cpuRatios).toFixed(3),
      load,
    ];
  };
  return [
    row(results[1]!, cpuRounds[1], 'in this thread'),
    row(results[2]!, cpuRounds[2], 'pool of 1, 2 calls in flight'),
  ];
}

export async function explainBench(): Promise<string> {
  const fraud = fraudRows();
  const cases: Case[] = [
    {
      name: 'fraud.onnx (LR, 12 features)',
      path: FRAUD,
      input: 'features',
      width: 12,
      rows: fraud.slice(0, 1),
      background: fraud.slice(100, 200),
      options: { label: 'label' },
    },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlp = join(dir, 'mlp.onnx');
  const made = spawnSync(PYTHON, [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), mlp], {
    encoding: 'utf8',
  });
  if (made.status === 0) {
    const groups = Object.fromEntries(
      Array.from({ length: 12 }, (_, g) => [
        `g${g}`,
        Array.from({ length: 256 }, (_, j) => j)
          .filter((j) => j % 12 === g)
          .map((j) => `x${j}`),
      ]),
    );
    cases.push({
      name: 'mlp 256-1024-1024-16, 12 groups',
      path: mlp,
      input: 'input',
      width: 256,
      rows: randomRows(1, 256, 1),
      background: randomRows(100, 256, 2),
      options: { groups, class: 3, nsamples: 200 },
      rounds: Math.min(ROUNDS, 9),
    });
  }
  const out: string[][] = [];
  for (const c of cases) out.push(...(await measure(c)));
  rmSync(dir, { recursive: true, force: true });
  return (
    table(
      [
        'model',
        'explain runs',
        'players',
        'model rows',
        'ort calls',
        'onnxruntime run',
        'its CPU',
        'explain',
        'its CPU',
        'ratio',
        'quartiles of per-round ratios',
        'CPU ratio',
        'load average',
      ],
      out,
    ) +
    (made.status === 0
      ? ''
      : `\n(no MLP: ${PYTHON} could not run make_mlp.py; apt-get install -y python3-onnx)`)
  );
}
