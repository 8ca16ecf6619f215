/**
 * TF Serving's REST API as a compatibility route, because many clients already speak it:
 * `POST /v1/models/{name}[/versions/{v}]:predict` in the row (`instances`) and columnar
 * (`inputs`) formats, model status and metadata.
 */
import { flaggedSummary, type ScreenReport } from '../anomaly/screen';
import type { RecordSignature } from '../pipeline/describe';
import type { DType } from '../tensor/dtype';
import type { Dim, TensorSpec } from '../tensor/spec';
import { type NamedTensors, type Tensor, tensor, toNested } from '../tensor/tensor';
import { classLabel, scoreRows } from './classification';
import { fromJsonElement, jsonElement } from './codec';
import { describeValue as describe, HttpError, refuseWhileDraining } from './http-error';
import { screenHeader } from './oip/outputs';
import { pipelineFor, predictRecords } from './records';
import { parseTfJson } from './tf-json';
import type { HandlerRequest, HandlerResponse, ServeContext } from './types';
import { bodyText } from './web';

const TF_DTYPE: Record<DType, string> = {
  float32: 'DT_FLOAT',
  float64: 'DT_DOUBLE',
  float16: 'DT_HALF',
  int8: 'DT_INT8',
  int16: 'DT_INT16',
  int32: 'DT_INT32',
  int64: 'DT_INT64',
  uint8: 'DT_UINT8',
  uint16: 'DT_UINT16',
  uint32: 'DT_UINT32',
  uint64: 'DT_UINT64',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
};

/** JSON with bigints written as exact integers, as TF Serving writes int64. */
function stringify(value: unknown): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_k, v) =>
    v instanceof Uint8Array
      ? jsonElement(v)
      : typeof v === 'bigint'
        ? `${marker}${v}`
        : typeof v === 'number' && !Number.isFinite(v)
          ? `${marker}${v}`
          : v,
  );
  return text.replace(/"\\u0000bigint:(-?[0-9A-Za-z]+)"/g, '$1');
}

