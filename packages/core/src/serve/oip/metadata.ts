/**
 * The Open Inference Protocol's health and metadata routes: `GET /v2`, server and model
 * readiness, and `GET /v2/models/{name}[/versions/{v}]`.
 */
import type { Dim, TensorSpec } from '../../tensor/spec';
import { datatypeOf } from '../codec';
import { json } from '../json-body';
import type { HandlerResponse, ServeContext } from '../types';

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
