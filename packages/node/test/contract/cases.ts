/**
 * The handler contract: what every front (node:http, the fetch handler, Express, Fastify, Hono,
 * a service worker in Chromium) answers to the same requests, written once. A case is a request
 * and the answer expected of it, with real values: inference answers are checked against the
 * model's own `predict` on the same runtime (exactly) and against scikit-learn's numbers in
 * fixtures/models/expected.json. Where a front answers differently for a reason of its own (a
 * framework's own 404, a header a browser forbids scripts to set), the case says so in
 * `differs`, with the answer that front gives instead: nothing is skipped silently.
 */
import { expect } from 'vitest';
import { casesOf } from '../fixtures';
import { MAX_BODY_BYTES, ORIGIN, TOKEN } from './setup';

export type FrontName = 'node:http' | 'fetch' | 'express' | 'fastify' | 'hono' | 'chromium';

export interface ContractRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface ContractAnswer {
  status: number;
  /** Header values by lower-case name. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The fraud model's outputs for some rows, as `predict` gives them (labels as numbers). */
export interface FraudOutputs {
  probability: number[];
  label: number[];
}

/** A front under test: how a request reaches the handler, and the model outside it. */
export interface Front {
  send(request: ContractRequest): Promise<ContractAnswer>;
  /** fraud.onnx's own `predict` on this front's runtime, not through the handler. */
  predict(rows: number[][]): Promise<FraudOutputs>;
  /** The records pipeline wrapped around fraud.onnx, called directly. */
  predictRecords(records: Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** An answer as data: the status, the headers named (null: must be absent) and the body. */
export interface Expected {
  status: number;
  headers?: Record<string, string | null>;
  /** The body, parsed as JSON, equals this. */
  json?: unknown;
  /** The body as text equals this. */
  text?: string;
}

export interface ContractCase {
  name: string;
  request: ContractRequest | (() => Promise<ContractRequest>);
  /** The answer as data, or a check that needs the front (values against its own `predict`). */
  expect: Expected | ((answer: ContractAnswer, front: Front) => Promise<void>);
  /** Fronts that answer otherwise, why, and what they answer instead. */
  differs?: Partial<Record<FrontName, { why: string; expect: Expected }>>;
}

export const auth = { authorization: `Bearer ${TOKEN}` };
export const asJson = { ...auth, 'content-type': 'application/json' };
/** The rows of fraud.onnx's cases in expected.json, and what scikit-learn's script wrote for them. */
export const rows: number[][] = [];
const sklearn: FraudOutputs = { probability: [], label: [] };
for (const c of casesOf('fraud')) {
  const features = [...(c.inputs.features!.data as Float32Array)];
  for (let i = 0; i < features.length; i += 12) rows.push(features.slice(i, i + 12));
  sklearn.probability.push(...(c.outputs.probability!.data as Float32Array));
  sklearn.label.push(...[...(c.outputs.label!.data as BigInt64Array)].map(Number));
}
export const record = Object.fromEntries(
  [1, 2, 0.5, -1, 0, 3, 1, -3, 2, -2, 0, 1].map((v, i) => [`f${i}`, v]),
);

const text = (a: ContractAnswer) => new TextDecoder().decode(a.body);
export const bodyJson = (a: ContractAnswer) => JSON.parse(text(a)) as Record<string, unknown>;

/** A JSON number of a float32 output is the shortest text that reads back as that float32. */
export const asFloat32 = (values: unknown): number[] => (values as number[]).map((v) => Math.fround(v));

function closeToSklearn(probability: number[]): void {
  for (const [i, p] of probability.entries())
    expect(Math.abs(p - sklearn.probability[i]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * sklearn.probability[i]!);
}

export const CREDENTIALS_REQUIRED = {
  status: 401,
  headers: { 'www-authenticate': 'Bearer', 'content-type': 'application/json' },
  json: { error: 'credentials required: send Authorization: Bearer <token>' },
};

/** The CORS headers of an answer to the allowed origin. */
const CORS_ANSWER = {
  'access-control-allow-origin': ORIGIN,
  'access-control-expose-headers': 'inference-header-content-length',
  vary: 'Origin',
};
const NO_CORS = { 'access-control-allow-origin': null, 'access-control-allow-methods': null };

/** Chromium: a service worker answers only its own pages, and a page cannot set `Origin`. */
const BROWSER_ORIGIN =
  'a page cannot set Origin (a forbidden header: the browser sets it) and a service worker only answers its own, same-origin pages: no request of it is cross-origin, so it carries no CORS answer';

/** A framework's own 404 for a path outside the prefixes the handler is mounted on. */
const MOUNTED =
  "the handler is mounted on the protocols' paths only (/v2, /v1/models, /metrics, and TorchServe's /ping, /predictions, /explanations, /models); the app answers other paths";

/**
 * The case of a body over maxBodyBytes sent to `path`, its messages in the route's error shape
 * (`{error}`, or TorchServe's). node:http refuses it by its declared length; a fetch handler
 * counts the body as it streams (a service worker sees no Content-Length) and words it so.
 */
export function tooLargeCase(name: string, path: string, shape: (message: string) => unknown): ContractCase {
  const streamed = {
    status: 413,
    json: shape(`the body is over ${MAX_BODY_BYTES} bytes, the most this server takes`),
  };
  return {
    name,
    request: { method: 'POST', path, headers: asJson, body: ' '.repeat(MAX_BODY_BYTES + 1) },
    expect: {
      status: 413,
      headers: { connection: 'close' },
      json: shape(`the body is ${MAX_BODY_BYTES + 1} bytes; this server takes at most ${MAX_BODY_BYTES}`),
    },
    differs: {
      fetch: {
        why: 'the fetch handler words its 413 as it does for a body it counts while streaming, and leaves the connection to its server',
        expect: { ...streamed, headers: { connection: null } },
      },
      hono: { why: 'Hono runs the fetch handler (see fetch)', expect: streamed },
      chromium: { why: 'the service worker runs the fetch handler (see fetch)', expect: streamed },
    },
  };
}

/** The case of a preflight from the allowed origin for `method` on `path`: 204 with every CORS header. */
export function preflightCase(name: string, path: string, method: string): ContractCase {
  return {
    name,
    request: {
      method: 'OPTIONS',
      path,
      headers: {
        origin: ORIGIN,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      },
    },
    expect: {
      status: 204,
      headers: {
        ...CORS_ANSWER,
        'access-control-allow-methods': 'GET, POST, PUT, OPTIONS',
        'access-control-allow-headers':
          'authorization, content-type, inference-header-content-length, x-routing-key',
        'access-control-max-age': '120',
      },
      text: '',
    },
    differs: { chromium: { why: BROWSER_ORIGIN, expect: { status: 204, headers: NO_CORS, text: '' } } },
  };
}

function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
}

export const contractCases: ContractCase[] = [
  // Health: open without credentials (auth exempts the health scope by default).
  {
    name: 'GET /v2/health/live answers live, without credentials',
    request: { method: 'GET', path: '/v2/health/live' },
    expect: { status: 200, headers: { 'content-type': 'application/json' }, json: { live: true } },
  },
  {
    name: 'GET /v2/health/ready answers ready, without credentials',
    request: { method: 'GET', path: '/v2/health/ready' },
    expect: { status: 200, json: { ready: true } },
  },
  {
    name: 'GET /v2/models/fraud/ready answers ready, without credentials',
    request: { method: 'GET', path: '/v2/models/fraud/ready' },
    expect: { status: 200, json: { name: 'fraud', ready: true } },
  },
  {
    name: 'GET /v2/models/{unknown}/ready answers false with 400, as the protocol asks',
    request: { method: 'GET', path: '/v2/models/nope/ready' },
    expect: { status: 400, json: { name: 'nope', ready: false } },
  },
  // Metadata.
  {
    name: 'GET /v2 gives the server name, version and extensions',
    request: { method: 'GET', path: '/v2', headers: auth },
    expect: {
      status: 200,
      json: { name: 'contract', version: '1.2.3', extensions: ['binary_tensor_data', 'classification'] },
    },
  },
  {
    name: 'GET /v2/models/fraud gives the model metadata',
    request: { method: 'GET', path: '/v2/models/fraud', headers: auth },
    expect: {
      status: 200,
      json: {
        name: 'fraud',
        versions: ['3'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 12] }],
        outputs: [
          { name: 'probability', datatype: 'FP32', shape: [-1] },
          { name: 'label', datatype: 'INT64', shape: [-1] },
        ],
      },
    },
  },
  {
    name: 'GET /v1/models/fraud gives TF Serving model status',
    request: { method: 'GET', path: '/v1/models/fraud', headers: auth },
    expect: {
      status: 200,
      json: {
        model_version_status: [
          { version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        ],
      },
    },
  },
  // Inference, Open Inference Protocol.
  {
    name: 'POST /v2/models/fraud/infer (JSON) answers what predict gives, with the request id',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: asJson,
      body: JSON.stringify({
        id: 'req-42',
        inputs: [{ name: 'features', shape: [rows.length, 12], datatype: 'FP32', data: rows.flat() }],
      }),
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json');
      const body = bodyJson(answer) as { outputs: { data: number[] }[] };
      const direct = await front.predict(rows);
      expect(body).toEqual({
        model_name: 'fraud',
        model_version: '3',
        id: 'req-42',
        outputs: [
          { name: 'probability', datatype: 'FP32', shape: [rows.length], data: expect.any(Array) },
          { name: 'label', datatype: 'INT64', shape: [rows.length], data: direct.label },
        ],
      });
      expect(asFloat32(body.outputs[0]!.data)).toEqual(direct.probability);
      expect(direct.label).toEqual(sklearn.label);
      closeToSklearn(direct.probability);
    },
  },
  {
    name: 'POST /v2/models/fraud/versions/3/infer: a version path, no id sent, none answered',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/versions/3/infer',
      headers: asJson,
      body: JSON.stringify({
        inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: rows[1] }],
        outputs: [{ name: 'label' }],
      }),
    },
    expect: async (answer, front) => {
      const direct = await front.predict([rows[1]!]);
      expect(answer.status).toBe(200);
      expect(bodyJson(answer)).toEqual({
        model_name: 'fraud',
        model_version: '3',
        outputs: [{ name: 'label', datatype: 'INT64', shape: [1], data: direct.label }],
      });
    },
  },
  {
    name: 'POST /v2/models/fraud/infer with binary tensors in and out (Triton extension)',
    request: () => {
      const header = JSON.stringify({
        id: 'bin-1',
        inputs: [
          {
            name: 'features',
            shape: [rows.length, 12],
            datatype: 'FP32',
            parameters: { binary_data_size: rows.length * 48 },
          },
        ],
        outputs: [{ name: 'probability', parameters: { binary_data: true } }, { name: 'label' }],
      });
      const head = new TextEncoder().encode(header);
      const body = new Uint8Array(head.byteLength + rows.length * 48);
      body.set(head);
      body.set(new Uint8Array(Float32Array.from(rows.flat()).buffer), head.byteLength);
      return Promise.resolve({
        method: 'POST',
        path: '/v2/models/fraud/infer',
        headers: {
          ...auth,
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(head.byteLength),
        },
        body,
      });
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/octet-stream');
      const length = Number(answer.headers['inference-header-content-length']);
      const header = JSON.parse(new TextDecoder().decode(answer.body.subarray(0, length)));
      const direct = await front.predict(rows);
      expect(header).toEqual({
        model_name: 'fraud',
        model_version: '3',
        id: 'bin-1',
        outputs: [
          {
            name: 'probability',
            datatype: 'FP32',
            shape: [rows.length],
            parameters: { binary_data_size: rows.length * 4 },
          },
          { name: 'label', datatype: 'INT64', shape: [rows.length], data: direct.label },
        ],
      });
      expect(answer.body.byteLength).toBe(length + rows.length * 4);
      const tail = answer.body.slice(length);
      expect([...new Float32Array(tail.buffer)]).toEqual(direct.probability);
    },
  },
  {
    name: 'POST /v2/models/fraud/infer with a gzip body is inflated and answered',
    request: async () => ({
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: { ...asJson, 'content-encoding': 'gzip' },
      body: await gzip(
        JSON.stringify({ inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: rows[0] }] }),
      ),
    }),
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const direct = await front.predict([rows[0]!]);
      const body = bodyJson(answer) as { outputs: { data: number[] }[] };
      expect(asFloat32(body.outputs[0]!.data)).toEqual(direct.probability);
    },
  },
  // Inference, TF Serving REST.
  {
    name: 'POST /v1/models/fraud:predict (instances) answers rows of outputs',
    request: {
      method: 'POST',
      path: '/v1/models/fraud:predict',
      headers: asJson,
      body: JSON.stringify({ instances: rows }),
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const direct = await front.predict(rows);
      const { predictions } = bodyJson(answer) as { predictions: { probability: number; label: number }[] };
      expect(predictions.map((p) => p.label)).toEqual(direct.label);
      expect(asFloat32(predictions.map((p) => p.probability))).toEqual(direct.probability);
    },
  },
  {
    name: 'POST /v1/models/fraud:predict (columnar inputs) answers columns of outputs',
    request: {
      method: 'POST',
      path: '/v1/models/fraud:predict',
      headers: asJson,
      body: JSON.stringify({ inputs: { features: rows } }),
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const direct = await front.predict(rows);
      const { outputs } = bodyJson(answer) as { outputs: { probability: number[]; label: number[] } };
      expect(Object.keys(outputs)).toEqual(['probability', 'label']);
      expect(outputs.label).toEqual(direct.label);
      expect(asFloat32(outputs.probability)).toEqual(direct.probability);
    },
  },
  // Records through a pipeline.
  {
    name: 'POST /v1/models/fraud_records:predict takes records and answers labelled predictions',
    request: {
      method: 'POST',
      path: '/v1/models/fraud_records:predict',
      headers: asJson,
      // The second record leaves every field out: the pipeline imputes the training means.
      body: JSON.stringify({ instances: [record, {}] }),
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const direct = await front.predictRecords([record, {}]);
      const { predictions } = bodyJson(answer) as { predictions: { probability: number; label: string }[] };
      expect(predictions.map((p) => p.label)).toEqual(direct.map((d) => d.label));
      expect(asFloat32(predictions.map((p) => p.probability))).toEqual(direct.map((d) => d.probability));
      expect(predictions.map((p) => p.label)).toEqual(['legit', 'legit']);
    },
  },
  {
    name: 'a record with a field the pipeline does not read is refused with 400 naming it',
    request: {
      method: 'POST',
      path: '/v1/models/fraud_records:predict',
      headers: asJson,
      body: JSON.stringify({ instances: [{ g0: 1 }] }),
    },
    expect: {
      status: 400,
      json: {
        error:
          "record 0 has a field the pipeline does not read: 'g0' (it reads 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10', 'f11'); set \"allowExtraFields\": true in the pipeline to ignore extra fields",
      },
    },
  },
  // Errors, each with its body.
  {
    name: '400: malformed JSON',
    request: { method: 'POST', path: '/v2/models/fraud/infer', headers: asJson, body: '{' },
    expect: {
      status: 400,
      headers: { 'content-type': 'application/json' },
      json: { error: 'malformed JSON in the inference request: unexpected end of the body' },
    },
  },
  {
    name: '400: a tensor of the wrong shape names the input, the expected and the received shape',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: asJson,
      body: JSON.stringify({
        inputs: [{ name: 'features', shape: [1, 11], datatype: 'FP32', data: rows[0]!.slice(1) }],
      }),
    },
    expect: {
      status: 400,
      json: { error: "input 'features': dimension 1 must be 12 [batch, 12], received 11 [1, 11]" },
    },
  },
  {
    // No route answers 422: a request the model cannot take is a 400 in the protocol.
    name: '400 (not 422): well-formed JSON the model cannot take (fractions as INT32)',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: asJson,
      body: JSON.stringify({
        inputs: [
          { name: 'features', shape: [1, 12], datatype: 'INT32', data: [0, 0.5, ...rows[0]!.slice(2)] },
        ],
      }),
    },
    expect: { status: 400, json: { error: "input 'features': element 1 is 0.5, int32 needs integers" } },
  },
  {
    name: "400: a TF Serving predict with both 'instances' and 'inputs'",
    request: {
      method: 'POST',
      path: '/v1/models/fraud:predict',
      headers: asJson,
      body: JSON.stringify({ instances: rows, inputs: { features: rows } }),
    },
    expect: {
      status: 400,
      json: {
        error:
          'a predict request has either "instances" (row format) or "inputs" (columnar format), not both or neither',
      },
    },
  },
  {
    name: '400: a path whose percent-encoding is broken',
    request: { method: 'GET', path: '/v2/models/%E0%A4%A/ready' },
    expect: {
      status: 400,
      json: { error: 'the path /v2/models/%E0%A4%A/ready is not valid percent-encoding' },
    },
    differs: {
      fastify: {
        why: "Fastify's router decodes the path before any route runs and refuses it itself",
        expect: {
          status: 400,
          json: {
            error: 'Bad Request',
            code: 'FST_ERR_BAD_URL',
            message: "'/v2/models/%E0%A4%A/ready' is not a valid url component",
            statusCode: 400,
          },
        },
      },
    },
  },
  {
    name: '404: an unknown model names the deployed ones',
    request: { method: 'POST', path: '/v2/models/nope/infer', headers: asJson, body: '{}' },
    expect: {
      status: 404,
      json: { error: "no model named 'nope' is deployed (deployed: fraud, fraud_records)" },
    },
  },
  {
    name: '404: an unknown version names the loaded ones',
    request: { method: 'GET', path: '/v2/models/fraud/versions/9', headers: auth },
    expect: { status: 404, json: { error: "model 'fraud' has no version '9' loaded (loaded: 3)" } },
  },
  {
    name: '404: a path outside the protocols',
    request: { method: 'GET', path: '/nothing', headers: auth },
    expect: { status: 404, json: { error: 'not found: /nothing' } },
    differs: {
      express: {
        why: MOUNTED,
        expect: { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' } },
      },
      fastify: {
        why: MOUNTED,
        expect: {
          status: 404,
          json: { message: 'Route GET:/nothing not found', error: 'Not Found', statusCode: 404 },
        },
      },
      hono: { why: MOUNTED, expect: { status: 404, text: '404 Not Found' } },
    },
  },
  {
    // The handler has no 405: a known path with the wrong method is a 404 that names both.
    name: '404 (no 405): a protocol path with the wrong method names the method and path',
    request: { method: 'GET', path: '/v2/models/fraud/infer', headers: auth },
    expect: { status: 404, json: { error: 'no route for GET /v2/models/fraud/infer' } },
    differs: {
      express: {
        why: 'handler.node hands requests it has no route for to next(), so Express answers them',
        expect: { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' } },
      },
    },
  },
  tooLargeCase(
    '413: a body over maxBodyBytes, refused by its declared length',
    '/v2/models/fraud/infer',
    (error) => ({
      error,
    }),
  ),
  {
    name: '415: a Content-Encoding it cannot inflate names the ones it can',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: { ...asJson, 'content-encoding': 'br' },
      body: '{}',
    },
    expect: {
      status: 415,
      headers: { 'accept-encoding': 'gzip, deflate' },
      json: {
        error:
          "Content-Encoding 'br' is not supported; send the body as it is, or compressed with gzip or deflate",
      },
    },
  },
  // Credentials.
  {
    name: '401: inference without credentials, with WWW-Authenticate',
    request: {
      method: 'POST',
      path: '/v2/models/fraud/infer',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    },
    expect: CREDENTIALS_REQUIRED,
  },
  {
    name: '401: metadata without credentials',
    request: { method: 'GET', path: '/v2/models/fraud' },
    expect: CREDENTIALS_REQUIRED,
  },
  {
    name: '403: a token that is not allowed',
    request: { method: 'GET', path: '/v2', headers: { authorization: 'Bearer not-the-token' } },
    expect: {
      status: 403,
      headers: { 'www-authenticate': 'Bearer' },
      json: { error: 'these credentials are not allowed here' },
    },
  },
  // CORS.
  preflightCase(
    'CORS: a preflight from the allowed origin, without credentials, is answered 204',
    '/v2/models/fraud/infer',
    'POST',
  ),
  {
    name: 'CORS: a preflight from another origin gets no CORS headers',
    request: {
      method: 'OPTIONS',
      path: '/v2/models/fraud/infer',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    },
    expect: { status: 204, headers: NO_CORS, text: '' },
    // The same answer, for another reason: the request arrives with no Origin at all.
    differs: { chromium: { why: BROWSER_ORIGIN, expect: { status: 204, headers: NO_CORS, text: '' } } },
  },
  {
    name: 'CORS: answers to the allowed origin carry its headers, refusals too',
    request: { method: 'GET', path: '/v2/models/fraud', headers: { origin: ORIGIN } },
    expect: { ...CREDENTIALS_REQUIRED, headers: { ...CREDENTIALS_REQUIRED.headers, ...CORS_ANSWER } },
    differs: {
      chromium: {
        why: BROWSER_ORIGIN,
        expect: { ...CREDENTIALS_REQUIRED, headers: { ...CREDENTIALS_REQUIRED.headers, ...NO_CORS } },
      },
    },
  },
];

/** Checks an answer against an {@link Expected}. */
export function expectAnswer(answer: ContractAnswer, want: Expected): void {
  expect(answer.status).toBe(want.status);
  for (const [name, value] of Object.entries(want.headers ?? {}))
    expect(answer.headers[name], `header ${name}`).toBe(value ?? undefined);
  if (want.json !== undefined) expect(JSON.parse(text(answer))).toEqual(want.json);
  if (want.text !== undefined) expect(text(answer)).toBe(want.text);
}
