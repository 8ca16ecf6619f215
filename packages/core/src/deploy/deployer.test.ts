import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { Deployer } from './deployer';
import { FakeClock, flush, gatedModel, row, SIG, seeded, sumModel } from './fakes.case';
import type { PredictionEvent } from './types';

const y0 = (out: { y?: { data: unknown } }) => (out.y!.data as Float32Array)[0];

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<ModelshipError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(ModelshipError.isInstance(e), `expected a ModelshipError ${code}, got ${String(e)}`).toBe(true);
  expect((e as ModelshipError).code).toBe(code);
  if (message) expect((e as Error).message).toMatch(message);
  return e as ModelshipError;
}

describe('Deployer: the unbatched request path', () => {
  it('reads the clock twice per request that starts at once, and reports it as never queued', async () => {
    let reads = 0;
    const clock = new FakeClock();
    const counting = Object.assign(Object.create(clock) as FakeClock, {
      now: () => {
        reads++;
        return clock.now();
      },
    });
    const d = new Deployer({ clock: counting });
    await d.deploy('sum', sumModel('1', 100).model);
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    reads = 0;
    expect(y0(await d.predict('sum', row(1, 2)))).toBe(103);
    expect(reads).toBe(2);
    expect(events[0]).toMatchObject({ queueMs: 0, batchSize: 1 });
    await d.close();
  });

  it('reports queueMs 0 for a request that never queued, on the system clock too', async () => {
    const d = new Deployer();
    await d.deploy('sum', sumModel('1', 100).model);
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    await Promise.all([d.predict('sum', row(1, 2)), d.predict('sum', row(3, 4))]);
    expect(events.map((e) => e.queueMs)).toEqual([0, 0]);
    await d.close();
  });
});

