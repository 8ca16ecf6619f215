/**
 * `POST /v1/models/{name}:explain` on a real server: the fraud fixture (rows of numbers) and the
 * example repository's iris (records through its pipeline), each answer equal to core's
 * `explain` called directly with the same background, seed and method.
 */
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createServer,
  Deployer,
  explain,
  type FileSystemRepository,
  functionModel,
  loadModel,
  type Model,
  type ModelshipServer,
  Pipeline,
  readCsv,
  tensor,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { irisBackground } from '../../../examples/model-repository/fit-iris-pipeline';
import { fixturesDir, modelPath } from './fixtures';
import { serveDirectory } from './repository-server';
import { startServe } from './serve-process';

const example = fileURLToPath(new URL('../../../examples/model-repository/', import.meta.url));
const names = Array.from({ length: 12 }, (_, i) => `features[${i}]`);

interface Answer {
  predictions: number[];
  explanations: Record<string, number>[];
  baseValue: number;
  method: string;
  features: string[];
  evaluations: number;
  notes: string[];
  model_version: string;
  error?: string;
}

async function post(url: string, path: string, body: unknown, init: RequestInit = {}) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer };
}

function expectSums(a: Answer): void {
  a.explanations.forEach((values, i) => {
    const sum = Object.values(values).reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (a.predictions[i]! - a.baseValue))).toBeLessThanOrEqual(1e-9);
  });
}

