/**
 * What the worker-thread pool costs per call in CPU time, thread by thread: the main thread
 * (where a server parses and answers requests) and the other threads (the worker, onnxruntime's
 * intra-op threads, V8's helpers), in-thread vs `loadModel(…, { instances: 1 })`, through a
 * Deployer at 64 concurrent callers without and with dynamic batching. CPU time per call, read
 * from /proc per thread (Linux), is far less sensitive to a busy machine than requests per
 * second; wall time per call is shown for reference only. fraud.onnx (8 µs a call) and the
 * bench's 1.3 M-parameter MLP (make_mlp.py).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployer, loadModel } from '@modelship/node';
import { table } from './lib/interleave';

const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));
const PYTHON = process.env.ONNX_PYTHON ?? '/usr/bin/python3';
const CALLS = Number(process.env.BENCH_CALLS ?? '4000');

/** CPU seconds × 100 (clock ticks) of each thread of this process: the main thread's, the others'. */
function ticks(): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const t = Number(f[11]) + Number(f[12]);
    if (tid === String(process.pid)) main += t;
    else other += t;
  }
  return { main, other };
}

async function measure(path: string, input: string, width: number, instances: number, batching: boolean) {
  const model = await loadModel(path, { instances });
  const deployer = new Deployer();
  await deployer.deploy('m', model, {
    version: '1',
    ...(batching ? { batching: { maxBatchSize: 64, maxQueueDelayMs: 0 } } : {}),
  });
  const data = Float32Array.from({ length: width }, (_, i) => Math.sin(i));
  const run = async (calls: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next++ < calls)
          await deployer.predict('m', { [input]: { dtype: 'float32', shape: [1, width], data } });
      }),
    );
  };
  await run(500);
  // Threads that ended before the second reading are missed: none should (the pool's stay).
  const t0 = ticks();
  const w0 = performance.now();
  await run(CALLS);
  const wall = performance.now() - w0;
  const t1 = ticks();
  await deployer.close();
  const us = (d: number) => ((d * 10_000) / CALLS).toFixed(0);
  return {
    main: us(t1.main - t0.main),
    other: us(t1.other - t0.other),
    total: us(t1.main - t0.main + t1.other - t0.other),
    wall: ((wall * 1000) / CALLS).toFixed(0),
  };
}

export async function poolOverhead(): Promise<string> {
  if (!existsSync('/proc/self/task')) return 'needs Linux (/proc/self/task) to read CPU time per thread';
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlp = join(dir, 'mlp.onnx');
  const made = spawnSync(PYTHON, [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), mlp], {
    encoding: 'utf8',
  });
  if (made.status !== 0) return `could not make the MLP (${PYTHON}): ${made.stderr.slice(-300)}`;
  const rows: string[][] = [];
  try {
    for (const [name, path, input, width] of [
      ['fraud.onnx', FRAUD, 'features', 12],
      ['mlp 256-1024-1024-16', mlp, 'input', 256],
    ] as const) {
      for (const batching of [false, true]) {
        for (const instances of [0, 1]) {
          const r = await measure(path, input, width, instances, batching);
          rows.push([
            name,
            batching ? 'on' : 'off',
            instances === 0 ? 'in-thread' : '1 worker thread',
            `${r.main} µs`,
            `${r.other} µs`,
            `${r.total} µs`,
            `${r.wall} µs`,
          ]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return `${CALLS} calls per row, 64 callers, CPU time per call (1/100 s ticks from /proc, summed)\n\n${table(['model', 'batching', 'session', 'main thread', 'other threads', 'all threads', 'wall (reference)'], rows)}`;
}
