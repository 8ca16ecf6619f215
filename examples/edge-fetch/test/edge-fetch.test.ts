/**
 * The edge example under Node's own fetch (`Request`/`Response` from undici): the module's
 * default export is called as a Worker, Bun or Deno would call it, with no server in between.
 * Its answers are checked against the same model's `predict` and scikit-learn's numbers.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadModel } from '@modelship/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesOf, modelPath } from '../../../packages/node/test/fixtures';
import server, { type Env, edgeServer } from '../src/server';

let files: Server;
let env: Env;
const asked: string[] = [];

beforeAll(async () => {
  // Where the model is served from, as a Worker would fetch it from R2 or a CDN.
  files = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url === '/fraud.onnx') res.writeHead(200).end(readFileSync(modelPath('fraud')));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  env = { MODEL_URL: `${base}/fraud.onnx`, TOKEN: 's3cret' };
});
afterAll(() => new Promise<void>((resolve) => files.close(() => resolve())));

const [c] = casesOf('fraud');
const features = [...(c!.inputs.features!.data as Float32Array)];
const infer = (headers: Record<string, string>) =>
  new Request('https://edge.example/v2/models/fraud/infer', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      id: 'edge-1',
      inputs: [{ name: 'features', shape: [features.length / 12, 12], datatype: 'FP32', data: features }],
    }),
  });

describe('examples/edge-fetch', () => {
  it('answers the Open Inference Protocol from its default export, as a Worker runtime calls it', async () => {
    const ready = await server.fetch(new Request('https://edge.example/v2/health/ready'), env);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    const res = await server.fetch(infer({ authorization: 'Bearer s3cret' }), env);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; model_version: string; outputs: { data: number[] }[] };
    expect(body.id).toBe('edge-1');
    expect(body.model_version).toBe('1');
    // The same model on the same runtime, called directly.
    const model = await loadModel(readFileSync(modelPath('fraud')));
    const direct = await model.predict(c!.inputs);
    await model.dispose();
    expect(body.outputs[0]!.data.map((v) => Math.fround(v))).toEqual([
      ...(direct.probability!.data as Float32Array),
    ]);
    expect(body.outputs[1]!.data).toEqual([...(c!.outputs.label!.data as BigInt64Array)].map(Number));
    const want = c!.outputs.probability!.data as Float32Array;
    for (const [i, p] of body.outputs[0]!.data.entries()) expect(Math.abs(p - want[i]!)).toBeLessThan(1e-6);
    // The model was fetched once, on the first request, and kept.
    expect(asked.filter((u) => u === '/fraud.onnx')).toHaveLength(1);
  });

  it('asks for credentials when the environment sets a token', async () => {
    const res = await server.fetch(infer({}), env);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ error: 'credentials required: send Authorization: Bearer <token>' });
  });

  it('answers 503 with the reason while the model cannot be loaded, and loads it once it can', async () => {
    const fresh = edgeServer();
    const missing = { ...env, MODEL_URL: env.MODEL_URL.replace('fraud.onnx', 'gone.onnx') };
    const res = await fresh.fetch(new Request('https://edge.example/v2/health/ready'), missing);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({
      error: `the model could not be loaded from ${missing.MODEL_URL}: fetching '${missing.MODEL_URL}' answered 404 Not Found`,
    });
    const again = await fresh.fetch(new Request('https://edge.example/v2/models/fraud/ready'), env);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ name: 'fraud', ready: true });
  });
});
