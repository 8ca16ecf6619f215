/**
 * Protocol details an independent client relies on (issue 16 §4), checked with requests written
 * from the specs as raw HTTP bytes: TF Serving's `signature_name` and its `NaN`/`Infinity`
 * tokens, records routes that refuse unknown fields and describe themselves, BYTES that carry
 * any bytes, compressed request bodies and the repository extension's load overrides.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import {
  createInferenceHandler,
  createServer,
  Deployer,
  functionModel,
  impute,
  loadModel,
  type ModelshipServer,
  Pipeline,
  threshold,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';
import { type RawAnswer, sendRaw } from './raw-http';

/** Returns its float input as it is, to show what the server read. */
const echo = functionModel(({ x }) => ({ y: x! }), {
  name: 'echo',
  signature: {
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 'n'] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 'n'] }],
  },
});

/** Returns its BYTES input as it is: what a string identity model does, for any bytes. */
const bytesEcho = functionModel(({ s }) => ({ t: s! }), {
  name: 'bytes',
  signature: {
    inputs: [{ name: 's', dtype: 'string', shape: ['n'] }],
    outputs: [{ name: 't', dtype: 'string', shape: ['n'] }],
  },
});

const fields = Array.from({ length: 12 }, (_, i) => `f${i}`);
const training = Array.from({ length: 20 }, (_, r) =>
  Object.fromEntries(fields.map((f, i) => [f, (r * 7 + i * 3) % 11])),
);
const spec = {
  features: Object.fromEntries(fields.map((f) => [f, impute('mean')])),
  input: 'features',
  output: { probability: 'probability', label: threshold(0.5, ['legit', 'fraud']) },
};
const strict = Pipeline.fit(training, spec);
const lenient = Pipeline.fit(training, { ...spec, allowExtraFields: true });

let deployer: Deployer;
let server: ModelshipServer;
let port: number;
const loads: string[] = [];

