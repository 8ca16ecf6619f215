/**
 * One large JSON inference body (FP32 data) through the server, each size in a fresh process:
 * time to the answer, peak RSS growth over the body itself, the longest event-loop stall
 * (`monitorEventLoopDelay`) and how many `/v2/health/live` probes, sent every 10 ms during the
 * request, were answered before it. The baseline is `JSON.parse` of the same body (the tree the
 * server built before), measured in a fresh process the same way.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createServer, Deployer, functionModel, tensor } from '@modelship/node';
import { table } from './lib/interleave';

const WIDTH = 1000;
const MIB = 1024 * 1024;

type Kind = 'rows' | 'images';

/**
 * An OIP body of about `mib` MiB of FP32 numbers written as JSON: rows of WIDTH (`rows`, the
 * shape the old server read on a fast path) or 64×64×3 images nested as their shape (`images`,
 * which took the old general path).
 */
function body(mib: number, kind: Kind): Buffer {
  const n = (i: number) => (Math.sin(i) * 1000).toFixed(6);
  const row = `[${Array.from({ length: WIDTH }, (_, i) => n(i)).join(',')}]`;
  const pixelRow = `[${Array.from({ length: 64 }, (_, i) => `[${n(i)},${n(i + 1)},${n(i + 2)}]`).join(',')}]`;
  const image = `[${Array.from({ length: 64 }, () => pixelRow).join(',')}]`;
  const unit = kind === 'rows' ? row : image;
  const count = Math.max(1, Math.floor((mib * MIB) / (unit.length + 1)));
  const shape = kind === 'rows' ? `${count},${WIDTH}` : `${count},64,64,3`;
  const parts = [`{"inputs":[{"name":"x","datatype":"FP32","shape":[${shape}],"data":[`];
  for (let i = 0; i < count; i++) parts.push(i === 0 ? unit : `,${unit}`);
  parts.push(']}]}');
  return Buffer.from(parts.join(''));
}

interface Figures {
  ms: number;
  /** CPU time of the whole process over the request (the probes' too). */
  cpuMs: number;
  rssGrowthMb: number;
  bodyMb: number;
  maxStallMs: number;
  probes: number;
  status: number;
}

function post(port: number, path: string, data?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port, path, method: data === undefined ? 'GET' : 'POST' },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    r.on('error', reject);
    r.end(data);
  });
}

async function child(mib: number, mode: 'server' | 'JSON.parse', kind: Kind): Promise<Figures> {
  const data = body(mib, kind);
  const deployer = new Deployer();
  await deployer.deploy(
    'wide',
    functionModel(({ x }) => ({ y: tensor('float32', [x!.data.length], [1]) }), {
      name: 'wide',
      signature: {
        inputs: [
          { name: 'x', dtype: 'float32', shape: kind === 'rows' ? ['batch', WIDTH] : ['batch', 64, 64, 3] },
        ],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      },
    }),
    { warmup: false },
  );
  const server = createServer(deployer, { maxBodyBytes: 128 * MIB, maxTensorElements: 64 * MIB });
  const { port } = await server.listen(0, '127.0.0.1');
  global.gc?.();
  const before = process.memoryUsage().rss;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 2);
  delay.enable();
  const started = performance.now();
  let probes = 0;
  let done = false;
  const prober = (async () => {
    // A separate process would be fairer, but probes answered here show the server's own loop.
    while (!done) {
      await new Promise((r) => setTimeout(r, 10));
      if (!done && (await post(port, '/v2/health/live')) === 200 && !done) probes++;
    }
  })();
  let status = 200;
  const cpu = process.cpuUsage();
  let tree: unknown;
  if (mode === 'server') status = await post(port, '/v2/models/wide/infer', data);
  else {
    // The delay monitor measures from its second tick on: give it one before the parse blocks.
    await new Promise((r) => setTimeout(r, 20));
    tree = JSON.parse(data.toString('utf8'));
  }
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  peak = Math.max(peak, process.memoryUsage().rss);
  // Let the delay timer fire once more, so a stall that just ended is recorded.
  await new Promise((r) => setTimeout(r, 20));
  if (tree === undefined) status = 200;
  done = true;
  delay.disable();
  clearInterval(sampler);
  await prober;
  await server.close();
  return {
    ms,
    rssGrowthMb: (peak - before) / MIB,
    bodyMb: data.byteLength / MIB,
    maxStallMs: delay.max / 1e6,
    cpuMs: (used.user + used.system) / 1000,
    probes,
    status,
  };
}

export async function jsonDecode(): Promise<string> {
  const rows: string[][] = [];
  const file = fileURLToPath(import.meta.url);
  for (const [mib, kind] of [
    [16, 'rows'],
    [64, 'rows'],
    [16, 'images'],
    [64, 'images'],
  ] as const) {
    for (const mode of ['JSON.parse', 'server'] as const) {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', ...process.execArgv, file, '--child', String(mib), mode, kind],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const f = JSON.parse(out.trim().split('\n').pop()!) as Figures;
      rows.push([
        `${f.bodyMb.toFixed(1)} MiB ${kind}`,
        mode === 'server' ? `server (HTTP ${f.status})` : 'JSON.parse only (baseline)',
        `${f.ms.toFixed(0)} ms (CPU ${f.cpuMs.toFixed(0)} ms)`,
        `${f.rssGrowthMb.toFixed(0)} MB (${(f.rssGrowthMb / f.bodyMb).toFixed(1)}× body)`,
        `${f.maxStallMs.toFixed(0)} ms (${(f.maxStallMs / f.bodyMb).toFixed(1)} ms/MiB)`,
        String(f.probes),
      ]);
    }
  }
  return table(
    ['body', 'path', 'time to answer', 'peak RSS growth', 'longest stall', 'live probes answered'],
    rows,
  );
}

if (process.argv[2] === '--child') {
  const figures = await child(
    Number(process.argv[3]),
    process.argv[4] as 'server' | 'JSON.parse',
    (process.argv[5] ?? 'rows') as Kind,
  );
  console.log(JSON.stringify(figures));
}
