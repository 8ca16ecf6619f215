/**
 * `POST /v2/models/{name}[/versions/{v}]/infer`: a JSON or binary-extension request, or a raw
 * binary one, through the Deployer with the request's deadline, routing key and cancellation.
 */
import type { ScreenReport } from '../../anomaly/screen';
import { formatShape } from '../../tensor/spec';
import type { NamedTensors } from '../../tensor/tensor';
import { BYTE_SIZE, datatypeOf, fromBinary } from '../codec';
import { describeValue as describe, HttpError, refuseWhileDraining } from '../http-error';
import { own } from '../json-body';
import type { HandlerRequest, HandlerResponse, ServeContext } from '../types';
import { collectInputs, parseInferBody, readInputs, readParameters, splitBody } from './inputs';
import { everyOutput, inferResponse, type Requested, readOutputs } from './outputs';

/** The version that answered a request, which the Deployer reports through `onRoute`. */
export class Answered {
  version: string | undefined = undefined;
  /** What the deployment's input screen found, when it has one. */
  screen: ScreenReport | undefined = undefined;
  readonly onRoute: (v: string) => void;
  readonly onScreen: (r: ScreenReport) => void;

  constructor() {
    // Assigned here, not as arrow-function fields: a field's function gets a name set on it per
    // instance under tsx (keepNames), which showed in a small model's request cost.
    this.onRoute = (v) => {
      this.version = v;
    };
    this.onScreen = (r) => {
      this.screen = r;
    };
  }
}

/**
 * Runs decoded inputs through the Deployer (every output when `outputs` is undefined, which
 * lets onnxruntime skip resolving names) with the request's deadline (Triton's `timeout`
 * parameter, in microseconds, or the server's), routing key and cancellation; `answered` learns
 * the version that answered. Not an async function: its frame would be kept for the whole run.
 * Shared by REST, raw binary and gRPC requests.
 */
export function predictFor(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  inputs: NamedTensors,
  outputs: readonly string[] | undefined,
  params: Record<string, unknown>,
  req: { headers: Readonly<Record<string, string | undefined>>; signal?: HandlerRequest['signal'] },
  answered: Answered,
  deadlineMs?: number,
): Promise<NamedTensors> {
  let timeoutMs = ctx.options.timeoutMs;
  if (deadlineMs !== undefined) timeoutMs = Math.min(timeoutMs ?? Number.POSITIVE_INFINITY, deadlineMs);
  if (params.timeout !== undefined) {
    const t =
      typeof params.timeout === 'string' && /^\d+$/.test(params.timeout)
        ? Number(params.timeout)
        : params.timeout;
    if (!Number.isSafeInteger(t) || (t as number) <= 0)
      throw new HttpError(
        400,
        `parameter 'timeout' must be a positive integer of microseconds, received ${describe(params.timeout)}`,
      );
    timeoutMs = Math.min(timeoutMs ?? Number.POSITIVE_INFINITY, (t as number) / 1000);
  }
  const routingKey =
    typeof params.routing_key === 'string' ? params.routing_key : req.headers['x-routing-key'];
  // One object shape for every request (absent options are undefined), so the Deployer's
  // property reads stay monomorphic.
  return ctx.deployer.predict(name, inputs, {
    version,
    outputs,
    signal: req.signal,
    timeoutMs,
    routingKey,
    onRoute: answered.onRoute,
    onScreen: answered.onScreen,
  });
}

/**
 * `POST /v2/models/{name}[/versions/{v}]/infer`. Throws synchronously for a bad request (the
 * handler turns that into its status); the promise is the model's answer.
 */
export function infer(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
): Promise<HandlerResponse> {
  refuseWhileDraining(ctx);
  const { header, binary } = splitBody(req);
  if (header.byteLength === 0 && req.headers['inference-header-content-length'] !== undefined)
    return rawInfer(ctx, name, version, binary, req);
  const body = parseInferBody(
    header,
    req.headers['inference-header-content-length'] === undefined ? 'inference request' : 'inference header',
  );
  const id = own(body, 'id');
  if (id !== undefined && typeof id !== 'string')
    throw new HttpError(400, `id must be a string, received ${describe(id)}`);
  const signature = ctx.deployer.signature(name, version);
  const later: Promise<void>[] = [];
  const inputs = readInputs(body, binary, signature, name, ctx.options.maxTensorElements, later);
  const params = readParameters(own(body, 'parameters'), 'request');
  const requested = readOutputs(body, params, signature, name);
  const answered = new Answered();
  const names = own(body, 'outputs') === undefined ? undefined : requested.map((r) => r.name);
  // Bound, not an arrow held in a const: tsx (which the bench runs) names such a closure with a
  // defineProperty per request.
  const run = answer.bind(undefined, ctx, name, version, inputs, names, params, req, answered, id, requested);
  return later.length === 0 ? run() : Promise.all(later).then(run);
}

/** The model's answer to decoded inputs, as the protocol's response. */
function answer(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  inputs: NamedTensors,
  names: string[] | undefined,
  params: Record<string, unknown>,
  req: HandlerRequest,
  answered: Answered,
  id: unknown,
  requested: Requested[],
): Promise<HandlerResponse> {
  return predictFor(ctx, name, version, inputs, names, params, req, answered).then((out) =>
    inferResponse(name, answered.version, id as string | undefined, requested, out, answered.screen),
  );
}

/**
 * A raw binary request (`Inference-Header-Content-Length: 0`): the body is the bytes of the
 * model's one input, batch 1, with at most one variable dimension sized from the byte count
 * (BYTES: one element). Every output comes back in binary.
 */
async function rawInfer(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  bytes: Uint8Array,
  req: HandlerRequest,
): Promise<HandlerResponse> {
  const signature = ctx.deployer.signature(name, version);
  if (signature.inputs.length !== 1)
    throw new HttpError(
      400,
      `a raw binary request needs a model with one input; '${name}' has ${signature.inputs.length}`,
    );
  const spec = signature.inputs[0]!;
  if (spec.shape === null)
    throw new HttpError(400, `input '${spec.name}' declares no shape, so raw bytes cannot be shaped`);
  let shape: number[];
  if (spec.dtype === 'string') shape = spec.shape.map(() => 1);
  else {
    const width = BYTE_SIZE[spec.dtype]!;
    // The leading symbolic dimension is the batch (1); one other may vary.
    const dims = spec.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : -1));
    const variable = dims.filter((d) => d === -1).length;
    if (variable > 1)
      throw new HttpError(
        400,
        `input '${spec.name}' has ${variable} variable dimensions; a raw request allows one`,
      );
    const known = dims.reduce((a, d) => (d === -1 ? a : a * d), 1);
    const elements = bytes.byteLength / width;
    if (
      !Number.isInteger(elements) ||
      (variable === 0 ? elements !== known : elements % known !== 0 || elements === 0)
    ) {
      throw new HttpError(
        400,
        `${bytes.byteLength} bytes do not fill input '${spec.name}' ${formatShape(spec.shape)} of ${datatypeOf(spec.dtype)} at batch 1`,
      );
    }
    shape = dims.map((d) => (d === -1 ? elements / known : d));
  }
  const inputs = collectInputs(
    [{ name: spec.name, shape, decode: () => fromBinary(spec.name, datatypeOf(spec.dtype), shape, bytes) }],
    signature,
    name,
    ctx.options.maxTensorElements,
  );
  const answered = new Answered();
  const outputs = await predictFor(ctx, name, version, inputs, undefined, {}, req, answered);
  return inferResponse(
    name,
    answered.version,
    undefined,
    everyOutput(signature, true),
    outputs,
    answered.screen,
  );
}
