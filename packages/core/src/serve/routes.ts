/**
 * Every route of the server, matched in order against the decoded path: the Open Inference
 * Protocol under `/v2`, TF Serving's REST API under `/v1/models`, the Monitor, the dashboard
 * and `/metrics`; and how a refused inference request counts against its model.
 */
import type { Deployer } from '../deploy/deployer';
import { ModelshipError } from '../errors';
import { tfExplain } from './explain';
import { json } from './json-body';
import { dashboard, ingest, monitorHistory, monitorState } from './monitor-routes';
import { infer } from './oip/infer';
import { modelMetadata, modelReady, serverMetadata, serverReady } from './oip/metadata';
import { repositoryAction, repositoryIndex } from './oip/repository';
import { tfClassifyRegress, tfMetadata, tfPredict, tfStatus } from './tfserving';
import { TORCHSERVE_ROUTES } from './torchserve';
import type { HandlerResponse, RouteDef, RouteParams, ServeMetrics } from './types';

export interface Route {
  def: RouteDef;
  /** Undefined when the path's percent-encoding is broken. */
  params: Params | undefined;
}

export type Params = RouteParams;

/** `{name}` and optional `/versions/{v}` segments of a model path. */
const MODEL = '/v2/models/([^/]+)(?:/versions/([^/]+))?';
const TF_MODEL = '/v1/models/([^/:]+)(?:/versions/([^/:]+))?';

function readiness(ready: boolean, body: Record<string, unknown>): HandlerResponse {
  // The protocol's health answers are boolean status codes: 200 true, 4xx false.
  return json(ready ? 200 : 400, { ...body, ready });
}

/** Every route, matched in order against the decoded path. */
const ROUTES: RouteDef[] = [
  { method: 'GET', pattern: /^\/v2$/, scope: 'metadata', run: (ctx) => serverMetadata(ctx) },
  { method: 'GET', pattern: /^\/v2\/health\/live$/, scope: 'health', run: () => json(200, { live: true }) },
  {
    method: 'GET',
    pattern: /^\/v2\/health\/ready$/,
    scope: 'health',
    run: (ctx) => readiness(serverReady(ctx), {}),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${MODEL}/ready$`),
    scope: 'health',
    run: (ctx, [name, version]) => readiness(modelReady(ctx, name, version), { name }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${MODEL}$`),
    scope: 'metadata',
    run: (ctx, [n, v]) => modelMetadata(ctx, n, v),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${MODEL}/infer$`),
    logged: true,
    scope: 'inference',
    run: (ctx, [n, v], req) => infer(ctx, n, v, req),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${TF_MODEL}:predict$`),
    logged: true,
    scope: 'inference',
    run: (ctx, [n, v], req) => tfPredict(ctx, n, v, req),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${TF_MODEL}:classify$`),
    logged: true,
    scope: 'inference',
    run: (ctx, [n, v], req) => tfClassifyRegress(ctx, n, v, req, 'classify'),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${TF_MODEL}:regress$`),
    logged: true,
    scope: 'inference',
    run: (ctx, [n, v], req) => tfClassifyRegress(ctx, n, v, req, 'regress'),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^${TF_MODEL}:explain$`),
    scope: 'inference',
    monitored: false,
    run: (ctx, [n, v], req, metrics) => tfExplain(ctx, n, v, req, metrics),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${TF_MODEL}/metadata$`),
    scope: 'metadata',
    run: (ctx, [n, v]) => tfMetadata(ctx, n, v),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${TF_MODEL}$`),
    scope: 'metadata',
    run: (ctx, [n, v]) => tfStatus(ctx, n, v),
  },
  {
    method: 'POST',
    pattern: /^\/v2\/repository\/index$/,
    scope: 'management',
    run: (ctx, _p, req) => repositoryIndex(ctx, req),
  },
  {
    method: 'POST',
    pattern: /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/,
    scope: 'management',
    run: (ctx, [name, action], req) => repositoryAction(ctx, name, action as 'load' | 'unload', req),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/monitor$/,
    scope: 'metrics',
    run: (ctx) => monitorState(ctx, ctx.deployer.names()),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/monitor\/history$/,
    scope: 'metrics',
    run: (ctx) => monitorHistory(ctx),
  },
  { method: 'GET', pattern: /^\/dashboard$/, scope: 'metrics', run: (ctx) => dashboard(ctx) },
  {
    method: 'POST',
    pattern: /^\/v2\/monitor\/ingest$/,
    scope: 'inference',
    run: (ctx, _p, req) => ingest(ctx, req),
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    scope: 'metrics',
    run: (_ctx, _p, _req, metrics) => metrics!.response(),
  },
  ...TORCHSERVE_ROUTES,
];

/** The inference route, the one every request to a busy server takes. */
const INFER_ROUTE = ROUTES.find((r) => r.method === 'POST' && r.pattern.source.endsWith('/infer$'))!;
const INFER_PREFIX = '/v2/models/';
const INFER_SUFFIX = '/infer';

/**
 * The route for a request and its path parameters. `POST /v2/models/{name}/infer` with a plain
 * name is recognized by string tests before any pattern runs (the patterns cost as much as a
 * small model's inference); everything else is matched in order.
 */
export function route(
  metrics: ServeMetrics | undefined,
  method: string,
  path: string,
  torchserve: boolean,
): Route | undefined {
  if (method === 'POST' && path.startsWith(INFER_PREFIX) && path.endsWith(INFER_SUFFIX)) {
    const name = path.slice(INFER_PREFIX.length, path.length - INFER_SUFFIX.length);
    if (name !== '' && !name.includes('/') && !name.includes('%'))
      return { def: INFER_ROUTE, params: [name, undefined] };
  }
  for (const def of ROUTES) {
    if (def.method !== method && def.method !== '*') continue;
    const found = def.pattern.exec(path);
    if (found === null) continue;
    if (def.scope === 'metrics' && metrics === undefined) return undefined;
    if (def.torchserve === true && !torchserve) return undefined;
    try {
      return {
        def,
        params: [
          decodeURIComponent(found[1] ?? ''),
          found[2] === undefined ? undefined : decodeURIComponent(found[2]),
        ],
      };
    } catch {
      return { def, params: undefined };
    }
  }
  return undefined;
}

/** Statuses of a request refused for what it sent, which count as failures of its model. */
export const REFUSALS: ReadonlySet<number> = new Set([400, 413, 415, 422]);

/**
 * A request the server refused before it reached the model (an undecodable body, a tensor of
 * the wrong shape) counts as a failed request of its model, as a refusal by the model's own
 * validation does: in the Monitor (dashboard), `modelship_inference_request_failure_total` and
 * the prediction log. Errors the Deployer already reported are not counted twice.
 */
export function reportRefusal(
  deployer: Deployer,
  [name, version]: Params,
  e: unknown,
  f: { status: number; message: string },
  latencyMs: number,
): void {
  const error = ModelshipError.isInstance(e)
    ? e
    : new ModelshipError(f.status === 413 ? 'INPUT_TOO_LARGE' : 'INVALID_ARGUMENT', f.message);
  deployer.reportRefused(name, error, { ...(version === undefined ? {} : { version }), latencyMs });
}

/** Paths the server knows, for a 404 that says the method is wrong rather than the path. */
export const KNOWN_PATH = /^\/(v2(\/.*)?|v1\/models\/.+|metrics|dashboard)$/;