describe('Deployer: deploy, predict, status', () => {
  it('serves a version and reports it', async () => {
    const d = new Deployer();
    const v1 = sumModel('1', 100);
    const st = await d.deploy('sum', v1.model);
    expect(st).toMatchObject({ version: '1', state: 'ready', traffic: 1 });
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    expect(y0(await d.predict('sum', row(1, 2)))).toBe(103);
    expect(y0(await d.predict('sum', { x: [[3, 4]] }))).toBe(107);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      name: 'sum',
      version: '1',
      kind: 'serve',
      batchSize: 1,
      error: undefined,
    });
    expect(events[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    const s = d.status('sum');
    expect(s.primary).toBe('1');
    expect(s.policy).toEqual({ type: 'single' });
    expect(s.versions[0]).toMatchObject({ version: '1', requests: 2, errors: 0, inFlight: 0, queued: 0 });
    // warmup ran once on zeros before any traffic
    expect(v1.calls).toEqual([1, 1, 1]);
  });

  it("runs kind 'explain' calls like any request, but marks their events and leaves them out of the version's statistics", async () => {
    const d = new Deployer();
    await d.deploy('sum', sumModel('1', 100).model, { warmup: false });
    const events: PredictionEvent[] = [];
    d.on('prediction', (e) => events.push(e));
    expect(y0(await d.predict('sum', row(1, 2), { kind: 'explain' }))).toBe(103);
    expect(y0(await d.model('sum', { kind: 'explain' }).predict(row(2, 2)))).toBe(104);
    expect(y0(await d.predict('sum', row(1, 1), { kind: 'serve' }))).toBe(102);
    expect(events.map((e) => e.kind)).toEqual(['explain', 'explain', 'serve']);
    expect(d.status('sum').versions[0]).toMatchObject({ requests: 1, errors: 0 });
    await rejectsWith(
      d.predict('sum', row(1, 2), { kind: 'shadow' as never }),
      'INVALID_ARGUMENT',
      /kind must be 'serve' or 'explain'/,
    );
  });

  it('takes the version from the loader options and warms up with given inputs', async () => {
    const d = new Deployer();
    const v = sumModel('ignored', 0);
    const warmed: string[] = [];
    d.on('warmedUp', (e) => warmed.push(`${e.version}:${e.runs}`));
    await d.deploy('m', async () => v.model, {
      version: '7',
      warmup: { inputs: [row(1, 1), row(2, 2)], runs: 2 },
    });
    expect(warmed).toEqual(['7:4']);
    expect(d.status('m').primary).toBe('7');
    await d.deploy('n', sumModel('1', 0).model, { warmup: false });
    expect(d.status('n').versions[0]!.requests).toBe(0);
  });

  it('rejects bad arguments with typed errors', async () => {
    const d = new Deployer();
    await rejectsWith(d.predict('nope', row(1, 2)), 'DEPLOYMENT_NOT_FOUND', /no model named 'nope'/);
    await rejectsWith(d.deploy('bad name!', sumModel('1', 0).model), 'INVALID_ARGUMENT', /name must be/);
    await rejectsWith(d.deploy('m', 42 as never), 'INVALID_ARGUMENT', /source must be/);
    await rejectsWith(
      d.deploy('m', sumModel('1', 0).model, { bogus: 1 } as never),
      'INVALID_ARGUMENT',
      /unknown option 'bogus'/,
    );
    await rejectsWith(
      d.deploy('m', async () => sumModel('1', 0).model),
      'INVALID_ARGUMENT',
      /version is required/,
    );
    await rejectsWith(
      d.deploy('m', sumModel('1', 0).model, { batching: { maxBatchSize: 0 } }),
      'INVALID_ARGUMENT',
      /maxBatchSize must be a positive integer/,
    );
    await rejectsWith(
      d.deploy('m', sumModel('1', 0).model, { policy: { type: 'canary', weight: 2 } }),
      'INVALID_ARGUMENT',
      /canary weight must be a number in \[0, 1\]/,
    );
    await rejectsWith(
      d.deploy('m', sumModel('1', 0).model, {
        policy: { type: 'rollout', steps: [{ weight: 0.1 }, { weight: 1 }] },
      }),
      'INVALID_ARGUMENT',
      /step 0 needs durationMs or minRequests/,
    );
    await rejectsWith(
      d.deploy('m', async () => ({ predict: 1 }) as never, { version: '1' }),
      'INVALID_ARGUMENT',
      /must be a Model/,
    );
    expect(d.names()).toEqual([]);
    await d.deploy('m', sumModel('1', 0).model);
    await rejectsWith(
      d.predict('m', row(1, 2), { version: '9' }),
      'VERSION_NOT_FOUND',
      /no version '9' loaded \(loaded: 1\)/,
    );
    await rejectsWith(d.predict('m', row(1, 2), { timeoutMs: -1 }), 'INVALID_ARGUMENT', /timeoutMs/);
    await rejectsWith(
      d.predict('m', row(1, 2), { routingKey: 5 as never }),
      'INVALID_ARGUMENT',
      /routingKey/,
    );
    await rejectsWith(d.predict('m', { x: [[1, 2, 3]] }), 'INPUT_SHAPE_MISMATCH', /'x'/);
    await rejectsWith(d.predict('m', {}), 'INPUT_MISSING', /'x'/);
  });

  it('answers VERSION_NOT_READY while the first version loads', async () => {
    const d = new Deployer();
    let finish!: () => void;
    const loading = d.deploy('m', () => new Promise((r) => (finish = () => r(sumModel('1', 0).model))), {
      version: '1',
    });
    await flush();
    await rejectsWith(d.predict('m', row(1, 2)), 'VERSION_NOT_READY', /no version ready yet \(loading: 1\)/);
    await rejectsWith(d.predict('m', row(1, 2), { version: '1' }), 'VERSION_NOT_READY', /still loading/);
    expect(d.status('m').loading).toEqual(['1']);
    finish();
    await loading;
    expect(y0(await d.predict('m', row(1, 2)))).toBe(3);
  });

  it('exposes a deployment as a Model', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('4', 10).model);
    const m = d.model('m');
    expect(m).toMatchObject({ name: 'm', version: '4', signature: SIG });
    expect(y0(await m.predict(row(1, 1)))).toBe(12);
  });

  it('gives the signature of the primary or of a named version', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('4', 10).model);
    expect(d.signature('m')).toEqual(SIG);
    // The model's own object, the same on every call (the server caches per signature).
    expect(d.signature('m', '4')).toBe(d.signature('m'));
    expect(d.signature('m')).toBe(d.model('m').signature);
    expect(() => d.signature('nope')).toThrow(ModelshipError);
    expect(() => d.signature('m', '9')).toThrow(ModelshipError);
    expect(() => d.signature('m', '')).toThrow(/version must be a non-empty string/);
  });

  it('refuses everything once closed, after draining', async () => {
    const d = new Deployer();
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false });
    const p = d.predict('m', row(1, 2));
    await flush();
    const closing = d.close();
    await flush();
    expect(g.disposed).toBe(0);
    g.releaseAll();
    expect(y0(await p)).toBe(3);
    await closing;
    expect(g.disposed).toBe(1);
    await rejectsWith(d.predict('m', row(1, 2)), 'DEPLOYER_CLOSED');
    await rejectsWith(d.deploy('m', sumModel('1', 0).model), 'DEPLOYER_CLOSED');
  });
});

