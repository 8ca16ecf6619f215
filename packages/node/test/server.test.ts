/**
 * The server over real loopback HTTP, checked with an independent client: raw HTTP/1.1
 * requests written byte for byte from the Open Inference Protocol's documented examples, and
 * `fetch` for the rest.
 */

import { connect } from 'node:net';
import {
  createServer,
  Deployer,
  functionModel,
  loadModel,
  type ModelshipServer,
  tensor,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';
import { type RawAnswer, sendRaw } from './raw-http';

/** The protocol's example model: input0 UINT32 [2, 2], input1 BOOL [3] → output0 FP32 [3, 2]. */
const mymodel = functionModel(
  ({ input0, input1 }) => {
    const a = input0!.data as Uint32Array;
    const b = input1!.data as Uint8Array;
    const out = new Float32Array(6);
    for (let i = 0; i < 3; i++) {
      out[2 * i] = i + 1;
      out[2 * i + 1] = i + 1 + (b[i] ? 0.1 : 0) + a[0]! * 0;
    }
    return { output0: tensor('float32', out, [3, 2]) };
  },
  {
    name: 'mymodel',
    signature: {
      inputs: [
        { name: 'input0', dtype: 'uint32', shape: [2, 2] },
        { name: 'input1', dtype: 'bool', shape: [3] },
      ],
      outputs: [{ name: 'output0', dtype: 'float32', shape: [3, 2] }],
    },
  },
);

let deployer: Deployer;
let server: ModelshipServer;
let base: string;
let port: number;

beforeAll(async () => {
  deployer = new Deployer();
  await deployer.deploy('mymodel', mymodel, { warmup: false });
  await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
  await deployer.deploy('identity', () => loadModel(modelPath('identity_all_dtypes')), {
    version: '1',
    warmup: false,
  });
  await deployer.deploy('two_inputs', () => loadModel(modelPath('two_inputs')), { version: '1' });
  server = createServer(deployer, { maxBodyBytes: 1 << 20 });
  ({ port, url: base } = await server.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  await server.close();
  await deployer.close();
});

/** Sends raw bytes over a socket and returns the raw response. */
function raw(request: string | Buffer): Promise<RawAnswer> {
  return sendRaw(port, request);
}

/** An HTTP/1.1 request with `Connection: close`, as the spec's examples are written. */
function http(
  method: string,
  path: string,
  body = '',
  headers: Record<string, string | number> = {},
): string {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    'Host: localhost:8000',
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  if (body !== '' || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
}

describe('Open Inference Protocol: health and metadata', () => {
  it('answers live, ready and server metadata', async () => {
    const live = await raw(http('GET', '/v2/health/live'));
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body.toString())).toEqual({ live: true });
    expect((await raw(http('GET', '/v2/health/ready'))).status).toBe(200);
    const meta = await raw(http('GET', '/v2'));
    expect(meta.headers['content-type']).toBe('application/json');
    expect(JSON.parse(meta.body.toString())).toEqual({
      name: 'modelship',
      version: '0.1.0',
      extensions: ['binary_tensor_data', 'classification'],
    });
  });

  it('answers model metadata with datatypes and -1 for variable dimensions', async () => {
    const res = await raw(http('GET', '/v2/models/fraud'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      name: 'fraud',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 12] }],
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [-1] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    expect((await raw(http('GET', '/v2/models/fraud/versions/1'))).status).toBe(200);
    const missing = await raw(http('GET', '/v2/models/nope'));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toEqual({
      error: "no model named 'nope' is deployed (deployed: mymodel, fraud, identity, two_inputs)",
    });
  });

  it('answers model readiness per model and version', async () => {
    expect((await raw(http('GET', '/v2/models/fraud/ready'))).status).toBe(200);
    expect((await raw(http('GET', '/v2/models/fraud/versions/1/ready'))).status).toBe(200);
    const notReady = await raw(http('GET', '/v2/models/fraud/versions/7/ready'));
    expect(notReady.status).toBe(400);
    expect(JSON.parse(notReady.body.toString())).toEqual({ name: 'fraud', ready: false });
    expect((await raw(http('GET', '/v2/models/nope/ready'))).status).toBe(400);
  });
});

