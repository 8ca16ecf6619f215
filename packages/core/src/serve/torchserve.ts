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
import { describeValue as describe, HttpError, refuseWhileDraining } from './http-error';
import { serverReady } from './oip/metadata';
import { screenHeader } from './oip/outputs';
import { pipelineFor, predictRecords } from './records';
import { isJson, parse, payloads, queryParameters } from './request-parts';
import { build, run, specOf, tfJson } from './tfserving';
import { describeModel, listModels, readOnly } from './torchserve-models';
import type {
  HandlerRequest,
  HandlerResponse,
  RouteDef,
  RouteParams,
  ServeContext,
  ServeMetrics,
} from './types';

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
  refuseWhileDraining(ctx);
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
  refuseWhileDraining(ctx);
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

const notFound = (): never => {
  throw new HttpError(404, NOT_FOUND);
};

/** TorchServe's model path: a name and an optional version, nothing after them. */
const MODEL = '([^/]+)(?:/([^/]+))?';

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
