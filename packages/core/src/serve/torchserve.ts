/**
 * TorchServe's inference API and the read side of its management API, for the clients and
 * scripts written against it (TorchServe is archived). `GET /ping`;
 * `POST|PUT /predictions/{model}[/{version}]` and `/explanations/…` with a JSON body, raw bytes
 * (`curl -T kitten.jpg`) or a multipart form (`curl -F data=@kitten.jpg`); `GET /models` (paged
 * with `limit` and `next_page_token`) and `GET /models/{model}[/{version}|/all]`. Failures are
 * answered in TorchServe's shape, `{"code", "type", "message"}`, with the type its frontend
 * names (`ModelNotFoundException`, `BadRequestException`, `ServiceUnavailableException`, …).
 *
 * A request is what one TorchServe handler call receives: with a pipeline, a JSON record (an
 * object) is answered with that record's answer and a JSON list of records with a list of
 * answers; an image body is the record of the pipeline's one image field. Without a pipeline,
 * the body is a JSON tensor: one example (no batch axis, as `torch.as_tensor` of one request)
 * or a list of them, by the rank the model declares; an object gives several inputs by name.
 */
import type { ScreenReport } from '../anomaly/screen';
import type { ModelshipError } from '../errors';
import type { TensorSpec } from '../tensor/spec';
import { type Tensor, toNested } from '../tensor/tensor';
import { explainBody } from './explain';
import { describeValue as describe, HttpError } from './http-error';
import { screenHeader, serverReady } from './oip';
import { pipelineFor, predictRecords } from './records';
import { parseTfJsonValue } from './tf-json';
import { build, run, specOf, tfJson } from './tfserving';
import type {
  HandlerRequest,
  HandlerResponse,
  RouteDef,
  RouteParams,
  ServeContext,
  ServeMetrics,
} from './types';
import { web } from './web';

/** The paths of TorchServe's management API, which `managementPort` moves to their own port. */
export function isTorchServeManagementPath(path: string): boolean {
  return path === '/models' || path.startsWith('/models/');
}

/** A TorchServe error answer: `{"code", "type", "message"}` with `code` the HTTP status. */
export function torchServeError(
  status: number,
  type: string,
  message: string,
  headers?: Record<string, string>,
): HandlerResponse {
  const answer = tfJson(status, { code: status, type, message });
  if (headers !== undefined) Object.assign(answer.headers, headers);
  return answer;
}

/** The exception TorchServe's frontend names for a status (NettyUtils.sendError's `type`). */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequestException',
  401: 'InvalidKeyException',
  403: 'InvalidKeyException',
  404: 'ResourceNotFoundException',
  405: 'MethodNotAllowedException',
  408: 'RequestTimeoutException',
  413: 'BadRequestException',
  503: 'ServiceUnavailableException',
  504: 'RequestTimeoutException',
};

/** The TorchServe answer to a failure of one of its routes. */
function failure(e: unknown, f: { status: number; message: string; headers: Record<string, string> }) {
  const code = (e as Partial<ModelshipError> | null)?.code;
  const type =
    code === 'MODEL_NOT_FOUND' || code === 'DEPLOYMENT_NOT_FOUND'
      ? 'ModelNotFoundException'
      : code === 'VERSION_NOT_FOUND'
        ? 'ModelVersionNotFoundException'
        : (TYPE_BY_STATUS[f.status] ?? 'InternalServerException');
  return torchServeError(f.status, type, f.message, f.headers);
}

const NOT_FOUND = 'Requested resource is not found, please refer to API document.';

/** `GET /ping`: `{"status": "Healthy"}` while every model has a version serving, else 500 `Unhealthy`. */
function ping(ctx: ServeContext): HandlerResponse {
  const healthy = serverReady(ctx);
  return tfJson(healthy ? 200 : 500, { status: healthy ? 'Healthy' : 'Unhealthy' });
}

/** One payload of a request: the body, or one part of a multipart form. */
interface Payload {
  bytes: Uint8Array;
  type: string;
}

const utf8 = new web.TextDecoder('utf-8', { fatal: true });