beforeAll(async () => {
  deployer = new Deployer();
  await deployer.deploy('echo', echo, { warmup: false });
  await deployer.deploy('bytes', bytesEcho, { warmup: false });
  await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
  await deployer.deploy('fraud_lenient', () => loadModel(modelPath('fraud')), { version: '1' });
  await deployer.deploy('identity', () => loadModel(modelPath('identity_all_dtypes')), {
    version: '1',
    warmup: false,
  });
  server = createServer(deployer, {
    maxBodyBytes: 1 << 20,
    pipelines: { fraud: strict, fraud_lenient: lenient },
    modelControl: 'explicit',
    repository: {
      index: () => [],
      load: async (m) => {
        loads.push(m);
      },
      unload: async () => {},
    },
  });
  ({ port } = await server.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  await server.close();
  await deployer.close();
});

/** One HTTP/1.1 request written byte for byte, `Connection: close`; the answer as received. */
async function send(
  method: string,
  path: string,
  body: string | Buffer = '',
  headers: Record<string, string | number> = {},
): Promise<RawAnswer & { json: () => Record<string, unknown> }> {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const head = [
    `${method} ${path} HTTP/1.1`,
    'Host: localhost',
    'Connection: close',
    `Content-Length: ${payload.byteLength}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  const answer = await sendRaw(port, Buffer.concat([Buffer.from(`${head}\r\n\r\n`), payload]), {
    halfClose: false,
  });
  return { ...answer, json: () => JSON.parse(answer.body.toString('utf8')) };
}

const record = Object.fromEntries(fields.map((f, i) => [f, i / 10]));

describe('TF Serving: signature_name', () => {
  it('accepts serving_default and the empty name, as TF Serving does', async () => {
    for (const name of ['"serving_default"', '""']) {
      const r = await send(
        'POST',
        '/v1/models/echo:predict',
        `{"signature_name":${name},"instances":[[1,2]]}`,
      );
      expect(r.status, name).toBe(200);
      expect(r.json()).toEqual({ predictions: [[1, 2]] });
    }
  });

  it('refuses an unknown name with 400 and TF Serving words, on tensor and records models', async () => {
    for (const [path, body] of [
      ['/v1/models/echo:predict', '{"signature_name":"predict_images","instances":[[1,2]]}'],
      [
        '/v1/models/fraud:predict',
        `{"signature_name":"predict_images","instances":[${JSON.stringify(record)}]}`,
      ],
    ] as const) {
      const r = await send('POST', path, body);
      expect(r.status, path).toBe(400);
      expect(r.json().error).toBe(
        'Serving signature key "predict_images" not found. (this model has one signature, "serving_default")',
      );
    }
  });

  it('refuses a name that is not a string, in TF Serving words', async () => {
    for (const [value, shown] of [
      ['100', '100'],
      ['["hello"]', '["hello"]'],
      ['null', 'null'],
    ]) {
      const r = await send(
        'POST',
        '/v1/models/echo:predict',
        `{"signature_name":${value},"instances":[[1]]}`,
      );
      expect(r.status, value).toBe(400);
      expect(r.json().error).toBe(
        `JSON Value: ${shown} not formatted correctly. 'signature_name' key must be a string value.`,
      );
    }
  });

  it(':classify and :regress refuse a model with no class scores or values to answer with', async () => {
    const r = await send('POST', '/v1/models/echo:classify', '{"examples":[{"x":[1]}]}');
    expect(r.status).toBe(400);
    expect(r.json().error).toBe(
      "model 'echo' has no class scores to classify with (a float output [batch, classes]); use :predict",
    );
    const regress = await send('POST', '/v1/models/echo:regress', '{"examples":[{"x":[1]}]}');
    expect(regress.status).toBe(400);
    expect(regress.json().error).toBe(
      "model 'echo' has no output of one float per example to regress with; use :predict",
    );
  });
});

describe('TF Serving: NaN, Infinity and -Infinity tokens', () => {
  it('reads them as the floats they name, outside strings only, and writes them back', async () => {
    const r = await send(
      'POST',
      '/v1/models/echo:predict',
      '{"instances": [[NaN, Infinity, -Infinity, 1.5e0]], "signature_name": "serving_default"}',
    );
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('{"predictions":[[NaN,Infinity,-Infinity,1.5]]}');
    const columnar = await send('POST', '/v1/models/echo:predict', '{"inputs":{"x":[[-Infinity]]}}');
    expect(columnar.body.toString()).toBe('{"outputs":[[-Infinity]]}');
  });

  it('leaves the words inside strings alone and refuses other bare words', async () => {
    const asText = await send(
      'POST',
      '/v1/models/bytes:predict',
      '{"inputs":{"s":["NaN","Infinity, -Infinity","\\"NaN\\""]}, "note": NaN}',
    );
    expect(asText.status).toBe(200);
    expect(asText.json()).toEqual({ outputs: ['NaN', 'Infinity, -Infinity', '"NaN"'] });
    for (const body of [
      '{"instances":[[nan]]}',
      '{"instances":[[NaN, Inf]]}',
      '{"instances":[[+Infinity]]}',
    ]) {
      const r = await send('POST', '/v1/models/echo:predict', body);
      expect(r.status, body).toBe(400);
      expect(r.json().error, body).toMatch(/^malformed JSON in the predict request: /);
    }
  });

  it('stays standard JSON on the Open Inference Protocol routes', async () => {
    const r = await send(
      'POST',
      '/v2/models/echo/infer',
      '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,1],"data":[NaN]}]}',
    );
    expect(r.status).toBe(400);
    expect(r.json().error).toMatch(/^malformed JSON in the inference request: /);
  });
});

describe('TF Serving: a model served with a pipeline', () => {
  it('refuses records with fields the pipeline does not read, naming them', async () => {
    // The tensor the old metadata advertised, sent as a record: four imputed means answered before.
    const tensorAsRecord = await send(
      'POST',
      '/v1/models/fraud:predict',
      '{"instances":[{"input":[5.1,3.5,1.4,0.2]}]}',
    );
    expect(tensorAsRecord.status).toBe(400);
    expect(tensorAsRecord.json().error).toBe(
      `record 0 has a field the pipeline does not read: 'input' (it reads ${fields.map((f) => `'${f}'`).join(', ')}); set "allowExtraFields": true in the pipeline to ignore extra fields`,
    );
    const { f3: _dropped, ...rest } = record;
    const misspelt = await send(
      'POST',
      '/v1/models/fraud:predict',
      JSON.stringify({ instances: [record, { ...rest, F3: 0.3, extra: 1 }] }),
    );
    expect(misspelt.status).toBe(400);
    expect(misspelt.json().error).toMatch(
      /^record 1 has fields the pipeline does not read: 'F3', 'extra' \(/,
    );
    const columnar = await send(
      'POST',
      '/v1/models/fraud:predict',
      JSON.stringify({ inputs: { f1: [1], g: [2] } }),
    );
    expect(columnar.status).toBe(400);
    expect(columnar.json().error).toMatch(/^record 0 has a field the pipeline does not read: 'g' \(/);
  });

  it('takes extra fields when the pipeline allows them, answering as without them', async () => {
    const plain = await send(
      'POST',
      '/v1/models/fraud_lenient:predict',
      JSON.stringify({ instances: [record] }),
    );
    const extra = await send(
      'POST',
      '/v1/models/fraud_lenient:predict',
      JSON.stringify({ instances: [{ ...record, customer_id: 'c-17' }] }),
    );
    expect(plain.status).toBe(200);
    expect(extra.json()).toEqual(plain.json());
    const strictAnswer = await send(
      'POST',
      '/v1/models/fraud:predict',
      JSON.stringify({ instances: [record] }),
    );
    expect(strictAnswer.json()).toEqual(plain.json());
    expect(lenient.toJSON().allowExtraFields).toBe(true);
    expect(Pipeline.fromJSON(JSON.parse(JSON.stringify(lenient))).allowExtraFields).toBe(true);
    expect('allowExtraFields' in strict.toJSON()).toBe(false);
  });

  it('describes the record fields and answer fields in its metadata, not the inner tensor', async () => {
    const r = await send('GET', '/v1/models/fraud/metadata');
    expect(r.status).toBe(200);
    const meta = r.json() as {
      metadata: {
        signature_def: { signature_def: { serving_default: Record<string, Record<string, unknown>> } };
        records: unknown;
      };
    };
    const sig = meta.metadata.signature_def.signature_def.serving_default;
    expect(Object.keys(sig.inputs!)).toEqual(fields);
    expect(sig.inputs!.f0).toEqual({
      dtype: 'DT_FLOAT',
      tensor_shape: { dim: [{ size: '-1', name: 'batch' }] },
      name: 'f0',
    });
    expect(sig.outputs).toEqual({
      probability: {
        dtype: 'DT_FLOAT',
        tensor_shape: { dim: [{ size: '-1', name: 'batch' }] },
        name: 'probability',
      },
      label: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: '-1', name: 'batch' }] }, name: 'label' },
    });
    expect(meta.metadata.records).toEqual({
      fields: fields.map((name) => ({ name, type: 'number', dtype: 'float32', optional: true })),
      answers: [
        { name: 'probability', type: 'value', from: 'probability', dtype: 'float32', shape: [] },
        { name: 'label', type: 'label', from: 'probability', dtype: 'string', shape: [] },
      ],
    });
    // What the metadata says is what the route answers.
    const answer = await send('POST', '/v1/models/fraud:predict', JSON.stringify({ instances: [record] }));
    const prediction = (answer.json().predictions as Record<string, unknown>[])[0]!;
    expect(Object.keys(prediction)).toEqual(['probability', 'label']);
    expect(typeof prediction.probability).toBe('number');
    expect(['legit', 'fraud']).toContain(prediction.label);
    // The Open Inference Protocol's infer route takes the tensor, so its metadata stays the tensor's.
    const oip = (await send('GET', '/v2/models/fraud')).json();
    expect(oip.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 12] }]);
  });
});

/** Triton's binary form of BYTES elements: a 4-byte little-endian length, then the bytes. */
function lengthPrefixed(elements: Buffer[]): Buffer {
  return Buffer.concat(
    elements.flatMap((e) => {
      const n = Buffer.alloc(4);
      n.writeUInt32LE(e.byteLength);
      return [n, e];
    }),
  );
}

describe('BYTES carry any bytes', () => {
  const elements = [Buffer.from([0x00, 0xff]), Buffer.from('héllo ✓'), Buffer.alloc(0), Buffer.from([0xc3])];

  it('round-trips raw bytes through Triton binary data, byte for byte', async () => {
    const data = lengthPrefixed(elements);
    const header = JSON.stringify({
      inputs: [
        { name: 's', datatype: 'BYTES', shape: [4], parameters: { binary_data_size: data.byteLength } },
      ],
      outputs: [{ name: 't', parameters: { binary_data: true } }],
    });
    const r = await send('POST', '/v2/models/bytes/infer', Buffer.concat([Buffer.from(header), data]), {
      'Inference-Header-Content-Length': Buffer.byteLength(header),
      'Content-Type': 'application/octet-stream',
    });
    expect(r.status).toBe(200);
    const split = Number(r.headers['inference-header-content-length']);
    expect(JSON.parse(r.body.subarray(0, split).toString()).outputs[0].parameters).toEqual({
      binary_data_size: data.byteLength,
    });
    expect(r.body.subarray(split).equals(data)).toBe(true);
  });

  it('keeps text as strings in JSON and writes other bytes as {"b64": ...}, which JSON requests take back', async () => {
    const header = (data: string) =>
      `{"inputs":[{"name":"s","datatype":"BYTES","shape":[4],"data":${data}}]}`;
    const first = await send(
      'POST',
      '/v2/models/bytes/infer',
      header(`[{"b64":"AP8="},"héllo ✓","",{"b64":"ww=="}]`),
    );
    expect(first.status).toBe(200);
    const out = (first.json().outputs as { data: unknown[] }[])[0]!.data;
    expect(out).toEqual([{ b64: 'AP8=' }, 'héllo ✓', '', { b64: 'ww==' }]);
    // A text element sent as base64 comes back as text.
    const text = await send(
      'POST',
      '/v2/models/bytes/infer',
      header('[{"b64":"aMOpbGxvIOKckw=="},"a","b","c"]'),
    );
    expect((text.json().outputs as { data: unknown[] }[])[0]!.data).toEqual(['héllo ✓', 'a', 'b', 'c']);
    const bad = await send('POST', '/v2/models/bytes/infer', header('[{"b64":"not base64!"},"a","b","c"]'));
    expect(bad.status).toBe(400);
    expect(bad.json().error).toBe(`input 's': {"b64": ...} holds text that is not base64`);
  });

  it('reads TF Serving {"b64": ...} values as bytes, not as lossy text', async () => {
    const r = await send('POST', '/v1/models/bytes:predict', '{"instances":[{"b64":"AP8="},"ok"]}');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ predictions: [{ b64: 'AP8=' }, 'ok'] });
  });

  it('refuses raw bytes for an ONNX string input with the element named, and passes text through', async () => {
    const inputs = (s: unknown[]) => ({
      inputs: [
        { name: 'in_float32', datatype: 'FP32', shape: [1, 2], data: [1, 2] },
        { name: 'in_float64', datatype: 'FP64', shape: [1, 2], data: [1, 2] },
        { name: 'in_float16', datatype: 'FP16', shape: [1, 2], data: [1, 2] },
        { name: 'in_int8', datatype: 'INT8', shape: [1, 2], data: [1, 2] },
        { name: 'in_int16', datatype: 'INT16', shape: [1, 2], data: [1, 2] },
        { name: 'in_int32', datatype: 'INT32', shape: [1, 2], data: [1, 2] },
        { name: 'in_int64', datatype: 'INT64', shape: [1, 2], data: [1, 2] },
        { name: 'in_uint8', datatype: 'UINT8', shape: [1, 2], data: [1, 2] },
        { name: 'in_uint16', datatype: 'UINT16', shape: [1, 2], data: [1, 2] },
        { name: 'in_uint32', datatype: 'UINT32', shape: [1, 2], data: [1, 2] },
        { name: 'in_uint64', datatype: 'UINT64', shape: [1, 2], data: [1, 2] },
        { name: 'in_bool', datatype: 'BOOL', shape: [1, 2], data: [true, false] },
        { name: 'in_string', datatype: 'BYTES', shape: [1, 2], data: s },
      ],
      outputs: [{ name: 'out_string' }],
    });
    const text = await send(
      'POST',
      '/v2/models/identity/infer',
      JSON.stringify(inputs(['héllo', { b64: 'w6k=' }])),
    );
    expect(text.status).toBe(200);
    expect((text.json().outputs as { data: unknown[] }[])[0]!.data).toEqual(['héllo', 'é']);
    const raw = await send(
      'POST',
      '/v2/models/identity/infer',
      JSON.stringify(inputs(['ok', { b64: 'AP8=' }])),
    );
    expect(raw.status).toBe(400);
    expect(raw.json().error).toBe(
      "input 'in_string': element 1 is 2 raw bytes that are not UTF-8 text; onnxruntime's string tensors carry text only",
    );
  });
});

describe('compressed request bodies', () => {
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
  const expected = {
    model_name: 'echo',
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
  };

  it('inflates gzip and deflate bodies (Content-Encoding), as Triton does', async () => {
    for (const [coding, bytes] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['GZip', gzipSync(body)],
      ['identity', Buffer.from(body)],
    ] as const) {
      const r = await send('POST', '/v2/models/echo/infer', bytes, { 'Content-Encoding': coding });
      expect(r.status, coding).toBe(200);
      expect(r.json(), coding).toMatchObject(expected);
    }
    const tf = await send('POST', '/v1/models/echo:predict', gzipSync('{"instances":[[NaN, 2]]}'), {
      'Content-Encoding': 'gzip',
    });
    expect(tf.body.toString()).toBe('{"predictions":[[NaN,2]]}');
  });

  it('refuses an unknown coding with 415 naming the ones it takes', async () => {
    const r = await send('POST', '/v2/models/echo/infer', body, { 'Content-Encoding': 'br' });
    expect(r.status).toBe(415);
    expect(r.headers['accept-encoding']).toBe('gzip, deflate');
    expect(r.json().error).toBe(
      "Content-Encoding 'br' is not supported; send the body as it is, or compressed with gzip or deflate",
    );
  });

  it('refuses a body that does not inflate with 400', async () => {
    const r = await send('POST', '/v2/models/echo/infer', Buffer.from(body), { 'Content-Encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(r.json().error).toMatch(/^the gzip body could not be inflated: /);
  });

  it('applies the body limit to the inflated size: a bomb is 413 and is not inflated to the end', async () => {
    // Under the 1 MiB limit on the wire, 768 MiB inflated: 48 gzip members of 16 MiB of zeros each.
    const member = gzipSync(Buffer.alloc(16 << 20));
    const bomb = Buffer.concat(Array.from({ length: 48 }, () => member));
    expect(bomb.byteLength).toBeLessThan(1 << 20);
    const before = process.memoryUsage().arrayBuffers;
    const r = await send('POST', '/v2/models/echo/infer', bomb, { 'Content-Encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.json().error).toBe('the body inflates to over 1048576 bytes, the most this server takes');
    // Inflating it all would have held gigabytes; stopping at the limit holds about one.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 << 20);
  });

  it('inflates in the fetch handler too, with the same limit and 415', async () => {
    const handler = createInferenceHandler(deployer, { maxBodyBytes: 4096 });
    const post = (b: Uint8Array, coding: string) =>
      handler.fetch(
        new Request('http://x/v2/models/echo/infer', {
          method: 'POST',
          headers: { 'content-encoding': coding },
          body: b,
        }),
      );
    const ok = await post(gzipSync(body), 'gzip');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject(expected);
    expect((await post(deflateSync(body), 'deflate')).status).toBe(200);
    const bomb = await post(gzipSync(Buffer.alloc(1 << 20)), 'gzip');
    expect(bomb.status).toBe(413);
    const br = await post(Buffer.from(body), 'br');
    expect(br.status).toBe(415);
    expect(br.headers.get('accept-encoding')).toBe('gzip, deflate');
  });
});

describe('repository extension: load overrides', () => {
  it('refuses parameters.config and file: overrides with 400, without loading', async () => {
    loads.length = 0;
    const r = await send(
      'POST',
      '/v2/repository/models/fraud/load',
      JSON.stringify({
        parameters: {
          config: '{"backend":"onnxruntime"}',
          'file:1/model.onnx': Buffer.from('x').toString('base64'),
        },
      }),
    );
    expect(r.status).toBe(400);
    expect(r.json().error).toBe(
      "load of model 'fraud': parameters 'config', 'file:1/model.onnx' are not supported; this server loads the model's files as they are in the repository (write config.json and the version's files there, then load)",
    );
    expect(loads).toEqual([]);
    for (const plain of ['', '{}', '{"parameters":{}}']) {
      const ok = await send('POST', '/v2/repository/models/fraud/load', plain);
      expect(ok.status, plain).toBe(200);
    }
    expect(loads).toEqual(['fraud', 'fraud', 'fraud']);
  });
});