describe('Deployer: hot swap and rollback', () => {
  it('loads the new version off the request path, switches, then drains and disposes the old one', async () => {
    const d = new Deployer();
    const g1 = gatedModel('1', 100);
    await d.deploy('m', g1.model, { warmup: false });
    const inFlight = d.predict('m', row(1, 1));
    await flush();
    let finishLoad!: () => void;
    const v2 = sumModel('2', 200);
    const events: string[] = [];
    d.on('promoted', (e) => events.push(`promoted ${e.version} from ${e.previous}`));
    d.on('unloaded', (e) => events.push(`unloaded ${e.version}`));
    const deploying = d.deploy('m', () => new Promise((r) => (finishLoad = () => r(v2.model))), {
      version: '2',
    });
    await flush();
    // While 2 loads, 1 serves.
    const during = d.predict('m', row(2, 2));
    await flush();
    expect(g1.waiting).toHaveLength(2);
    g1.waiting.pop()!.release();
    expect(y0(await during)).toBe(104);
    finishLoad();
    await deploying;
    expect(events).toEqual(['promoted 2 from 1']);
    expect(y0(await d.predict('m', row(1, 2)))).toBe(203);
    // The old version still has a request in flight: it is not disposed until that finishes.
    expect(g1.disposed).toBe(0);
    g1.releaseAll();
    expect(y0(await inFlight)).toBe(102);
    await flush(20);
    expect(g1.disposed).toBe(1);
    expect(events).toEqual(['promoted 2 from 1', 'unloaded 1']);
    expect(d.status('m').versions.map((v) => v.version)).toEqual(['2']);
  });

  it('keeps the old version serving when the new one fails to load or to warm up', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 100).model);
    const failures: string[] = [];
    d.on('loadFailed', (e) => failures.push(`${e.version}:${e.stage}`));
    const e1 = await rejectsWith(
      d.deploy('m', async () => Promise.reject(new Error('corrupt protobuf')), { version: '2' }),
      'MODEL_INVALID',
      /model 'm' version '2' failed to load: corrupt protobuf/,
    );
    expect((e1.cause as Error).message).toBe('corrupt protobuf');
    // A warmup sample given is a real request: its failure refuses the version.
    const bad = sumModel('3', 0, { fail: (x) => (x.data as Float32Array)[0] === 9 });
    const e3 = await rejectsWith(
      d.deploy('m', bad.model, { warmup: { inputs: [row(1, 1), row(9, 9)], names: ['a.json', 'b.json'] } }),
      'WARMUP_FAILED',
      /^model 'm' version '3' failed its warmup: sample b\.json: .*version 3 failed/,
    );
    expect(e3.details).toMatchObject({ model: 'm', version: '3', sample: 1, name: 'b.json' });
    expect(bad.calls).toEqual([1, 1]);
    expect(bad.disposed).toBe(1);
    expect(failures).toEqual(['2:load', '3:warmup']);
    expect(d.status('m')).toMatchObject({ primary: '1', loading: [] });
    expect(d.status('m').versions.map((v) => v.version)).toEqual(['1']);
    expect(y0(await d.predict('m', row(0, 0)))).toBe(100);
  });

  it('serves a version whose synthetic warmup fails, and says the warmup was skipped and why', async () => {
    const d = new Deployer();
    const events: string[] = [];
    d.on('warmupSkipped', (e) => events.push(`skipped ${e.version}: ${e.reason}`));
    d.on('warmedUp', (e) => events.push(`warmed ${e.version}`));
    d.on('loadFailed', (e) => events.push(`failed ${e.version}`));
    // Like a model needing more samples than the zeros (batch 1) the synthetic warmup sends.
    const picky = sumModel('1', 10, { fail: (x) => (x.data as Float32Array)[0] === 0 });
    const st = await d.deploy('m', picky.model);
    expect(st).toMatchObject({ state: 'ready', warmup: { state: 'skipped', runs: 0 } });
    expect(events).toEqual([
      "skipped 1: the synthetic warmup (zeros, symbolic dimensions 1) failed: model 'model' failed: version 1 failed",
    ]);
    expect(d.status('m').versions[0]!.warmup).toEqual({
      state: 'skipped',
      runs: 0,
      reason: events[0]!.slice('skipped 1: '.length),
      code: 'INFERENCE_FAILED',
    });
    expect(picky.calls).toEqual([1]);
    expect(y0(await d.predict('m', row(1, 2)))).toBe(13);

    // The batch-size warmup is synthetic too: the version serves, batching on, warmup skipped.
    const big = sumModel('2', 20, { fail: (x) => x.shape[0] === 8 });
    await d.deploy('m', big.model, { batching: { maxBatchSize: 8 } });
    expect(d.status('m').versions.find((v) => v.version === '2')).toMatchObject({
      warmup: {
        state: 'skipped',
        runs: 1,
        reason: expect.stringMatching(/^the warmup batch at maxBatchSize 8 \(zeros\) failed/),
      },
      batching: { enabled: true },
    });
    expect(events.slice(1)).toEqual([
      'warmed 2',
      expect.stringMatching(/^skipped 2: the warmup batch at maxBatchSize 8 \(zeros\) failed/),
    ]);
    expect(y0(await d.predict('m', row(1, 2)))).toBe(23);

    // With samples given, the batch is the first sample repeated: zeros never reach the model.
    const sampled = sumModel('5', 50, { fail: (x) => (x.data as Float32Array)[0] === 0 });
    await d.deploy('m', sampled.model, {
      batching: { maxBatchSize: 4 },
      warmup: { inputs: [row(2, 3)] },
      replace: false,
    });
    expect(sampled.calls).toEqual([1, 4]);
    expect(d.status('m').versions.find((v) => v.version === '5')).toMatchObject({
      warmup: { state: 'warmed', runs: 2 },
      batching: { enabled: true },
    });
    expect(await d.predict('m', row(1, 1), { version: '5' })).toMatchObject({
      y: { data: Float32Array.of(52) },
    });

    const ok = sumModel('3', 30);
    await d.deploy('m', ok.model);
    expect(d.status('m').versions.find((v) => v.version === '3')!.warmup).toEqual({
      state: 'warmed',
      runs: 1,
    });
    await d.deploy('m', sumModel('4', 40).model, { warmup: false });
    expect(d.status('m').versions.find((v) => v.version === '4')!.warmup).toEqual({ state: 'off', runs: 0 });
    expect(events.filter((e) => e.startsWith('failed'))).toEqual([]);
  });

  it('makes warmup samples from the loaded signature when given a function', async () => {
    const d = new Deployer();
    const v = sumModel('1', 0);
    const seen: string[] = [];
    await d.deploy('m', v.model, {
      warmup: {
        inputs: (signature) => {
          seen.push(signature.inputs.map((i) => i.name).join());
          return [row(4, 4)];
        },
      },
    });
    expect(seen).toEqual(['x']);
    expect(v.calls).toEqual([1]);
    expect(d.status('m').versions[0]!.warmup).toEqual({ state: 'warmed', runs: 1 });
    await rejectsWith(
      d.deploy('m', sumModel('2', 0).model, {
        warmup: {
          inputs: () => {
            throw new Error('warmup/a.json: not JSON');
          },
        },
      }),
      'WARMUP_FAILED',
      /^model 'm' version '2' failed its warmup: warmup\/a\.json: not JSON$/,
    );
    await rejectsWith(
      d.deploy('m', sumModel('3', 0).model, { warmup: { inputs: () => [] } }),
      'WARMUP_FAILED',
      /warmup.inputs must give a non-empty array/,
    );
    expect(d.status('m').versions.map((x) => x.version)).toEqual(['1']);
  });

  it('gives up on a load or a warmup that never ends, and disposes a model that arrives late', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    await d.deploy('m', sumModel('1', 100).model);
    let arrive!: () => void;
    const late = sumModel('2', 0);
    const loading = d.deploy('m', () => new Promise((r) => (arrive = () => r(late.model))), {
      version: '2',
      loadTimeoutMs: 1000,
    });
    await flush();
    clock.advance(1000);
    await rejectsWith(loading, 'DEADLINE_EXCEEDED', /version '2' did not load within 1000 ms/);
    arrive();
    await flush(20);
    expect(late.disposed).toBe(1);
    const stuck = gatedModel('3');
    const warming = d.deploy('m', stuck.model, { loadTimeoutMs: 500 });
    await flush();
    clock.advance(500);
    await rejectsWith(warming, 'WARMUP_FAILED', /did not warm up within 500 ms/);
    // disposed once the stuck warmup call ends
    expect(stuck.disposed).toBe(0);
    stuck.releaseAll();
    await flush(20);
    expect(stuck.disposed).toBe(1);
    // the next deploy of the same model is not held up
    await d.deploy('m', sumModel('4', 400).model);
    expect(y0(await d.predict('m', row(0, 0)))).toBe(400);
  });

  it('refuses a policy that cannot apply before installing the version', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 100).model);
    const v2 = sumModel('2', 200);
    await rejectsWith(
      d.deploy('m', v2.model, { policy: { type: 'ab', weights: { '2': 0.5, '9': 0.5 } } }),
      'VERSION_NOT_FOUND',
      /no version '9' loaded \(loaded: 1\)/,
    );
    await flush(20);
    expect(v2.disposed).toBe(1);
    const again = sumModel('1', 111);
    await rejectsWith(
      d.deploy('m', again.model, { policy: { type: 'canary', weight: 0.5 } }),
      'INVALID_ARGUMENT',
      /version '1' is already the primary/,
    );
    expect(d.status('m').versions.map((v) => v.version)).toEqual(['1']);
    expect(y0(await d.predict('m', row(0, 0)))).toBe(100);
  });

  it('leaves no deployment behind when its first version fails', async () => {
    const d = new Deployer();
    await rejectsWith(
      d.deploy('m', sumModel('1', 0, { fail: () => true }).model, { warmup: { inputs: [row(1, 1)] } }),
      'WARMUP_FAILED',
    );
    expect(d.names()).toEqual([]);
  });

  it('rolls back to the previous version when it was kept, and says why it cannot otherwise', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 100).model);
    await d.deploy('m', sumModel('2', 200).model, { replace: false });
    expect(d.status('m').versions.map((v) => [v.version, v.traffic])).toEqual([
      ['1', 0],
      ['2', 1],
    ]);
    // the kept version is still addressable
    expect(y0(await d.predict('m', row(0, 0), { version: '1' }))).toBe(100);
    const rolled: string[] = [];
    d.on('rolledBack', (e) => rolled.push(`${e.version}->${e.restored}: ${e.reason}`));
    expect(d.rollback('m', 'bad metrics')).toBe('1');
    expect(rolled).toEqual(['2->1: bad metrics']);
    expect(y0(await d.predict('m', row(0, 0)))).toBe(100);
    await d.deploy('m', sumModel('3', 300).model); // replaces 1
    await d.undeploy('m', '2');
    await rejectsWith(
      Promise.resolve().then(() => d.rollback('m')),
      'VERSION_NOT_FOUND',
      /replace: false/,
    );
  });

  it('reloads a version deployed again under the same name, draining the earlier instance', async () => {
    const d = new Deployer();
    const a = sumModel('1', 1);
    await d.deploy('m', a.model);
    await d.deploy('m', sumModel('1', 2).model);
    await flush(20);
    expect(a.disposed).toBe(1);
    expect(y0(await d.predict('m', row(0, 0)))).toBe(2);
  });

  it('undeploys the primary by handing traffic to the version before it', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 100).model);
    await d.deploy('m', sumModel('2', 200).model, { replace: false });
    await d.undeploy('m', '2');
    expect(d.status('m').primary).toBe('1');
    expect(y0(await d.predict('m', row(0, 0)))).toBe(100);
    await d.undeploy('m', '1');
    expect(d.names()).toEqual([]);
    await rejectsWith(d.predict('m', row(0, 0)), 'DEPLOYMENT_NOT_FOUND');
  });

  it('swaps under 64 concurrent callers without failing a request', async () => {
    const d = new Deployer();
    // Models that yield to the event loop, so calls really overlap with the swaps.
    const slow = (version: string, offset: number) =>
      functionModel(
        async ({ x }) => {
          await new Promise((r) => setTimeout(r, 0));
          const rows = x!.shape[0]!;
          return { y: { dtype: 'float32', shape: [rows, 1], data: new Float32Array(rows).fill(offset) } };
        },
        { signature: SIG, version },
      );
    await d.deploy('m', slow('1', 1));
    let stop = false;
    const seen = new Map<number, number>();
    let failures = 0;
    const caller = async () => {
      while (!stop) {
        try {
          const v = y0(await d.predict('m', row(0, 0)))!;
          seen.set(v, (seen.get(v) ?? 0) + 1);
        } catch {
          failures++;
        }
      }
    };
    const callers = Array.from({ length: 64 }, caller);
    for (let v = 2; v <= 6; v++) {
      await new Promise((r) => setTimeout(r, 5));
      await d.deploy('m', slow(String(v), v));
    }
    await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await Promise.all(callers);
    expect(failures).toBe(0);
    expect([...seen.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.status('m').versions.map((v) => v.version)).toEqual(['6']);
  });
});

