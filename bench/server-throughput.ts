/**
 * HTTP serving: `createServer` (what `modelship serve` runs) against a plain `node:http` +
 * onnxruntime-node server on the same model and the same Open Inference Protocol request, each
 * in its own process, loaded by wrk (or autocannon when wrk is not installed) from this one: 64
 * connections for throughput and tail latency, 1 connection for per-request latency, in rounds
 * that alternate between the servers (all up at once, idle but for the one under load). Two models: fraud.onnx, where HTTP and
 * JSON cost far more than the model (8 µs), and a 1.3 M-parameter MLP made by make_mlp.py,
 * where the model costs most of a request. The "worker thread" rows put the session on worker
 * threads (`loadModel(…, { instances })`, what `modelship serve` does for slow models): their
 * ratio to the in-thread row above them is what the pool costs (fraud.onnx) or gains (the MLP).
 *
 * Two figures survive a loaded machine better than requests/s: the plain server runs twice (its
 * second copy, "A/A", is the load probe: its ratio to the first says how far the host moved the
 * rounds), and "CPU/req" is the server process's CPU time (all its threads, from /proc on
 * Linux) over the run divided by the requests answered.
 *
 * Each round starts at a different server (the order rotates), so no server always follows
 * the same neighbour; "vs plain", "p99 vs plain" and "CPU vs plain" are medians of ratios taken
 * within one round. The load average is read at the start of every round and printed.
 *
 * BENCH_ROUNDS and BENCH_SECONDS shorten a run to check that it works (defaults 5 and 4).
 * BENCH_MODELS (`fraud`, `mlp`) and BENCH_SERVERS (ids, comma-separated: `aa` the A/A copy,
 * `off`/`on` one process without/with batching, `on-2w`, `on-2w-1t`, `off-1wt`, `on-1wt`,
 * `off-2wt`; the plain server always runs) narrow a run to the rows in question, so its rounds
 * are shorter and the pairs in them closer in time: `BENCH_MODELS=fraud BENCH_SERVERS=aa,off,on`.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { table } from './lib/interleave';
import { CONDITIONS } from './lib/target';

const FRAUD = fileURLToPath(new URL('../fixtures/models/fraud.onnx', import.meta.url));
const PYTHON = process.env.ONNX_PYTHON ?? '/usr/bin/python3';
const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const body = (input: string, n: number) =>
  JSON.stringify({
    inputs: [
      {
        name: input,
        shape: [1, n],
        datatype: 'FP32',
        data: Array.from({ length: n }, (_, i) => Math.sin(i)),
      },
    ],
  });

async function start(
  script: string,
  model: string,
  port: number,
  extra: string[] = [],
): Promise<ChildProcess> {
  const child = fork(
    tsx,
    [...CONDITIONS, fileURLToPath(new URL(script, import.meta.url)), model, String(port), ...extra],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return child;
}

/**
 * CPU time in ms of a process and its descendants' threads (utime + stime from /proc, Linux),
 * or NaN elsewhere: the servers run under tsx, whose CLI starts the server as a child.
 */
function cpuMs(pid: number): number {
  try {
    let ticks = 0;
    const stack = [pid];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const t of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' '))
        if (t.trim() !== '') stack.push(Number(t));
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

const WRK = process.env.WRK ?? '/usr/bin/wrk';
/** Rounds of load per server and connection count, and seconds per run: medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');
const SECONDS = Number(process.env.BENCH_SECONDS ?? '4');

/**
 * Loads a server with wrk when it is installed (`apt-get install -y wrk`: a C client that leaves
 * the CPU to the server on a small machine), else with autocannon (a Node client that competes
 * with the server for the same cores). Returns requests/s and p50/p99 latency in ms.
 */
async function load(port: number, request: string, connections: number, seconds: number, pid?: number) {
  const before = pid === undefined ? Number.NaN : cpuMs(pid);
  const client = childrenCpuMs();
  const r = existsSync(WRK)
    ? loadWrk(port, request, connections, seconds)
    : await loadAutocannon(port, request, connections, seconds);
  const used = pid === undefined ? Number.NaN : cpuMs(pid) - before;
  // wrk's share of one core over the run: near 1, the client and not the server set requests/s.
  const clientCore = (childrenCpuMs() - client) / (seconds * 1000);
  return { ...r, cpuUs: (used * 1000) / r.requests, clientCore };
}