describe('Open Inference Protocol: inference', () => {
  // The request of the protocol's example, with its missing comma restored and input1's data
  // matching its shape [3] (the published example sends one BOOL for three).
  const example = {
    id: '42',
    inputs: [
      { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
      { name: 'input1', shape: [3], datatype: 'BOOL', data: [true, false, true] },
    ],
    outputs: [{ name: 'output0' }],
  };

  it("answers the protocol's example request, echoing the id", async () => {
    const res = await raw(
      http('POST', '/v2/models/mymodel/infer', JSON.stringify(example), {
        'Content-Type': 'application/json',
      }),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      model_name: 'mymodel',
      model_version: '1',
      id: '42',
      outputs: [
        {
          name: 'output0',
          datatype: 'FP32',
          shape: [3, 2],
          data: [1, 1.100000023841858, 2, 2, 3, 3.0999999046325684],
        },
      ],
    });
  });

  it("refuses the published example's own mistakes with 400 and a message", async () => {
    const verbatim = `{
  "id" : "42"
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ] }
  ],
  "outputs" : [ { "name" : "output0" } ]
}`;
    const bad = await raw(
      http('POST', '/v2/models/mymodel/infer', verbatim, { 'Content-Type': 'application/json' }),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toMatch(/^malformed JSON in the inference request: /);
    const short = await post('/v2/models/mymodel/infer', {
      ...example,
      inputs: [example.inputs[0], { name: 'input1', shape: [3], datatype: 'BOOL', data: [true] }],
    });
    expect(short.status).toBe(400);
    expect(short.json).toEqual({ error: "input 'input1': shape [3] holds 3 elements but data has 1" });
  });

  it("speaks Triton's binary tensor data extension, as its documented example", async () => {
    const header = JSON.stringify({
      model_name: 'mymodel',
      inputs: [
        { name: 'input0', shape: [2, 2], datatype: 'UINT32', parameters: { binary_data_size: 16 } },
        { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
      ],
      outputs: [{ name: 'output0', parameters: { binary_data: true } }],
    });
    const tensors = Buffer.concat([
      Buffer.from(new Uint32Array([1, 2, 3, 4]).buffer),
      Buffer.from([1, 0, 1]),
    ]);
    const body = Buffer.concat([Buffer.from(header), tensors]);
    const request = Buffer.concat([
      Buffer.from(
        [
          'POST /v2/models/mymodel/infer HTTP/1.1',
          'Host: localhost:8000',
          'Connection: close',
          'Content-Type: application/octet-stream',
          `Inference-Header-Content-Length: ${Buffer.byteLength(header)}`,
          `Content-Length: ${body.byteLength}`,
          '',
          '',
        ].join('\r\n'),
      ),
      body,
    ]);
    const res = await raw(request);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const length = Number(res.headers['inference-header-content-length']);
    expect(JSON.parse(res.body.subarray(0, length).toString())).toEqual({
      model_name: 'mymodel',
      model_version: '1',
      outputs: [{ name: 'output0', datatype: 'FP32', shape: [3, 2], parameters: { binary_data_size: 24 } }],
    });
    expect(res.body.byteLength).toBe(length + 24);
    const out = new Float32Array(
      res.body.buffer.slice(res.body.byteOffset + length, res.body.byteOffset + length + 24),
    );
    expect(Array.from(out)).toEqual([1, Math.fround(1.1), 2, 2, 3, Math.fround(3.1)]);
  });

  it('takes a raw binary request (Inference-Header-Content-Length: 0) as batch 1 and answers in binary', async () => {
    const features = new Float32Array(Array.from({ length: 12 }, (_, i) => i / 10));
    const send = (bytes: Buffer) =>
      fetch(`${base}/v2/models/fraud/infer`, {
        method: 'POST',
        headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' },
        body: bytes,
      });
    const res = await send(Buffer.from(features.buffer));
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const length = Number(res.headers.get('inference-header-content-length'));
    const head = JSON.parse(body.subarray(0, length).toString());
    expect(head).toEqual({
      model_name: 'fraud',
      model_version: '1',
      outputs: [
        { name: 'probability', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'label', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
      ],
    });
    const model = await loadModel(modelPath('fraud'));
    const direct = await model.predict({ features: tensor('float32', features, [1, 12]) });
    await model.dispose();
    expect(body.readFloatLE(length)).toBe((direct.probability!.data as Float32Array)[0]);
    const short = await send(Buffer.alloc(47));
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toBe(
      "47 bytes do not fill input 'features' [batch, 12] of FP32 at batch 1",
    );
    const twoInputs = await fetch(`${base}/v2/models/two_inputs/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': '0' },
      body: Buffer.alloc(12),
    });
    expect(((await twoInputs.json()) as { error: string }).error).toBe(
      "a raw binary request needs a model with one input; 'two_inputs' has 2",
    );
  });

  it('runs an ONNX model: same answers as predict, chosen outputs only', async () => {
    const model = await loadModel(modelPath('fraud'));
    const rows = [
      [0.1, -0.2, 0.3, 1.4, -0.5, 0.6, 0.7, -1.8, 0.9, 1.0, -1.1, 0.2],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    ];
    const direct = await model.predict({ features: rows });
    await model.dispose();
    const res = await post('/v2/models/fraud/infer', {
      inputs: [{ name: 'features', shape: [2, 12], datatype: 'FP32', data: rows }],
      outputs: [{ name: 'label' }],
    });
    expect(res.status).toBe(200);
    expect(res.json.outputs).toEqual([
      {
        name: 'label',
        datatype: 'INT64',
        shape: [2],
        data: Array.from(direct.label!.data as BigInt64Array, Number),
      },
    ]);
    const all = await post('/v2/models/fraud/versions/1/infer', {
      inputs: [{ name: 'features', shape: [2, 12], datatype: 'FP32', data: rows.flat() }],
    });
    expect(all.json.outputs.map((o: { name: string }) => o.name)).toEqual(['probability', 'label']);
    expect(all.json.outputs[0].data).toEqual(Array.from(direct.probability!.data as Float32Array));
  });

  it('round-trips every datatype in JSON and in binary, 64-bit integers exactly', async () => {
    const values: Record<string, { datatype: string; json: unknown[]; bytes: Buffer }> = {
      float32: {
        datatype: 'FP32',
        json: [1.5, -2.25],
        bytes: Buffer.from(new Float32Array([1.5, -2.25]).buffer),
      },
      float64: {
        datatype: 'FP64',
        json: [1e300, -0.1],
        bytes: Buffer.from(new Float64Array([1e300, -0.1]).buffer),
      },
      float16: {
        datatype: 'FP16',
        json: [0.5, -2],
        bytes: Buffer.from(new Uint16Array([0x3800, 0xc000]).buffer),
      },
      int8: { datatype: 'INT8', json: [-128, 127], bytes: Buffer.from(new Int8Array([-128, 127]).buffer) },
      int16: { datatype: 'INT16', json: [-32768, 7], bytes: Buffer.from(new Int16Array([-32768, 7]).buffer) },
      int32: {
        datatype: 'INT32',
        json: [-5, 2147483647],
        bytes: Buffer.from(new Int32Array([-5, 2147483647]).buffer),
      },
      int64: {
        datatype: 'INT64',
        json: [-3, 9007199254740991],
        bytes: Buffer.from(new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n]).buffer),
      },
      uint8: { datatype: 'UINT8', json: [0, 255], bytes: Buffer.from([0, 255]) },
      uint16: {
        datatype: 'UINT16',
        json: [1, 65535],
        bytes: Buffer.from(new Uint16Array([1, 65535]).buffer),
      },
      uint32: {
        datatype: 'UINT32',
        json: [1, 4294967295],
        bytes: Buffer.from(new Uint32Array([1, 4294967295]).buffer),
      },
      uint64: {
        datatype: 'UINT64',
        json: [0, 12],
        bytes: Buffer.from(new BigUint64Array([2n ** 64n - 1n, 3n]).buffer),
      },
      bool: { datatype: 'BOOL', json: [true, false], bytes: Buffer.from([1, 0]) },
      string: {
        datatype: 'BYTES',
        json: ['héllo', ''],
        bytes: Buffer.concat([Buffer.from([6, 0, 0, 0]), Buffer.from('héllo'), Buffer.from([0, 0, 0, 0])]),
      },
    };
    const names = Object.keys(values);
    const jsonRes = await post('/v2/models/identity/infer', {
      inputs: names.map((d) => ({
        name: `in_${d}`,
        shape: [1, 2],
        datatype: values[d]!.datatype,
        data: values[d]!.json,
      })),
    });
    expect(jsonRes.status).toBe(200);
    for (const o of jsonRes.json.outputs as { name: string; datatype: string; data: unknown[] }[]) {
      const d = o.name.slice(4);
      expect(o.datatype, d).toBe(values[d]!.datatype);
      expect(o.data, d).toEqual(values[d]!.json);
    }
    // Binary in and out: the bytes come back exactly, including int64 beyond 2^53.
    const header = JSON.stringify({
      inputs: names.map((d) => ({
        name: `in_${d}`,
        shape: [1, 2],
        datatype: values[d]!.datatype,
        parameters: { binary_data_size: values[d]!.bytes.byteLength },
      })),
      parameters: { binary_data_output: true },
    });
    const res = await fetch(`${base}/v2/models/identity/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(Buffer.byteLength(header)) },
      body: Buffer.concat([Buffer.from(header), ...names.map((d) => values[d]!.bytes)]),
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const length = Number(res.headers.get('inference-header-content-length'));
    const head = JSON.parse(body.subarray(0, length).toString()) as {
      outputs: { name: string; parameters: { binary_data_size: number } }[];
    };
    let at = length;
    for (const o of head.outputs) {
      const size = o.parameters.binary_data_size;
      expect(body.subarray(at, at + size).equals(values[o.name.slice(4)]!.bytes), o.name).toBe(true);
      at += size;
    }
    expect(at).toBe(body.byteLength);
    // In JSON, int64 beyond 2^53 is written exactly, digit for digit.
    const bigHeader = JSON.stringify({
      inputs: names.map((d) =>
        d === 'int64'
          ? { name: 'in_int64', shape: [1, 2], datatype: 'INT64', parameters: { binary_data_size: 16 } }
          : { name: `in_${d}`, shape: [1, 2], datatype: values[d]!.datatype, data: values[d]!.json },
      ),
      outputs: [{ name: 'out_int64' }],
    });
    const big = await fetch(`${base}/v2/models/identity/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': String(Buffer.byteLength(bigHeader)) },
      body: Buffer.concat([Buffer.from(bigHeader), values.int64!.bytes]),
    });
    expect(await big.text()).toContain('"data":[-9223372036854775808,4611686018427387905]');
  });
});

describe('Open Inference Protocol: how the body arrives and what JSON cannot hold', () => {
  it('reads a body that arrives in pieces, and a chunked one', async () => {
    const request = JSON.stringify({
      inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: Array(12).fill(0.25) }],
    });
    const whole = await post('/v2/models/fraud/infer', JSON.parse(request));
    expect(whole.status).toBe(200);
    const pieces = (head: string, parts: string[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        const chunks: Buffer[] = [];
        socket.on('data', (c) => chunks.push(c));
        socket.on('error', reject);
        socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
        socket.write(head);
        let i = 0;
        const next = () => {
          if (i === parts.length) return;
          socket.write(parts[i++]!);
          setTimeout(next, 15);
        };
        setTimeout(next, 15);
      });
    const third = Math.ceil(request.length / 3);
    const split = [request.slice(0, third), request.slice(third, 2 * third), request.slice(2 * third)];
    const sized = await pieces(
      `POST /v2/models/fraud/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${request.length}\r\n\r\n`,
      split,
    );
    const chunked = await pieces(
      'POST /v2/models/fraud/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n',
      [...split.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`), '0\r\n\r\n'],
    );
    for (const answer of [sized, chunked]) {
      expect(answer.startsWith('HTTP/1.1 200')).toBe(true);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(whole.json);
    }
  });

  it('writes NaN and infinities as null in a JSON answer, as Triton does', async () => {
    const nonFinite = functionModel(
      ({ x }) => ({
        y: tensor('float32', [Number.NaN, Number.NEGATIVE_INFINITY, (x!.data as Float32Array)[0]!], [3]),
      }),
      {
        name: 'non_finite',
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
        },
      },
    );
    await deployer.deploy('non_finite', nonFinite, { warmup: false });
    const res = await post('/v2/models/non_finite/infer', {
      inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [-1.5] }],
    });
    expect(res.status).toBe(200);
    expect(res.json.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [3], data: [null, null, -1.5] }]);
  });
});