/** The payloads of a request: the parts of a multipart form named `data` or `body` (else all of them), or the body. */
function payloads(req: HandlerRequest): Payload[] {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) return [{ bytes: req.body, type }];
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type']!);
  if (boundary === null) throw new HttpError(400, 'the multipart/form-data body has no boundary');
  const parts = multipart(req.body, boundary[1] ?? boundary[2]!);
  const named = parts.filter((p) => p.name === 'data' || p.name === 'body');
  const chosen = named.length > 0 ? named : parts;
  if (chosen.length === 0) throw new HttpError(400, 'the multipart/form-data body has no parts');
  return chosen;
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = bytes.indexOf(first!, from); i !== -1; i = bytes.indexOf(first!, i + 1)) {
    if (i + needle.length > bytes.length) return -1;
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const latin1 = new web.TextDecoder('latin1');

/** The parts of a multipart/form-data body (RFC 7578): name, content type and bytes of each. */
function multipart(body: Uint8Array, boundary: string): (Payload & { name: string | undefined })[] {
  // After the first, a delimiter is a line of its own: it follows a CRLF, which is not the part's.
  const delimiter = new web.TextEncoder().encode(`\r\n--${boundary}`);
  const parts: (Payload & { name: string | undefined })[] = [];
  const first = indexOf(body, delimiter.subarray(2), 0);
  if (first === -1)
    throw new HttpError(400, `the multipart/form-data body has no part delimited by --${boundary}`);
  let at = first + delimiter.length - 2;
  for (;;) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // the closing --boundary--
    const headerEnd = indexOf(body, CRLF2, at);
    const next = headerEnd === -1 ? -1 : indexOf(body, delimiter, headerEnd + 2);
    if (next === -1)
      throw new HttpError(400, `the multipart/form-data body's part ${parts.length} is cut short`);
    const head = latin1.decode(body.subarray(at, headerEnd));
    parts.push({
      name: /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1],
      type: (/content-type:\s*([^\r\n]*)/i.exec(head)?.[1] ?? '').trim().toLowerCase(),
      bytes: body.subarray(Math.min(headerEnd + 4, next), next),
    });
    at = next + delimiter.length;
  }
}

const CRLF2 = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);

/** JSON by its content type, or by its first character when the type does not say (curl -d). */
function isJson(p: Payload): boolean {
  if (p.type.includes('json')) return true;
  if (p.type.startsWith('image/') || p.type.startsWith('application/octet-stream')) return false;
  for (const b of p.bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b; // { or [
  }
  return false;
}