/**
 * CPU time in ms of this process's waited-for children (cutime + cstime, Linux; NaN elsewhere):
 * around a `spawnSync` of wrk, the client's own CPU.
 */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

function loadWrk(port: number, request: string, connections: number, seconds: number) {
  const script = join(tmpdir(), `modelship-wrk-${process.pid}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(request)}\n`,
  );
  const r = spawnSync(
    WRK,
    [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--latency',
      // wrk counts an answer slower than 2 s (its default) as a socket error, which ends the
      // bench; on a shared machine a 64-connection queue can take that long.
      '--timeout',
      '10s',
      '-s',
      script,
      `http://127.0.0.1:${port}/v2/models/fraud/infer`,
    ],
    { encoding: 'utf8' },
  );
  const out = r.stdout;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (m === null) throw new Error(`wrk printed no ${label} latency:\n${out}${r.stderr}`);
    return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2] as 'us' | 'ms' | 's'];
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  // wrk reports answers other than 2xx/3xx, and socket errors, on lines of their own.
  const bad = /Non-2xx or 3xx responses|Socket errors/.test(out);
  if (!(rps > 0) || bad) throw new Error(`wrk against port ${port}: ${out}${r.stderr}`);
  // wrk's percentiles are over every request of the run; at 64 connections a 4 s run on a slow
  // host answers about 20,000, so p99 rests on some 200 answers.
  return { rps, requests, p50: Number(ms('50%').toFixed(3)), p99: Number(ms('99%').toFixed(3)) };
}

async function loadAutocannon(port: number, request: string, connections: number, seconds: number) {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v2/models/fraud/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: request,
    connections,
    duration: seconds,
  });
  if (r.non2xx > 0 || r.errors > 0)
    throw new Error(`${r.non2xx} non-2xx and ${r.errors} errors at port ${port}`);
  return { rps: r.requests.average, requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99 };
}

const WANTED_MODELS = process.env.BENCH_MODELS?.split(',').filter((x) => x !== '');
const WANTED_SERVERS = process.env.BENCH_SERVERS?.split(',').filter((x) => x !== '');

