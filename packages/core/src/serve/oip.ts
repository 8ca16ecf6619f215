/**
 * The Open Inference Protocol (KServe V2, spoken by Triton and MLServer) over REST: server and
 * model health and metadata, and inference with JSON or Triton's binary tensor data.
 */
import { flaggedSummary, type ScreenReport } from '../anomaly/screen';
import { type Dim, formatShape, type ModelSignature, type TensorSpec } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { readClassification, topClasses } from './classification';
import {
  BYTE_SIZE,
  binaryData,
  datatypeOf,
  fromBinary,
  fromJson,
  fromJsonSliced,
  jsonData,
  jsonValues,
  NO_BYTES,
} from './codec';
import { describeValue as describe, HttpError } from './http-error';
import { JsonSpan, jsonDepth, MAX_JSON_DEPTH, scanJson } from './json-scan';
import { JSON_SLICE_BYTES } from './json-tensor';
import { checkModelControl } from './model-control';
import type { HandlerRequest, HandlerResponse, ServeContext } from './types';
import { web } from './web';

/**
 * Answer headers are built as literals, never cloned with `{ ...shared }`: V8 gives each clone of
 * a shared object its own hidden class once a header is added to it, so every request made a new
 * map in the old generation and node:http's property reads went megamorphic (7 µs a request).
 */
