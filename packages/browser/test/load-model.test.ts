/**
 * @modelship/browser under Node: onnxruntime-web ships a Node build of its wasm backend, so the
 * browser loader, the shared ONNX model class and the Model contract are checked here on every
 * run; test/chromium.test.ts repeats the essentials in a real browser.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeIntegrity, type Tensor, toArray } from '@modelship/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelContract } from '../../core/src/model/model.case';
import { casesOf, expected, modelPath, tabular, tabularPath } from '../../node/test/fixtures';
import { loadModel } from '../src/index';
import { loadModel as loadModelWebGpu } from '../src/webgpu';
import { workerFailure } from '../src/worker-model';

let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = /^\/models\/([a-z_]+)\.onnx$/.exec(req.url ?? '')?.[1];
    if (name === undefined || !existsSync(modelPath(name))) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(modelPath(name));
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength })
      .end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

modelContract('OnnxModel (onnxruntime-web, wasm)', async () => {
  const [one, three] = casesOf('two_inputs');
  return {
    model: await loadModel(readFileSync(modelPath('two_inputs'))),
    inputs: one!.inputs,
    otherInputs: three!.inputs,
  };
});

function close(actual: Tensor, want: Tensor): void {
  expect(actual.shape).toEqual(want.shape);
  const a = toArray(actual) as number[];
  const b = toArray(want) as number[];
  for (let i = 0; i < b.length; i++)
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(b[i]!));
}

describe('loadModel (browser package, wasm backend)', () => {
  it('serves a converter classifier’s ZipMap output as probabilities with the class labels', async () => {
    const c = tabular.gb_iris_str!;
    const model = await loadModel(readFileSync(tabularPath('gb_iris_str')));
    expect(model.signature.outputs).toEqual([
      { name: 'output_label', dtype: 'string', shape: [null] },
      {
        name: 'output_probability',
        dtype: 'float32',
        shape: [null, 3],
        labels: ['setosa', 'versicolor', 'virginica'],
      },
    ]);
    const out = await model.predict({
      input: { dtype: 'float32', shape: [c.rows, 4], data: Float32Array.from(c.inputs) },
    });
    const p = out.output_probability!.data as Float32Array;
    for (const [i, v] of c.probabilities!.entries()) expect(p[i]).toBeCloseTo(v, 6);
    expect(toArray(out.output_label!)).toEqual(c.predicted);
    await model.dispose();
  });

  it('downloads with progress, names the model after the URL and computes what numpy computed', async () => {
    const progress: { loaded: number; total: number | undefined }[] = [];
    const model = await loadModel(`${base}/models/digits.onnx`, { onProgress: (p) => progress.push(p) });
    expect(model.name).toBe('digits');
    expect(model.signature).toEqual(expected.digits!.signature);
    const size = readFileSync(modelPath('digits')).byteLength;
    expect(progress[0]).toEqual({ loaded: 0, total: size });
    expect(progress.at(-1)).toEqual({ loaded: size, total: size });
    for (const c of casesOf('digits')) {
      const out = await model.predict(c.inputs);
      close(out.probabilities!, c.outputs.probabilities!);
    }
    expect(model.diagnostics).toMatchObject({
      executionProvider: 'wasm',
      cache: 'off',
      bytes: size,
      threads: 1,
    });
    await model.dispose();
  });

  it('reads a scalar input as the graph declares it ([]), so a rank-1 value is refused by name', async () => {
    const model = await loadModel(`${base}/models/scalar_input.onnx`, { logSeverityLevel: 4 });
    expect(model.signature).toEqual(expected.scalar_input!.signature);
    const [c] = casesOf('scalar_input');
    close((await model.predict(c!.inputs)).y!, c!.outputs.y!);
    await expect(
      model.predict({ ...c!.inputs, sr: { dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, 2n) } }),
    ).rejects.toMatchObject({ code: 'INPUT_RANK_MISMATCH', details: { input: 'sr' } });
    await model.dispose();
  });

  it('falls back through execution providers and says why', async () => {
    const model = await loadModelWebGpu(`${base}/models/iris.onnx`, {
      executionProviders: ['webgpu', 'wasm'],
    });
    expect(model.diagnostics.executionProvider).toBe('wasm');
    expect(model.diagnostics.skipped).toEqual([
      { provider: 'webgpu', reason: 'is not available: this browser has no navigator.gpu' },
    ]);
    expect(model.diagnostics.notices).toContain(
      'using wasm: webgpu is not available: this browser has no navigator.gpu',
    );
    await model.dispose();
    await expect(
      loadModelWebGpu(`${base}/models/iris.onnx`, { executionProviders: ['webgpu'] }),
    ).rejects.toMatchObject({
      code: 'MODEL_REJECTED',
      message:
        "no execution provider could run 'iris': webgpu: is not available: this browser has no navigator.gpu",
    });
  });

  it('names the other entry when the wasm-only build is asked for WebGPU or WebNN', async () => {
    const model = await loadModel(`${base}/models/iris.onnx`, {
      executionProviders: ['webgpu', 'webnn', 'wasm'],
    });
    expect(model.diagnostics.executionProvider).toBe('wasm');
    const reason =
      "is not in @modelship/browser's wasm-only build: import loadModel from '@modelship/browser/webgpu' for WebGPU and WebNN";
    expect(model.diagnostics.skipped).toEqual([
      { provider: 'webgpu', reason },
      { provider: 'webnn', reason },
    ]);
    await model.dispose();
  });

  it('says why a worker failed: the error and its place, or that its script did not load (never "undefined")', () => {
    expect(
      workerFailure({
        message: 'Uncaught SyntaxError: bad',
        filename: 'http://x/worker.js',
        lineno: 3,
        colno: 7,
      }),
    ).toBe('Uncaught SyntaxError: bad at http://x/worker.js:3:7');
    // A module worker whose script or one of its imports fails to load gets a bare Event.
    const bare = workerFailure({});
    expect(bare).toMatch(
      /^its script did not load \(the browser gives no reason: look for a failed request or a module import error in the console/,
    );
    expect(bare).not.toContain('undefined');
  });

  it('checks integrity of downloaded bytes and of bytes passed in', async () => {
    const good = await computeIntegrity(readFileSync(modelPath('fraud')));
    const model = await loadModel(`${base}/models/fraud.onnx`, { integrity: good });
    await model.dispose();
    const other = await computeIntegrity(new Uint8Array([1]));
    await expect(loadModel(`${base}/models/fraud.onnx`, { integrity: other })).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
    });
    await expect(loadModel(readFileSync(modelPath('fraud')), { integrity: other })).rejects.toMatchObject({
      code: 'INTEGRITY_MISMATCH',
    });
  });

  it('reports HTTP errors, non-models and refused models with typed errors', async () => {
    await expect(loadModel(`${base}/models/nope.onnx`)).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
      message: `fetching '${base}/models/nope.onnx' answered 404 Not Found`,
    });
    await expect(loadModel('http://127.0.0.1:1/m.onnx')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(loadModel(new TextEncoder().encode('<html>'))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
    });
    await expect(loadModel(readFileSync(modelPath('bad_op')))).rejects.toMatchObject({
      code: 'MODEL_REJECTED',
    });
    await expect(loadModel(`${base}/models/iris.onnx`, { executionProviders: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(loadModel(`${base}/models/iris.onnx`, { numThreads: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('turns threads off, and says why, when the page is not cross-origin isolated', async () => {
    const model = await loadModel(`${base}/models/linear.onnx`, { numThreads: 4 });
    expect(model.diagnostics.threads).toBe(1);
    expect(model.diagnostics.crossOriginIsolated).toBe(false);
    expect(model.diagnostics.notices).toContain(
      'wasm threads are off: the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
    await model.dispose();
  });

  it('says when caching is asked for where Cache Storage does not exist', async () => {
    const model = await loadModel(`${base}/models/linear.onnx`, { cache: true });
    expect(model.diagnostics.cache).toBe('off');
    expect(model.diagnostics.notices).toContain(
      'Cache Storage is not available here (it needs a secure context); the model was not cached',
    );
    await model.dispose();
  });
});
