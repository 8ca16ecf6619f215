/**
 * `modelship predict` on a CSV against the loop a user would write by hand: read the CSV with
 * the same parser (`readCsv`), batches of 1,024 rows into a Float32Array, raw onnxruntime
 * `session.run`, one JSON line per row to a write stream with back-pressure. Two models: the
 * fraud logistic regression (12 features, almost no compute: the I/O and the row handling are
 * the cost) and the digits MLP (64 inputs, two hidden layers). predict runs with 1 and 2
 * workers; every run is a fresh process (so peak RSS is its own), rounds alternate the order,
 * and an A/A probe (the hand-written loop twice per round) shows how much the busy machine
 * moves a figure by itself. rows/s counts from before the model loads to the last line written.
 *
 * BATCH_ROWS scales the files (default: 200,000 fraud rows, 50,000 digits rows); ROUNDS
 * (default 3) the rounds. CPU µs/row is the process's user + system time (all threads, start-up
 * included) over its rows: it moves little with the load, where rows/s moves by 2-4x.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readCsv } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { table } from './lib/interleave';
import { CONDITIONS, distCli, FROM_SOURCE, TSX } from './lib/target';

const here = fileURLToPath(import.meta.url);
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface Figures {
  seconds: number;
  rows: number;
  maxRssMb: number;
  /** User + system CPU time of the whole process (every thread), in seconds. */
  cpuSeconds: number;
}

/** The hand-written loop: readCsv, batches of 1,024, session.run, JSON Lines out. */
async function handLoop(
  modelPath: string,
  input: string,
  output: string,
  features: string[],
): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath);
  const inputName = session.inputNames[0]!;
  const out = createWriteStream(output);
  const width = features.length;
  let rows = 0;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    const n = batch.length;
    const data = new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      const row = batch[r]!;
      for (let c = 0; c < width; c++) data[r * width + c] = row[features[c]!] as number;
    }
    const result = await session.run({ [inputName]: new ort.Tensor('float32', data, [n, width]) });
    let text = '';
    for (let r = 0; r < n; r++) {
      const line: Record<string, number> = {};
      for (const name of session.outputNames) {
        const t = result[name]!;
        const k = t.dims.length > 1 ? Number(t.dims[1]) : 1;
        const values = t.data as Float32Array | BigInt64Array;
        if (t.dims.length > 1) for (let j = 0; j < k; j++) line[`${name}_${j}`] = Number(values[r * k + j]);
        else line[name] = Number(values[r]);
      }
      text += `${JSON.stringify(line)}\n`;
    }
    if (!out.write(text)) await once(out, 'drain');
    rows += n;
    batch = [];
  };
  for await (const row of readCsv(input)) {
    batch.push(row);
    if (batch.length === 1024) await flush();
  }
  if (batch.length > 0) await flush();
  await new Promise<void>((resolve) => out.end(resolve));
  await session.release();
  return rows;
}

/** One measured run in this (fresh) process: prints its figures as JSON. */
async function child(
  variant: string,
  modelPath: string,
  input: string,
  output: string,
  features: string,
): Promise<void> {
  const started = performance.now();
  let rows: number;
  if (variant === 'loop') rows = await handLoop(modelPath, input, output, features.split(','));
  else if (FROM_SOURCE) {
    const { predictCommand } = await import('../packages/node/src/cli/predict');
    let summary = '';
    const code = await predictCommand(
      modelPath,
      input,
      { output, workers: variant.replace('predict-w', ''), json: true },
      { out: (s) => (summary += s), err: () => {}, tty: false },
    );
    if (code !== 0) throw new Error(`predict exited with ${code}`);
    rows = JSON.parse(summary).rows;
  } else {
    // The built CLI, as `npx modelship predict …` runs it: dist/cli.js runs its argv when
    // imported and sets the exit code; its --json summary is caught on the way to stdout.
    let summary = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      summary += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
      return true;
    }) as typeof process.stdout.write;
    const cli = distCli();
    process.argv = [process.argv[0]!, cli, 'predict', modelPath, input, '-o', output];
    process.argv.push('--workers', variant.replace('predict-w', ''), '--json');
    const done = new Promise<void>((resolve) => process.once('beforeExit', () => resolve()));
    await import(pathToFileURL(cli).href);
    await done;
    process.stdout.write = write;
    if (process.exitCode !== undefined && process.exitCode !== 0)
      throw new Error(`predict exited with ${process.exitCode}`);
    rows = JSON.parse(summary).rows;
  }
  const seconds = (performance.now() - started) / 1000;
  const usage = process.resourceUsage();
  const figures: Figures = {
    seconds,
    rows,
    maxRssMb: usage.maxRSS / 1024,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  };
  console.log(JSON.stringify(figures));
}

