import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { Deployer } from './deployer';
import { FakeClock, flush, gatedModel, row, SIG } from './fakes.case';
import { splitOutputs, stackInputs, unbatchableReason } from './stack';
import type { PredictionEvent } from './types';
import { warmupInputs } from './warmup';

const ys = (out: { y?: { data: unknown; shape: readonly number[] } }) => ({
  shape: out.y!.shape,
  data: [...(out.y!.data as Float32Array)],
});

describe('dynamic batching', () => {
  it('stacks requests queued while the model is busy and splits the outputs back', async () => {
    const d = new Deployer();
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 8 } });
    const sizes: number[] = [];
    d.on('prediction', (e) => sizes.push(e.batchSize));
    const first = d.predict('m', row(0, 1));
    await flush();
    expect(g.calls).toEqual([1]);
    // Ten requests arrive while the first runs: one of two rows, nine of one.
    const two = d.predict('m', {
      x: [
        [10, 1],
        [20, 1],
      ],
    });
    const rest = Array.from({ length: 9 }, (_, i) => d.predict('m', row(i, 100)));
    expect(d.status('m').versions[0]!.queued).toBe(10);
    g.releaseAll();
    await flush();
    expect(g.calls).toEqual([1, 8]);
    g.releaseAll();
    await flush();
    expect(g.calls).toEqual([1, 8, 3]);
    g.releaseAll();
    expect(ys(await first)).toEqual({ shape: [1, 1], data: [1] });
    expect(ys(await two)).toEqual({ shape: [2, 1], data: [11, 21] });
    const results = await Promise.all(rest);
    expect(results.map((r) => ys(r).data[0])).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
    expect(results.every((r) => r.y!.shape[0] === 1)).toBe(true);
    expect(sizes.sort((a, b) => a - b)).toEqual([1, 3, 3, 3, 8, 8, 8, 8, 8, 8, 8]);
    expect(d.status('m').versions[0]!.batching).toEqual({ enabled: true, batches: 3, meanBatchSize: 12 / 3 });
  });

  it('runs a request that finds the model idle at once, alone, without queueing (maxQueueDelayMs 0)', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 8, maxQueueDelayMs: 0 } });
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    const lone = d.predict('m', row(3, 4));
    // Started in the call that made it: no timer, nothing queued.
    expect(clock.pending).toBe(0);
    expect(d.status('m').versions[0]!.queued).toBe(0);
    await flush();
    expect(g.calls).toEqual([1]);
    const queued = [d.predict('m', row(1, 0)), d.predict('m', row(2, 0))];
    expect(d.status('m').versions[0]!.queued).toBe(2);
    g.releaseAll();
    await flush();
    expect(g.calls).toEqual([1, 2]);
    g.releaseAll();
    expect(ys(await lone)).toEqual({ shape: [1, 1], data: [7] });
    expect((await Promise.all(queued)).map((r) => ys(r).data[0])).toEqual([1, 2]);
    expect(events.map((e) => [e.batchSize, e.queueMs])).toEqual([
      [1, 0],
      [2, 0],
      [2, 0],
    ]);
  });

  it('runs as many batches at once as a worker pool has instances, unless maxConcurrency says', async () => {
    const calls = async (options: { maxConcurrency?: number }) => {
      const d = new Deployer();
      const g = gatedModel('1');
      // What a WorkerPoolModel of two instances shows the Deployer.
      Object.defineProperty(g.model, 'instances', { value: 2 });
      await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 8 }, ...options });
      const all = [0, 1, 2, 3, 4].map((i) => d.predict('m', row(i, 0)));
      await flush();
      const started = [...g.calls];
      while (g.waiting.length > 0) {
        g.releaseAll();
        await flush();
      }
      await Promise.all(all);
      return started;
    };
    // Two instances: the first two requests run at once, each alone; three queue for a batch.
    expect(await calls({})).toEqual([1, 1]);
    expect(await calls({ maxConcurrency: 1 })).toEqual([1]);
  });

  it('waits up to maxQueueDelayMs for a batch, and no longer', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 4, maxQueueDelayMs: 5 } });
    const a = d.predict('m', row(1, 0));
    clock.advance(2);
    const b = d.predict('m', row(2, 0));
    await flush();
    expect(g.calls).toEqual([]);
    clock.advance(2);
    await flush();
    expect(g.calls).toEqual([]);
    clock.advance(1);
    await flush();
    expect(g.calls).toEqual([2]);
    g.releaseAll();
    expect([ys(await a).data, ys(await b).data]).toEqual([[1], [2]]);
    // A full batch goes at once, without waiting.
    const full = Array.from({ length: 4 }, (_, i) => d.predict('m', row(i, 0)));
    await flush();
    expect(g.calls).toEqual([2, 4]);
    g.releaseAll();
    await Promise.all(full);
    expect(clock.pending).toBe(0);
  });

  it('sends a preferred batch size at once', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, {
      warmup: false,
      batching: { maxBatchSize: 16, maxQueueDelayMs: 100, preferredBatchSizes: [3] },
    });
    const p = [d.predict('m', row(1, 0)), d.predict('m', row(2, 0))];
    await flush();
    expect(g.calls).toEqual([]);
    p.push(d.predict('m', row(3, 0)));
    await flush();
    expect(g.calls).toEqual([3]);
    g.releaseAll();
    expect((await Promise.all(p)).map((r) => ys(r).data[0])).toEqual([1, 2, 3]);
  });

  it('never stacks requests of different shapes, and runs an oversized request alone', async () => {
    const seen: string[] = [];
    const model = functionModel(
      ({ x }) => {
        seen.push(x!.shape.join('x'));
        const rows = x!.shape[0]!;
        return { n: { dtype: 'int32', shape: [rows], data: new Int32Array(rows).fill(x!.shape[1]!) } };
      },
      {
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', null] }],
          outputs: [{ name: 'n', dtype: 'int32', shape: ['batch'] }],
        },
      },
    );
    const d = new Deployer();
    await d.deploy('m', model, { warmup: false, batching: { maxBatchSize: 4 }, maxConcurrency: 1 });
    const make = (rows: number, cols: number) => ({
      x: { dtype: 'float32' as const, shape: [rows, cols], data: new Float32Array(rows * cols) },
    });
    const out = await Promise.all(
      [make(1, 2), make(1, 3), make(1, 2), make(6, 2), make(1, 3)].map((x) => d.predict('m', x)),
    );
    expect(out.map((o) => [...(o.n!.data as Int32Array)])).toEqual([[2], [3], [2], [2, 2, 2, 2, 2, 2], [3]]);
    // The first runs at once. Then, oldest first: the 1x3 pair together; the remaining 1x2
    // cannot join the 6-row request (it would pass maxBatchSize), so each runs alone.
    expect(seen).toEqual(['1x2', '2x3', '1x2', '6x2']);
  });

  it('fails only the bad request of a batch', async () => {
    const d = new Deployer();
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 8 } });
    const busy = d.predict('m', row(0, 0));
    await flush();
    const good = d.predict('m', row(1, 1));
    const bad = d.predict('m', { x: { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) } });
    const wrongType = d.predict('m', { x: { dtype: 'int32', shape: [1, 2], data: new Int32Array(2) } });
    const e = await bad.catch((err: unknown) => err);
    expect(ModelshipError.isInstance(e) && e.code).toBe('INPUT_SHAPE_MISMATCH');
    const e2 = await wrongType.catch((err: unknown) => err);
    expect(ModelshipError.isInstance(e2) && e2.code).toBe('INPUT_DTYPE_MISMATCH');
    g.releaseAll();
    await flush();
    g.releaseAll();
    expect(ys(await good).data).toEqual([2]);
    await busy;
  });

  it("applies the model's own input checks to each request, so a NaN fails alone", async () => {
    const finite = functionModel(
      ({ x }) => {
        const rows = x!.shape[0]!;
        return { y: { dtype: 'float32', shape: [rows, 1], data: new Float32Array(rows).fill(rows) } };
      },
      { signature: SIG, validation: { checkFinite: true } },
    );
    const d = new Deployer();
    await d.deploy('m', finite, { batching: { maxBatchSize: 8, maxQueueDelayMs: 0 } });
    const results = await Promise.allSettled(
      [row(1, 1), row(Number.NaN, 1), row(2, 2), row(3, 3)].map((x) => d.predict('m', x)),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const e = (results[1] as PromiseRejectedResult).reason;
    expect(ModelshipError.isInstance(e) && e.code).toBe('INPUT_NOT_FINITE');
    // the first ran alone, the two good ones after it together
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => ys(r.value).data[0])).toEqual([
      1, 2, 2,
    ]);
  });

  it('refuses a malformed request with the same error as an unbatched deployment', async () => {
    const plain = new Deployer();
    const batched = new Deployer();
    await plain.deploy('m', gatedModel('1').model, { warmup: false });
    await batched.deploy('m', gatedModel('1').model, { warmup: false, batching: { maxBatchSize: 4 } });
    for (const bad of [null, [[1, 2]], { x: 'a' }, { x: [[1, 2, 3]] }, { y: [[1, 2]] }]) {
      const a = await plain.predict('m', bad as never).catch((e: unknown) => e as ModelshipError);
      const b = await batched.predict('m', bad as never).catch((e: unknown) => e as ModelshipError);
      expect(ModelshipError.isInstance(b)).toBe(true);
      expect([b.code, b.message]).toEqual([a.code, a.message]);
    }
  });

  it('turns batching off for a model without a batch dimension, and says why', async () => {
    const model = functionModel(
      ({ x }) => ({ y: { dtype: 'float32', shape: [1, 1], data: new Float32Array([x!.data[0] as number]) } }),
      {
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
        },
      },
    );
    const d = new Deployer();
    const off: string[] = [];
    d.on('batchingDisabled', (e) => off.push(e.reason));
    await d.deploy('m', model, { batching: { maxBatchSize: 8 } });
    expect(off).toEqual([
      "the model has no batch dimension: 'x' has shape [1, 2], without a leading batch dimension",
    ]);
    const res = await Promise.all([1, 2, 3].map((v) => d.predict('m', row(v, 0))));
    expect(res.map((r) => ys(r).data[0])).toEqual([1, 2, 3]);
    expect(d.status('m').versions[0]!.batching).toMatchObject({
      enabled: false,
      batches: 3,
      meanBatchSize: 1,
    });
  });

  it('turns batching off when warmup shows the outputs do not keep the batch dimension', async () => {
    // Declares a batch dimension but sums over it: batching would mix requests together.
    const model = functionModel(
      ({ x }) => {
        const d = x!.data as Float32Array;
        let s = 0;
        for (const v of d) s += v;
        return { y: { dtype: 'float32', shape: [1, 1], data: new Float32Array([s]) } };
      },
      { signature: SIG },
    );
    const d = new Deployer();
    const off: string[] = [];
    d.on('batchingDisabled', (e) => off.push(e.reason));
    await d.deploy('m', model, { batching: { maxBatchSize: 4 } });
    expect(off).toEqual(["output 'y' has shape [1, 1] for a batch of 4"]);
    const res = await Promise.all([1, 2].map((v) => d.predict('m', row(v, 0))));
    expect(res.map((r) => ys(r).data[0])).toEqual([1, 2]);
  });

  it('reports queue time and batch size on prediction events', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, batching: { maxBatchSize: 2, maxQueueDelayMs: 10 } });
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    const a = d.predict('m', row(1, 0));
    clock.advance(4);
    const b = d.predict('m', row(2, 0));
    await flush();
    clock.advance(3);
    g.releaseAll();
    await Promise.all([a, b]);
    expect(events.map((e) => [e.queueMs, e.latencyMs, e.batchSize])).toEqual([
      [4, 7, 2],
      [0, 3, 2],
    ]);
  });
});

