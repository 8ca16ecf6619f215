/**
 * Two parts. First, the unbatched Deployer against raw `InferenceSession.run`, paired: raw `run`,
 * the Deployer without batching and raw `run` on a second session (the A/A load probe) take
 * turns in short rounds (20 calls each, or 256 shared by 64 callers), in alternating order, all
 * on sessions with one intra-op thread; each round gives a ratio of wall time and one of CPU
 * time (user + sys, every thread), and the table shows their medians and quartiles. CPU time is
 * what a loaded host disturbs least, and the A/A pair shows how much it disturbs it.
 *
 * Second, in-process throughput at 64 concurrent callers, each sending one row at a time and waiting
 * for the answer (a closed loop): raw `InferenceSession.run` called the same way, the Deployer
 * without batching, and the Deployer with dynamic batching. Rounds alternate the three, so
 * machine drift hits them alike; the figures are medians over rounds, latency quantiles are
 * over every request of every round. A fourth variant, raw `run` on a second session, is the A/A
 * load probe: its "× raw run" should read 1.00, and its spread is the noise floor of the run.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Deployer, loadModel } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { formatNs, table } from './lib/interleave';
import { formatRatio, paired, ratio } from './lib/paired';

const CALLERS = 64;
const ROUND_MS = 1500;
const ROUNDS = 5;

interface Result {
  perSecond: number[];
  latencies: number[];
}

async function closedLoop(call: (i: number) => Promise<unknown>, into: Result): Promise<void> {
  const start = performance.now();
  const end = start + ROUND_MS;
  let done = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      while (performance.now() < end) {
        const t = performance.now();
        await call(i);
        into.latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  into.perSecond.push(done / ((performance.now() - start) / 1000));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) => {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

async function scenario(fixture: string, input: string, width: number): Promise<string[][]> {
  const path = fileURLToPath(new URL(`../fixtures/models/${fixture}.onnx`, import.meta.url));
  const session = await ort.InferenceSession.create(path);
  const twin = await ort.InferenceSession.create(path);
  const rows = Array.from({ length: CALLERS }, (_, i) =>
    Float32Array.from({ length: width }, (_, j) => Math.sin(i * width + j)),
  );
  const plain = new Deployer();
  await plain.deploy(fixture, () => loadModel(path), { version: '1' });
  const batched = new Deployer();
  await batched.deploy(fixture, () => loadModel(path), { version: '1', batching: { maxBatchSize: 64 } });
  const variants: [string, (i: number) => Promise<unknown>][] = [
    ['onnxruntime run', (i) => session.run({ [input]: new ort.Tensor('float32', rows[i]!, [1, width]) })],
    [
      'Deployer, no batching',
      (i) => plain.predict(fixture, { [input]: { dtype: 'float32', shape: [1, width], data: rows[i]! } }),
    ],
    [
      'Deployer, batching',
      (i) => batched.predict(fixture, { [input]: { dtype: 'float32', shape: [1, width], data: rows[i]! } }),
    ],
    ['onnxruntime run (A/A)', (i) => twin.run({ [input]: new ort.Tensor('float32', rows[i]!, [1, width]) })],
  ];
  const results = variants.map((): Result => ({ perSecond: [], latencies: [] }));
  for (const [, call] of variants) for (let i = 0; i < 2000; i++) await call(i % CALLERS);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
    for (const k of order) await closedLoop(variants[k]![1], results[k]!);
  }
  // Per-round pairs, as predict-overhead reads them: drift between rounds cancels out.
  const paired = (k: number, of: number) =>
    median(results[k]!.perSecond.map((x, r) => x / results[of]!.perSecond[r]!));
  const batch = batched.status(fixture).versions[0]!.batching!;
  const out = variants.map(([name], k) => {
    const r = results[k]!;
    const rps = median(r.perSecond);
    return [
      fixture,
      name,
      Math.round(rps).toLocaleString('en-US'),
      paired(k, 0).toFixed(3),
      paired(k, 1).toFixed(2),
      quantile(r.latencies, 0.5).toFixed(2),
      quantile(r.latencies, 0.99).toFixed(2),
    ];
  });
  out[2]![1] += ` (mean batch ${batch.meanBatchSize.toFixed(1)})`;
  await plain.close();
  await batched.close();
  await session.release();
  await twin.release();
  return out;
}

/** The unbatched Deployer and raw `run`, paired per round (see the file's comment). */
async function unbatched(fixture: string, input: string, width: number): Promise<string[][]> {
  const path = fileURLToPath(new URL(`../fixtures/models/${fixture}.onnx`, import.meta.url));
  const threads = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const session = await ort.InferenceSession.create(path, threads);
  const twin = await ort.InferenceSession.create(path, threads);
  const model = await loadModel(path, threads);
  const deployer = new Deployer();
  await deployer.deploy(fixture, () => loadModel(path, threads), { version: '1' });
  const rows = Array.from({ length: CALLERS }, (_, i) =>
    Float32Array.from({ length: width }, (_, j) => Math.sin(i * width + j)),
  );
  const request = (i: number) =>
    ({ [input]: { dtype: 'float32', shape: [1, width], data: rows[i]! } }) as const;
  const out: string[][] = [];
  for (const callers of [1, CALLERS]) {
    const results = await paired(
      [
        {
          name: 'onnxruntime run',
          run: (i) => session.run({ [input]: new ort.Tensor('float32', rows[i]!, [1, width]) }),
        },
        { name: 'model.predict', run: (i) => model.predict(request(i)) },
        { name: 'Deployer, no batching', run: (i) => deployer.predict(fixture, request(i)) },
        {
          name: 'onnxruntime run (A/A)',
          run: (i) => twin.run({ [input]: new ort.Tensor('float32', rows[i]!, [1, width]) }),
        },
      ],
      { callers, callsPerRound: callers === 1 ? 20 : 256, rounds: callers === 1 ? 601 : 201 },
    );
    const raw = results[0]!;
    const median = (xs: number[]) => Float64Array.from(xs).sort()[xs.length >> 1]!;
    for (const r of results)
      out.push([
        fixture,
        String(callers),
        r.name,
        `${formatNs(median(r.wall))} / ${formatNs(median(r.cpu))}`,
        r === raw ? '1' : formatRatio(ratio(r, raw, 'wall')),
        r === raw ? '1' : formatRatio(ratio(r, raw, 'cpu')),
      ]);
  }
  await deployer.close();
  await model.dispose();
  await session.release();
  await twin.release();
  return out;
}

export async function deployerBatching(): Promise<string> {
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  const before = load();
  const pairs = [...(await unbatched('digits', 'pixels', 64)), ...(await unbatched('fraud', 'features', 12))];
  const rows = [...(await scenario('digits', 'pixels', 64)), ...(await scenario('fraud', 'features', 12))];
  return [
    `load average ${before} at the start, ${load()} at the end`,
    '',
    'Unbatched Deployer vs raw run, paired rounds (1 intra-op thread). Per call: median wall / CPU time',
    '(user + sys, all threads). × raw: raw time / variant time in the same round (above 1: faster than raw),',
    'median [95% interval of the median] (quartiles). The A/A row is the load probe: 1 on a steady host.',
    '',
    table(['model', 'callers', 'variant', 'per call', '× raw (wall)', '× raw (CPU)'], pairs),
    '',
    `Throughput at ${CALLERS} callers, closed loop, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s (default threads):`,
    '',
    table(['model', 'variant', 'requests/s', '× raw run', '× unbatched', 'p50 ms', 'p99 ms'], rows),
  ].join('\n');
}
