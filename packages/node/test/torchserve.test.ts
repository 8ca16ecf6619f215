/**
 * TorchServe's inference API and the read side of its management API, called by a client
 * written from TorchServe's documentation alone (docs/inference_api.md, docs/management_api.md:
 * plain fetch, the documented paths, bodies and answers), on real models from a repository:
 * the fraud model in two versions with its pipeline and explanation background, digits from
 * PNG images through an image pipeline, a CNN and a two-input model without pipelines.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  createServer,
  Deployer,
  decodePng,
  type FileSystemRepository,
  impute,
  loadModel,
  type ModelshipServer,
  Pipeline,
  readCsv,
  threshold,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, modelPath } from './fixtures';
import { encodePng } from './png';
import { serveDirectory } from './repository-server';
import { startServe } from './serve-process';

type Body = NonNullable<RequestInit['body']>;

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are whatever JSON the server sends
  body: any;
}

/**
 * A TorchServe client as its docs describe one: inference on one address (8080 there),
 * management on another (8081 there), `Authorization: Bearer` when a token is given.
 */
class TorchServeClient {
  constructor(
    private readonly inference: string,
    private readonly management = inference,
    private readonly token?: string,
  ) {}

  private async call(base: string, method: string, path: string, body?: Body, type?: string): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (type !== undefined) headers['content-type'] = type;
    const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** `curl http://localhost:8080/ping` */
  ping(): Promise<Reply> {
    return this.call(this.inference, 'GET', '/ping');
  }

  /** `curl http://localhost:8080/predictions/{model}[/{version}] -T file` (PUT) or `--data` (POST). */
  predict(
    model: string,
    body: Body,
    options: { version?: string; type?: string; method?: 'POST' | 'PUT' } = {},
  ): Promise<Reply> {
    const path = `/predictions/${model}${options.version === undefined ? '' : `/${options.version}`}`;
    return this.call(this.inference, options.method ?? 'POST', path, body, options.type);
  }

  /** `curl http://localhost:8080/predictions/{model} -F "data=@file" [-F "data=@file2"]` */
  predictForm(model: string, files: Blob[]): Promise<Reply> {
    const form = new FormData();
    for (const [i, f] of files.entries()) form.append('data', f, `file${i}`);
    return this.call(this.inference, 'POST', `/predictions/${model}`, form);
  }

  /** `curl http://localhost:8080/explanations/{model}[?query] -T file` */
  explain(model: string, body: Body, query = ''): Promise<Reply> {
    return this.call(this.inference, 'POST', `/explanations/${model}${query}`, body, 'application/json');
  }

  /** `curl "http://localhost:8081/models?limit=2&next_page_token=2"` */
  listModels(query: { limit?: number; next_page_token?: string } = {}): Promise<Reply> {
    const q = Object.entries(query)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&');
    return this.call(this.management, 'GET', `/models${q === '' ? '' : `?${q}`}`);
  }

  /** `curl http://localhost:8081/models/{model}[/{version}|/all]` */
  describeModel(model: string, version?: string): Promise<Reply> {
    return this.call(this.management, 'GET', `/models/${model}${version === undefined ? '' : `/${version}`}`);
  }

  /** `curl -X DELETE http://localhost:8081/models/{model}/{version}` */
  unregister(model: string, version: string): Promise<Reply> {
    return this.call(this.management, 'DELETE', `/models/${model}/${version}`);
  }
}

const features = Array.from({ length: 12 }, (_, i) => `f${i}`);

/** The model's own answers for `records`, their missing fields filled with `fill`, as the pipeline does. */
async function fraudDirect(
  file: string,
  records: Record<string, number>[],
  fill: number[],
): Promise<number[]> {
  const model = await loadModel(modelPath(file));
  try {
    const x = new Float32Array(records.length * 12);
    records.forEach((r, i) => {
      features.forEach((f, j) => {
        x[i * 12 + j] = Object.hasOwn(r, f) ? r[f]! : fill[j]!;
      });
    });
    const out = await model.predict({ features: { dtype: 'float32', shape: [records.length, 12], data: x } });
    return Array.from(out.probability!.data as Float32Array);
  } finally {
    await model.dispose();
  }
}