describe('Deployer: admission control', () => {
  it('turns requests away past maxQueue at once, and keeps the others', async () => {
    const d = new Deployer();
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, maxConcurrency: 1, maxQueue: 2 });
    const a = d.predict('m', row(1, 0));
    const b = d.predict('m', row(2, 0));
    const c = d.predict('m', row(3, 0));
    const e = await rejectsWith(
      d.predict('m', row(4, 0)),
      'MODEL_OVERLOADED',
      /2 requests are queued \(maxQueue 2\)/,
    );
    expect(e.name).toBe('OverloadedError');
    expect(d.status('m').versions[0]).toMatchObject({ inFlight: 1, queued: 2 });
    for (let i = 0; i < 3; i++) {
      await flush();
      g.releaseAll();
    }
    expect([y0(await a), y0(await b), y0(await c)]).toEqual([1, 2, 3]);
    expect(g.calls).toEqual([1, 1, 1]);
  });

  it('admits exactly maxConcurrency + maxQueue of a wave and refuses the rest at once, wave after wave', async () => {
    const d = new Deployer();
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, maxConcurrency: 2, maxQueue: 16 });
    for (let wave = 0; wave < 5; wave++) {
      const outcomes: string[] = [];
      const all = Array.from({ length: 180 }, (_, i) =>
        d.predict('m', row(i, 0)).then(
          () => outcomes.push('ok'),
          (e: ModelshipError) => outcomes.push(e.code),
        ),
      );
      // Refusals settle before any admitted request runs to its end.
      await flush();
      expect(outcomes.length).toBe(162);
      expect(new Set(outcomes)).toEqual(new Set(['MODEL_OVERLOADED']));
      expect(d.status('m').versions[0]).toMatchObject({ inFlight: 2, queued: 16 });
      while (g.waiting.length > 0) {
        g.releaseAll();
        await flush();
      }
      await Promise.all(all);
      expect(outcomes.filter((o) => o === 'ok').length).toBe(18);
    }
    expect(g.calls.length).toBe(5 * 18);
  });

  it('cancels a queued request on abort and on timeout, freeing its place', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, maxConcurrency: 1, maxQueue: 1 });
    const running = d.predict('m', row(1, 0));
    const ac = new AbortController();
    const aborted = d.predict('m', row(2, 0), { signal: ac.signal });
    expect(d.status('m').versions[0]!.queued).toBe(1);
    ac.abort(new Error('user left'));
    await rejectsWith(aborted, 'ABORTED');
    expect(d.status('m').versions[0]!.queued).toBe(0);
    const timed = d.predict('m', row(3, 0), { timeoutMs: 50 });
    clock.advance(49);
    await flush();
    expect(d.status('m').versions[0]!.queued).toBe(1);
    clock.advance(1);
    const e = await rejectsWith(timed, 'DEADLINE_EXCEEDED', /did not answer within 50 ms/);
    expect(e.name).toBe('DeadlineExceededError');
    expect(d.status('m').versions[0]!.queued).toBe(0);
    await flush();
    g.releaseAll();
    expect(y0(await running)).toBe(1);
    // neither cancelled request ever ran
    expect(g.calls).toEqual([1]);
    expect(clock.pending).toBe(0);
  });

  it('applies a deployment-wide timeout to a running request and keeps its slot until it ends', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const g = gatedModel('1');
    await d.deploy('m', g.model, { warmup: false, maxConcurrency: 1, timeoutMs: 10 });
    const p = d.predict('m', row(1, 0));
    await flush();
    clock.advance(10);
    await rejectsWith(p, 'DEADLINE_EXCEEDED');
    expect(d.status('m').versions[0]!.inFlight).toBe(1);
    g.releaseAll();
    await flush(20);
    expect(d.status('m').versions[0]).toMatchObject({ inFlight: 0, requests: 1, errors: 1 });
  });
});