function repeatCsv(source: string, target: string, rows: number): string[] {
  const lines = readFileSync(source, 'utf8').trim().split('\n');
  const header = lines[0]!;
  const body = lines.slice(1);
  const out: string[] = [header];
  for (let i = 0; i < rows; i++) out.push(body[i % body.length]!);
  writeFileSync(target, `${out.join('\n')}\n`);
  return header.split(',').filter((c) => c !== 'label');
}

function measure(
  variant: string,
  modelPath: string,
  input: string,
  output: string,
  features: string[],
): Figures {
  const r = spawnSync(
    process.execPath,
    ['--import', TSX, ...CONDITIONS, here, 'child', variant, modelPath, input, output, features.join(',')],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (r.status !== 0) throw new Error(`${variant} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Figures;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function batchPredict(): Promise<string> {
  const scale = Number(process.env.BATCH_ROWS ?? 200_000);
  const rounds = Number(process.env.ROUNDS ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-batch-'));
  const out: string[] = [];
  try {
    const models = [
      { name: 'fraud.onnx (LR, 12 features)', model: 'fraud', data: 'fraud.csv', rows: scale },
      {
        name: 'digits.onnx (MLP 64-…-10)',
        model: 'digits',
        data: 'digits-test.csv',
        rows: Math.round(scale / 4),
      },
    ];
    const variants = ['loop', 'loop (A/A)', 'predict-w1', 'predict-w2'];
    const rows: string[][] = [];
    for (const m of models) {
      const input = join(dir, `${m.model}.csv`);
      const features = repeatCsv(join(fixtures, 'data', m.data), input, m.rows);
      const modelPath = join(fixtures, 'models', `${m.model}.onnx`);
      const runs = new Map<string, Figures[]>(variants.map((v) => [v, []]));
      // Check once that both write the same lines, so the comparison is like for like.
      measure('loop', modelPath, input, join(dir, 'loop.jsonl'), features);
      measure('predict-w1', modelPath, input, join(dir, 'predict.jsonl'), features);
      const same = readFileSync(join(dir, 'loop.jsonl')).equals(readFileSync(join(dir, 'predict.jsonl')));
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? variants : [...variants].reverse();
        for (const v of order)
          runs
            .get(v)!
            .push(
              measure(v === 'loop (A/A)' ? 'loop' : v, modelPath, input, join(dir, 'out.jsonl'), features),
            );
      }
      const rate = (v: string) => median(runs.get(v)!.map((f) => f.rows / f.seconds));
      const loop = rate('loop');
      // CPU time a row, whatever the load: the work each variant does, apart from waiting for a core.
      const cpu = (v: string) => median(runs.get(v)!.map((f) => (f.cpuSeconds / f.rows) * 1e6));
      for (const v of variants)
        rows.push([
          m.name,
          v,
          `${Math.round(rate(v)).toLocaleString('en-US')}`,
          (rate(v) / loop).toFixed(2),
          cpu(v).toFixed(1),
          `${Math.round(Math.max(...runs.get(v)!.map((f) => f.maxRssMb)))} MB`,
        ]);
      out.push(
        `${m.name}: ${m.rows.toLocaleString('en-US')} rows; loop and predict write the same bytes: ${same}`,
      );
    }
    return `${table(['model', 'variant', 'rows/s (median)', 'x loop', 'CPU µs/row', 'peak RSS'], rows)}\n\n${out.join('\n')}\n(${rounds} rounds, each run a fresh process, alternating order; x loop = median rows/s over the loop's)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  const [, , , variant, modelPath, input, output, features] = process.argv;
  await child(variant!, modelPath!, input!, output!, features!);
}