function parse(p: Payload, what: string): unknown {
  let text: string;
  try {
    text = utf8.decode(p.bytes);
  } catch {
    throw new HttpError(400, `the ${what} is not valid UTF-8`);
  }
  return parseTfJsonValue(text, what);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a list of answers is for: one request's answer, or each of a list's. */
interface Records {
  records: unknown[];
  single: boolean;
}

/**
 * The records of a request to a model with a pipeline: a JSON object is one record, a JSON list
 * is several; an image body is the record of the pipeline's image field.
 */
function recordsOf(ctx: ServeContext, name: string, req: HandlerRequest, what: string): Records {
  const pipeline = pipelineFor(ctx, name)!;
  const images = Object.keys(pipeline.images);
  const records: unknown[] = [];
  const given = payloads(req);
  for (const p of given) {
    if (p.bytes.length === 0)
      throw new HttpError(
        400,
        `the ${what} is empty; model '${name}' takes ${takes(pipeline.fields, images)}`,
      );
    if (isJson(p)) {
      const value = parse(p, what);
      if (Array.isArray(value)) {
        if (value.length === 0)
          throw new HttpError(400, `the ${what} is an empty list; send a record or a list of records`);
        records.push(...value);
        if (given.length === 1) return { records, single: false };
      } else records.push(value);
    } else {
      if (images.length !== 1)
        throw new HttpError(
          400,
          `the ${what} is ${p.bytes.length} bytes${p.type === '' ? '' : ` of ${p.type}`}, not JSON; model '${name}' takes ${takes(pipeline.fields, images)}`,
        );
      records.push({ [images[0]!]: p.bytes });
    }
  }
  return { records, single: given.length === 1 };
}

function takes(fields: readonly string[], images: readonly string[]): string {
  const list = `records (JSON objects of fields: ${fields.join(', ')}) or a JSON list of them`;
  return images.length === 1 ? `${list}, or the bytes of an image for its field '${images[0]}'` : list;
}

/** `POST /predictions/{model}[/{version}]`. */
async function predictions(
  ctx: ServeContext,
  [name, version]: RouteParams,
  req: HandlerRequest,
): Promise<HandlerResponse> {
  if (ctx.draining) throw new HttpError(503, 'the server is shutting down');
  // The model and version first: an unknown one is 404 whatever the body holds, as in TorchServe.
  const signature = ctx.deployer.signature(name, version);
  const pipeline = pipelineFor(ctx, name);
  if (pipeline !== undefined) {
    const { records, single } = recordsOf(ctx, name, req, 'prediction request');
    const screened: { screen?: ScreenReport } = {};
    const answers = await predictRecords(ctx, pipeline, name, version, req, records, screened);
    const answer = tfJson(200, single ? answers[0] : answers);
    Object.assign(answer.headers, screenHeader(screened.screen));
    return answer;
  }
  const [p, ...more] = payloads(req);
  if (more.length > 0 || !isJson(p!))
    throw new HttpError(
      400,
      `model '${name}' has no pipeline, so it takes a JSON tensor (${shapes(signature.inputs)}); ${more.length > 0 ? `the form has ${more.length + 1} parts` : `the body is ${p!.bytes.length} bytes${p!.type === '' ? '' : ` of ${p!.type}`}`}. An image needs a pipeline.json with an image field`,
    );
  const value = parse(p!, 'prediction request');
  const { inputs, single } = tensorsOf(signature.inputs, value, name);
  const out = await run(ctx, name, version, req, inputs);
  const names = signature.outputs.map((s) => s.name).filter((n) => out[n] !== undefined);
  const nested = names.map((n) => {
    const v = toNested(out[n]!) as unknown[];
    return single ? v[0] : v;
  });
  return tfJson(
    200,
    names.length === 1 ? nested[0] : Object.fromEntries(names.map((n, i) => [n, nested[i]])),
  );
}

function shapes(specs: readonly TensorSpec[]): string {
  return specs
    .map(
      (s) => `'${s.name}' ${s.dtype} [${s.shape === null ? '…' : s.shape.map((d) => d ?? '?').join(', ')}]`,
    )
    .join(', ');
}

/**
 * The input tensors of a JSON tensor body: a list for a model with one input, or an object of
 * lists by input name. Each is one example when its rank is one less than the input's declared
 * rank (a batch of one is made), or a batch when it is the declared rank.
 */
function tensorsOf(
  specs: readonly TensorSpec[],
  value: unknown,
  name: string,
): { inputs: Record<string, Tensor>; single: boolean } {
  let byName: [TensorSpec, unknown][];
  if (isObject(value)) {
    for (const key of Object.keys(value)) specOf(specs, key, name);
    byName = specs.map((s) => {
      if (!Object.hasOwn(value, s.name))
        throw new HttpError(
          400,
          `the request has no input '${s.name}' (model '${name}' takes ${shapes(specs)})`,
        );
      return [s, value[s.name]];
    });
  } else if (Array.isArray(value)) {
    if (specs.length !== 1)
      throw new HttpError(
        400,
        `model '${name}' has ${specs.length} inputs (${shapes(specs)}); send a JSON object of them by name`,
      );
    byName = [[specs[0]!, value]];
  } else
    throw new HttpError(
      400,
      `the prediction request is ${describe(value)}; model '${name}' takes a JSON list (${shapes(specs)})`,
    );
  const inputs: Record<string, Tensor> = {};
  let single: boolean | undefined;
  for (const [spec, v] of byName) {
    const t = build(spec, v, `input '${spec.name}'`);
    const rank = spec.shape?.length;
    const one = rank !== undefined && t.shape.length === rank - 1;
    if (rank !== undefined && !one && t.shape.length !== rank)
      throw new HttpError(
        400,
        `input '${spec.name}' takes [${spec.shape!.map((d) => d ?? '?').join(', ')}]: send one example of rank ${rank - 1} or a list of them (rank ${rank}); received rank ${t.shape.length} [${t.shape.join(', ')}]`,
      );
    if (single !== undefined && single !== one)
      throw new HttpError(
        400,
        'send every input as one example, or every input as a list of examples, not a mix',
      );
    single = one;
    inputs[spec.name] = one ? { ...t, shape: [1, ...t.shape] } : t;
  }
  return { inputs, single: single === true };
}

/**
 * `POST /explanations/{model}[/{version}]`: Shapley values against the model's background, as
 * `:explain` computes them, the query string giving its parameters (`?class=setosa&seed=1`)
 * over the model's explain settings. The body is a record or a list of records (a row of
 * numbers or a list of rows without a pipeline); each is answered
 * `{"attributions": {feature: value}, "prediction", "baseValue"}`.
 */
async function explanations(
  ctx: ServeContext,
  [name, version]: RouteParams,
  req: HandlerRequest,
  metrics: ServeMetrics | undefined,
): Promise<HandlerResponse> {
  if (ctx.draining) throw new HttpError(503, 'the server is shutting down');
  ctx.deployer.signature(name, version);
  const [p, ...more] = payloads(req);
  if (more.length > 0 || !isJson(p!))
    throw new HttpError(
      400,
      `an explanation request is JSON: a record or a list of records for a model with a pipeline, else a row of numbers or a list of rows`,
    );
  const value = parse(p!, 'explanation request');
  const pipeline = pipelineFor(ctx, name) !== undefined;
  // One instance: a record, or (without a pipeline) a row of numbers.
  const single = pipeline ? !Array.isArray(value) : Array.isArray(value) && !value.some(Array.isArray);
  const instances = single ? [value] : value;
  // Query values are text: the numeric parameters (and a class given by index) become numbers.
  const parameters = Object.fromEntries(
    [...queryParameters(req.query)].map(([k, v]) => [
      k,
      /^-?\d+$/.test(v) && ['nsamples', 'maxEvals', 'seed', 'class'].includes(k) ? Number(v) : v,
    ]),
  );
  const answer = await explainBody(
    ctx,
    name,
    version,
    Object.keys(parameters).length === 0 ? { instances } : { instances, parameters },
    req,
    metrics,
  );
  const each = answer.explanations.map((attributions, i) => ({
    attributions,
    prediction: answer.predictions[i],
    baseValue: answer.baseValue,
  }));
  return tfJson(200, single ? each[0] : each);
}

/** The parameters of a query string, the first of each name (`+` and percent-escapes decoded). */
function queryParameters(query: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (v: string) => {
      try {
        return decodeURIComponent(v.replaceAll('+', ' '));
      } catch {
        throw new HttpError(
          400,
          `the query parameter ${JSON.stringify(pair.slice(0, 60))} is not valid percent-encoding`,
        );
      }
    };
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (!out.has(key)) out.set(key, decode(eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return out;
}

/** An integer query parameter as TorchServe reads one: the default when absent or not an integer. */
function intParameter(query: Map<string, string>, key: string, fallback: number): number {
  const v = query.get(key);
  return v !== undefined && /^[+-]?\d{1,9}$/.test(v) ? Number(v) : fallback;
}

/**
 * `GET /models`: the deployed models by name, `limit` (default and most 100) from
 * `next_page_token` (an offset), with `nextPageToken` while more follow.
 */
function listModels(ctx: ServeContext, req: HandlerRequest): HandlerResponse {
  const query = queryParameters(req.query);
  let limit = intParameter(query, 'limit', 100);
  if (limit > 100 || limit < 0) limit = 100;
  const from = Math.max(0, intParameter(query, 'next_page_token', 0));
  const names = ctx.deployer.names().sort();
  const last = Math.min(from + limit, names.length);
  const models = names.slice(from, last).map((modelName) => {
    const primary = ctx.deployer.status(modelName).primary;
    return { modelName, modelUrl: primary === undefined ? modelName : `${modelName}/${primary}` };
  });
  return tfJson(200, { ...(last < names.length ? { nextPageToken: String(last) } : {}), models });
}

const WORKER_STATUS: Record<string, string> = {
  loading: 'LOADING',
  warming: 'LOADING',
  ready: 'READY',
  draining: 'UNLOADING',
  unloaded: 'UNLOADING',
};

/**
 * `GET /models/{model}[/{version}|/all]`: TorchServe's description of the default version, one
 * version or all of them, from the Deployer's status. A version is one worker; the Deployer's
 * own figures for it are under `modelship`.
 */
function describeModel(ctx: ServeContext, [name, version]: RouteParams): HandlerResponse {
  const status = ctx.deployer.status(name);
  const all = [
    ...status.versions,
    ...status.loading
      .filter((v) => !status.versions.some((s) => s.version === v))
      .map((v) => ({ version: v, state: 'loading' as const })),
  ];
  let chosen: typeof all;
  if (version === 'all') chosen = all;
  else {
    const v = version ?? status.primary;
    if (v === undefined) ctx.deployer.signature(name); // throws: no version ready yet
    chosen = all.filter((s) => s.version === v);
    if (chosen.length === 0) ctx.deployer.signature(name, v); // throws VERSION_NOT_FOUND
  }
  return tfJson(
    200,
    chosen.map(({ version: v, state, ...figures }) => ({
      modelName: name,
      modelVersion: v,
      modelUrl: `${name}/${v}`,
      runtime: 'modelship',
      status: WORKER_STATUS[state] ?? 'UNKNOWN',
      workers: [{ id: v, status: WORKER_STATUS[state] ?? 'UNKNOWN' }],
      jobQueueStatus: { pendingRequests: 'queued' in figures ? figures.queued : 0 },
      modelship: { state, default: v === status.primary, ...figures },
    })),
  );
}

const notFound = (): never => {
  throw new HttpError(404, NOT_FOUND);
};

/** TorchServe's model path: a name and an optional version, nothing after them. */
const MODEL = '([^/]+)(?:/([^/]+))?';

function readOnly(): never {
  throw new HttpError(
    405,
    "this server's TorchServe management API is read-only: register, scale and unregister models through the model repository (add or remove <model>/<version>/model.onnx), see docs/migrating-from-torchserve.md",
  );
}

const ROUTES: Omit<RouteDef, 'torchserve' | 'failure'>[] = [
  // TorchServe answers a ping whatever its method.
  { method: '*', pattern: /^\/ping$/, scope: 'health', run: (ctx) => ping(ctx) },
  ...['POST', 'PUT'].flatMap((method): RouteDef[] => [
    {
      method,
      pattern: new RegExp(`^/predictions/${MODEL}$`),
      scope: 'inference',
      logged: true,
      run: (ctx, p, req) => predictions(ctx, p, req),
    },
    {
      method,
      pattern: new RegExp(`^/explanations/${MODEL}$`),
      scope: 'inference',
      monitored: false,
      run: (ctx, p, req, metrics) => explanations(ctx, p, req, metrics),
    },
  ]),
  { method: 'GET', pattern: /^\/models$/, scope: 'metadata', run: (ctx, _p, req) => listModels(ctx, req) },
  {
    method: 'GET',
    pattern: new RegExp(`^/models/${MODEL}$`),
    scope: 'metadata',
    run: (ctx, p) => describeModel(ctx, p),
  },
  { method: '*', pattern: /^\/models(?:\/[^/]+(?:\/[^/]+)?)?$/, scope: 'metadata', run: readOnly },
  {
    method: '*',
    pattern: new RegExp(`^/(?:predictions|explanations)/${MODEL}$`),
    scope: 'metadata',
    run: (_ctx, _p, req) => {
      throw new HttpError(
        405,
        `${req.method} is not a prediction method: send the body with POST (or PUT, as curl -T does)`,
      );
    },
  },
  {
    method: '*',
    pattern: /^\/(?:ping|predictions|explanations|models)(?:\/.*)?$/,
    scope: 'metadata',
    run: notFound,
  },
];

/** The TorchServe routes, after every other protocol's in the handler's table. */
export const TORCHSERVE_ROUTES: readonly RouteDef[] = ROUTES.map((r) => ({
  ...r,
  torchserve: true,
  failure,
}));