describe('Deployer: traffic policies', () => {
  const share = async (d: Deployer, n: number, key?: (i: number) => string) => {
    const counts: Record<number, number> = {};
    for (let i = 0; i < n; i++) {
      const v = y0(await d.predict('m', row(0, 0), key ? { routingKey: key(i) } : undefined))!;
      counts[v] = (counts[v] ?? 0) + 1;
    }
    return counts;
  };

  it('splits a canary by weight within statistical tolerance', async () => {
    const d = new Deployer({ random: seeded(7) });
    await d.deploy('m', sumModel('1', 1).model);
    await d.deploy('m', sumModel('2', 2).model, { policy: { type: 'canary', weight: 0.2 } });
    expect(d.status('m').versions.map((v) => v.traffic)).toEqual([0.8, 0.2]);
    const c = await share(d, 10_000);
    // 4 standard deviations of Binomial(10000, 0.2) is 160.
    expect(Math.abs(c[2]! - 2000)).toBeLessThan(160);
    expect(c[1]! + c[2]!).toBe(10_000);
  });

  it('tells onRoute which version answers, before the request queues', async () => {
    const d = new Deployer({ random: seeded(3) });
    await d.deploy('m', sumModel('1', 1).model);
    await d.deploy('m', sumModel('2', 2).model, { policy: { type: 'canary', weight: 0.5 } });
    for (let i = 0; i < 40; i++) {
      let routed: string | undefined;
      const out = await d.predict('m', row(0, 0), {
        onRoute: (v) => {
          routed = v;
        },
      });
      // sumModel(version, k) adds k: the answer names the version that computed it.
      expect(routed).toBe(String(y0(out)));
    }
    await rejectsWith(
      d.predict('m', row(0, 0), { onRoute: 'v' as never }),
      'INVALID_ARGUMENT',
      /onRoute must be a function/,
    );
    await d.close();
  });

  it('routes a key to the same version every time, and a growing weight only moves keys to the candidate', async () => {
    const d = new Deployer({ random: () => 0.5 });
    await d.deploy('m', sumModel('1', 1).model, { replace: false });
    await d.deploy('m', sumModel('2', 2).model, { policy: { type: 'canary', weight: 0.1 } });
    const first = new Map<string, number>();
    for (let i = 0; i < 2000; i++)
      first.set(`user-${i}`, y0(await d.predict('m', row(0, 0), { routingKey: `user-${i}` }))!);
    for (let i = 0; i < 2000; i += 7) {
      expect(y0(await d.predict('m', row(0, 0), { routingKey: `user-${i}` }))).toBe(first.get(`user-${i}`));
    }
    const onCandidate = [...first.values()].filter((v) => v === 2).length;
    expect(Math.abs(onCandidate - 200)).toBeLessThan(4 * Math.sqrt(2000 * 0.1 * 0.9));
    d.setPolicy('m', { type: 'canary', version: '2', weight: 0.5 });
    for (const [key, v] of first) {
      const now = y0(await d.predict('m', row(0, 0), { routingKey: key }));
      if (v === 2) expect(now).toBe(2);
    }
  });

  it('splits A/B traffic by sticky key', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 1).model);
    await d.deploy('m', sumModel('2', 2).model, { policy: { type: 'ab', weights: { '1': 0.7, '2': 0.3 } } });
    const c = await share(d, 5000, (i) => `k${i}`);
    expect(Math.abs(c[2]! - 1500)).toBeLessThan(4 * Math.sqrt(5000 * 0.3 * 0.7));
    await rejectsWith(
      Promise.resolve().then(() => d.setPolicy('m', { type: 'ab', weights: { '1': 0.5, '9': 0.5 } })),
      'VERSION_NOT_FOUND',
    );
    await rejectsWith(
      Promise.resolve().then(() => d.setPolicy('m', { type: 'ab', weights: { '1': 0.5, '2': 0.6 } })),
      'INVALID_ARGUMENT',
      /add up to 1/,
    );
  });

  it('never lets a shadow change a response or wait for it', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 1).model);
    // The shadow is slow (never released during the checks), and wrong on every other row.
    const shadow = gatedModel('2', 50);
    await d.deploy('m', shadow.model, { warmup: false, policy: { type: 'shadow' } });
    const compared: (number | undefined)[] = [];
    d.on('compared', (e) => compared.push(e.disagreement));
    for (let i = 0; i < 20; i++) expect(y0(await d.predict('m', row(i, 1)))).toBe(i + 2);
    expect(compared).toEqual([]);
    await flush();
    expect(shadow.waiting).toHaveLength(20);
    shadow.releaseAll();
    await flush(20);
    expect(compared).toHaveLength(20);
    // y differs by 49: argmax of a one-wide row cannot be used, allclose says they disagree
    expect(compared.every((x) => x === 1)).toBe(true);
    const st = d.status('m');
    expect(st.versions.map((v) => [v.version, v.traffic, v.requests])).toEqual([
      ['1', 1, 20],
      ['2', 0, 20],
    ]);
  });

  it('drops shadow copies when the shadow is overloaded, without touching responses', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 1).model);
    const shadow = gatedModel('2', 1);
    await d.deploy('m', shadow.model, {
      warmup: false,
      maxConcurrency: 1,
      maxQueue: 0,
      policy: { type: 'shadow' },
    });
    for (let i = 0; i < 10; i++) expect(y0(await d.predict('m', row(i, 0)))).toBe(i + 1);
    await flush();
    expect(shadow.calls).toEqual([1]);
    expect(d.status('m').versions[1]!.errors).toBe(0);
  });

  it('rolls a canary back when its error rate crosses the guard', async () => {
    const d = new Deployer({ random: seeded(3) });
    await d.deploy('m', sumModel('1', 1).model);
    const flaky = sumModel('2', 2, { fail: (x) => (x.data as Float32Array)[0]! % 2 === 1 });
    await d.deploy('m', flaky.model, {
      warmup: { inputs: [row(0, 0)] },
      policy: { type: 'canary', weight: 0.5, guards: { maxErrorRate: 0.1, minRequests: 20 } },
    });
    const rolled: { version: string; reason: string }[] = [];
    d.on('rolledBack', (e) => rolled.push(e));
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      await d.predict('m', row(i, 0)).catch(() => failures++);
    }
    expect(rolled).toHaveLength(1);
    expect(rolled[0]!.version).toBe('2');
    expect(rolled[0]!.reason).toMatch(/error rate .* is above maxErrorRate 0.1/);
    expect(d.status('m').policy).toEqual({ type: 'single' });
    // Only the candidate's share of the requests before the guard fired failed.
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(40);
    const after = await share(d, 50);
    expect(after).toEqual({ 1: 50 });
  });

  it('rolls a canary back when its outputs disagree with the primary', async () => {
    const d = new Deployer({ random: seeded(11) });
    await d.deploy('m', sumModel('1', 0).model);
    await d.deploy('m', sumModel('2', 0.5).model, {
      policy: {
        type: 'canary',
        weight: 0.3,
        guards: { maxDisagreement: 0.05, minRequests: 16 },
        compare: { atol: 0.1, rtol: 0 },
      },
    });
    const rolled: string[] = [];
    d.on('rolledBack', (e) => rolled.push(e.reason));
    for (let i = 0; i < 300 && rolled.length === 0; i++) {
      await d.predict('m', row(i, 0));
      await flush();
    }
    expect(rolled).toHaveLength(1);
    expect(rolled[0]).toMatch(/disagree with the primary's on 100% of rows, above maxDisagreement 0.05/);
  });

  it('rolls out in steps and promotes at the end', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock, random: seeded(5) });
    await d.deploy('m', sumModel('1', 1).model);
    const steps: string[] = [];
    d.on('rolloutStep', (e) => steps.push(`${e.step}:${e.weight}`));
    d.on('promoted', (e) => steps.push(`promoted ${e.version}`));
    await d.deploy('m', sumModel('2', 2).model, {
      policy: {
        type: 'rollout',
        steps: [
          { weight: 0.1, minRequests: 16 },
          { weight: 0.5, durationMs: 60_000 },
          { weight: 1, minRequests: 8 },
        ],
        guards: { maxErrorRate: 0.01, minRequests: 8 },
      },
    });
    expect(steps).toEqual(['0:0.1']);
    while (d.status('m').rollout?.step === 0) await d.predict('m', row(0, 0));
    expect(steps).toEqual(['0:0.1', '1:0.5']);
    expect(d.status('m').versions.map((v) => v.traffic)).toEqual([0.5, 0.5]);
    for (let i = 0; i < 100; i++) await d.predict('m', row(0, 0));
    expect(d.status('m').rollout).toEqual({ step: 1, weight: 0.5 });
    clock.advance(60_000);
    expect(steps).toEqual(['0:0.1', '1:0.5', '2:1']);
    for (let i = 0; i < 8; i++) await d.predict('m', row(0, 0));
    expect(steps).toEqual(['0:0.1', '1:0.5', '2:1', 'promoted 2']);
    expect(d.status('m')).toMatchObject({ primary: '2', policy: { type: 'single' } });
    await flush(20);
    expect(d.status('m').versions.map((v) => v.version)).toEqual(['2']);
  });

  it('rolls back a rollout on a custom guard (a Monitor metric)', async () => {
    const d = new Deployer({ random: seeded(9) });
    await d.deploy('m', sumModel('1', 1).model, { replace: false });
    let drift = 0;
    await d.deploy('m', sumModel('2', 2).model, {
      policy: {
        type: 'rollout',
        steps: [{ weight: 0.5, minRequests: 1000 }, { weight: 1 }],
        guards: { minRequests: 8, check: () => (drift > 0.2 ? `prediction drift ${drift}` : undefined) },
      },
    });
    for (let i = 0; i < 40; i++) await d.predict('m', row(0, 0));
    expect(d.status('m').policy.type).toBe('rollout');
    drift = 0.3;
    for (let i = 0; i < 40; i++) await d.predict('m', row(0, 0));
    expect(d.status('m')).toMatchObject({ primary: '1', policy: { type: 'single' } });
    expect(d.status('m').versions.map((v) => [v.version, v.traffic])).toEqual([
      ['1', 1],
      ['2', 0],
    ]);
  });

  it('rolls a canary back when its p99 latency passes the limit or the primary by a ratio', async () => {
    const clock = new FakeClock();
    // Each call moves the fake clock on by the model's own latency.
    const timed = (version: string, ms: number) =>
      functionModel(
        ({ x }) => {
          clock.advance(ms);
          return { y: { dtype: 'float32', shape: [x!.shape[0]!, 1], data: new Float32Array(x!.shape[0]!) } };
        },
        { signature: SIG, version },
      );
    const run = async (guards: object) => {
      const d = new Deployer({ clock, random: seeded(1) });
      await d.deploy('m', timed('1', 2), { warmup: false });
      await d.deploy('m', timed('2', 9), { warmup: false, policy: { type: 'canary', weight: 0.5, guards } });
      const reasons: string[] = [];
      d.on('rolledBack', (e) => reasons.push(e.reason));
      for (let i = 0; i < 200 && reasons.length === 0; i++) await d.predict('m', row(0, 0));
      return reasons;
    };
    expect(await run({ minRequests: 16, maxP99LatencyMs: 10 })).toEqual([]);
    expect(await run({ minRequests: 16, maxP99LatencyMs: 8 })).toEqual([
      'p99 latency 9 ms is above maxP99LatencyMs 8',
    ]);
    expect(await run({ minRequests: 16, maxP99LatencyRatio: 4 })).toEqual([
      "p99 latency 9 ms is more than 4× the primary's 2 ms",
    ]);
  });

  it('promotes a canary on request', async () => {
    const d = new Deployer();
    const v1 = sumModel('1', 1);
    await d.deploy('m', v1.model);
    await d.deploy('m', sumModel('2', 2).model, { policy: { type: 'canary', weight: 0.01 } });
    d.promote('m');
    expect(y0(await d.predict('m', row(0, 0)))).toBe(2);
    await flush(20);
    expect(v1.disposed).toBe(1);
  });
});

describe('Deployer: malformed requests', () => {
  it('answers malformed inputs with typed errors and keeps its slots', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 0).model, { maxConcurrency: 1 });
    for (const bad of [
      null,
      5,
      'x',
      [],
      { x: null },
      { x: 7 },
      { x: { dtype: 'float32', shape: [1, 2], data: [1] } },
    ]) {
      const e = await d.predict('m', bad as never).catch((err: unknown) => err);
      expect(ModelshipError.isInstance(e), String(e)).toBe(true);
    }
    expect(d.status('m').versions[0]).toMatchObject({ inFlight: 0, queued: 0 });
    expect((await d.predict('m', row(1, 2))).y!.data).toEqual(new Float32Array([3]));
  });
});