describe('stacking helpers', () => {
  it('stacks every dtype, strings included, and splits by rows', () => {
    const a = {
      s: { dtype: 'string' as const, shape: [1, 2], data: ['a', 'b'] },
      i: { dtype: 'int64' as const, shape: [1], data: new BigInt64Array([1n]) },
    };
    const b = {
      s: { dtype: 'string' as const, shape: [2, 2], data: ['c', 'd', 'e', 'f'] },
      i: { dtype: 'int64' as const, shape: [2], data: new BigInt64Array([2n, 3n]) },
    };
    const st = stackInputs([a, b], ['s', 'i'], 3);
    expect(st.s).toEqual({ dtype: 'string', shape: [3, 2], data: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(st.i).toEqual({ dtype: 'int64', shape: [3], data: new BigInt64Array([1n, 2n, 3n]) });
    const parts = splitOutputs(st, [1, 2], 3);
    expect(parts[0]!.s).toEqual(a.s);
    expect(parts[1]!.i).toEqual(b.i);
    expect(() =>
      splitOutputs({ y: { dtype: 'float32', shape: [2], data: new Float32Array(2) } }, [1, 2], 3),
    ).toThrow(/output 'y' has shape \[2\] for a batch of 3/);
  });

  it('knows which signatures can batch and makes warmup inputs from them', () => {
    expect(unbatchableReason(SIG)).toBeUndefined();
    expect(
      unbatchableReason({ inputs: [{ name: 'x', dtype: 'float32', shape: null }], outputs: [] }),
    ).toMatch(/\[\*\]/);
    const w = warmupInputs(
      {
        inputs: [
          { name: 'a', dtype: 'float32', shape: ['batch', 3, null] },
          { name: 'b', dtype: 'string', shape: [2] },
          { name: 'c', dtype: 'int64', shape: null },
        ],
        outputs: [],
      },
      4,
    );
    expect(w.a).toEqual({ dtype: 'float32', shape: [4, 3, 1], data: new Float32Array(12) });
    expect(w.b).toEqual({ dtype: 'string', shape: [2], data: ['', ''] });
    expect(w.c).toEqual({ dtype: 'int64', shape: [4], data: new BigInt64Array(4) });
  });
});