describe('POST :explain from a model repository', () => {
  let url: string;
  let server: ModelshipServer;
  let repository: FileSystemRepository;
  let fraud: Model;
  let iris: Model;
  let rows: number[][];
  const root = mkdtempSync(join(tmpdir(), 'modelship-explain-'));

  beforeAll(async () => {
    rows = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`))
      rows.push(Array.from({ length: 12 }, (_, j) => r[`f${j}`] as number));
    const jsonl = (lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    // fraud: rows of numbers, the default background file
    mkdirSync(join(root, 'fraud/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'fraud/1/model.onnx'));
    mkdirSync(join(root, 'fraud/explain'));
    writeFileSync(join(root, 'fraud/explain/background.jsonl'), jsonl(rows.slice(100, 120)));
    // named: a background config.json names, with defaults and column names
    mkdirSync(join(root, 'named/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'named/1/model.onnx'));
    mkdirSync(join(root, 'named/data'));
    writeFileSync(join(root, 'named/data/bg.jsonl'), `\n${jsonl(rows.slice(0, 150))}\n`);
    writeFileSync(
      join(root, 'named/config.json'),
      JSON.stringify({
        explain: {
          background: 'data/bg.jsonl',
          maxRows: 10,
          method: 'permutation',
          maxEvals: 100,
          seed: 4,
          features: Array.from({ length: 12 }, (_, i) => `f${i}`),
        },
      }),
    );
    // iris: the example repository's folder as it is, pipeline, labels and background
    cpSync(join(example, 'iris'), join(root, 'iris'), { recursive: true });
    // plain: served, with no background
    mkdirSync(join(root, 'plain/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'plain/1/model.onnx'));
    // broken: a background file that is not JSON Lines
    mkdirSync(join(root, 'broken/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'broken/1/model.onnx'));
    mkdirSync(join(root, 'broken/explain'));
    writeFileSync(join(root, 'broken/explain/background.jsonl'), `${JSON.stringify(rows[0])}\n{"f0": 1\n`);
    // escape: a background that is a link out of the model's folder
    mkdirSync(join(root, 'escape/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'escape/1/model.onnx'));
    mkdirSync(join(root, 'escape/explain'));
    symlinkSync(join(root, 'fraud/explain/background.jsonl'), join(root, 'escape/explain/background.jsonl'));

    ({ server, repository, url } = await serveDirectory(root, {
      maxExplainRows: 1_000_000,
      maxBodyBytes: 64 * 1024,
    }));
    fraud = await loadModel(modelPath('fraud'), { name: 'fraud' });
    iris = await loadModel(join(example, 'iris/1/model.onnx'), { name: 'iris' });
  });

  afterAll(async () => {
    await server?.close();
    await repository?.stop();
    await fraud?.dispose();
    await iris?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const named = (r: readonly number[], features = names) =>
    Object.fromEntries(features.map((f, j) => [f, r[j]]));

  it('explains rows of numbers as core explain does with the same background and seed', async () => {
    const instances = rows.slice(300, 302);
    const a = await post(url, '/v1/models/fraud:explain', {
      instances,
      parameters: { method: 'kernel', nsamples: 300, seed: 5 },
    });
    expect(a.status).toBe(200);
    const direct = await explain(
      fraud,
      instances.map((r) => named(r)),
      {
        background: rows.slice(100, 120).map((r) => named(r)),
        method: 'kernel',
        nsamples: 300,
        seed: 5,
      },
    );
    expect(a.body.method).toBe('kernel');
    expect(a.body.features).toEqual(names);
    expect(a.body.baseValue).toBe(direct.baseValue);
    expect(a.body.predictions).toEqual(direct.predictions);
    expect(a.body.explanations).toEqual(direct.values);
    expect(a.body.evaluations).toBe(direct.evaluations);
    expect(a.body.model_version).toBe('1');
    expectSums(a.body);
    // the versioned route is the same version's answer
    const v = await post(url, '/v1/models/fraud/versions/1:explain', {
      instances,
      parameters: { method: 'kernel', nsamples: 300, seed: 5 },
    });
    expect(v.body.explanations).toEqual(a.body.explanations);
    const missing = await post(url, '/v1/models/fraud/versions/9:explain', { instances });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/version '9'/);
  });

  it("takes config.json's background, column names and defaults, sampled down to maxRows", async () => {
    const instances = rows.slice(400, 401);
    const a = await post(url, '/v1/models/named:explain', { instances });
    expect(a.status).toBe(200);
    const features = Array.from({ length: 12 }, (_, i) => `f${i}`);
    // the repository's sample: 10 of the file's 150 rows, seeded by explain.seed
    const background = (await repository.explainSettings('named'))!.background as number[][];
    expect(background).toHaveLength(10);
    const direct = await explain(
      fraud,
      instances.map((r) => named(r, features)),
      {
        background: background.map((r) => named(r, features)),
        method: 'permutation',
        maxEvals: 100,
        seed: 4,
      },
    );
    expect(a.body.method).toBe('permutation');
    expect(a.body.features).toEqual(features);
    expect(a.body.explanations).toEqual(direct.values);
    expect(a.body.notes).toEqual([
      'the background is 10 rows sampled from the 150 of named/data/bg.jsonl (config.json explain.maxRows, default 100)',
    ]);
    expectSums(a.body);
    // a request's parameters override the file's defaults
    const exact = await post(url, '/v1/models/named:explain', {
      instances,
      parameters: { method: 'kernel' },
    });
    expect(exact.body.method).toBe('kernel');
  });

  it('explains records per field through the pipeline, a class named by its label', async () => {
    const instances = [
      { sepal_length: 6.3, sepal_width: 2.9, petal_length: 5.6, petal_width: 1.8 },
      { sepal_length: 5.0, sepal_width: 3.4, petal_length: 1.5, petal_width: null },
      { sepal_length: 5.9, sepal_width: 3.0, petal_length: 4.2 },
    ];
    const a = await post(url, '/v1/models/iris:explain', { instances, parameters: { class: 'virginica' } });
    expect(a.status).toBe(200);
    const fields = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const pipeline = Pipeline.fromJSON(JSON.parse(readFileSync(join(example, 'iris/pipeline.json'), 'utf8')));
    const background = readFileSync(join(example, 'iris/explain/background.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const direct = await explain(
      iris,
      instances.map((r) =>
        Object.fromEntries(fields.map((f) => [f, (r as Record<string, unknown>)[f] ?? null])),
      ),
      { background, pipeline, features: fields, class: 2 },
    );
    expect(a.body.method).toBe('exact');
    expect(a.body.features).toEqual(fields);
    expect(a.body.explanations).toEqual(direct.values);
    expect(a.body.predictions).toEqual(direct.predictions);
    expectSums(a.body);
    // the first flower is a virginica: petal length pushes that class's probability up the most
    const top = Object.entries(a.body.explanations[0]!).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]))[0]!;
    expect(top[0]).toMatch(/^petal_/);
    expect(top[1]).toBeGreaterThan(0);
    // class by index is the same explanation
    const byIndex = await post(url, '/v1/models/iris:explain', { instances, parameters: { class: 2 } });
    expect(byIndex.body.explanations).toEqual(a.body.explanations);
  });

  it('ships the iris background that fit-iris-pipeline.ts makes', async () => {
    expect(readFileSync(join(example, 'iris/explain/background.jsonl'), 'utf8')).toBe(await irisBackground());
  });

  it('answers 404 naming the file to add for a model without a background, and for unknown models', async () => {
    const a = await post(url, '/v1/models/plain:explain', { instances: [rows[0]] });
    expect(a.status).toBe(404);
    expect(a.body.error).toBe(
      `model 'plain' has no explanation background: add plain/explain/background.jsonl to the model repository (one record, or row of numbers, per line; about 100 rows of training data), or name a file in plain/config.json as "explain": {"background": "..."}`,
    );
    const b = await post(url, '/v1/models/nope:explain', { instances: [rows[0]] });
    expect(b.status).toBe(404);
    expect(b.body.error).toMatch(/nope/);
  });

  it('refuses bad instances and parameters with 400 naming them, before any model runs', async () => {
    const cases: [unknown, RegExp][] = [
      [{ instances: [] }, /^instances must be a non-empty list, received an array of length 0$/],
      [{ inputs: [rows[0]] }, /sends "instances" \(a list of records or rows\), not "inputs"/],
      [
        { instances: [rows[0]!.slice(0, 11)] },
        /^instance 0 is an array of length 11; model 'fraud' input 'features' \[batch, 12\] takes rows of 12 numbers$/,
      ],
      [{ instances: [rows[0], { f0: 1 }] }, /^instance 1 is an object; model 'fraud' input/],
      [
        { instances: [[...rows[0]!.slice(0, 11), '3']] },
        /^instance 0, value 11 is "3"; every value must be a finite number$/,
      ],
      [
        { instances: [rows[0]], parameters: { nsamples: 'many' } },
        /^parameters.nsamples must be a positive integer, received "many"$/,
      ],
      [
        { instances: [rows[0]], parameters: { method: 'lime' } },
        /^parameters.method must be 'exact', 'kernel' or 'permutation'/,
      ],
      [
        { instances: [rows[0]], parameters: { samples: 3 } },
        /^parameters has an unknown field 'samples' \(known: method, nsamples/,
      ],
      [{ instances: [rows[0]], parameters: { method: 'kernel', nsamples: 5 } }, /nsamples/],
      [{ instances: [rows[0]], extra: 1 }, /not 'extra'/],
    ];
    for (const [body, message] of cases) {
      const a = await post(url, '/v1/models/fraud:explain', body);
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.body.error).toMatch(message);
    }
    // NaN, as TF Serving's JSON writes it
    const nan = await post(
      url,
      '/v1/models/fraud:explain',
      `{"instances": [[${rows[0]!.slice(0, 11).join(',')}, NaN]]}`,
    );
    expect(nan.status).toBe(400);
    expect(nan.body.error).toBe('instance 0, value 11 is NaN; every value must be a finite number');
    const irisCases: [unknown, RegExp][] = [
      [{ instances: [[1, 2, 3, 4]] }, /^instance 0 is an array of length 4; model 'iris' takes records/],
      [
        { instances: [{ sepal_length: 1, colour: 'red' }] },
        /record 0 has a field the pipeline does not read: 'colour'/,
      ],
      [{ instances: [{ sepal_length: 'NaN' }], parameters: { class: 0 } }, /sepal_length/],
      [
        { instances: [{ sepal_length: 5 }] },
        /3 values per row; choose the class explained with class \(0–2\)/,
      ],
      [
        { instances: [{ sepal_length: 5 }], parameters: { class: 'daisy' } },
        /^parameters.class 'daisy' is not a class of model 'iris' \(classes: 'setosa', 'versicolor', 'virginica'\)$/,
      ],
    ];
    for (const [body, message] of irisCases) {
      const a = await post(url, '/v1/models/iris:explain', body);
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(a.body.error).toMatch(message);
    }
    const nanRecord = await post(
      url,
      '/v1/models/iris:explain',
      '{"instances": [{"sepal_length": NaN}], "parameters": {"class": 0}}',
    );
    expect(nanRecord.status).toBe(400);
    expect(nanRecord.body.error).toBe(
      "instance 0, field 'sepal_length' is NaN; send a finite number, or null for a missing value",
    );
    const large = await post(url, '/v1/models/fraud:explain', { instances: Array(3000).fill(rows[0]) });
    expect(large.status).toBe(413);
  });

  it('refuses a broken or escaping background file, naming it', async () => {
    const a = await post(url, '/v1/models/broken:explain', { instances: [rows[0]] });
    expect(a.status).toBe(400);
    expect(a.body.error).toMatch(/^broken\/explain\/background.jsonl line 2 is not JSON: /);
    const b = await post(url, '/v1/models/escape:explain', { instances: [rows[0]] });
    expect(b.status).toBe(400);
    expect(b.body.error).toBe(
      'escape/explain/background.jsonl: an explanation background must lie inside the model folder escape',
    );
  });

  it('refuses a request dearer than maxExplainRows with 400 saying what to lower and the numbers', async () => {
    // 12 features, kernel's default budget 2·12 + 2048 = 2072 coalitions, 20 background rows
    const a = await post(url, '/v1/models/fraud:explain', { instances: rows.slice(0, 30) });
    expect(a.status).toBe(400);
    const per = 1 + 2072 * 20;
    expect(a.body.error).toBe(
      `explaining 30 instances of model 'fraud' costs up to ${20 + 30 * per} model rows (30 × 2072 coalitions (method 'kernel', nsamples 2072, 12 features) × 20 background rows, plus 50); this server takes at most 1000000 (maxExplainRows): send at most ${Math.floor((1_000_000 - 20) / per)} instances per request, or lower parameters.nsamples`,
    );
    // exact: 2^12 − 2 coalitions; 12 instances fit, 13 do not
    const exact = await post(url, '/v1/models/fraud:explain', {
      instances: rows.slice(0, 13),
      parameters: { method: 'exact' },
    });
    expect(exact.status).toBe(400);
    expect(exact.body.error).toBe(
      `explaining 13 instances of model 'fraud' costs up to ${20 + 13 * (1 + 4094 * 20)} model rows (13 × 4094 coalitions (method 'exact': 2^12 − 2 coalitions, 12 features) × 20 background rows, plus 33); this server takes at most 1000000 (maxExplainRows): send at most 12 instances per request, or use parameters.method 'kernel' or 'permutation' with a smaller budget`,
    );
  });

  it('counts explain requests in /metrics, apart from inference', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = (name: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(name))
        ?.split(' ')[1];
    expect(Number(line('modelship_explain_requests_total{model="fraud",outcome="success"}'))).toBe(2);
    expect(
      Number(line('modelship_explain_requests_total{model="fraud",outcome="INVALID_ARGUMENT"}')),
    ).toBeGreaterThan(10);
    expect(Number(line('modelship_explain_model_rows_total{model="fraud"}'))).toBeGreaterThan(0);
    // the coalitions' model calls are not inference requests
    expect(text).not.toMatch(/modelship_inference_request_success_total\{model="fraud"/);
    expect(text).not.toMatch(/modelship_inference_request_failure_total\{model="fraud"/);
  });
});

/** A 3-feature model whose calls after the first wait until released, counting them. */
function gatedModel() {
  const state = { calls: 0, gates: [] as (() => void)[], hold: true };
  const model = functionModel(
    async ({ x }) => {
      state.calls++;
      const n = x!.shape[0]!;
      const d = x!.data as Float32Array;
      if (state.hold && state.calls > 1) await new Promise<void>((r) => state.gates.push(r));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = d[i * 3]! + 2 * d[i * 3 + 1]! - d[i * 3 + 2]!;
      return { y: tensor('float32', out, [n]) };
    },
    {
      name: 'gated',
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
  return { model, state };
}

describe('POST :explain: cancellation, deadline, concurrency', () => {
  const background = [
    [0, 0, 0],
    [1, 1, 1],
    [2, 0, 1],
  ];

  async function start(options: { timeoutMs?: number } = {}) {
    const { model, state } = gatedModel();
    const deployer = new Deployer();
    await deployer.deploy('gated', model, { warmup: false });
    const server = createServer(deployer, {
      explain: { gated: { background, method: 'exact' } },
      closeDeployer: true,
      ...options,
    });
    const { url } = await server.listen(0, '127.0.0.1');
    return { server, url, state };
  }

  async function until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise((r) => setTimeout(r, 5));
  }

  it('a client that leaves cancels the explanation: nothing more runs, and the server stays healthy', async () => {
    const { server, url, state } = await start();
    try {
      const leaving = new AbortController();
      const gone = post(
        url,
        '/v1/models/gated:explain',
        { instances: [[1, 2, 3]] },
        { signal: leaving.signal },
      );
      await until(() => state.gates.length === 1);
      leaving.abort();
      await expect(gone).rejects.toThrow();
      // the server saw the client go: the explanation is over and counted as aborted
      const metric = async () =>
        (await (await fetch(`${url}/metrics`)).text()).includes(
          'modelship_explain_requests_total{model="gated",outcome="ABORTED"} 1',
        );
      while (!(await metric())) await new Promise((r) => setTimeout(r, 5));
      const calls = state.calls;
      for (const release of state.gates.splice(0)) release();
      state.hold = false;
      // a new explanation gets the slot, and answers in full
      const a = await post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] });
      expect(a.status).toBe(200);
      // y = x0 + 2·x1 − x2 is linear: φ_j = w_j (x_j − mean background x_j)
      expect(a.body.explanations[0]!['x[0]']).toBeCloseTo(1 - 1, 6);
      expect(a.body.explanations[0]!['x[1]']).toBeCloseTo(2 * (2 - 1 / 3), 6);
      expect(a.body.explanations[0]!['x[2]']).toBeCloseTo(-(3 - 2 / 3), 6);
      // the cancelled run made no call after the one it was waiting on
      expect(state.calls).toBe(calls + 3);
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    } finally {
      for (const release of state.gates.splice(0)) release();
      await server.close();
    }
  });

  it('runs maxConcurrentExplains at once and refuses the next with 503 and Retry-After', async () => {
    const { server, url, state } = await start();
    try {
      const first = post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] });
      await until(() => state.gates.length === 1);
      const second = await post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] });
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(second.body.error).toBe(
        "1 explanation is being computed, this server's maxConcurrentExplains; try again",
      );
      state.hold = false;
      for (const release of state.gates.splice(0)) release();
      expect((await first).status).toBe(200);
    } finally {
      for (const release of state.gates.splice(0)) release();
      await server.close();
    }
  });

  it('refuses a background that does not fit the model, and limits that are not positive integers', async () => {
    const deployer = new Deployer();
    await deployer.deploy('gated', gatedModel().model, { warmup: false });
    const server = createServer(deployer, {
      explain: { gated: { background: [{ x: 1 }], source: 'gated/explain/background.jsonl' } },
      closeDeployer: true,
    });
    try {
      const { url } = await server.listen(0, '127.0.0.1');
      const a = await post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] });
      expect(a.status).toBe(400);
      expect(a.body.error).toBe(
        "gated/explain/background.jsonl row 0 is an object; model 'gated' input 'x' [batch, 3] needs rows of 3 numbers, one per line",
      );
    } finally {
      await server.close();
    }
    for (const options of [{ maxExplainRows: 0 }, { maxConcurrentExplains: 1.5 }])
      expect(() => createServer(deployer, options)).toThrow(/must be a positive integer/);
    expect(() => createServer(deployer, { explain: 'models' as never })).toThrow(
      /explain must be a source with explainSettings\(model\)/,
    );
  });

  it("answers 504 when the server's timeoutMs passes, and frees the slot", async () => {
    const { server, url, state } = await start({ timeoutMs: 100 });
    try {
      const a = await post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] });
      expect(a.status).toBe(504);
      expect(a.body.error).toBe(
        "explaining model 'gated' did not finish within 100 ms (the server's timeoutMs); send fewer instances or a smaller budget",
      );
      state.hold = false;
      for (const release of state.gates.splice(0)) release();
      expect((await post(url, '/v1/models/gated:explain', { instances: [[1, 2, 3]] })).status).toBe(200);
    } finally {
      for (const release of state.gates.splice(0)) release();
      await server.close();
    }
  });
});

describe('modelship serve: :explain of a directory served as one model', () => {
  it('reads its explain/background.jsonl and maxExplainRows from --config; a bad limit is a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-explain-one-'));
    const config = join(mkdtempSync(join(tmpdir(), 'modelship-explain-cfg-')), 'server.json');
    cpSync(modelPath('iris'), join(dir, 'model.onnx'));
    mkdirSync(join(dir, 'explain'));
    const background = [
      [5.1, 3.5, 1.4, 0.2],
      [6.2, 2.9, 4.3, 1.3],
      [6.5, 3.0, 5.5, 1.8],
    ];
    writeFileSync(
      join(dir, 'explain/background.jsonl'),
      background.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
    writeFileSync(config, JSON.stringify({ maxExplainRows: 60 }));
    // A generous start: the first start of a run compiles the sources, slow on a busy machine.
    const serve = startServe([dir, '--model-name', 'flowers', '--port', '0', '--config', config], {}, 90_000);
    try {
      const url = await serve.url;
      await expect.poll(() => serve.output()).toContain('  Explanations             POST ');
      // 4 features, exact: the background, then 1 + 14 coalitions × 3 rows per instance: 46 for one, 89 for two
      const one = await post(url, '/v1/models/flowers:explain', {
        instances: [[6.3, 2.9, 5.6, 1.8]],
        parameters: { class: 2 },
      });
      expect(one.status).toBe(200);
      expect(one.body.features).toEqual(['input[0]', 'input[1]', 'input[2]', 'input[3]']);
      expect(one.body.evaluations).toBe(3 + 1 + 14 * 3);
      expectSums(one.body);
      const two = await post(url, '/v1/models/flowers:explain', {
        instances: [
          [6.3, 2.9, 5.6, 1.8],
          [5.0, 3.4, 1.5, 0.2],
        ],
        parameters: { class: 2 },
      });
      expect(two.status).toBe(400);
      expect(two.body.error).toMatch(
        /costs up to 89 model rows .* at most 60 \(maxExplainRows\): send at most 1 instance per request/,
      );
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    writeFileSync(config, JSON.stringify({ maxExplainRows: 0.5 }));
    const bad = startServe([dir, '--config', config, '--port', '0'], {}, 90_000);
    bad.url.catch(() => {});
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--config: 'maxExplainRows' must be a positive integer, not 0.5/);
  }, 240_000);
});