describe('Open Inference Protocol: bad requests get 4xx and the server keeps serving', () => {
  const features = { name: 'features', shape: [1, 12], datatype: 'FP32', data: new Array(12).fill(0) };
  const cases: [string, unknown, number, RegExp][] = [
    ['unknown model', { inputs: [features] }, 404, /no model named 'ghost' is deployed/],
    ['not an object', [1, 2], 400, /must be a JSON object/],
    ['no inputs', { inputs: [] }, 400, /inputs must be a non-empty array/],
    [
      'unknown input',
      { inputs: [{ ...features, name: 'x' }] },
      400,
      /model 'fraud' has no input 'x' \(inputs: 'features'\)/,
    ],
    [
      'unknown datatype',
      { inputs: [{ ...features, datatype: 'FLOAT' }] },
      400,
      /unknown datatype "FLOAT"; expected one of BOOL, /,
    ],
    ['wrong datatype for the model', { inputs: [{ ...features, datatype: 'FP64' }] }, 400, /float32/],
    [
      'shape that disagrees with data',
      { inputs: [{ ...features, shape: [2, 12] }] },
      400,
      /shape \[2, 12\] holds 24 elements but data has 12/,
    ],
    [
      'shape the model refuses',
      { inputs: [{ ...features, shape: [1, 6], data: new Array(6).fill(0) }] },
      400,
      /12/,
    ],
    [
      'negative dimension',
      { inputs: [{ ...features, shape: [-1, 12] }] },
      400,
      /shape must be an array of non-negative integers/,
    ],
    [
      'a string in FP32 data',
      { inputs: [{ ...features, data: ['x', ...new Array(11).fill(0)] }] },
      400,
      /float32 needs numbers/,
    ],
    [
      'unknown output',
      { inputs: [features], outputs: [{ name: 'logits' }] },
      400,
      /model 'fraud' has no output 'logits'/,
    ],
    ['numeric id', { id: 42, inputs: [features] }, 400, /id must be a string/],
    [
      'prototype keys',
      JSON.parse(
        `{"__proto__": {"polluted": true}, "inputs": [{"name": "__proto__", "shape": [1], "datatype": "FP32", "data": [1]}]}`,
      ),
      400,
      /has no input '__proto__'/,
    ],
    [
      'a finite FP32 literal read as Infinity (1e309)',
      `{"inputs": [{"name": "features", "shape": [1, 12], "datatype": "FP32", "data": [1e309${',0'.repeat(11)}]}]}`,
      400,
      /input 'features': element 0 is 1e309, outside the float32 range/,
    ],
    [
      'a finite FP32 literal past the range (3.5e38)',
      `{"inputs": [{"name": "features", "shape": [1, 12], "datatype": "FP32", "data": [0, 3.5e38${',0'.repeat(10)}]}]}`,
      400,
      /input 'features': element 1 is 3.5e38, outside the float32 range/,
    ],
    [
      'ragged nesting',
      { inputs: [{ ...features, data: [[0, 0, 0, 0, 0, [1], 0, 0, 0, 0, 0, 0]] }] },
      400,
      /input 'features': data is not nested as shape \[1, 12\]: data\[0\]\[5\] is an array/,
    ],
    [
      'nesting past the limit',
      `{"inputs": [{"name": "features", "shape": [1, 12], "datatype": "FP32", "data": ${'['.repeat(100_000)}${']'.repeat(100_000)}}]}`,
      400,
      /the inference request is nested deeper than 64 levels/,
    ],
    [
      'huge tensor',
      { inputs: [{ ...features, shape: [100000000, 12] }] },
      413,
      /at most 16777216 per tensor/,
    ],
  ];
  for (const [what, body, status, message] of cases) {
    it(what, async () => {
      const res = await post(`/v2/models/${what === 'unknown model' ? 'ghost' : 'fraud'}/infer`, body);
      expect(res.status).toBe(status);
      expect(Object.keys(res.json)).toEqual(['error']);
      expect(res.json.error).toMatch(message);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('binary lengths that lie', async () => {
    const header = JSON.stringify({
      inputs: [{ ...features, data: undefined, parameters: { binary_data_size: 48 } }],
    });
    const send = (headerLength: string, tail: Buffer) =>
      fetch(`${base}/v2/models/fraud/infer`, {
        method: 'POST',
        headers: { 'inference-header-content-length': headerLength },
        body: Buffer.concat([Buffer.from(header), tail]),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: string } }));
    const floats = Buffer.from(new Float32Array(12).buffer);
    expect((await send(String(Buffer.byteLength(header)), floats)).status).toBe(200);
    const over = await send('100000', floats);
    expect(over).toEqual({
      status: 400,
      body: {
        error: expect.stringMatching(
          /Inference-Header-Content-Length is 100000 but the body has only \d+ bytes/,
        ),
      },
    });
    const short = await send(String(Buffer.byteLength(header)), floats.subarray(0, 20));
    expect(short.body.error).toMatch(
      /binary_data_size 48 runs past the end of the body \(20 bytes of binary data remain\)/,
    );
    const extra = await send(
      String(Buffer.byteLength(header)),
      Buffer.concat([floats, Buffer.from([1, 2, 3])]),
    );
    expect(extra.body.error).toMatch(/3 bytes of binary data that no input claims/);
    const cut = await send(String(Buffer.byteLength(header) - 5), floats);
    expect(cut.body.error).toMatch(/malformed JSON in the inference header/);
    expect((await send('abc', floats)).body.error).toMatch(
      /Inference-Header-Content-Length must be a byte count/,
    );
  });

  it('oversized bodies get 413 before they are read', async () => {
    const res = await raw(http('POST', '/v2/models/fraud/infer', 'x'.repeat(2 << 20)));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).error).toMatch(/this server takes at most 1048576/);
    expect((await raw(http('GET', '/v2/health/live'))).status).toBe(200);
  });

  it('unknown routes get 404 with an error body', async () => {
    const res = await raw(http('GET', '/v3/models'));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toEqual({ error: 'not found: /v3/models' });
    expect((await raw(http('DELETE', '/v2/models/fraud'))).status).toBe(404);
  });
});