export async function serverThroughput(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const mlp = join(dir, 'mlp.onnx');
  const wantMlp = WANTED_MODELS === undefined || WANTED_MODELS.some((w) => 'mlp'.includes(w));
  const made = !wantMlp
    ? { status: 0, stderr: '' }
    : spawnSync(PYTHON, [fileURLToPath(new URL('./make_mlp.py', import.meta.url)), mlp], {
        encoding: 'utf8',
      });
  if (made.status !== 0)
    return `could not make the MLP (${PYTHON}; apt-get install -y python3-onnx): ${made.stderr.slice(-300)}`;
  const models = [
    { name: 'fraud.onnx', path: FRAUD, request: body('features', 12) },
    { name: 'mlp 256-1024-1024-16', path: mlp, request: body('input', 256) },
  ].filter((m) => WANTED_MODELS === undefined || WANTED_MODELS.some((w) => m.name.includes(w)));
  const allServers = [
    {
      name: 'plain node:http + onnxruntime',
      id: 'plain',
      script: './servers/plain.ts',
      extra: [] as string[],
      versus: undefined as string | undefined,
    },
    // The load probe: the same plain server again.
    { name: 'plain (A/A)', id: 'aa', script: './servers/plain.ts', extra: [] },
    { name: 'modelship, no batching', id: 'off', script: './servers/modelship.ts', extra: ['off'] },
    { name: 'modelship, dynamic batching', id: 'on', script: './servers/modelship.ts', extra: ['on'] },
    {
      name: 'modelship, batching, 2 workers',
      id: 'on-2w',
      script: './servers/modelship.ts',
      extra: ['on', '2'],
    },
    {
      name: 'modelship, batching, 2 workers, 1 thread each',
      id: 'on-2w-1t',
      script: './servers/modelship.ts',
      extra: ['on', '2', '1'],
    },
    {
      name: 'modelship, no batching, 1 worker thread',
      id: 'off-1wt',
      script: './servers/modelship.ts',
      extra: ['off', '1', '-', '1'],
      versus: 'modelship, no batching',
    },
    {
      name: 'modelship, dynamic batching, 1 worker thread',
      id: 'on-1wt',
      script: './servers/modelship.ts',
      extra: ['on', '1', '-', '1'],
      versus: 'modelship, dynamic batching',
    },
    {
      name: 'modelship, no batching, 2 worker threads',
      id: 'off-2wt',
      script: './servers/modelship.ts',
      extra: ['off', '1', '-', '2'],
      versus: 'modelship, no batching',
    },
  ];
  const servers = allServers.filter(
    (s, i) => i === 0 || WANTED_SERVERS === undefined || WANTED_SERVERS.includes(s.id),
  );
  const rows: string[][] = [];
  const loads: number[] = [];
  let minRequests = Number.POSITIVE_INFINITY;
  let port = 18100;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const m of models) {
    // Every server is up at once and idle but for the one under load; rounds alternate
    // between them, so a slow minute on a shared machine lands on all of them alike, and each
    // ratio is taken within one round.
    const running: { child: ChildProcess; port: number }[] = [];
    try {
      for (const s of servers) {
        const p = ++port;
        running.push({ child: await start(s.script, m.path, p, s.extra), port: p });
        await load(p, m.request, 8, 2); // warm up
      }
      const results = servers.map(() => [[], []] as Awaited<ReturnType<typeof load>>[][]);
      for (let round = 0; round < ROUNDS; round++) {
        loads.push(loadavg()[0]!);
        // Rotated order: round r starts at server r, so no server always runs right after the
        // same one (or always first, after the idle gap of a new round).
        // One pass per connection count, so that a server's run and plain's of the same count
        // are at most one pass apart.
        for (const [j, c] of [64, 1].entries()) {
          for (let k = 0; k < running.length; k++) {
            const i = (k + round) % running.length;
            const r = running[i]!;
            results[i]![j]!.push(await load(r.port, m.request, c, SECONDS, r.child.pid));
          }
        }
      }
      for (const per of results)
        for (const runs of per) for (const r of runs) minRequests = Math.min(minRequests, r.requests);
      type Run = Awaited<ReturnType<typeof load>>;
      const ratio = (runs: Run[], base: Run[], key: 'rps' | 'p99' | 'cpuUs' = 'rps') => {
        const ratios = runs.map((r, k) => r[key] / base[k]![key]);
        if (ratios.some((x) => !Number.isFinite(x))) return '';
        return `${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
      };
      servers.forEach((s, i) => {
        [64, 1].forEach((c, j) => {
          const runs = results[i]![j]!;
          const inThread = servers.findIndex((x) => x.name === s.versus);
          rows.push([
            m.name,
            s.name,
            String(c),
            median(runs.map((r) => r.rps)).toFixed(0),
            i === 0 ? '1.00' : ratio(runs, results[0]![j]!),
            inThread < 0 ? '' : ratio(runs, results[inThread]![j]!),
            `${median(runs.map((r) => r.p50))} ms`,
            `${median(runs.map((r) => r.p99))} ms`,
            i === 0 ? '1.00' : ratio(runs, results[0]![j]!, 'p99'),
            `${median(runs.map((r) => r.cpuUs)).toFixed(0)} µs`,
            i === 0 ? '1.00' : ratio(runs, results[0]![j]!, 'cpuUs'),
            median(runs.map((r) => r.clientCore)).toFixed(2),
          ]);
        });
      });
    } finally {
      for (const r of running) r.child.kill('SIGTERM');
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const client = existsSync(WRK)
    ? 'wrk, 1 thread'
    : 'autocannon (install wrk to leave the CPU to the servers)';
  const la = loads.length === 0 ? '' : `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  return `load generator: ${client}; medians of ${ROUNDS} rotating rounds of ${SECONDS} s (ratio: median, min–max of the per-round ratios); load average (1 min) at the rounds' starts ${la} on ${availableParallelism()} cores; fewest requests in one run ${minRequests} (p99 rests on 1% of them); wrk cores: the client's CPU over the run (near 1: the client, not the server, set requests/s)\n\n${table(['model', 'server', 'connections', 'requests/s', 'vs plain', 'vs in-thread', 'p50', 'p99', 'p99 vs plain', 'CPU/req', 'CPU vs plain', 'wrk cores'], rows)}`;
}
