/**
 * The worker pool's own rules, with in-process "workers": core's worker host behind a message
 * boundary (structured clone, a macrotask per message, as between threads). The node and browser
 * packages run the same pool on real threads (packages/node/test/worker-pool.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { AbortError, InputError, type ModelshipError } from '../errors';
import { tensor } from '../tensor/tensor';
import { functionModel } from './function-model';
import { modelContract } from './model.case';
import { serveModelInWorker } from './worker-host';
import { type InstanceEvent, type WorkerHandle, WorkerPoolModel } from './worker-pool';
import type { FromWorker, ToWorker } from './worker-protocol';

const signature = {
  inputs: [{ name: 'x', dtype: 'float32' as const, shape: ['batch', 2] }],
  outputs: [{ name: 'y', dtype: 'float32' as const, shape: ['batch', 2] }],
};

interface Fake extends WorkerHandle {
  /** Makes the worker stop as a crashed thread does. */
  crash(message: string): void;
  /** Releases the calls the worker holds (its "model" waits for this). */
  release(): void;
  readonly received: ToWorker[];
}

/** A worker whose model doubles x; with `gate`, each call waits for `release()`. */
function fakeWorker(options: { gate?: boolean; failLoad?: boolean } = {}): Fake {
  const toHost: ((m: ToWorker) => void)[] = [];
  const toPool: ((m: FromWorker) => void)[] = [];
  const exits: ((e: Error) => void)[] = [];
  const received: ToWorker[] = [];
  let dead = false;
  let waiters: (() => void)[] = [];
  const deliver = <T>(listeners: ((m: T) => void)[], message: T) =>
    setTimeout(() => {
      if (dead) return;
      const copy = structuredClone(message);
      for (const l of listeners) l(copy);
    });
  serveModelInWorker(
    { post: (m) => deliver(toPool, m), listen: (l) => toHost.push(l) },
    async () => {
      if (options.failLoad) throw new Error('no such op: Frobnicate');
      return functionModel(
        async ({ x }) => {
          if (options.gate) await new Promise<void>((r) => waiters.push(r));
          if ((x!.data as Float32Array)[0] === -1)
            throw new InputError('INPUT_INVALID', "input 'x': -1 is refused", { details: { input: 'x' } });
          return {
            y: tensor(
              'float32',
              (x!.data as Float32Array).map((v) => v * 2),
              x!.shape,
            ),
          };
        },
        { signature, name: 'double' },
      );
    },
    () => Date.now(),
  );
  return {
    received,
    post: (m) => {
      received.push(m);
      deliver(toHost, m);
    },
    onMessage: (l) => toPool.push(l),
    onExit: (l) => exits.push(l),
    terminate: () => {
      dead = true;
    },
    crash: (message) => {
      dead = true;
      for (const l of exits) l(new Error(message));
    },
    release: () => {
      const w = waiters;
      waiters = [];
      for (const r of w) r();
    },
  };
}

/** Starts gated workers, keeping each in `workers`. */
const gated = (workers: Fake[]) => (): Fake => {
  const w = fakeWorker({ gate: true });
  workers.push(w);
  return w;
};
const x = (...v: number[]) => ({ x: tensor('float32', Float32Array.from(v), [1, v.length]) });
const until = async (ok: () => boolean) => {
  while (!ok()) await new Promise((r) => setTimeout(r, 1));
};
/** Releases the workers' calls until `work` settles (a call reaches its worker a few ticks later). */
async function released<T>(work: Promise<T>, workers: Fake[]): Promise<T> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  while (!done) {
    for (const w of workers) w.release();
    await new Promise((r) => setTimeout(r, 1));
  }
  return settled;
}

modelContract('WorkerPoolModel (in-process workers)', async () => ({
  model: await WorkerPoolModel.create({ instances: 2, spawn: () => fakeWorker(), load: {} }),
  inputs: x(1, 2),
  otherInputs: x(3, 4),
}));

modelContract('WorkerPoolModel (in-process workers, shared memory)', async () => ({
  model: await WorkerPoolModel.create({
    instances: 2,
    spawn: () => fakeWorker(),
    load: {},
    sharedMemoryBytes: 4096,
  }),
  inputs: x(1, 2),
  otherInputs: x(3, 4),
}));

