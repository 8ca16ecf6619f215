/**
 * An inference answer: the outputs a request asked for (every output when it names none), as
 * JSON or Triton's binary tensor data, with the classification extension's top classes and
 * what the input screen flagged.
 */
import { flaggedSummary, type ScreenReport } from '../../anomaly/screen';
import type { ModelSignature, TensorSpec } from '../../tensor/spec';
import type { NamedTensors, Tensor } from '../../tensor/tensor';
import { readClassification, topClasses } from '../classification';
import { binaryData, datatypeOf, jsonData, jsonValues } from '../codec';
import { describeValue as describe, HttpError } from '../http-error';
import { isObject, own } from '../json-body';
import type { HandlerResponse } from '../types';
import { web } from '../web';
import { findSpec, readParameters } from './inputs';

export interface Requested {
  name: string;
  binary: boolean;
  /** Triton's classification extension: answer the top k classes of this output as BYTES. */
  classification?: { k: number; spec: TensorSpec };
}

export function everyOutput(signature: ModelSignature, binary: boolean): Requested[] {
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

/** Every output of a signature as JSON and as binary: what a request that names none gets. */
const allOutputs = new WeakMap<ModelSignature, { json: Requested[]; binary: Requested[] }>();

export function readOutputs(
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

/**
 * The response header naming what a deployment's input screen flagged in a request
 * (`Modelship-Screen: findings=2, outliers=1`); the details are in the answer's parameters.
 */
export function screenHeader(report: ScreenReport | undefined): Record<string, string> {
  if (report === undefined || !report.flag) return {};
  const s = flaggedSummary(report);
  return { 'modelship-screen': `findings=${s.findings.length}, outliers=${s.outliers.length}` };
}

export function inferResponse(
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
