/**
 * The read side of TorchServe's management API: `GET /models` (paged) and
 * `GET /models/{model}[/{version}|/all]` in its description shape, from the Deployer's status;
 * its writes are refused, the model repository doing them here.
 */
import { HttpError } from './http-error';
import { intParameter, queryParameters } from './request-parts';
import { tfJson } from './tfserving';
import type { HandlerRequest, HandlerResponse, RouteParams, ServeContext } from './types';

/**
 * `GET /models`: the deployed models by name, `limit` (default and most 100) from
 * `next_page_token` (an offset), with `nextPageToken` while more follow.
 */
export function listModels(ctx: ServeContext, req: HandlerRequest): HandlerResponse {
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
export function describeModel(ctx: ServeContext, [name, version]: RouteParams): HandlerResponse {
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

export function readOnly(): never {
  throw new HttpError(
    405,
    "this server's TorchServe management API is read-only: register, scale and unregister models through the model repository (add or remove <model>/<version>/model.onnx), see docs/migrating-from-torchserve.md",
  );
}