export function json(status: number, value: unknown, headers?: Record<string, string>): HandlerResponse {
  const out: Record<string, string> = { 'content-type': 'application/json' };
  if (headers !== undefined) Object.assign(out, headers);
  return { status, headers: out, body: JSON.stringify(value) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field of a request object, read only when it is the object's own. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Parses a JSON request body, answering 400 with the parser's reason when it is not JSON, and
 * when it nests deeper than {@link MAX_JSON_DEPTH} (checked before parsing, so no recursive walk
 * over the value can run out of stack). `retry` reads a body `JSON.parse` refused another way
 * (TF Serving's NaN tokens), or returns undefined to refuse it with `JSON.parse`'s reason.
 */
export function parseJsonBody(
  text: string,
  what: string,
  retry?: (text: string) => unknown,
): Record<string, unknown> {
  const value = parseJsonValue(text, what, retry);
  if (!isObject(value))
    throw new HttpError(400, `the ${what} must be a JSON object, received ${describe(value)}`);
  return value;
}

/** {@link parseJsonBody} for a body that may be any JSON value (TorchServe's lists of records). */
export function parseJsonValue(text: string, what: string, retry?: (text: string) => unknown): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw new HttpError(400, `the ${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    try {
      value = retry?.(text);
    } catch (e2) {
      throw new HttpError(400, `malformed JSON in the ${what}: ${(e2 as Error).message}`);
    }
    if (value === undefined)
      throw new HttpError(400, `malformed JSON in the ${what}: ${(e as Error).message}`);
  }
  return value;
}

/** An input's `data` array, left for `fromJson` to read straight into its typed array. */
const deferData = (key: string, depth: number): boolean => depth === 3 && key === 'data';

/** Parses an inference request (or header) from its bytes; see {@link scanJson}. */
function parseInferBody(bytes: Uint8Array, what: string): Record<string, unknown> {
  const value = scanJson(bytes, what, { defer: deferData });
  if (!isObject(value))
    throw new HttpError(400, `the ${what} must be a JSON object, received ${describe(value)}`);
  return value;
}

const decoder = new web.TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(400, `the ${what} is not valid UTF-8`);
  }
}

/** `GET /v2`. */
export function serverMetadata(ctx: ServeContext): HandlerResponse {
  return json(200, {
    name: ctx.options.serverName ?? 'modelship',
    version: ctx.options.serverVersion ?? '0.1.0',
    // Triton's names; `classification` is an output parameter REST answers (gRPC refuses it).
    extensions:
      ctx.options.repository === undefined
        ? ['binary_tensor_data', 'classification']
        : ['binary_tensor_data', 'classification', 'model_repository'],
  });
}

function repositoryOf(ctx: ServeContext) {
  const r = ctx.options.repository;
  if (r === undefined) throw new HttpError(501, 'this server has no model repository to control');
  return r;
}

/** `POST /v2/repository/index`: every model and version with its state; `{"ready": true}` keeps the ready ones. */
export function repositoryIndex(ctx: ServeContext, req: HandlerRequest): HandlerResponse {
  const repository = repositoryOf(ctx);
  const body =
    req.body.byteLength === 0 ? {} : parseJsonBody(text(req.body, 'request body'), 'index request');
  const ready = own(body, 'ready');
  if (ready !== undefined && typeof ready !== 'boolean')
    throw new HttpError(400, `ready must be a boolean, received ${describe(ready)}`);
  const entries = repository.index().filter((e) => ready !== true || e.state === 'READY');
  return json(200, entries);
}

/**
 * Refuses the repository extension's load overrides (`config`, `file:<version>/<name>`) and any
 * other load parameter: this server loads what is on disk, and an override it ignored would
 * leave the caller believing the model runs with it. Shared by REST and gRPC.
 */
export function refuseLoadParameters(model: string, names: readonly string[]): void {
  if (names.length === 0) return;
  throw new HttpError(
    400,
    `load of model '${model}': parameters ${names.map((n) => `'${n}'`).join(', ')} are not supported; this server loads the model's files as they are in the repository (write config.json and the version's files there, then load)`,
  );
}

/** `POST /v2/repository/models/{name}/load` and `…/unload`. */
export async function repositoryAction(
  ctx: ServeContext,
  name: string,
  action: 'load' | 'unload',
  req?: HandlerRequest,
): Promise<HandlerResponse> {
  const repository = repositoryOf(ctx);
  checkModelControl(ctx, action, req?.headers.origin);
  if (action === 'load' && req !== undefined && req.body.byteLength > 0) {
    const body = parseJsonBody(text(req.body, 'request body'), 'load request');
    refuseLoadParameters(name, Object.keys(readParameters(own(body, 'parameters'), 'load request')));
  }
  await (action === 'load' ? repository.load(name) : repository.unload(name));
  return json(200, {});
}

/**
 * Live as long as the process answers; ready while not draining and every model has a version
 * serving: every deployed model, and every model the repository holds (one that never loaded,
 * or was unloaded, keeps the server unready, as Triton's strict readiness does).
 */
export function serverReady(ctx: ServeContext): boolean {
  if (ctx.draining) return false;
  const serving = new Set<string>();
  for (const d of ctx.deployer.status()) {
    if (d.primary === undefined) return false;
    serving.add(d.name);
  }
  return ctx.options.repository?.index().every((e) => serving.has(e.name)) ?? true;
}

export function modelReady(ctx: ServeContext, name: string, version: string | undefined): boolean {
  if (ctx.draining || !ctx.deployer.names().includes(name)) return false;
  const status = ctx.deployer.status(name);
  if (version === undefined) return status.primary !== undefined;
  return status.versions.some((v) => v.version === version && v.state === 'ready');
}

/** The protocol's shape of a declared dimension: symbolic and unknown sizes are -1. */
function dims(shape: readonly Dim[] | null): number[] {
  return shape === null ? [-1] : shape.map((d) => (typeof d === 'number' ? d : -1));
}

function tensorMetadata(s: TensorSpec) {
  return { name: s.name, datatype: datatypeOf(s.dtype), shape: dims(s.shape) };
}

/** `GET /v2/models/{name}[/versions/{v}]`. */
export function modelMetadata(ctx: ServeContext, name: string, version: string | undefined): HandlerResponse {
  const signature = ctx.deployer.signature(name, version);
  const status = ctx.deployer.status(name);
  return json(200, {
    name,
    versions: status.versions.map((v) => v.version),
    platform: 'onnxruntime_onnx',
    inputs: signature.inputs.map(tensorMetadata),
    outputs: signature.outputs.map(tensorMetadata),
  });
}

interface Requested {
  name: string;
  binary: boolean;
  /** Triton's classification extension: answer the top k classes of this output as BYTES. */
  classification?: { k: number; spec: TensorSpec };
}

/**
 * Splits a body into its JSON header and binary tail. With `Inference-Header-Content-Length`
 * the header is that many bytes and the rest is tensor data, in the order of the inputs.
 */
function splitBody(req: HandlerRequest): { header: Uint8Array; binary: Uint8Array } {
  const raw = req.headers['inference-header-content-length'];
  if (raw === undefined) return { header: req.body, binary: NO_BYTES };
  if (!/^\d+$/.test(raw.trim()))
    throw new HttpError(
      400,
      `Inference-Header-Content-Length must be a byte count, received ${describe(raw)}`,
    );
  const length = Number(raw.trim());
  if (length > req.body.byteLength) {
    throw new HttpError(
      400,
      `Inference-Header-Content-Length is ${length} but the body has only ${req.body.byteLength} bytes`,
    );
  }
  return { header: req.body.subarray(0, length), binary: req.body.subarray(length) };
}

export function readParameters(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v))
    throw new HttpError(400, `${where}: parameters must be an object, received ${describe(v)}`);
  for (const [k, p] of Object.entries(v)) {
    if (typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'boolean')
      throw new HttpError(
        400,
        `${where}: parameter '${k}' must be a string, number or boolean, received ${describe(p)}`,
      );
  }
  return v;
}

export function findSpec(
  specs: readonly TensorSpec[],
  name: unknown,
  kind: 'input' | 'output',
  model: string,
): TensorSpec {
  if (typeof name !== 'string')
    throw new HttpError(400, `every ${kind} needs a name, received ${describe(name)}`);
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    throw new HttpError(
      400,
      `model '${model}' has no ${kind} '${name}' (${kind}s: ${specs.map((s) => `'${s.name}'`).join(', ')})`,
    );
  }
  return spec;
}

/** One input as a request names it, before its data is decoded. */
export interface InputItem {
  name: unknown;
  shape: unknown;
  decode: (spec: TensorSpec) => Tensor;
}

/**
 * The checks every input of a request passes before its data is read: it names an input of the
 * model, once, and a declared shape stays under the element limit. Returns the input's spec.
 */
function admitInput(
  inputs: NamedTensors,
  signature: ModelSignature,
  name: unknown,
  shape: unknown,
  model: string,
  maxElements: number,
): TensorSpec {
  const spec = findSpec(signature.inputs, name, 'input', model);
  if (Object.hasOwn(inputs, spec.name)) throw new HttpError(400, `input '${spec.name}' appears twice`);
  if (Array.isArray(shape)) {
    let count = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) return spec; // the decoder names the bad shape
      count *= d;
    }
    if (count > maxElements)
      throw new HttpError(
        413,
        `input '${spec.name}' has ${count} elements; this server takes at most ${maxElements} per tensor`,
      );
  }
  return spec;
}

/**
 * Decodes a request's inputs into tensors: each must name an input of the model, once, and
 * stay under the element limit before any data is read. Shared by gRPC and raw binary requests.
 */
export function collectInputs(
  items: readonly InputItem[],
  signature: ModelSignature,
  model: string,
  maxElements: number,
): NamedTensors {
  if (items.length === 0) throw new HttpError(400, 'an inference request needs at least one input');
  const inputs: NamedTensors = {};
  for (const item of items) {
    const spec = admitInput(inputs, signature, item.name, item.shape, model, maxElements);
    inputs[spec.name] = item.decode(spec);
  }
  return inputs;
}

/** The place of an input whose large data is still being read (see `later` in readInputs). */
const READING = Object.freeze({ dtype: 'float32', shape: [0], data: new Float32Array(0) }) as Tensor;

/**
 * Reads the inputs of a REST inference request into tensors, JSON or binary (binary data is
 * claimed in the order of the inputs). A loop, not a closure per input: this is the hot path.
 * Large JSON data is read in slices: `later` gets a promise per such input, which fills it in.
 */
function readInputs(
  body: Record<string, unknown>,
  binary: Uint8Array,
  signature: ModelSignature,
  model: string,
  maxElements: number,
  later: Promise<void>[],
): NamedTensors {
  const list = own(body, 'inputs');
  if (!Array.isArray(list) || list.length === 0)
    throw new HttpError(400, `inputs must be a non-empty array, received ${describe(list)}`);
  for (const item of list)
    if (!isObject(item)) throw new HttpError(400, `each input must be an object, received ${describe(item)}`);
  const inputs: NamedTensors = {};
  let offset = 0;
  for (const item of list as Record<string, unknown>[]) {
    const shape = own(item, 'shape');
    const spec = admitInput(inputs, signature, own(item, 'name'), shape, model, maxElements);
    const data = own(item, 'data');
    const p = own(item, 'parameters');
    const size = p === undefined ? undefined : readParameters(p, `input '${spec.name}'`).binary_data_size;
    if (size === undefined) {
      if (data === undefined)
        throw new HttpError(400, `input '${spec.name}' has neither data nor binary_data_size`);
      if (data instanceof JsonSpan && data.end - data.start > JSON_SLICE_BYTES) {
        // Large data is read in slices, so the server keeps answering meanwhile.
        const key = spec.name;
        inputs[key] = READING;
        const reading = fromJsonSliced(key, own(item, 'datatype'), shape, data).then((t) => {
          inputs[key] = t;
        });
        // A later input may refuse the request before anyone awaits this one.
        reading.catch(() => {});
        later.push(reading);
      } else inputs[spec.name] = fromJson(spec.name, own(item, 'datatype'), shape, data);
      continue;
    }
    const where = `input '${spec.name}'`;
    if (!Number.isSafeInteger(size) || (size as number) < 0)
      throw new HttpError(
        400,
        `${where}: binary_data_size must be a non-negative integer, received ${describe(size)}`,
      );
    if (offset + (size as number) > binary.byteLength) {
      throw new HttpError(
        400,
        `${where}: binary_data_size ${size} runs past the end of the body (${binary.byteLength - offset} bytes of binary data remain)`,
      );
    }
    if (data !== undefined) throw new HttpError(400, `${where} has both data and binary_data_size`);
    inputs[spec.name] = fromBinary(
      spec.name,
      own(item, 'datatype'),
      shape,
      binary.subarray(offset, offset + (size as number)),
    );
    offset += size as number;
  }
  if (offset !== binary.byteLength)
    throw new HttpError(
      400,
      `the body has ${binary.byteLength - offset} bytes of binary data that no input claims`,
    );
  return inputs;
}

/** Every output of a signature as JSON and as binary: what a request that names none gets. */
const allOutputs = new WeakMap<ModelSignature, { json: Requested[]; binary: Requested[] }>();

function everyOutput(signature: ModelSignature, binary: boolean): Requested[] {
  let both = allOutputs.get(signature);
  if (both === undefined) {
    both = {
      json: signature.outputs.map((s) => ({ name: s.name, binary: false })),
      binary: signature.outputs.map((s) => ({ name: s.name, binary: true })),
    };
    allOutputs.set(signature, both);
  }
  return binary ? both.binary : both.json;
}

function readOutputs(
  body: Record<string, unknown>,
  params: Record<string, unknown>,
  signature: ModelSignature,
  model: string,
): Requested[] {
  const allBinary = params.binary_data_output === true;
  const list = own(body, 'outputs');
  if (list === undefined) return everyOutput(signature, allBinary);
  if (!Array.isArray(list)) throw new HttpError(400, `outputs must be an array, received ${describe(list)}`);
  const seen = new Set<string>();
  return list.map((item) => {
    if (!isObject(item))
      throw new HttpError(400, `each requested output must be an object, received ${describe(item)}`);
    const spec = findSpec(signature.outputs, own(item, 'name'), 'output', model);
    if (seen.has(spec.name)) throw new HttpError(400, `output '${spec.name}' is requested twice`);
    seen.add(spec.name);
    const p = readParameters(own(item, 'parameters'), `output '${spec.name}'`);
    const binary = p.binary_data === undefined ? allBinary : p.binary_data === true;
    const k = readClassification(p.classification, spec);
    return k === undefined
      ? { name: spec.name, binary }
      : { name: spec.name, binary, classification: { k, spec } };
  });
}

/** The tensor answered for a requested output: the model's, or its top classes when asked. */
function answerOf(r: Requested, out: NamedTensors): Tensor {
  const t = out[r.name]!;
  return r.classification === undefined ? t : topClasses(t, r.classification.k, r.classification.spec);
}

/** Triton's classification extension (an output's `classification` parameter) is refused, not ignored. */
export function refuseClassification(params: Record<string, unknown>, output: string): void {
  if (params.classification !== undefined)
    throw new HttpError(400, `output '${output}': the classification extension is not supported`);
}

/** The version that answered a request, which the Deployer reports through `onRoute`. */
export class Answered {
  version: string | undefined = undefined;
  /** What the deployment's input screen found, when it has one. */
  screen: ScreenReport | undefined = undefined;
  readonly onRoute = (v: string): void => {
    this.version = v;
  };
  readonly onScreen = (r: ScreenReport): void => {
    this.screen = r;
  };
}

/**
 * The response header naming what a deployment's input screen flagged in a request
 * (`Modelship-Screen: findings=2, outliers=1`); the details are in the answer's parameters.
 */
export function screenHeader(report: ScreenReport | undefined): Record<string, string> {
  if (report === undefined || !report.flag) return {};
  const s = flaggedSummary(report);
  return { 'modelship-screen': `findings=${s.findings.length}, outliers=${s.outliers.length}` };
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
  if (ctx.draining) throw new HttpError(503, 'the server is shutting down');
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
  const run = () =>
    predictFor(
      ctx,
      name,
      version,
      inputs,
      own(body, 'outputs') === undefined ? undefined : requested.map((r) => r.name),
      params,
      req,
      answered,
    ).then((out) =>
      inferResponse(name, answered.version, id as string | undefined, requested, out, answered.screen),
    );
  return later.length === 0 ? run() : Promise.all(later).then(run);
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

function inferResponse(
  model: string,
  version: string | undefined,
  id: string | undefined,
  requested: Requested[],
  out: NamedTensors,
  screen?: ScreenReport,
): HandlerResponse {
  const flagged = screen?.flag === true ? { screen: flaggedSummary(screen) } : undefined;
  if (requested.every((r) => !r.binary)) {
    const json = jsonAnswer(model, version, id, requested, out, flagged);
    if (json !== undefined)
      return {
        status: 200,
        headers: { 'content-type': 'application/json', ...screenHeader(screen) },
        body: json,
      };
  }
  const parts: Uint8Array[] = [];
  const outputs = requested.map((r) => {
    const { name, binary } = r;
    const t = answerOf(r, out);
    const head = `{"name":${JSON.stringify(name)},"datatype":"${datatypeOf(t.dtype)}","shape":${JSON.stringify(t.shape)}`;
    if (!binary) return `${head},"data":${jsonData(t)}}`;
    const bytes = binaryData(t);
    parts.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
  });
  const headerText = `{"model_name":${JSON.stringify(model)}${version === undefined ? '' : `,"model_version":${JSON.stringify(version)}`}${
    id === undefined ? '' : `,"id":${JSON.stringify(id)}`
  }${flagged === undefined ? '' : `,"parameters":${JSON.stringify(flagged)}`},"outputs":[${outputs.join(',')}]}`;
  if (parts.length === 0)
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...screenHeader(screen) },
      body: headerText,
    };
  const head = new web.TextEncoder().encode(headerText);
  const total = head.byteLength + parts.reduce((n, p) => n + p.byteLength, 0);
  const body = new Uint8Array(total);
  body.set(head, 0);
  let at = head.byteLength;
  for (const p of parts) {
    body.set(p, at);
    at += p.byteLength;
  }
  return {
    status: 200,
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(head.byteLength),
      ...screenHeader(screen),
    },
    body,
  };
}

/**
 * An all-JSON answer as one `JSON.stringify` of plain values, the way a hand-written server
 * answers; undefined when an output has 64-bit integers beyond 2^53, which only the text
 * encoder writes exactly.
 */
function jsonAnswer(
  model: string,
  version: string | undefined,
  id: string | undefined,
  requested: Requested[],
  out: NamedTensors,
  parameters?: Record<string, unknown>,
): string | undefined {
  const outputs: { name: string; datatype: string; shape: readonly number[]; data: unknown }[] = [];
  for (const r of requested) {
    const { name } = r;
    const t = answerOf(r, out);
    const data = jsonValues(t);
    if (data === undefined) return undefined;
    outputs.push({ name, datatype: datatypeOf(t.dtype), shape: t.shape, data });
  }
  // Undefined fields are left out by JSON.stringify, so the key order stays the protocol's.
  return JSON.stringify({ model_name: model, model_version: version, id, parameters, outputs });
}

/**
 * Decodes an Open Inference Protocol REST infer request body (JSON, without a binary part) into
 * the model's inputs, with the checks and messages of `POST /v2/models/{name}/infer`. The
 * repository reads its warmup samples with it; failures are `HttpError`s.
 */
export function decodeInferRequest(body: unknown, signature: ModelSignature, model: string): NamedTensors {
  if (!isObject(body))
    throw new HttpError(400, `an inference request must be a JSON object, received ${describe(body)}`);
  // Plain arrays, not spans of a body: nothing is left to read in slices.
  return readInputs(body, NO_BYTES, signature, model, Number.POSITIVE_INFINITY, []);
}
