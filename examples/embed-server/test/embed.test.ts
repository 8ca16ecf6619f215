/**
 * The same inference routes mounted in node:http, Express, Fastify and Hono: each app keeps its
 * own routes, and Modelship answers the protocols', JSON and binary alike, TorchServe's too.
 */
import { Deployer, loadModel } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as express } from '../src/express';
import { start as fastify } from '../src/fastify';
import { start as hono } from '../src/hono';
import { start as nodeHttp } from '../src/node-http';

const deployer = new Deployer();
beforeAll(async () => {
  await deployer.deploy(
    'fraud',
    () => loadModel(new URL('../../../fixtures/models/fraud.onnx', import.meta.url).pathname),
    { version: '3' },
  );
});
afterAll(() => deployer.close());

const features = Array.from({ length: 12 }, (_, i) => i / 10);

for (const [name, start] of [
  ['node:http', nodeHttp],
  ['express', express],
  ['fastify', fastify],
  ['hono', hono],
] as const) {
  describe(name, () => {
    let app: Awaited<ReturnType<typeof nodeHttp>>;
    beforeAll(async () => {
      app = await start(deployer, { auth: { tokens: ['s3cret'] } });
    });
    afterAll(() => app.close());

    it("keeps the app's own routes", async () => {
      const res = await fetch(`${app.url}/hello`);
      expect(await res.text()).toBe(`hello from ${name}`);
    });

    it('answers inference in JSON and binary, with the credentials', async () => {
      const headers = { authorization: 'Bearer s3cret', 'content-type': 'application/json' };
      const body = JSON.stringify({
        id: 'a1',
        inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: features }],
      });
      const res = await fetch(`${app.url}/v2/models/fraud/infer`, { method: 'POST', headers, body });
      expect(res.status).toBe(200);
      const json = (await res.json()) as {
        model_version: string;
        id: string;
        outputs: { name: string; data: number[] }[];
      };
      expect(json.model_version).toBe('3');
      expect(json.id).toBe('a1');
      expect(json.outputs[1]).toEqual({
        name: 'label',
        datatype: 'INT64',
        shape: [1],
        data: [expect.any(Number)],
      });
      const header = JSON.stringify({
        inputs: [
          { name: 'features', shape: [1, 12], datatype: 'FP32', parameters: { binary_data_size: 48 } },
        ],
        outputs: [{ name: 'probability' }],
      });
      const binary = await fetch(`${app.url}/v2/models/fraud/infer`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer s3cret',
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length),
        },
        body: Buffer.concat([Buffer.from(header), Buffer.from(new Float32Array(features).buffer)]),
      });
      const probability = ((await binary.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data[0];
      expect(probability).toBe(json.outputs[0]!.data[0]);
    });

    it("answers TorchServe's paths: /ping, /predictions, /models", async () => {
      const headers = { authorization: 'Bearer s3cret', 'content-type': 'application/json' };
      expect(await (await fetch(`${app.url}/ping`)).json()).toEqual({ status: 'Healthy' });
      const oip = await fetch(`${app.url}/v2/models/fraud/infer`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: features }],
        }),
      });
      const [probability, label] = ((await oip.json()) as { outputs: { data: number[] }[] }).outputs.map(
        (o) => o.data[0],
      );
      // One example, no batch axis; `curl -T` sends it with PUT.
      const one = await fetch(`${app.url}/predictions/fraud/3`, {
        method: 'PUT',
        headers,
        body: JSON.stringify(features),
      });
      expect(one.status).toBe(200);
      expect(await one.json()).toEqual({ probability, label });
      const models = await fetch(`${app.url}/models`, { headers });
      expect(await models.json()).toEqual({ models: [{ modelName: 'fraud', modelUrl: 'fraud/3' }] });
      const missing = await fetch(`${app.url}/predictions/nope`, { method: 'POST', headers, body: '[]' });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({
        code: 404,
        type: 'ModelNotFoundException',
        message: "no model named 'nope' is deployed (deployed: fraud)",
      });
    });

    it('refuses inference without credentials and keeps health open', async () => {
      const res = await fetch(`${app.url}/v2/models/fraud`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({ error: 'credentials required: send Authorization: Bearer <token>' });
      expect(
        (await fetch(`${app.url}/v2/models/fraud`, { headers: { authorization: 'Bearer nope' } })).status,
      ).toBe(403);
      expect((await fetch(`${app.url}/v2/health/ready`)).status).toBe(200);
    });
  });
}
