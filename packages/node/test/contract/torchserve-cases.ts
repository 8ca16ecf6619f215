/**
 * The handler contract's TorchServe cases: its inference API (`/ping`, `/predictions`,
 * `/explanations`) and the read side of its management API (`/models`), served by the same
 * handler on the same port as the other protocols, through every front. Values are checked as
 * the OIP cases check them: against the model's own `predict` on the front's runtime, exactly.
 * Failures are TorchServe's `{"code", "type", "message"}`.
 */
import { expect } from 'vitest';
import {
  asFloat32,
  asJson,
  auth,
  bodyJson,
  type ContractAnswer,
  type ContractCase,
  CREDENTIALS_REQUIRED,
  type Front,
  preflightCase,
  record,
  rows,
  tooLargeCase,
} from './cases';

/** A TorchServe error answer as data. */
const torchServeError = (
  status: number,
  type: string,
  message: unknown,
  headers?: Record<string, string>,
) => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  json: { code: status, type, message },
});

/** A TorchServe JSON tensor answer of fraud: `{probability, label}`, one example's or a list's. */
interface TensorAnswer {
  probability: number | number[];
  label: number | number[];
}

/** Checks `/predictions/fraud`'s answer for `sent` against fraud.onnx's own predict on the front. */
function fraudAnswer(sent: number[][], single: boolean) {
  return async (answer: ContractAnswer, front: Front) => {
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const body = bodyJson(answer) as unknown as TensorAnswer;
    const direct = await front.predict(sent);
    expect(Object.keys(body)).toEqual(['probability', 'label']);
    if (single) {
      expect(typeof body.probability).toBe('number');
      expect(body.label).toBe(direct.label[0]);
      expect(Math.fround(body.probability as number)).toBe(direct.probability[0]);
    } else {
      expect(body.label).toEqual(direct.label);
      expect(asFloat32(body.probability)).toEqual(direct.probability);
    }
  };
}

/** Checks the answer to `record` sent alone to fraud_records: that record's answer, as the pipeline gives it. */
async function recordAnswer(answer: ContractAnswer, front: Front): Promise<void> {
  expect(answer.status).toBe(200);
  const [direct] = await front.predictRecords([record]);
  const body = bodyJson(answer) as { probability: number; label: string };
  expect(Object.keys(body)).toEqual(['probability', 'label']);
  expect(body.label).toBe('legit');
  expect(body.label).toBe(direct!.label);
  expect(Math.fround(body.probability)).toBe(direct!.probability);
}