describe('the TorchServe API, from a client written from its docs', () => {
  let server: ModelshipServer;
  let repository: FileSystemRepository;
  let client: TorchServeClient;
  let url: string;
  let rows: Record<string, number>[];
  let pipeline: Pipeline;
  let pngs: Buffer[];
  let digitLabels: number[];
  const root = mkdtempSync(join(tmpdir(), 'modelship-torchserve-'));

  beforeAll(async () => {
    rows = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r as Record<string, number>);
    pipeline = Pipeline.fit(rows, {
      features: Object.fromEntries(features.map((f) => [f, impute('median')])),
      input: 'features',
      output: { probability: 'probability', label: threshold(0.5, ['legit', 'fraud']) },
    });
    const put = (model: string, version: string, file: string) => {
      mkdirSync(join(root, model, version), { recursive: true });
      copyFileSync(modelPath(file), join(root, model, version, 'model.onnx'));
    };
    // fraud: version 1 the fixture model, version 2 its baseline; both served, 2 by default.
    put('fraud', '1', 'fraud');
    put('fraud', '2', 'fraud_baseline');
    writeFileSync(join(root, 'fraud/config.json'), JSON.stringify({ versionPolicy: { all: true } }));
    writeFileSync(join(root, 'fraud/pipeline.json'), JSON.stringify(pipeline));
    mkdirSync(join(root, 'fraud/explain'));
    writeFileSync(
      join(root, 'fraud/explain/background.jsonl'),
      rows
        .slice(100, 130)
        .map(({ label: _label, ...r }) => JSON.stringify(r))
        .join('\n'),
    );
    // digits: 8×8 gray PNGs in, the digit out.
    put('digits', '1', 'digits');
    writeFileSync(
      join(root, 'digits/pipeline.json'),
      JSON.stringify(
        Pipeline.fit([], {
          images: {
            image: {
              width: 8,
              height: 8,
              channels: 'gray',
              scale: 16 / 255,
              layout: 'flat',
              input: 'pixels',
            },
          },
          output: { digit: argmax(undefined, { from: 'probabilities' }) },
        }),
      ),
    );
    put('cnn', '1', 'digits_cnn');
    put('pair', '1', 'two_inputs');
    const digits: Record<string, number>[] = [];
    for await (const r of readCsv(`${fixturesDir}data/digits-test.csv`))
      digits.push(r as Record<string, number>);
    pngs = digits.slice(0, 3).map((r) =>
      encodePng(
        8,
        8,
        0,
        8,
        Uint8Array.from({ length: 64 }, (_, i) => Math.round((r[`p${i}`]! * 255) / 16)),
      ),
    );
    digitLabels = digits.slice(0, 3).map((r) => r.label!);

    ({ server, repository, url } = await serveDirectory(root, (repository) => ({ repository })));
    client = new TorchServeClient(url);
  });

  afterAll(async () => {
    await server?.close();
    await repository?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('GET /ping answers {"status": "Healthy"}', async () => {
    const { status, body } = await client.ping();
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'Healthy' });
  });

  it('a JSON record gets its answer; a list of records gets a list; versions map to the repository', async () => {
    const records = rows.slice(0, 5).map(({ label: _label, ...r }) => r);
    delete records[2]!.f7; // imputed with the training median
    const fill = pipeline.toJSON().columns.map((c) => c.transforms[0]!.state.fill as number);
    const latest = await fraudDirect('fraud_baseline', records, fill);
    const first = await fraudDirect('fraud', records, fill);
    expect(latest).not.toEqual(first);
    const label = (p: number) => (p >= 0.5 ? 'fraud' : 'legit');

    const one = await client.predict('fraud', JSON.stringify(records[0]), { type: 'application/json' });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ probability: latest[0], label: label(latest[0]!) });

    const list = await client.predict('fraud', JSON.stringify(records), { type: 'application/json' });
    expect(list.body).toEqual(latest.map((p) => ({ probability: p, label: label(p) })));

    // Version 1 by path; `curl -T` sends PUT; `curl -d` sends form-urlencoded, read as JSON.
    const v1 = await client.predict('fraud', JSON.stringify(records), { version: '1', method: 'PUT' });
    expect(v1.body).toEqual(first.map((p) => ({ probability: p, label: label(p) })));
    const curlD = await client.predict('fraud', JSON.stringify(records[2]), {
      version: '1',
      type: 'application/x-www-form-urlencoded',
    });
    expect(curlD.body).toEqual({ probability: first[2], label: label(first[2]!) });
    // A JSON file sent as a form part (-F data=@record.json) is the same request.
    const form = await client.predictForm('fraud', [
      new Blob([JSON.stringify(records[1])], { type: 'application/json' }),
    ]);
    expect(form.body).toEqual({ probability: latest[1], label: label(latest[1]!) });
  });

  it('an image body is the image field of the pipeline: raw bytes, -F data=@file, several files', async () => {
    const model = await loadModel(modelPath('digits'));
    const pixels = Float32Array.from(
      pngs.flatMap((png) => Array.from(decodePng(png).data, (b) => b * (16 / 255))),
    );
    const out = await model.predict({ pixels: { dtype: 'float32', shape: [3, 64], data: pixels } });
    await model.dispose();
    const p = out.probabilities!.data as Float32Array;
    const expected = [0, 1, 2].map((i) => {
      let best = 0;
      for (let j = 1; j < 10; j++) if (p[i * 10 + j]! > p[i * 10 + best]!) best = j;
      return best;
    });
    expect(expected).toEqual(digitLabels);

    const raw = await client.predict('digits', new Uint8Array(pngs[0]!), {
      type: 'image/png',
      method: 'PUT',
    });
    expect(raw).toMatchObject({ status: 200, body: { digit: expected[0] } });
    // Without a content type the bytes are still an image: they are not JSON.
    expect((await client.predict('digits', new Uint8Array(pngs[1]!))).body).toEqual({ digit: expected[1] });
    const form = await client.predictForm('digits', [
      new Blob([new Uint8Array(pngs[2]!)], { type: 'image/png' }),
    ]);
    expect(form.body).toEqual({ digit: expected[2] });
    const several = await client.predictForm(
      'digits',
      pngs.map((png) => new Blob([new Uint8Array(png)], { type: 'image/png' })),
    );
    expect(several.body).toEqual(expected.map((digit) => ({ digit })));
    // JSON records with base64 images work too, as on :predict.
    const json = await client.predict(
      'digits',
      JSON.stringify({ image: { b64: pngs[0]!.toString('base64') } }),
      {
        type: 'application/json',
      },
    );
    expect(json.body).toEqual({ digit: expected[0] });
  });

  it('a model without a pipeline takes a JSON tensor: one example, or a list of them', async () => {
    const cnn = await loadModel(modelPath('digits_cnn'));
    const pixels = Float32Array.from(decodePng(pngs[0]!).data, (b) => b * (16 / 255));
    const out = await cnn.predict({ image: { dtype: 'float32', shape: [1, 1, 8, 8], data: pixels } });
    await cnn.dispose();
    const example = [Array.from({ length: 8 }, (_, y) => Array.from(pixels.subarray(8 * y, 8 * y + 8)))];
    const probabilities = Array.from(out.probabilities!.data as Float32Array);
    const logits = Array.from(out.logits!.data as Float32Array);

    const one = await client.predict('cnn', JSON.stringify(example), { type: 'application/json' });
    expect(one).toMatchObject({ status: 200, body: { logits, probabilities } });
    const batch = await client.predict('cnn', JSON.stringify([example, example]), {
      type: 'application/json',
    });
    expect(batch.body).toEqual({ logits: [logits, logits], probabilities: [probabilities, probabilities] });

    // Several inputs: an object of them by name.
    const pair = await client.predict('pair', JSON.stringify({ a: [1, 2, 3], b: [4, 5, 6] }));
    expect(pair.body).toEqual({ sum: [5, 7, 9], product: [4, 10, 18] });
    const pairs = await client.predict('pair', JSON.stringify({ a: [[1, 2, 3]], b: [[0.5, 1, 2]] }));
    expect(pairs.body).toEqual({ sum: [[1.5, 3, 5]], product: [[0.5, 2, 6]] });
  });

  it("refuses bad requests in TorchServe's error shape, with its status codes and types", async () => {
    const { label: _label, ...fields } = rows[0]!;
    const record = JSON.stringify(fields);
    expect(await client.predict('nope', record)).toMatchObject({
      status: 404,
      body: { code: 404, type: 'ModelNotFoundException', message: expect.stringContaining("'nope'") },
    });
    const version = await client.predict('fraud', record, { version: '9' });
    expect(version).toMatchObject({
      status: 404,
      body: { code: 404, type: 'ModelVersionNotFoundException' },
    });
    expect(version.body.message).toMatch(/'9'/);
    expect(await client.predict('fraud', JSON.stringify({ ...fields, f2: 'high' }))).toEqual({
      status: 400,
      headers: expect.anything(),
      body: {
        code: 400,
        type: 'BadRequestException',
        message: `record 0, field 'f2' is "high"; a finite number is required`,
      },
    });
    const malformed = await client.predict('fraud', '{"f0": 1,', { type: 'application/json' });
    expect(malformed.body).toMatchObject({ code: 400, type: 'BadRequestException' });
    expect(malformed.body.message).toMatch(/^malformed JSON in the prediction request/);
    expect((await client.predict('fraud', '[]')).body.message).toBe(
      'the prediction request is an empty list; send a record or a list of records',
    );
    expect((await client.predict('fraud', new Uint8Array(pngs[0]!), { type: 'image/png' })).body).toEqual({
      code: 400,
      type: 'BadRequestException',
      message: `the prediction request is ${pngs[0]!.length} bytes of image/png, not JSON; model 'fraud' takes records (JSON objects of fields: ${features.join(', ')}) or a JSON list of them`,
    });
    const notPng = await client.predict('digits', new Uint8Array([1, 2, 3, 4]), { type: 'image/png' });
    expect(notPng.body).toEqual({
      code: 400,
      type: 'BadRequestException',
      message:
        "record 0, field 'image': the image could not be decoded: not a PNG this decoder reads: the PNG signature is missing",
    });
    expect((await client.predict('cnn', new Uint8Array(pngs[0]!), { type: 'image/png' })).body.message).toBe(
      `model 'cnn' has no pipeline, so it takes a JSON tensor ('image' float32 [batch, 1, 8, 8]); the body is ${pngs[0]!.length} bytes of image/png. An image needs a pipeline.json with an image field`,
    );
    expect((await client.predict('cnn', '[[1, 2], [3, 4]]')).body.message).toBe(
      "input 'image' takes [batch, 1, 8, 8]: send one example of rank 3 or a list of them (rank 4); received rank 2 [2, 2]",
    );
    expect((await client.predict('pair', '{"a": [1, 2, 3]}')).body.message).toBe(
      "the request has no input 'b' (model 'pair' takes 'a' float32 [batch, 3], 'b' float32 [batch, 3])",
    );
    expect((await client.predict('pair', '{"a": [1, 2, 3], "b": [[1, 2, 3]]}')).body.message).toBe(
      'send every input as one example, or every input as a list of examples, not a mix',
    );
    // Paths TorchServe does not have, and methods it does not take.
    const get = await fetch(`${url}/predictions/fraud`);
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ code: 405, type: 'MethodNotAllowedException' });
    const deep = await fetch(`${url}/predictions/fraud/1/extra`, { method: 'POST', body: record });
    expect(await deep.json()).toEqual({
      code: 404,
      type: 'ResourceNotFoundException',
      message: 'Requested resource is not found, please refer to API document.',
    });
    expect(await client.unregister('fraud', '1')).toMatchObject({
      status: 405,
      body: { code: 405, type: 'MethodNotAllowedException' },
    });
    // Still serving.
    expect((await client.predict('fraud', record)).status).toBe(200);
  });

  it('POST /explanations answers attributions that add up to the prediction', async () => {
    const records = rows.slice(0, 2).map(({ label: _label, ...r }) => r);
    const answers = (await client.predict('fraud', JSON.stringify(records))).body as {
      probability: number;
    }[];
    const one = await client.explain('fraud', JSON.stringify(records[0]));
    expect(one.status).toBe(200);
    expect(Object.keys(one.body.attributions)).toEqual(features);
    expect(one.body.prediction).toBeCloseTo(answers[0]!.probability, 6);
    const sum = Object.values(one.body.attributions as Record<string, number>).reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (one.body.prediction - one.body.baseValue))).toBeLessThan(1e-9);
    const two = await client.explain('fraud', JSON.stringify(records));
    expect(two.body).toHaveLength(2);
    expect(two.body[1].prediction).toBeCloseTo(answers[1]!.probability, 6);
    // The query string gives the explanation's parameters; an unknown one is named.
    const seeded = await client.explain('fraud', JSON.stringify(records[0]), '?seed=7&nsamples=200');
    expect(seeded.status).toBe(200);
    expect((await client.explain('fraud', JSON.stringify(records[0]), '?seed=7&nsamples=200')).body).toEqual(
      seeded.body,
    );
    expect(seeded.body.attributions).not.toEqual(one.body.attributions);
    const seededSum = Object.values(seeded.body.attributions as Record<string, number>).reduce(
      (s, v) => s + v,
      0,
    );
    expect(Math.abs(seededSum - (seeded.body.prediction - seeded.body.baseValue))).toBeLessThan(1e-9);
    expect((await client.explain('fraud', JSON.stringify(records[0]), '?sed=7')).body).toEqual({
      code: 400,
      type: 'BadRequestException',
      message:
        "parameters has an unknown field 'sed' (known: method, nsamples, maxEvals, seed, link, output, class)",
    });
    // A model without a background: 404 naming the file to add.
    expect((await client.explain('cnn', '[1, 2]')).body).toMatchObject({
      code: 404,
      type: 'ResourceNotFoundException',
      message: expect.stringContaining('cnn/explain/background.jsonl'),
    });
  });

  it('GET /models lists the models a page at a time; GET /models/{model} describes versions', async () => {
    const all = await client.listModels();
    expect(all).toMatchObject({ status: 200 });
    expect(all.body).toEqual({
      models: [
        { modelName: 'cnn', modelUrl: 'cnn/1' },
        { modelName: 'digits', modelUrl: 'digits/1' },
        { modelName: 'fraud', modelUrl: 'fraud/2' },
        { modelName: 'pair', modelUrl: 'pair/1' },
      ],
    });
    const first = await client.listModels({ limit: 2 });
    expect(first.body).toEqual({ nextPageToken: '2', models: all.body.models.slice(0, 2) });
    const next = await client.listModels({ limit: 2, next_page_token: first.body.nextPageToken });
    expect(next.body).toEqual({ models: all.body.models.slice(2) });
    // As TorchServe: a limit over 100 or below 0 is 100; a token that is not a number is 0.
    expect((await client.listModels({ limit: 1000, next_page_token: 'x' })).body).toEqual(all.body);

    const fraud = await client.describeModel('fraud');
    expect(fraud.status).toBe(200);
    expect(fraud.body).toHaveLength(1);
    expect(fraud.body[0]).toMatchObject({
      modelName: 'fraud',
      modelVersion: '2',
      modelUrl: 'fraud/2',
      status: 'READY',
      workers: [{ id: '2', status: 'READY' }],
      jobQueueStatus: { pendingRequests: 0 },
      modelship: { state: 'ready', default: true },
    });
    expect(
      (await client.describeModel('fraud', '1')).body.map((d: { modelVersion: string }) => d.modelVersion),
    ).toEqual(['1']);
    const versions = await client.describeModel('fraud', 'all');
    expect(versions.body.map((d: { modelVersion: string }) => d.modelVersion).sort()).toEqual(['1', '2']);
    expect(await client.describeModel('fraud', '7')).toMatchObject({
      status: 404,
      body: { code: 404, type: 'ModelVersionNotFoundException' },
    });
    expect(await client.describeModel('nope')).toMatchObject({
      status: 404,
      body: { code: 404, type: 'ModelNotFoundException' },
    });
  });
});