export function tfJson(status: number, value: unknown): HandlerResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: stringify(value) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"b64": "..."}` values of string inputs become their text, or their raw bytes when not UTF-8. */
function unwrapB64(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => unwrapB64(v, where));
  return fromJsonElement(value, where);
}

/** A tensor of `spec`'s dtype from a JSON value (nested lists; `{"b64"}` for bytes); 400 when it does not fit. */
export function build(spec: TensorSpec, value: unknown, where: string): Tensor {
  try {
    return tensor(spec.dtype, unwrapB64(value, where) as never);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, `${where}: ${(e as Error).message}`);
  }
}

export function specOf(specs: readonly TensorSpec[], name: string, model: string): TensorSpec {
  if (name === '__proto__') throw new HttpError(400, `'__proto__' is not an input of model '${model}'`);
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) {
    throw new HttpError(
      400,
      `model '${model}' has no input '${name}' (inputs: ${specs.map((s) => `'${s.name}'`).join(', ')})`,
    );
  }
  return spec;
}

/** Records of a request to a model with a pipeline: `instances` (rows) or `inputs` (columns by field). */
function recordsOf(body: Record<string, unknown>): unknown {
  const hasInstances = Object.hasOwn(body, 'instances');
  if (hasInstances === Object.hasOwn(body, 'inputs'))
    throw new HttpError(
      400,
      'a predict request has either "instances" (a list of records) or "inputs" (lists by field), not both or neither',
    );
  if (hasInstances) return body.instances;
  const columns = body.inputs;
  if (!isObject(columns))
    throw new HttpError(400, `inputs must be an object of lists by field, received ${describe(columns)}`);
  const entries = Object.entries(columns);
  const n =
    entries.length === 0 || !Array.isArray(entries[0]![1]) ? -1 : (entries[0]![1] as unknown[]).length;
  for (const [field, values] of entries) {
    if (field === '__proto__') throw new HttpError(400, "'__proto__' cannot be a field");
    if (!Array.isArray(values) || values.length !== n)
      throw new HttpError(
        400,
        `inputs: every field needs a list of the same length; '${field}' has ${describe(values)}`,
      );
  }
  return Array.from({ length: Math.max(n, 0) }, (_, i) =>
    Object.fromEntries(entries.map(([f, v]) => [f, (v as unknown[])[i]])),
  );
}

/** The one signature a model has here; TF Serving's default key, which metadata advertises. */
const SIGNATURE = 'serving_default';

/**
 * Checks `signature_name` as TF Serving does: a string (else 400 with its wording), naming the
 * model's signature (empty means the default; anything else is TF Serving's "not found", 400).
 */
function checkSignatureName(body: Record<string, unknown>): void {
  if (!Object.hasOwn(body, 'signature_name')) return;
  const given = body.signature_name;
  if (typeof given !== 'string')
    throw new HttpError(
      400,
      `JSON Value: ${stringify(given)} not formatted correctly. 'signature_name' key must be a string value.`,
    );
  if (given !== '' && given !== SIGNATURE)
    throw new HttpError(
      400,
      `Serving signature key "${given}" not found. (this model has one signature, "${SIGNATURE}")`,
    );
}

/** `POST /v1/models/{name}[/versions/{v}]:predict`. */
export async function tfPredict(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
): Promise<HandlerResponse> {
  refuseWhileDraining(ctx);
  const body = parseTfJson(bodyText(req.body), 'predict request');
  checkSignatureName(body);
  const pipeline = pipelineFor(ctx, name);
  if (pipeline !== undefined) {
    const screened: { screen?: ScreenReport } = {};
    const predictions = await predictRecords(ctx, pipeline, name, version, req, recordsOf(body), screened);
    const answer = tfJson(200, {
      predictions,
      ...(screened.screen?.flag === true ? { screen: flaggedSummary(screened.screen) } : {}),
    });
    Object.assign(answer.headers, screenHeader(screened.screen));
    return answer;
  }
  const signature = ctx.deployer.signature(name, version);
  const hasInstances = Object.hasOwn(body, 'instances');
  const hasInputs = Object.hasOwn(body, 'inputs');
  if (hasInstances === hasInputs)
    throw new HttpError(
      400,
      'a predict request has either "instances" (row format) or "inputs" (columnar format), not both or neither',
    );
  const inputs: NamedTensors = {};
  const specs = signature.inputs;
  if (hasInstances) {
    const rows = body.instances;
    if (!Array.isArray(rows) || rows.length === 0)
      throw new HttpError(400, `instances must be a non-empty list, received ${describe(rows)}`);
    const named =
      specs.length > 1 || rows.every((r) => isObject(r) && !(Object.keys(r).length === 1 && 'b64' in r));
    if (!named) {
      inputs[specs[0]!.name] = build(specs[0]!, rows, `input '${specs[0]!.name}'`);
    } else Object.assign(inputs, namedRows(specs, rows, name, 'instance'));
  } else {
    const columns = body.inputs;
    if (isObject(columns) && !(Object.keys(columns).length === 1 && 'b64' in columns)) {
      for (const [key, value] of Object.entries(columns)) {
        const spec = specOf(specs, key, name);
        inputs[spec.name] = build(spec, value, `input '${spec.name}'`);
      }
    } else {
      if (specs.length !== 1)
        throw new HttpError(
          400,
          `model '${name}' has ${specs.length} inputs; give "inputs" as an object keyed by input name`,
        );
      inputs[specs[0]!.name] = build(specs[0]!, columns, `input '${specs[0]!.name}'`);
    }
  }
  const out = await run(ctx, name, version, req, inputs);
  const names = signature.outputs.map((s) => s.name).filter((n) => out[n] !== undefined);
  const nested = Object.fromEntries(names.map((n) => [n, toNested(out[n]!) as unknown]));
  if (hasInputs) return tfJson(200, { outputs: names.length === 1 ? nested[names[0]!] : nested });
  const rows = (nested[names[0]!] as unknown[]).length;
  const predictions =
    names.length === 1
      ? nested[names[0]!]
      : Array.from({ length: rows }, (_, i) =>
          Object.fromEntries(names.map((n) => [n, (nested[n] as unknown[])[i]])),
        );
  return tfJson(200, { predictions });
}

/** Rows of named inputs (`{"x": [...], ...}` each) as one tensor per input; `what` names a row in errors. */
function namedRows(
  specs: readonly TensorSpec[],
  rows: readonly unknown[],
  name: string,
  what: string,
): NamedTensors {
  const inputs: NamedTensors = {};
  for (const [i, r] of rows.entries()) {
    if (!isObject(r)) throw new HttpError(400, `${what} ${i} must be an object of inputs`);
    for (const key of Object.keys(r)) specOf(specs, key, name);
  }
  for (const spec of specs) {
    const column = rows.map((r, i) => {
      if (!Object.hasOwn(r as object, spec.name))
        throw new HttpError(400, `${what} ${i} has no value for input '${spec.name}'`);
      return (r as Record<string, unknown>)[spec.name];
    });
    inputs[spec.name] = build(spec, column, `input '${spec.name}'`);
  }
  return inputs;
}

/** Checks the inputs' sizes and runs them through the Deployer with the request's options. */
export function run(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
  inputs: NamedTensors,
  outputs?: readonly string[],
): Promise<NamedTensors> {
  for (const t of Object.values(inputs)) {
    if (t.data.length > ctx.options.maxTensorElements)
      throw new HttpError(
        413,
        `an input has ${t.data.length} elements; this server takes at most ${ctx.options.maxTensorElements} per tensor`,
      );
  }
  return ctx.deployer.predict(name, inputs, {
    ...(version === undefined ? {} : { version }),
    ...(outputs === undefined ? {} : { outputs }),
    ...(req.signal === undefined ? {} : { signal: req.signal }),
    ...(ctx.options.timeoutMs === undefined ? {} : { timeoutMs: ctx.options.timeoutMs }),
    ...(req.headers['x-routing-key'] === undefined ? {} : { routingKey: req.headers['x-routing-key'] }),
  });
}

/**
 * `POST /v1/models/{name}[/versions/{v}]:classify` and `:regress`, TF Serving's Classify and
 * Regress for the models they were made for: tabular classifiers and regressors. Each of
 * `examples` is an object of the model's inputs by name (`{"input": [5.1, 3.5, 1.4, 0.2]}`),
 * with `context`'s inputs shared by all (a name in both is a 400, as TF Serving says).
 * `:classify` reads the class scores (the output with class labels, else the first float
 * `[batch, classes]` output) and answers every class as `[label, score]` per example;
 * `:regress` reads the first float output with one value per example and answers the values.
 */
export async function tfClassifyRegress(
  ctx: ServeContext,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
  verb: 'classify' | 'regress',
): Promise<HandlerResponse> {
  refuseWhileDraining(ctx);
  const body = parseTfJson(bodyText(req.body), `${verb} request`);
  checkSignatureName(body);
  if (pipelineFor(ctx, name) !== undefined)
    throw new HttpError(400, `model '${name}' is served with a pipeline; send its records to :predict`);
  const examples = body.examples;
  if (!Array.isArray(examples) || examples.length === 0)
    throw new HttpError(400, `examples must be a non-empty list of objects, received ${describe(examples)}`);
  const context = Object.hasOwn(body, 'context') ? body.context : {};
  if (!isObject(context))
    throw new HttpError(400, `context must be an object, received ${describe(context)}`);
  const rows = examples.map((e, i) => {
    if (!isObject(e))
      throw new HttpError(400, `example ${i} must be an object of inputs, received ${describe(e)}`);
    const both = Object.keys(e).find((k) => Object.hasOwn(context, k));
    if (both !== undefined)
      throw new HttpError(
        400,
        `example ${i} has '${both}', which context also has; a feature goes in one of them`,
      );
    return { ...context, ...e };
  });
  const signature = ctx.deployer.signature(name, version);
  const spec = verb === 'classify' ? scoresOutput(signature.outputs) : valueOutput(signature.outputs);
  if (spec === undefined)
    throw new HttpError(
      400,
      verb === 'classify'
        ? `model '${name}' has no class scores to classify with (a float output [batch, classes]); use :predict`
        : `model '${name}' has no output of one float per example to regress with; use :predict`,
    );
  const out = await run(ctx, name, version, req, namedRows(signature.inputs, rows, name, 'example'), [
    spec.name,
  ]);
  const { rows: n, width, data } = scoreRows(out[spec.name]!, spec.name);
  if (n !== rows.length || (verb === 'regress' && width !== 1))
    throw new HttpError(
      500,
      `output '${spec.name}' has shape [${out[spec.name]!.shape.join(', ')}] for ${rows.length} examples`,
    );
  const result =
    verb === 'regress'
      ? Array.from(data, Number)
      : Array.from({ length: n }, (_, r) =>
          Array.from({ length: width }, (_, i) => [classLabel(spec, i), Number(data[r * width + i])]),
        );
  return tfJson(200, { result });
}

const isFloatSpec = (s: TensorSpec) =>
  s.dtype === 'float32' || s.dtype === 'float64' || s.dtype === 'float16';

/** The class scores: the output with labels, else the first float output declared `[batch, classes ≥ 2]`. */
function scoresOutput(outputs: readonly TensorSpec[]): TensorSpec | undefined {
  return (
    outputs.find((s) => s.labels !== undefined && isFloatSpec(s)) ??
    outputs.find(
      (s) => isFloatSpec(s) && s.shape?.length === 2 && (s.shape[1] === null || Number(s.shape[1]) >= 2),
    )
  );
}

/** One value per example: the first float output declared `[batch]` or `[batch, 1]`. */
function valueOutput(outputs: readonly TensorSpec[]): TensorSpec | undefined {
  return outputs.find(
    (s) =>
      isFloatSpec(s) &&
      s.labels === undefined &&
      (s.shape?.length === 1 || (s.shape?.length === 2 && s.shape[1] === 1)),
  );
}

const TF_STATE: Record<string, string> = {
  loading: 'LOADING',
  warming: 'LOADING',
  ready: 'AVAILABLE',
  draining: 'UNLOADING',
  unloaded: 'END',
};

const OK = { error_code: 'OK', error_message: '' };

/**
 * `GET /v1/models/{name}[/versions/{v}]`: the versions and their states, with the versions the
 * repository holds but does not serve (failed: `END` with the reason; unloaded; still being
 * written: `START`), so a model that never loaded is reported rather than unknown.
 */
export function tfStatus(ctx: ServeContext, name: string, version: string | undefined): HandlerResponse {
  const onDisk = ctx.options.repository?.index().filter((e) => e.name === name) ?? [];
  const deployed = ctx.deployer.names().includes(name);
  if (!deployed && onDisk.length === 0) ctx.deployer.status(name); // throws the usual 404
  const status = deployed ? ctx.deployer.status(name) : undefined;
  let versions = [
    ...(status?.versions ?? []).map((v) => ({
      version: v.version,
      state: TF_STATE[v.state] ?? 'UNKNOWN',
      status: OK,
    })),
    ...(status?.loading ?? []).map((v) => ({ version: v, state: 'LOADING', status: OK })),
  ];
  for (const e of onDisk) {
    if (e.state === 'READY' || versions.some((v) => v.version === e.version)) continue;
    if (e.reason === 'not selected by the version policy') continue;
    const failed = e.state === 'UNAVAILABLE' && e.reason !== 'unloaded' && e.reason !== WRITING;
    versions.push({
      version: e.version,
      state: e.state === 'LOADING' ? 'LOADING' : e.reason === WRITING ? 'START' : 'END',
      status: failed ? { error_code: 'UNKNOWN', error_message: e.reason } : OK,
    });
  }
  if (version !== undefined) {
    versions = versions.filter((v) => v.version === version);
    if (versions.length === 0) throw new HttpError(404, `model '${name}' has no version '${version}'`);
  }
  return tfJson(200, { model_version_status: versions });
}

const WRITING = 'the file is still being written';

function tfTensor(s: TensorSpec) {
  return {
    dtype: TF_DTYPE[s.dtype],
    tensor_shape:
      s.shape === null
        ? { unknown_rank: true }
        : {
            dim: s.shape.map((d) => ({
              size: String(typeof d === 'number' ? d : -1),
              name: typeof d === 'string' ? d : '',
            })),
          },
    name: s.name,
  };
}

const BATCH = { size: '-1', name: 'batch' };

/**
 * The signature_def of a model served with a pipeline: the record fields `:predict` takes and
 * the answer fields it returns (a `topK` answer, a list of `{label, score}`, is `DT_VARIANT`).
 */
function recordsSignature(records: RecordSignature) {
  const entry = (name: string, dtype: DType | undefined, shape: readonly Dim[] | null) => ({
    dtype: dtype === undefined ? 'DT_VARIANT' : TF_DTYPE[dtype],
    tensor_shape:
      shape === null
        ? { unknown_rank: true }
        : {
            dim: [
              BATCH,
              ...shape.map((d) => ({
                size: String(typeof d === 'number' ? d : -1),
                name: typeof d === 'string' ? d : '',
              })),
            ],
          },
    name,
  });
  return {
    inputs: Object.fromEntries(records.fields.map((f) => [f.name, entry(f.name, f.dtype, [])])),
    outputs: Object.fromEntries(records.answers.map((a) => [a.name, entry(a.name, a.dtype, a.shape)])),
  };
}

/**
 * `GET /v1/models/{name}[/versions/{v}]/metadata`: the signature as a `serving_default`
 * signature_def: the tensors, or for a model with a pipeline the records `:predict` really
 * takes and answers, with the fields' details under `records`.
 */
export function tfMetadata(ctx: ServeContext, name: string, version: string | undefined): HandlerResponse {
  const model = ctx.deployer.model(name, version === undefined ? {} : { version });
  const io = (specs: readonly TensorSpec[]) => Object.fromEntries(specs.map((s) => [s.name, tfTensor(s)]));
  const pipeline = pipelineFor(ctx, name);
  const records = pipeline?.wrap(model).recordSignature();
  const signature =
    records === undefined
      ? { inputs: io(model.signature.inputs), outputs: io(model.signature.outputs) }
      : recordsSignature(records);
  return tfJson(200, {
    model_spec: { name, signature_name: '', version: model.version },
    metadata: {
      signature_def: {
        signature_def: {
          [SIGNATURE]: { ...signature, method_name: 'tensorflow/serving/predict' },
        },
      },
      ...(records === undefined ? {} : { records }),
    },
  });
}