describe('WorkerPoolModel', () => {
  it('sends each call to the least busy instance, at most two ahead, and queues the rest here', async () => {
    const workers: Fake[] = [];
    const pool = await WorkerPoolModel.create({ instances: 2, spawn: gated(workers), load: {} });
    const calls = [1, 2, 3, 4, 5].map((v) => pool.predict(x(v, v)));
    await until(() => pool.status().every((s) => s.inFlight === 2));
    const sent = (w: Fake) => w.received.filter((m) => m.type === 'predict').length;
    expect([sent(workers[0]!), sent(workers[1]!)]).toEqual([2, 2]); // the fifth waits here
    while (pool.status().some((s) => s.inFlight > 0)) {
      for (const w of workers) w.release();
      await new Promise((r) => setTimeout(r, 1));
    }
    const out = await Promise.all(calls);
    expect(out.map((o) => Array.from(o.y!.data as Float32Array))).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
      [8, 8],
      [10, 10],
    ]);
    expect(sent(workers[0]!) + sent(workers[1]!)).toBe(5);
    await pool.dispose();
  });

  it('sends the calls that queued while its instance was busy together, in one message', async () => {
    const workers: Fake[] = [];
    const pool = await WorkerPoolModel.create({ spawn: gated(workers), load: {} });
    const calls = [1, 2, 3, 4, 5, 6].map((v) => pool.predict(x(v, v)));
    await until(() => pool.status()[0]!.inFlight === 2);
    const out = await released(Promise.all(calls), workers);
    expect(out.map((o) => (o.y!.data as Float32Array)[0])).toEqual([2, 4, 6, 8, 10, 12]);
    const messages = workers[0]!.received.flatMap((m) => (m.type === 'predict' ? [m.calls.length] : []));
    // Two messages ahead, each sent as its call came; the four that waited here go as one.
    expect(messages).toEqual([1, 1, 4]);
    await pool.dispose();
  });

  it('brings a worker error back as the same class, code, message and details', async () => {
    const pool = await WorkerPoolModel.create({ spawn: () => fakeWorker(), load: {} });
    const e = await pool.predict(x(-1, 0)).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({
      name: 'InputError',
      code: 'INPUT_INVALID',
      message: "input 'x': -1 is refused",
      details: { input: 'x' },
    });
    const refused = await WorkerPoolModel.create({
      spawn: () => fakeWorker({ failLoad: true }),
      load: {},
    }).catch((err: unknown) => err as ModelshipError);
    expect(refused).toMatchObject({
      name: 'ModelLoadError',
      code: 'MODEL_REJECTED',
      message: "could not load model 'model' version '1' in a worker: no such op: Frobnicate",
    });
    expect(((refused as ModelshipError).cause as Error).message).toBe('no such op: Frobnicate');
    await pool.dispose();
  });

  it('fails a crashed instance’s calls at once, serves from the others, and replaces it', async () => {
    const workers: Fake[] = [];
    const events: InstanceEvent[] = [];
    const pool = await WorkerPoolModel.create({
      name: 'double',
      instances: 2,
      spawn: gated(workers),
      load: {},
      onInstanceEvent: (e) => events.push(e),
    });
    const a = pool.predict(x(1, 1));
    const b = pool.predict(x(2, 2));
    await until(() => pool.status().every((s) => s.inFlight === 1));
    workers[0]!.crash('out of memory');
    const e = (await a.catch((err: unknown) => err)) as ModelshipError;
    expect([e.code, e.message, e.details]).toEqual([
      'INFERENCE_FAILED',
      "model 'double' version '1': worker instance 0 stopped (out of memory); the calls it was running failed and it is being replaced",
      { model: 'double', version: '1', instance: 0 },
    ]);
    expect((e.cause as Error).message).toBe('out of memory');
    expect(Array.from((await released(b, [workers[1]!])).y!.data as Float32Array)).toEqual([4, 4]);
    await until(() => events.some((ev) => ev.type === 'replaced'));
    expect(events.map((ev) => ev.type)).toEqual(['started', 'exited', 'replaced']);
    expect(pool.restarts).toBe(1);
    expect(workers.length).toBe(3);
    const c = await released(pool.predict(x(3, 3)), workers);
    expect(Array.from(c.y!.data as Float32Array)).toEqual([6, 6]);
    await pool.dispose();
    expect(events.at(-1)!.type).toBe('stopped');
  });

  it('fails the calls waiting here when no instance is left and none can be started', async () => {
    let n = 0;
    const first = fakeWorker({ gate: true });
    const pool = await WorkerPoolModel.create({
      spawn: () => (n++ === 0 ? first : fakeWorker({ failLoad: true })),
      load: {},
    });
    const running = pool.predict(x(1, 1));
    const queued = [pool.predict(x(2, 2)), pool.predict(x(3, 3))];
    await until(() => pool.status()[0]!.inFlight === 2);
    const third = pool.predict(x(4, 4)); // waits here: the instance holds two
    first.crash('segfault');
    expect(((await running.catch((e: unknown) => e)) as ModelshipError).code).toBe('INFERENCE_FAILED');
    for (const q of queued)
      expect(((await q.catch((e: unknown) => e)) as ModelshipError).code).toBe('INFERENCE_FAILED');
    const left = (await third.catch((e: unknown) => e)) as ModelshipError;
    expect(left.code).toBe('INFERENCE_FAILED');
    // The replacement's failure is the reason given: it is why nothing serves now.
    const why =
      "model 'model' version '1' has no worker left: could not load model 'model' version '1' in a worker: no such op: Frobnicate";
    expect(left.message).toBe(why);
    const next = (await pool.predict(x(5, 5)).catch((e: unknown) => e)) as ModelshipError;
    expect(next.message).toBe(why);
    await pool.dispose();
  });

  it('a call aborted while a worker runs it returns at once; dispose waits for the worker', async () => {
    const worker = fakeWorker({ gate: true });
    const pool = await WorkerPoolModel.create({ spawn: () => worker, load: {} });
    const controller = new AbortController();
    const call = pool.predict(x(1, 1), { signal: controller.signal });
    await until(() => pool.status()[0]!.inFlight === 1);
    controller.abort();
    expect(await call.catch((e: unknown) => e)).toBeInstanceOf(AbortError);
    let disposed = false;
    const disposing = pool.dispose().then(() => {
      disposed = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(disposed).toBe(false);
    await released(disposing, [worker]);
    expect(worker.received.map((m) => m.type)).toEqual(['load', 'predict', 'dispose']);
  });

  it('leaves the caller its input buffers and measures a warm call in the worker', async () => {
    const pool = await WorkerPoolModel.create({ spawn: () => fakeWorker(), load: {} });
    const whole = new Float32Array([9, 1, 2, 9]);
    const out = await pool.predict({ x: tensor('float32', whole.subarray(1, 3), [1, 2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 4]);
    expect(Array.from(whole)).toEqual([9, 1, 2, 9]);
    expect(await pool.probe(2)).toBeGreaterThanOrEqual(0);
    await pool.dispose();
  });
});

describe('WorkerPoolModel with shared memory', () => {
  const predicts = (w: Fake) =>
    w.received.flatMap((m) => (m.type === 'predict' ? m.calls.map((c) => c.inputs.x!.shape[0]) : []));

  it('sends calls through shared memory, a tensor over a quarter of it by postMessage', async () => {
    const workers: Fake[] = [];
    const spawn = () => {
      const w = fakeWorker();
      workers.push(w);
      return w;
    };
    const pool = await WorkerPoolModel.create({ spawn, load: {}, sharedMemoryBytes: 4096 });
    expect(workers[0]!.received[0]).toMatchObject({ type: 'load', channel: {} });
    const rows = 200; // 1,600 bytes of float32: over the 1,024 a 4 KiB ring takes in one record
    const big = Float32Array.from({ length: 2 * rows }, (_, i) => i);
    const [a, b, c] = await Promise.all([
      pool.predict(x(1, 2)),
      pool.predict({ x: tensor('float32', big, [rows, 2]) }),
      pool.predict(x(3, 4), { outputs: ['y'] }),
    ]);
    expect(Array.from(a.y!.data as Float32Array)).toEqual([2, 4]);
    expect(Array.from(b.y!.data as Float32Array)).toEqual(Array.from(big, (v) => v * 2));
    expect(Array.from(c.y!.data as Float32Array)).toEqual([6, 8]);
    // Only the large call went by message; the other two, and their answers, through shared memory.
    expect(predicts(workers[0]!)).toEqual([rows]);
    // An error comes back by message, typed as ever.
    expect(await pool.predict(x(-1, 0)).catch((e: unknown) => e)).toBeInstanceOf(InputError);
    expect(predicts(workers[0]!)).toEqual([rows]);
    await pool.dispose();
  });

  it('fails a call held in shared memory when its instance crashes, and serves from the replacement', async () => {
    const workers: Fake[] = [];
    const pool = await WorkerPoolModel.create({ spawn: gated(workers), load: {}, sharedMemoryBytes: 4096 });
    const held = pool.predict(x(1, 1));
    await until(() => pool.status()[0]!.inFlight === 1);
    workers[0]!.crash('out of memory');
    const e = (await held.catch((err: unknown) => err)) as ModelshipError;
    expect([e.code, (e.cause as Error).message]).toEqual(['INFERENCE_FAILED', 'out of memory']);
    await until(() => pool.status()[0]!.state === 'ready');
    expect(workers.length).toBe(2);
    const next = await released(pool.predict(x(5, 6)), workers);
    expect(Array.from(next.y!.data as Float32Array)).toEqual([10, 12]);
    // The replacement has memory of its own, and neither call went by message.
    const channels = workers.map((w) => (w.received[0] as { channel?: { calls: unknown } }).channel!.calls);
    expect(channels[0]).not.toBe(channels[1]);
    expect(workers.flatMap(predicts)).toEqual([]);
    await pool.dispose();
  });

  it('refuses a sharedMemoryBytes that is not a byte count', async () => {
    for (const bad of [-1, 1.5, 2 ** 31])
      await expect(
        WorkerPoolModel.create({ spawn: () => fakeWorker(), load: {}, sharedMemoryBytes: bad }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/sharedMemoryBytes/),
      });
  });
});

describe('serveModelInWorker', () => {
  /** A worker whose model takes x[0] ms of a fake clock; returns what it posts. */
  async function host() {
    let clock = 0;
    const posted: FromWorker[] = [];
    let deliver: (m: ToWorker) => void = () => {};
    serveModelInWorker(
      { post: (m) => posted.push(m), listen: (l) => (deliver = l) },
      async () =>
        functionModel(
          async ({ x }) => {
            clock += (x!.data as Float32Array)[0]!;
            return { y: x! };
          },
          { signature, name: 'timed' },
        ),
      () => clock,
    );
    deliver({ type: 'load', options: {} });
    await until(() => posted.length === 1);
    posted.length = 0;
    let id = 0;
    return async (...ms: number[]) => {
      const calls = ms.map((v) => ({ id: ++id, inputs: x(v, 0), outputs: undefined }));
      deliver({ type: 'predict', calls });
      const answered = () => posted.flatMap((m) => (m.type === 'answers' ? m.answers : [])).length;
      await until(() => answered() === ms.length);
      const batches = posted.map((m) => (m.type === 'answers' ? m.answers.map((a) => a.id) : []));
      posted.length = 0;
      return batches;
    };
  }

  it('answers fast calls in one message and a call of a millisecond or more at once', async () => {
    const run = await host();
    expect(await run(0.1, 0.1, 0.1)).toEqual([[1, 2, 3]]);
    expect(await run(5, 5, 0.1)).toEqual([[4], [5], [6]]);
    // Fast answers wait for the next call at most until the first of them is 1 ms old.
    expect(await run(0.4, 0.4, 0.4, 0.4, 0.4)).toEqual([[7, 8, 9, 10], [11]]);
  });
});
