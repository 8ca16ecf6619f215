import { describe, expect, it } from 'vitest';
import type { DeclaredValue } from '../load/onnx-graph';
import { OnnxModel, signatureFromSession } from './onnx-model';
import type { OnnxRuntime, OrtSession, OrtTensor, OrtValueMetadata } from './onnx-runtime';

const meta = (name: string, shape: (number | string)[]): OrtValueMetadata => ({
  name,
  isTensor: true,
  type: 'float32',
  shape,
});
const declared = (
  name: string,
  shape: DeclaredValue['shape'],
  dtype: DeclaredValue['dtype'] = 'float32',
): DeclaredValue => ({
  name,
  kind: dtype === null ? 'unknown' : 'tensor',
  type: dtype === null ? 'unknown' : 'tensor(float)',
  dtype,
  elemType: dtype === null ? 0 : 1,
  shape,
});
const session = (inputs: OrtValueMetadata[]) =>
  ({ inputMetadata: inputs, outputMetadata: [meta('y', ['batch'])] }) as unknown as OrtSession;

describe('signatureFromSession', () => {
  const s = session([
    meta('scalar', []),
    meta('undeclared', []),
    meta('overridden', [8, 'n']),
    // '' and -1 (onnxruntime-node), 2^32 - 1 (onnxruntime-web): a dimension with no size or name
    meta('unnamed', ['', -1, 4294967295]),
    meta('absent', []),
    meta('odd', [3]),
  ]);

  it('without the graph, reads onnxruntime’s [] as unknown rank', () => {
    expect(signatureFromSession(s).inputs.map((i) => i.shape)).toEqual([
      null,
      null,
      [8, 'n'],
      [null, null, null],
      null,
      [3],
    ]);
  });

  it('with the graph, tells a scalar from an undeclared shape and keeps sizes onnxruntime fixed', () => {
    const sig = signatureFromSession(s, {
      inputs: [
        declared('scalar', []),
        declared('undeclared', null),
        // a free dimension override: onnxruntime enforces 8 where the graph says 'batch'
        declared('overridden', ['batch', 'n']),
        declared('unnamed', [null, null, null]),
        // the graph and onnxruntime disagree on the rank: onnxruntime's is what it checks
        declared('odd', [3, 1]),
      ],
      outputs: [declared('y', ['batch'])],
    });
    expect(sig.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['scalar', []],
      ['undeclared', null],
      ['overridden', [8, 'n']],
      ['unnamed', [null, null, null]],
      ['absent', null],
      ['odd', [3]],
    ]);
    expect(sig.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['batch'] }]);
  });

  it('lists outputs that are not tensors with their declared kind, and puts ZipMap labels on theirs', () => {
    const sig = signatureFromSession(
      {
        inputMetadata: [meta('x', [''])],
        outputMetadata: [
          meta('p', ['', 2]),
          { name: 'maps', isTensor: false },
          { name: 'other', isTensor: false },
        ],
      } as unknown as OrtSession,
      {
        inputs: [],
        outputs: [
          {
            ...declared('maps', null, null),
            kind: 'sequence of maps',
            type: 'seq(map(int64,tensor(float)))',
          },
        ],
      },
      [{ name: 'p', labels: [-1, 1] }],
    );
    expect(sig.outputs).toEqual([{ name: 'p', dtype: 'float32', shape: [null, 2], labels: [-1, 1] }]);
    expect(sig.unsupportedOutputs).toEqual([
      { name: 'maps', kind: 'sequence of maps', type: 'seq(map(int64,tensor(float)))' },
      { name: 'other', kind: 'unknown', type: 'unknown' },
    ]);
    expect(() =>
      signatureFromSession({
        inputMetadata: [],
        outputMetadata: [{ name: 'maps', isTensor: false }],
      } as unknown as OrtSession),
    ).toThrow("the model has no tensor outputs that onnxruntime-js can return ('maps' is not a tensor)");
  });

  it('a declaration that is not a tensor does not override onnxruntime', () => {
    const sig = signatureFromSession(session([meta('x', [])]), {
      inputs: [declared('x', [], null)],
      outputs: [],
    });
    expect(sig.inputs[0]!.shape).toBeNull();
  });
});