export const torchServeCases: ContractCase[] = [
  {
    name: 'TorchServe: GET /ping answers Healthy, without credentials',
    request: { method: 'GET', path: '/ping' },
    expect: { status: 200, headers: { 'content-type': 'application/json' }, json: { status: 'Healthy' } },
  },
  {
    name: 'TorchServe: POST /predictions/fraud with one example (no batch axis) answers its outputs',
    request: { method: 'POST', path: '/predictions/fraud', headers: asJson, body: JSON.stringify(rows[0]) },
    expect: fraudAnswer([rows[0]!], true),
  },
  {
    name: 'TorchServe: PUT /predictions/fraud (curl -T) with a list of examples answers lists of outputs',
    request: { method: 'PUT', path: '/predictions/fraud', headers: asJson, body: JSON.stringify(rows) },
    expect: fraudAnswer(rows, false),
  },
  {
    name: 'TorchServe: POST /predictions/fraud/3 answers from the version in the path',
    request: {
      method: 'POST',
      path: '/predictions/fraud/3',
      headers: asJson,
      body: JSON.stringify(rows.slice(1, 3)),
    },
    expect: fraudAnswer(rows.slice(1, 3), false),
  },
  {
    name: 'TorchServe: POST /predictions/fraud_records with a record answers as the pipeline does',
    request: {
      method: 'POST',
      path: '/predictions/fraud_records',
      headers: asJson,
      body: JSON.stringify(record),
    },
    expect: recordAnswer,
  },
  {
    name: 'TorchServe: PUT /predictions/fraud_records/1 with a list of records answers a list',
    request: {
      method: 'PUT',
      path: '/predictions/fraud_records/1',
      headers: asJson,
      // The second record leaves every field out: the pipeline imputes the training means.
      body: JSON.stringify([record, {}]),
    },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const direct = await front.predictRecords([record, {}]);
      const body = bodyJson(answer) as unknown as { probability: number; label: string }[];
      expect(body.map((b) => b.label)).toEqual(direct.map((d) => d.label));
      expect(asFloat32(body.map((b) => b.probability))).toEqual(direct.map((d) => d.probability));
      expect(body.map((b) => b.label)).toEqual(['legit', 'legit']);
    },
  },
  {
    name: 'TorchServe: a multipart form (curl -F data=@record.json) is read as its data part',
    request: {
      method: 'POST',
      path: '/predictions/fraud_records',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=contract-part' },
      // A part named otherwise is not the request's data: TorchServe's handlers read `data` or `body`.
      body: [
        '--contract-part',
        'content-disposition: form-data; name="note"',
        '',
        'not the record',
        '--contract-part',
        'content-disposition: form-data; name="data"; filename="record.json"',
        'content-type: application/json',
        '',
        JSON.stringify(record),
        '--contract-part--',
        '',
      ].join('\r\n'),
    },
    expect: recordAnswer,
  },
  {
    name: 'TorchServe: POST /explanations/fraud answers attributions that add up to its prediction',
    request: { method: 'POST', path: '/explanations/fraud', headers: asJson, body: JSON.stringify(rows[0]) },
    expect: async (answer, front) => {
      expect(answer.status).toBe(200);
      const body = bodyJson(answer) as {
        attributions: Record<string, number>;
        prediction: number;
        baseValue: number;
      };
      expect(Object.keys(body)).toEqual(['attributions', 'prediction', 'baseValue']);
      expect(Object.keys(body.attributions)).toEqual(Array.from({ length: 12 }, (_, j) => `features[${j}]`));
      const direct = await front.predict([rows[0]!]);
      expect(Math.fround(body.prediction)).toBe(direct.probability[0]);
      const sum = Object.values(body.attributions).reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - (body.prediction - body.baseValue))).toBeLessThan(1e-9);
    },
  },
  {
    name: 'TorchServe: GET /models lists the deployed models',
    request: { method: 'GET', path: '/models', headers: auth },
    expect: {
      status: 200,
      json: {
        models: [
          { modelName: 'fraud', modelUrl: 'fraud/3' },
          { modelName: 'fraud_records', modelUrl: 'fraud_records/1' },
        ],
      },
    },
  },
  {
    name: 'TorchServe: GET /models?limit=1 answers a page and the token of the next',
    request: { method: 'GET', path: '/models?limit=1', headers: auth },
    expect: {
      status: 200,
      json: { nextPageToken: '1', models: [{ modelName: 'fraud', modelUrl: 'fraud/3' }] },
    },
  },
  {
    name: 'TorchServe: GET /models?limit=1&next_page_token=1 answers the last page, without a token',
    request: { method: 'GET', path: '/models?limit=1&next_page_token=1', headers: auth },
    expect: { status: 200, json: { models: [{ modelName: 'fraud_records', modelUrl: 'fraud_records/1' }] } },
  },
  {
    name: 'TorchServe: GET /models/fraud describes its default version',
    request: { method: 'GET', path: '/models/fraud', headers: auth },
    expect: {
      status: 200,
      json: [
        {
          modelName: 'fraud',
          modelVersion: '3',
          modelUrl: 'fraud/3',
          runtime: 'modelship',
          status: 'READY',
          workers: [{ id: '3', status: 'READY' }],
          jobQueueStatus: { pendingRequests: 0 },
          // The Deployer's own figures: the counts and latencies depend on the cases before.
          modelship: expect.objectContaining({
            state: 'ready',
            default: true,
            traffic: 1,
            inFlight: 0,
            queued: 0,
            requests: expect.any(Number),
            warmup: { state: 'warmed', runs: 1 },
          }),
        },
      ],
    },
  },
  // Failures, in TorchServe's shape.
  {
    name: 'TorchServe: an unknown model is 404 ModelNotFoundException naming the deployed ones',
    request: { method: 'POST', path: '/predictions/nope', headers: asJson, body: JSON.stringify(rows[0]) },
    expect: torchServeError(
      404,
      'ModelNotFoundException',
      "no model named 'nope' is deployed (deployed: fraud, fraud_records)",
    ),
  },
  {
    name: 'TorchServe: an unknown version is 404 ModelVersionNotFoundException naming the loaded ones',
    request: { method: 'POST', path: '/predictions/fraud/9', headers: asJson, body: JSON.stringify(rows[0]) },
    expect: torchServeError(
      404,
      'ModelVersionNotFoundException',
      "model 'fraud' has no version '9' loaded (loaded: 3)",
    ),
  },
  {
    name: 'TorchServe: GET /models/fraud/9 is 404 ModelVersionNotFoundException',
    request: { method: 'GET', path: '/models/fraud/9', headers: auth },
    expect: torchServeError(
      404,
      'ModelVersionNotFoundException',
      "model 'fraud' has no version '9' loaded (loaded: 3)",
    ),
  },
  {
    // The tail of the message is the JavaScript engine's own JSON.parse text, which differs
    // between engines and their versions; the case holds the part that is ours.
    name: 'TorchServe: malformed JSON is 400 BadRequestException',
    request: { method: 'POST', path: '/predictions/fraud', headers: asJson, body: '{' },
    expect: torchServeError(
      400,
      'BadRequestException',
      expect.stringMatching(/^malformed JSON in the prediction request: \S/),
    ),
  },
  {
    name: 'TorchServe: a body that is not JSON, to a model without a pipeline, is 400 naming what it takes',
    request: {
      method: 'POST',
      path: '/predictions/fraud',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'hello',
    },
    expect: torchServeError(
      400,
      'BadRequestException',
      "model 'fraud' has no pipeline, so it takes a JSON tensor ('features' float32 [batch, 12]); the body is 5 bytes of text/plain. An image needs a pipeline.json with an image field",
    ),
  },
  {
    name: 'TorchServe: an example of the wrong length is 400 naming the input and both shapes',
    request: {
      method: 'POST',
      path: '/predictions/fraud',
      headers: asJson,
      body: JSON.stringify(rows[0]!.slice(1)),
    },
    expect: torchServeError(
      400,
      'BadRequestException',
      "input 'features': dimension 1 must be 12 [batch, 12], received 11 [1, 11]",
    ),
  },
  {
    name: 'TorchServe: a record with a field the pipeline does not read is 400 naming it',
    request: {
      method: 'POST',
      path: '/predictions/fraud_records',
      headers: asJson,
      body: JSON.stringify({ g0: 1 }),
    },
    expect: torchServeError(
      400,
      'BadRequestException',
      "record 0 has a field the pipeline does not read: 'g0' (it reads 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10', 'f11'); set \"allowExtraFields\": true in the pipeline to ignore extra fields",
    ),
  },
  {
    name: 'TorchServe: a model without an explanation background is 404 naming the option to give',
    request: {
      method: 'POST',
      path: '/explanations/fraud_records',
      headers: asJson,
      body: JSON.stringify(record),
    },
    expect: torchServeError(
      404,
      'ResourceNotFoundException',
      "model 'fraud_records' has no explanation background: give one in the server's explain option ({ \"fraud_records\": { background: rows } })",
    ),
  },
  {
    name: 'TorchServe: GET on a prediction path is 405 naming the methods',
    request: { method: 'GET', path: '/predictions/fraud', headers: auth },
    expect: torchServeError(
      405,
      'MethodNotAllowedException',
      'GET is not a prediction method: send the body with POST (or PUT, as curl -T does)',
    ),
  },
  {
    name: 'TorchServe: the management API is read-only: DELETE /models/fraud/3 is 405',
    request: { method: 'DELETE', path: '/models/fraud/3', headers: auth },
    expect: torchServeError(
      405,
      'MethodNotAllowedException',
      "this server's TorchServe management API is read-only: register, scale and unregister models through the model repository (add or remove <model>/<version>/model.onnx), see docs/migrating-from-torchserve.md",
    ),
  },
  {
    name: 'TorchServe: a path under its prefixes that names nothing is 404 ResourceNotFoundException',
    request: { method: 'GET', path: '/predictions', headers: auth },
    expect: torchServeError(
      404,
      'ResourceNotFoundException',
      'Requested resource is not found, please refer to API document.',
    ),
  },
  {
    name: 'TorchServe: a prediction without credentials is 401 InvalidKeyException, with WWW-Authenticate',
    request: {
      method: 'POST',
      path: '/predictions/fraud',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rows[0]),
    },
    expect: torchServeError(401, 'InvalidKeyException', CREDENTIALS_REQUIRED.json.error, {
      'www-authenticate': 'Bearer',
    }),
  },
  {
    name: 'TorchServe: GET /models without credentials is 401 InvalidKeyException',
    request: { method: 'GET', path: '/models' },
    expect: torchServeError(401, 'InvalidKeyException', CREDENTIALS_REQUIRED.json.error, {
      'www-authenticate': 'Bearer',
    }),
  },
  tooLargeCase(
    "TorchServe: a body over maxBodyBytes is 413 in TorchServe's shape",
    '/predictions/fraud',
    (message) => ({
      code: 413,
      type: 'BadRequestException',
      message,
    }),
  ),
  preflightCase('TorchServe: a preflight for PUT /predictions/fraud allows PUT', '/predictions/fraud', 'PUT'),
];
