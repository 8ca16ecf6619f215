/**
 * A soak of `modelship serve`: the example repository under steady mixed traffic for minutes
 * (Open Inference Protocol requests, TF Serving records, bad requests, metrics scrapes) while a
 * new fraud version is dropped in every 30 s (a hot swap under load). It samples the server's
 * resident memory from its own `/metrics` every 10 s and reports the answers by status, the
 * memory after the first minute (warm), at the end and at its peak, and the growth per minute
 * over the second half, where a leak would show. No request may get a 5xx or go unanswered.
 *
 * SOAK_SECONDS sets the length (default 480, the review's 8 minutes); SOAK_SWAP_SECONDS the time
 * between hot swaps (default 30; 0: none, to tell a swap's memory from the traffic's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cliCommand } from './lib/target';

const repoExample = fileURLToPath(new URL('../examples/model-repository/', import.meta.url));
const fraudModel = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));

const row = Array.from({ length: 12 }, (_, i) => Math.sin(i));
const REQUESTS = [
  {
    method: 'POST' as const,
    path: '/v2/models/fraud/infer',
    body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: row }] }),
  },
  {
    method: 'POST' as const,
    path: '/v1/models/iris:predict',
    body: JSON.stringify({
      instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
    }),
  },
  {
    method: 'POST' as const,
    path: '/v2/models/digits/infer',
    body: JSON.stringify({
      inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: Array(64).fill(3) }],
    }),
  },
  // Refused: a short row (400), malformed JSON (400).
  {
    method: 'POST' as const,
    path: '/v2/models/fraud/infer',
    body: JSON.stringify({
      inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }],
    }),
  },
  { method: 'POST' as const, path: '/v2/models/fraud/infer', body: '{"inputs": [' },
  { method: 'GET' as const, path: '/metrics' },
];

/** The server's resident memory and, within it, V8's heap (in use, reserved) and external memory, in MB. */
async function memory(
  url: string,
): Promise<{ mb: number; heap: number; heapTotal: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => {
    const m = new RegExp(`^modelship_${name} (\\d+)`, 'm').exec(text);
    if (m === null) throw new Error(`no modelship_${name} in /metrics`);
    return Number(m[1]) / 2 ** 20;
  };
  return {
    mb: read('process_resident_memory_bytes'),
    heap: read('nodejs_heap_size_used_bytes'),
    heapTotal: read('nodejs_heap_size_total_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}

export async function soak(): Promise<string> {
  const seconds = Number(process.env.SOAK_SECONDS ?? 480);
  const root = mkdtempSync(join(tmpdir(), 'modelship-soak-'));
  cpSync(repoExample, root, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [...cliCommand(), 'serve', root, '--port', '0', '--poll-ms', '500'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    });
    const samples: ({ t: number } & Awaited<ReturnType<typeof memory>>)[] = [];
    const swapSeconds = Number(process.env.SOAK_SWAP_SECONDS ?? 30);
    const started = Date.now();
    let version = 3;
    const sampler = setInterval(() => {
      void memory(url).then((m) => samples.push({ t: (Date.now() - started) / 1000, ...m }));
    }, 10_000);
    const swapper = setInterval(
      () => {
        if (swapSeconds === 0) return;
        mkdirSync(join(root, 'fraud', String(version)), { recursive: true });
        cpSync(fraudModel, join(root, 'fraud', String(version), 'model.onnx'));
        version++;
      },
      (swapSeconds || 30) * 1000,
    );
    samples.push({ t: 0, ...(await memory(url)) });
    const result = await autocannon({ url, connections: 16, duration: seconds, requests: REQUESTS });
    clearInterval(sampler);
    clearInterval(swapper);
    samples.push({ t: (Date.now() - started) / 1000, ...(await memory(url)) });
    const warm = samples.find((s) => s.t >= 60) ?? samples[0]!;
    const end = samples.at(-1)!;
    const peak = Math.max(...samples.map((s) => s.mb));
    const half = samples.filter((s) => s.t >= seconds / 2);
    const slope =
      half.length < 2 ? 0 : ((half.at(-1)!.mb - half[0]!.mb) / (half.at(-1)!.t - half[0]!.t)) * 60;
    const swaps = (out.match(/fraud version \d+ is serving/g) ?? []).length;
    return [
      `${seconds} s at 16 connections: ${result.requests.total} requests, ${result['2xx']} 2xx, ${result['4xx']} 4xx (the bad requests), ${result['5xx']} 5xx, ${result.errors} errors, ${result.timeouts} timeouts; ${swaps} hot swaps of fraud`,
      `resident memory: ${samples[0]!.mb.toFixed(0)} MB at start, ${warm.mb.toFixed(0)} MB after the first minute, ${end.mb.toFixed(0)} MB at the end (${(end.mb / warm.mb).toFixed(2)}x warm), peak ${peak.toFixed(0)} MB; second half ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} MB/min`,
      `samples (s: resident / V8 heap used / V8 heap reserved / external, MB): ${samples.map((s) => `${s.t.toFixed(0)}: ${s.mb.toFixed(0)}/${s.heap.toFixed(0)}/${s.heapTotal.toFixed(0)}/${s.external.toFixed(0)}`).join(', ')}`,
    ].join('\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(root, { recursive: true, force: true });
  }
}