/** A fake onnxruntime module whose session answers `y = 2x` from a handler, `run`, or both. */
function fakeRuntime(kind: { handler: boolean; run: boolean }) {
  const calls: { via: 'handler' | 'run'; fetches: unknown; options: unknown }[] = [];
  let fail: Error | undefined;
  let drop = false;
  const answer = (feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> => {
    if (fail !== undefined) return Promise.reject(fail);
    const x = feeds.x!;
    const y = Float32Array.from(x.data as Float32Array, (v) => 2 * v);
    const out: Record<string, OrtTensor> = drop ? {} : { y: { type: 'float32', dims: [...x.dims], data: y } };
    return Promise.resolve(out);
  };
  const session = {
    inputNames: ['x'],
    outputNames: ['y'],
    inputMetadata: [meta('x', ['batch', 2])],
    outputMetadata: [meta('y', ['batch', 2])],
    release: async () => {},
    ...(kind.run
      ? {
          run: (feeds: Record<string, OrtTensor>, fetches?: unknown) => {
            calls.push({ via: 'run', fetches, options: undefined });
            return answer(feeds);
          },
        }
      : {
          run: () => {
            throw new Error('session.run must not be called when the handler is');
          },
        }),
    ...(kind.handler
      ? {
          handler: {
            run: (feeds: Record<string, OrtTensor>, fetches: unknown, options: unknown) => {
              calls.push({ via: 'handler', fetches: { ...(fetches as object) }, options });
              return answer(feeds);
            },
          },
        }
      : {}),
  };
  const runtime: OnnxRuntime = {
    InferenceSession: { create: async () => session as unknown as OrtSession },
    Tensor: class {
      constructor(
        readonly type: string,
        readonly data: unknown,
        readonly dims: readonly number[],
      ) {}
    } as OnnxRuntime['Tensor'],
  };
  return {
    runtime,
    calls,
    failWith: (e: Error) => {
      fail = e;
    },
    dropOutputs: () => {
      drop = true;
    },
  };
}

const x = { x: { dtype: 'float32' as const, shape: [1, 2], data: Float32Array.of(1, 2) } };

/** Promise turns until `p` settles, counted by a chain of empty awaits. */
async function turns(p: Promise<unknown>): Promise<number> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  let n = 0;
  while (!done) {
    await null;
    n++;
  }
  return n;
}

describe('OnnxModel runs', () => {
  it('calls the session’s backend handler directly, with every output or the ones asked for', async () => {
    const fake = fakeRuntime({ handler: true, run: false });
    const model = await OnnxModel.create(fake.runtime, new Uint8Array(0));
    const out = await model.predict(x);
    expect(out).toEqual({ y: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(2, 4) } });
    await model.predict(x, { outputs: ['y'] });
    expect(fake.calls).toEqual([
      { via: 'handler', fetches: { y: null }, options: {} },
      { via: 'handler', fetches: { y: null }, options: {} },
    ]);
    await model.dispose();
  });

  it('uses session.run when the session has no handler, or when runs are exclusive', async () => {
    for (const [kind, exclusiveRuns] of [
      [{ handler: false, run: true }, false],
      [{ handler: true, run: true }, true],
    ] as const) {
      const fake = fakeRuntime(kind);
      const model = await OnnxModel.create(fake.runtime, new Uint8Array(0), { exclusiveRuns });
      expect(await model.predict(x)).toEqual({
        y: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(2, 4) },
      });
      expect(fake.calls.map((c) => c.via)).toEqual(['run']);
      await model.dispose();
    }
  });

  it('answers one promise turn after the runtime does', async () => {
    const fake = fakeRuntime({ handler: true, run: false });
    const model = await OnnxModel.create(fake.runtime, new Uint8Array(0));
    const session = (model.session as unknown as { handler: { run: (...a: unknown[]) => Promise<unknown> } })
      .handler;
    const raw = await turns(
      session.run({ x: { type: 'float32', dims: [1, 2], data: x.x.data } }, { y: null }, {}),
    );
    expect(await turns(model.predict(x))).toBe(raw + 1);
    await model.dispose();
  });

  it('ends a failed run, so dispose does not wait for it', async () => {
    const fake = fakeRuntime({ handler: true, run: false });
    const model = await OnnxModel.create(fake.runtime, new Uint8Array(0), { name: 'm' });
    fake.failWith(new Error('boom'));
    await expect(model.predict(x)).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    fake.dropOutputs();
    const other = fakeRuntime({ handler: true, run: false });
    other.dropOutputs();
    const model2 = await OnnxModel.create(other.runtime, new Uint8Array(0), { name: 'm2' });
    await expect(model2.predict(x)).rejects.toThrow("model 'm2': onnxruntime returned no output 'y'");
    // Both resolve only once their in-flight count is back to zero.
    await Promise.all([model.dispose(), model2.dispose()]);
    expect(model.disposed && model2.disposed).toBe(true);
  });
});
