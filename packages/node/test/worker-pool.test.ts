/**
 * Sessions on worker threads (`loadModel(…, { instances })`): the same Model as in-thread,
 * the same answers bit for bit, the same typed errors, cancellation, a dispose that waits, a
 * crashed instance replaced, and the calling thread free while a model runs.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import {
  Deployer,
  InputError,
  type InstanceEvent,
  type Model,
  ModelLoadError,
  type NamedTensors,
  OnnxModel,
  tensor,
  WorkerPoolModel,
} from '@modelship/core';
import { describe, expect, it, vi } from 'vitest';
import { modelContract } from '../../core/src/model/model.case';
import { FileSystemRepository, loadModel } from '../src/index';
import { spawnThread } from '../src/worker-threads';
import { casesOf, failure, modelPath } from './fixtures';
import { captured } from './serve-process';

// Worker threads start from the TypeScript sources here (tsx in each thread): seconds apiece
// on a loaded machine. No assertion depends on time.
vi.setConfig({ testTimeout: 180_000 });

function bits(out: NamedTensors): Record<string, { dtype: string; shape: number[]; data: unknown[] }> {
  return Object.fromEntries(
    Object.entries(out).map(([k, t]) => [
      k,
      { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data as ArrayLike<unknown>) },
    ]),
  );
}

const slowInput = { x: tensor('float32', new Float32Array(8), [1, 8]) };

modelContract('WorkerPoolModel (onnxruntime-node, 2 worker threads)', async () => {
  const [one, three] = casesOf('two_inputs');
  return {
    model: await loadModel(modelPath('two_inputs'), { instances: 2 }),
    inputs: one!.inputs,
    otherInputs: three!.inputs,
  };
});

describe('loadModel with instances (sessions on worker threads)', () => {
  it('answers exactly what the in-thread session answers (fraud.onnx, digits.onnx)', async () => {
    for (const name of ['fraud', 'digits']) {
      const here = await loadModel(modelPath(name), { intraOpNumThreads: 1 });
      const pooled = await loadModel(modelPath(name), { intraOpNumThreads: 1, instances: 2 });
      expect(here).toBeInstanceOf(OnnxModel);
      expect(pooled).toBeInstanceOf(WorkerPoolModel);
      expect(pooled.name).toBe(name);
      expect(pooled.signature).toEqual(here.signature);
      const cases = casesOf(name);
      // All at once, so both instances answer some of them.
      const got = await Promise.all(cases.map((c) => pooled.predict(c.inputs)));
      for (const [i, c] of cases.entries()) expect(bits(got[i]!)).toEqual(bits(await here.predict(c.inputs)));
      const first = here.signature.outputs[0]!.name;
      expect(bits(await pooled.predict(cases[0]!.inputs, { outputs: [first] }))).toEqual(
        bits(await here.predict(cases[0]!.inputs, { outputs: [first] })),
      );
      expect((pooled as WorkerPoolModel).status().map((s) => s.state)).toEqual(['ready', 'ready']);
      await Promise.all([here.dispose(), pooled.dispose()]);
    }
  });

  it('leaves the caller its input buffers, even a view into a larger one', async () => {
    const model = await loadModel(modelPath('fraud'), { instances: 1 });
    const whole = new Float32Array(100).map((_, i) => i / 100);
    const features = tensor('float32', whole.subarray(12, 24), [1, 12]);
    const a = await model.predict({ features });
    expect(whole.length).toBe(100);
    expect(features.data.length).toBe(12);
    expect(features.data[0]).toBeCloseTo(0.12, 6);
    const b = await model.predict({
      features: tensor('float32', Float32Array.from(whole.subarray(12, 24)), [1, 12]),
    });
    expect(bits(a)).toEqual(bits(b));
    await model.dispose();
  });

  it('brings errors thrown in a worker back as the same typed errors as in-thread', async () => {
    const here = await loadModel(modelPath('identity_all_dtypes'));
    const pooled = await loadModel(modelPath('identity_all_dtypes'), { instances: 1 });
    const inputs = Object.fromEntries(
      here.signature.inputs.map((s) => [
        s.name,
        s.dtype === 'string'
          ? tensor('string', ['a', 'b\u0000c'], [1, 2])
          : tensor(
              s.dtype,
              s.dtype === 'bool'
                ? [false, true]
                : s.dtype.endsWith('64') && s.dtype.includes('int')
                  ? [0n, 1n]
                  : [0, 1],
              [1, 2],
            ),
      ]),
    );
    // onnxruntime would cut the string at the NUL: OnnxModel.run refuses it, in the worker.
    const mine = await failure(here.predict(inputs));
    const theirs = await failure(pooled.predict(inputs));
    expect(theirs).toBeInstanceOf(InputError);
    expect([theirs.name, theirs.code, theirs.message, theirs.details]).toEqual([
      mine.name,
      mine.code,
      mine.message,
      mine.details,
    ]);
    expect(theirs.code).toBe('INPUT_INVALID');
    expect(theirs.details).toEqual({ input: 'in_string', index: 1 });

    // A Buffer's slice() is a view of its memory: the bytes are copied, never transferred (that
    // would empty the caller's Buffer, or Node's shared pool for small ones).
    const owned = Buffer.alloc(2);
    owned.set([7, 9]);
    const pooledBytes = Buffer.from([5, 6]);
    for (const bytes of [owned, pooledBytes]) {
      const fine = {
        ...inputs,
        in_string: tensor('string', ['a', 'b'], [1, 2]),
        in_uint8: tensor('uint8', bytes, [1, 2]),
      };
      const out = await pooled.predict(fine);
      expect(Array.from(out.out_uint8!.data as Uint8Array)).toEqual([...bytes]);
    }
    expect([[...owned], [...pooledBytes]]).toEqual([
      [7, 9],
      [5, 6],
    ]);
    await Promise.all([here.dispose(), pooled.dispose()]);

    // onnxruntime's own refusal at load time: the same code and message, its error as the cause.
    const refusedHere = await failure(loadModel(modelPath('bad_op')));
    const refused = await failure(loadModel(modelPath('bad_op'), { instances: 2 }));
    expect(refused).toBeInstanceOf(ModelLoadError);
    expect([refused.code, refused.message]).toEqual([refusedHere.code, refusedHere.message]);
    expect(refused.code).toBe('MODEL_REJECTED');
    expect((refused.cause as Error).message).toBe((refusedHere.cause as Error).message);
    const notModel = join(tmpdir(), `modelship-pool-${process.pid}.onnx`);
    writeFileSync(notModel, '{"not": "a model"}');
    const invalid = await failure(loadModel(notModel, { instances: 1 }));
    expect(invalid.code).toBe('MODEL_INVALID');
    expect(invalid.message).toMatch(/is not an ONNX model/);
    expect((await failure(loadModel(modelPath('nope'), { instances: 1 }))).code).toBe('MODEL_NOT_FOUND');
    expect((await failure(loadModel(modelPath('fraud'), { instances: -1 }))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(loadModel(modelPath('fraud'), { instances: 1.5 }))).message).toContain(
      "instances must be 'auto' or an integer from 0 to 256",
    );
  });

  it('keeps the calling thread free while a model runs (in-thread, it does not)', async () => {
    const order: string[] = [];
    const race = async (model: Model, label: string) => {
      const run = model.predict(slowInput).then(() => order.push(`${label} inference`));
      setTimeout(() => order.push(`${label} timer`), 0);
      await run;
      await new Promise((r) => setTimeout(r, 5));
    };
    const here = await loadModel(modelPath('slow_loop'));
    await here.predict(slowInput); // warm
    await race(here, 'in-thread');
    const pooled = await loadModel(modelPath('slow_loop'), { instances: 1 });
    await pooled.predict(slowInput);
    await race(pooled, 'pool');
    expect(order).toEqual(['in-thread inference', 'in-thread timer', 'pool timer', 'pool inference']);
    await Promise.all([here.dispose(), pooled.dispose()]);
  });

  it('aborts and times out through the pool; dispose waits for the run the worker started', async () => {
    const model = await loadModel(modelPath('slow_loop'), { instances: 1 });
    const order: string[] = [];
    const controller = new AbortController();
    const aborted = model.predict(slowInput, { signal: controller.signal });
    const second = model.predict(slowInput).then(() => order.push('second answered'));
    controller.abort(new Error('client left'));
    const e = await failure(aborted);
    expect([e.code, e.message]).toEqual(['ABORTED', 'the operation was aborted: client left']);
    order.push('abort answered');
    await model.dispose().then(() => order.push('disposed'));
    await second;
    expect(order).toEqual(['abort answered', 'second answered', 'disposed']);
    expect((await failure(model.predict(slowInput))).code).toBe('MODEL_DISPOSED');

    const deployer = new Deployer();
    await deployer.deploy('slow', () => loadModel(modelPath('slow_loop'), { instances: 1 }), {
      version: '1',
      timeoutMs: 20,
      warmup: false,
    });
    const late = await failure(deployer.predict('slow', slowInput));
    expect(late.code).toBe('DEADLINE_EXCEEDED');
    await deployer.close();
  });

  it('fails the calls of a crashed instance with a typed error and replaces it', async () => {
    const workers: Worker[] = [];
    const events: InstanceEvent[] = [];
    const model = await WorkerPoolModel.create({
      name: 'slow',
      instances: 1,
      spawn: () => spawnThread((w) => workers.push(w)),
      load: { source: modelPath('slow_loop'), load: { name: 'slow' } },
      onInstanceEvent: (e) => events.push(e),
    });
    // The thread dies of an uncaught exception (a message its handler cannot read), not through
    // the pool, with a call posted to it. Not terminate() during a run: stopping a thread while
    // onnxruntime-node runs in it can abort the whole process in the addon's teardown
    // ('terminate called after throwing an instance of Napi::Error', seen once under load); the
    // pool itself only ends threads that are idle.
    workers[0]!.postMessage(null);
    const running = model.predict(slowInput);
    const e = await failure(running);
    expect(e.code).toBe('INFERENCE_FAILED');
    expect(e.message).toMatch(
      /^model 'slow' version '1': worker instance 0 stopped \(.+\); the calls it was running failed and it is being replaced$/,
    );
    expect(e.details).toEqual({ model: 'slow', version: '1', instance: 0 });
    const out = await model.predict(slowInput); // waits for the replacement, then answers
    expect(out.y!.shape).toEqual([1, 8]);
    expect(workers.length).toBe(2);
    expect(model.restarts).toBe(1);
    expect(events.map((x) => x.type)).toEqual(['started', 'exited', 'replaced']);
    expect(events[1]).toMatchObject({ model: 'slow', version: '1', instance: 0, failedCalls: 1 });
    expect(model.status()).toEqual([{ instance: 0, state: 'ready', inFlight: 0 }]);
    await model.dispose();
  });

  it("'auto' keeps a microsecond model in-thread and moves a slow one to a worker thread", async () => {
    const fast = await loadModel(modelPath('fraud'), { instances: 'auto' });
    expect(fast).toBeInstanceOf(OnnxModel);
    const slow = await loadModel(modelPath('slow_loop'), { instances: 'auto' });
    expect(slow).toBeInstanceOf(WorkerPoolModel);
    expect((slow as WorkerPoolModel).instances).toBe(1);
    // A threshold no model reaches keeps even the slow one here.
    const kept = await loadModel(modelPath('slow_loop'), { instances: 'auto', workerThresholdMs: 1e9 });
    expect(kept).toBeInstanceOf(OnnxModel);
    await Promise.all([fast.dispose(), slow.dispose(), kept.dispose()]);
  });

  it("takes instances from a model's config.json, over the repository's default", async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-pool-repo-'));
    for (const [name, config] of [
      ['fraud', { instances: 2 }],
      ['digits', undefined],
      ['iris', { instances: 0 }],
    ] as const) {
      mkdirSync(join(root, name, '1'), { recursive: true });
      copyFileSync(modelPath(name), join(root, name, '1', 'model.onnx'));
      if (config !== undefined) writeFileSync(join(root, name, 'config.json'), JSON.stringify(config));
    }
    const repo = new FileSystemRepository(root, { instances: 1, settleMs: 0 });
    const events: string[] = [];
    repo.on('problem', (p) => events.push(p.reason));
    repo.attach({ deploy: async () => undefined, undeploy: async () => undefined });
    await repo.sync();
    expect(events).toEqual([]);
    const fraud = await repo.loadVersion('fraud', '1');
    const digits = await repo.loadVersion('digits', '1');
    const iris = await repo.loadVersion('iris', '1');
    expect(fraud).toBeInstanceOf(WorkerPoolModel);
    expect((fraud as WorkerPoolModel).instances).toBe(2);
    expect(digits).toBeInstanceOf(WorkerPoolModel);
    expect((digits as WorkerPoolModel).instances).toBe(1);
    expect(iris).toBeInstanceOf(OnnxModel);
    await Promise.all([fraud.dispose(), digits.dispose(), iris.dispose()]);

    writeFileSync(join(root, 'iris', 'config.json'), '{"instances": "many"}');
    await repo.sync();
    expect(events.join('\n')).toContain(
      'instances must be "auto" or an integer from 0 to 256, received "many"',
    );
  });

  it('keeps the process alive while a call is pending, and not once the pool is idle', async () => {
    // A script that never disposes its pool: it must print the answer, then exit by itself.
    const dir = mkdtempSync(join(tmpdir(), 'modelship-pool-exit-'));
    const script = join(dir, 'script.mts');
    const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    writeFileSync(
      script,
      `import { loadModel } from ${JSON.stringify(index)};
const model = await loadModel(${JSON.stringify(modelPath('slow_loop'))}, { instances: 1 });
const out = await model.predict({ x: { dtype: 'float32', shape: [1, 8], data: new Float32Array(8) } });
console.log('answered', out.y.shape.join('x'));
`,
    );
    const tsx = createRequire(import.meta.url).resolve('tsx/cli') as string;
    const child = spawn(process.execPath, [tsx, '--conditions=@modelship/source', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = captured(child);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect([code, output().trim()]).toEqual([0, 'answered 1x8']);
  });
});