describe('TorchServe on two ports, with credentials, while draining', () => {
  it("moves the management API to managementPort; tokens and draining answer in TorchServe's shape", async () => {
    const deployer = new Deployer();
    const server = createServer(deployer, {
      managementPort: 0,
      auth: { tokens: ['s3cret'] },
      maxBodyBytes: 4096,
      closeDeployer: true,
    });
    try {
      await deployer.deploy('cnn', () => loadModel(modelPath('digits_cnn')), { version: '3' });
      const { url, management } = await server.listen(0, '127.0.0.1');
      expect(management?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(management!.port).not.toBe(new URL(url).port);
      const client = new TorchServeClient(url, management!.url, 's3cret');
      expect((await client.listModels()).body).toEqual({ models: [{ modelName: 'cnn', modelUrl: 'cnn/3' }] });
      expect((await client.describeModel('cnn')).body[0]).toMatchObject({
        modelName: 'cnn',
        modelVersion: '3',
      });
      // Each port answers only its own API.
      const onInference = new TorchServeClient(url, url, 's3cret');
      expect(await onInference.listModels()).toMatchObject({
        status: 404,
        body: { code: 404, type: 'ResourceNotFoundException' },
      });
      const onManagement = new TorchServeClient(management!.url, management!.url, 's3cret');
      expect(await onManagement.ping()).toMatchObject({ status: 404, body: { code: 404 } });
      const zeros = JSON.stringify([Array.from({ length: 8 }, () => new Array(8).fill(0))]);
      expect((await client.predict('cnn', zeros)).body.probabilities).toHaveLength(10);
      // A body over maxBodyBytes is refused before it is read, in TorchServe's shape too.
      expect(await client.predict('cnn', new Uint8Array(5000))).toMatchObject({
        status: 413,
        body: {
          code: 413,
          type: 'BadRequestException',
          message: 'the body is 5000 bytes; this server takes at most 4096',
        },
      });
      // Without the token: 401 in TorchServe's shape; the ping needs none.
      const anonymous = new TorchServeClient(url, management!.url);
      expect(await anonymous.predict('cnn', zeros)).toMatchObject({
        status: 401,
        body: { code: 401, type: 'InvalidKeyException' },
      });
      expect(await anonymous.listModels()).toMatchObject({
        status: 401,
        body: { type: 'InvalidKeyException' },
      });
      expect((await anonymous.ping()).body).toEqual({ status: 'Healthy' });
      // Draining: unhealthy, and predictions are refused with 503.
      server.handler.drain();
      expect(await anonymous.ping()).toMatchObject({ status: 500, body: { status: 'Unhealthy' } });
      expect(await client.predict('cnn', zeros)).toMatchObject({
        status: 503,
        body: { code: 503, type: 'ServiceUnavailableException', message: 'the server is shutting down' },
      });
    } finally {
      await server.close();
    }
  });

  it('refuses a multipart form it cannot read; answers browsers under the CORS setting', async () => {
    const deployer = new Deployer();
    const server = createServer(deployer, { cors: { origin: 'https://app.example' }, closeDeployer: true });
    try {
      await deployer.deploy('cnn', () => loadModel(modelPath('digits_cnn')), { version: '1' });
      const { url } = await server.listen(0, '127.0.0.1');
      const post = async (type: string, body: string) => {
        const res = await fetch(`${url}/predictions/cnn`, {
          method: 'POST',
          headers: { 'content-type': type },
          body,
        });
        return { status: res.status, body: (await res.json()) as Reply['body'] };
      };
      expect(await post('multipart/form-data', 'x')).toEqual({
        status: 400,
        body: {
          code: 400,
          type: 'BadRequestException',
          message: 'the multipart/form-data body has no boundary',
        },
      });
      expect((await post('multipart/form-data; boundary=zz', 'no delimiter')).body.message).toBe(
        'the multipart/form-data body has no part delimited by --zz',
      );
      expect(
        (
          await post(
            'multipart/form-data; boundary=zz',
            '--zz\r\ncontent-disposition: form-data; name="data"\r\n\r\n[1]',
          )
        ).body.message,
      ).toBe("the multipart/form-data body's part 0 is cut short");
      // A well-formed form with a JSON part, written by hand as curl -F sends it.
      const example = JSON.stringify([Array.from({ length: 8 }, () => new Array(8).fill(0))]);
      const form = `--zz\r\ncontent-disposition: form-data; name="data"; filename="x.json"\r\ncontent-type: application/json\r\n\r\n${example}\r\n--zz--\r\n`;
      const ok = await post('multipart/form-data; boundary=zz', form);
      expect(ok.status).toBe(200);
      expect(ok.body.probabilities).toHaveLength(10);
      // CORS as on every route: the preflight is answered, answers and errors carry the origin.
      const preflight = await fetch(`${url}/predictions/cnn`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, OPTIONS');
      for (const [method, body] of [
        ['POST', example],
        ['PUT', example],
        ['POST', '[1]'],
      ] as const) {
        const res = await fetch(`${url}/predictions/cnn`, {
          method,
          headers: { origin: 'https://app.example' },
          body,
        });
        expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
      }
    } finally {
      await server.close();
    }
  });

  it('modelship serve --management-port serves GET /models there', async () => {
    const example = fileURLToPath(new URL('../../../examples/model-repository/', import.meta.url));
    const serve = startServe([example, '--port', '0', '--management-port', '0']);
    try {
      const url = await serve.url;
      await expect
        .poll(() => serve.output())
        .toMatch(/TorchServe management {4}GET {2}http:\/\/127\.0\.0\.1:\d+\/models/);
      const management = /TorchServe management {4}GET {2}(http:\/\/\S+)\/models/.exec(serve.output())![1]!;
      expect(management).not.toBe(url);
      const client = new TorchServeClient(url, management);
      expect((await client.listModels()).body.models.map((m: { modelName: string }) => m.modelName)).toEqual([
        'digits',
        'fraud',
        'iris',
      ]);
      expect((await client.ping()).body).toEqual({ status: 'Healthy' });
      expect((await fetch(`${url}/models`)).status).toBe(404);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 120_000);

  it('refuses a management port it cannot serve', () => {
    const deployer = new Deployer();
    expect(() => createServer(deployer, { managementPort: 70000 })).toThrow(
      'createServer: managementPort must be an integer from 0 to 65535',
    );
    expect(() => createServer(deployer, { managementPort: 0, torchserve: false })).toThrow(
      'createServer: managementPort serves the TorchServe API, which torchserve: false turns off',
    );
  });

  it('torchserve: false leaves the TorchServe paths unserved', async () => {
    const deployer = new Deployer();
    const server = createServer(deployer, { torchserve: false, closeDeployer: true });
    try {
      const { url } = await server.listen(0, '127.0.0.1');
      const res = await fetch(`${url}/ping`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not found: /ping' });
    } finally {
      await server.close();
    }
  });
});