describe('TF Serving REST API', () => {
  it('predicts in the row and columnar formats', async () => {
    const rows = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const twos = [
      [2, 2, 2],
      [2, 2, 2],
    ];
    const row = await post('/v1/models/two_inputs:predict', {
      instances: rows.map((a, i) => ({ a, b: twos[i] })),
    });
    expect(row.status).toBe(200);
    expect(row.json).toEqual({
      predictions: [
        { sum: [3, 4, 5], product: [2, 4, 6] },
        { sum: [6, 7, 8], product: [8, 10, 12] },
      ],
    });
    const columnar = await post('/v1/models/two_inputs/versions/1:predict', { inputs: { a: rows, b: twos } });
    expect(columnar.json).toEqual({
      outputs: {
        sum: [
          [3, 4, 5],
          [6, 7, 8],
        ],
        product: [
          [2, 4, 6],
          [8, 10, 12],
        ],
      },
    });
    const single = await post('/v1/models/fraud:predict', { instances: [new Array(12).fill(0)] });
    expect(single.json.predictions).toEqual([{ probability: expect.any(Number), label: 0 }]);
    const bad = await post('/v1/models/fraud:predict', { instances: [[1, 2]], inputs: [] });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/either "instances" \(row format\) or "inputs" \(columnar format\)/);
    expect((await post('/v1/models/ghost:predict', { instances: [[1]] })).status).toBe(404);
  });

  it('answers 400 for a body nested past the limit, never a stack overflow', async () => {
    const deep = `${'['.repeat(100_000)}0${']'.repeat(100_000)}`;
    for (const body of [
      `{"instances": ${deep}}`,
      `{"inputs": {"features": ${deep}}}`,
      `{"instances": [{"features": ${deep}}]}`,
    ]) {
      const res = await post('/v1/models/fraud:predict', body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: 'the predict request is nested deeper than 64 levels' });
    }
    // 64 levels is still JSON the route reads (and refuses for its shape, not its depth).
    const res = await post('/v1/models/fraud:predict', `{"instances": ${'['.repeat(62)}0${']'.repeat(62)}}`);
    expect(res.status).toBe(400);
    expect(res.json.error).not.toMatch(/nested deeper/);
  });

  it('reports model status and metadata', async () => {
    const status = await (await fetch(`${base}/v1/models/fraud`)).json();
    expect(status).toEqual({
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const meta = (await (await fetch(`${base}/v1/models/fraud/metadata`)).json()) as {
      metadata: {
        signature_def: { signature_def: { serving_default: { inputs: Record<string, unknown> } } };
      };
    };
    expect(meta.metadata.signature_def.signature_def.serving_default.inputs.features).toEqual({
      dtype: 'DT_FLOAT',
      tensor_shape: {
        dim: [
          { size: '-1', name: 'batch' },
          { size: '12', name: '' },
        ],
      },
      name: 'features',
    });
  });
});

describe('metrics', () => {
  it('counts requests per model and version in Prometheus format', async () => {
    await post('/v2/models/fraud/infer', {
      inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: new Array(12).fill(1) }],
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /^modelship_inference_request_success_total\{model="fraud",version="1"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(
      /^modelship_inference_request_duration_seconds_count\{model="fraud",version="1"\} [1-9]\d*$/m,
    );
    expect(text).toMatch(/^modelship_http_requests_total\{route="inference",code="400"\} [1-9]\d*$/m);
    expect(text).toMatch(/^modelship_inference_pending_requests\{model="fraud",version="1"\} 0$/m);
    expect(text).toContain('# TYPE modelship_inference_batch_size histogram');
  });
});
