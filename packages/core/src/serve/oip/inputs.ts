/**
 * An inference request's inputs, read into tensors: the JSON header and binary tail split,
 * each input checked against the model's signature and the element limit before its data is
 * read, large JSON data read in slices.
 */
import type { ModelSignature, TensorSpec } from '../../tensor/spec';
import type { NamedTensors, Tensor } from '../../tensor/tensor';
import { fromBinary, fromJson, fromJsonSliced, NO_BYTES } from '../codec';
import { describeValue as describe, HttpError } from '../http-error';
import { isObject, own } from '../json-body';
import { JsonSpan, scanJson } from '../json-scan';
import { JSON_SLICE_BYTES } from '../json-tensor';
import type { HandlerRequest } from '../types';

/** An input's `data` array, left for `fromJson` to read straight into its typed array. */
const deferData = (key: string, depth: number): boolean => depth === 3 && key === 'data';

/** Parses an inference request (or header) from its bytes; see {@link scanJson}. */
export function parseInferBody(bytes: Uint8Array, what: string): Record<string, unknown> {
  const value = scanJson(bytes, what, { defer: deferData });
  if (!isObject(value))
    throw new HttpError(400, `the ${what} must be a JSON object, received ${describe(value)}`);
  return value;
}

/**
 * Splits a body into its JSON header and binary tail. With `Inference-Header-Content-Length`
 * the header is that many bytes and the rest is tensor data, in the order of the inputs.
 */
export function splitBody(req: HandlerRequest): { header: Uint8Array; binary: Uint8Array } {
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
export function readInputs(
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
