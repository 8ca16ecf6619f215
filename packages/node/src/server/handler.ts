/**
 * The request handler, written once: routing, credentials, CORS and error answers for the
 * Open Inference Protocol, TF Serving's REST API and Prometheus metrics. `node:http`, Express,
 * Fastify and Hono only feed it requests (see `node` and `fetch`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Deployer, ModelshipError } from '@modelship/core';
import { registerPayloadLogMetrics } from '../payload-log/metrics';
import { type PayloadCapture, PayloadLogger } from '../payload-log/payload-log';
import { NO_BYTES } from './codec';
import { tfExplain } from './explain';
import { HttpError, httpFailure } from './http-error';
import { registerRepositoryMetrics, ServerMetrics } from './metrics';
import { allowedOrigin, MODEL_CONTROL_MODES } from './model-control';
import { dashboard, ingest, monitorHistory, monitorState } from './monitor-routes';
import { bodyCoding, ClientGone, lingerAfterAnswer, readBody, sendResponse } from './node-io';
import {
  infer,
  json,
  modelMetadata,
  modelReady,
  repositoryAction,
  repositoryIndex,
  serverMetadata,
  serverReady,
} from './oip';
import { tfClassifyRegress, tfMetadata, tfPredict, tfStatus } from './tfserving';
import type { HandlerOptions, HandlerRequest, HandlerResponse, RouteScope, ServeContext } from './types';

interface Route {
  def: RouteDef;
  /** Undefined when the path's percent-encoding is broken. */
  params: Params | undefined;
}

type Params = [string, string | undefined];

interface RouteDef {
  method: string;
  pattern: RegExp;
  scope: RouteScope;
  /** False for an inference route whose refusals are not the model's failed requests (`:explain`). */
  monitored?: false;
  /** An inference route whose requests and responses payload logging records. */
  logged?: true;
  run: (
    ctx: ServeContext,
    p: Params,
    req: HandlerRequest,
    metrics: ServerMetrics | undefined,
  ) => HandlerResponse | Promise<HandlerResponse>;
}

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
function route(metrics: ServerMetrics | undefined, req: HandlerRequest): Route | undefined {
  const path = req.path;
  if (req.method === 'POST' && path.startsWith(INFER_PREFIX) && path.endsWith(INFER_SUFFIX)) {
    const name = path.slice(INFER_PREFIX.length, path.length - INFER_SUFFIX.length);
    if (name !== '' && !name.includes('/') && !name.includes('%'))
      return { def: INFER_ROUTE, params: [name, undefined] };
  }
  for (const def of ROUTES) {
    if (def.method !== req.method) continue;
    const found = def.pattern.exec(path);
    if (found === null) continue;
    if (def.scope === 'metrics' && metrics === undefined) return undefined;
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

const KNOWN_PATH = /^\/(v2(\/.*)?|v1\/models\/.+|metrics|dashboard)$/;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** A Modelship server's request handling, to mount anywhere. */
export class InferenceHandler {
  readonly context: ServeContext;
  readonly metrics: ServerMetrics | undefined;
  /** Payload logging, when `payloadLog` is set; `close()` it after draining (ModelshipServer does). */
  readonly payloadLog: PayloadLogger | undefined;
  private readonly tokens: Buffer[];

  constructor(deployer: Deployer, options: HandlerOptions = {}) {
    if (typeof deployer !== 'object' || deployer === null || typeof deployer.predict !== 'function')
      throw new TypeError('createInferenceHandler: the first argument must be a Deployer');
    const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    const maxTensorElements = options.maxTensorElements ?? 16_777_216;
    for (const [k, v] of [
      ['maxBodyBytes', maxBodyBytes],
      ['maxTensorElements', maxTensorElements],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1)
        throw new TypeError(`createInferenceHandler: ${k} must be a positive integer`);
    }
    const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
    if (!(bodyTimeoutMs > 0))
      throw new TypeError('createInferenceHandler: bodyTimeoutMs must be a positive number');
    if (options.modelControl !== undefined && !MODEL_CONTROL_MODES.includes(options.modelControl))
      throw new TypeError(
        `createInferenceHandler: modelControl must be 'none' or 'explicit', not ${JSON.stringify(options.modelControl)}`,
      );
    for (const k of ['maxExplainRows', 'maxConcurrentExplains'] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
        throw new TypeError(`createInferenceHandler: ${k} must be a positive integer`);
    }
    const explain = options.explain;
    if (explain !== undefined && (typeof explain !== 'object' || explain === null))
      throw new TypeError(
        'createInferenceHandler: explain must be a source with explainSettings(model) (a FileSystemRepository) or settings by model name',
      );
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0))
      throw new TypeError('createInferenceHandler: timeoutMs must be a positive number');
    const tokens = options.auth?.tokens ?? [];
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string' || t === ''))
      throw new TypeError('createInferenceHandler: auth.tokens must be non-empty strings');
    this.tokens = tokens.map(digest);
    this.context = {
      deployer,
      options: { ...options, maxBodyBytes, maxTensorElements, bodyTimeoutMs },
      draining: false,
    };
    this.metrics = options.metrics === false ? undefined : new ServerMetrics(deployer, options.monitor);
    if (this.metrics !== undefined && options.repository !== undefined)
      registerRepositoryMetrics(options.repository, this.metrics.registry);
    this.payloadLog = options.payloadLog === undefined ? undefined : new PayloadLogger(options.payloadLog);
    if (this.metrics !== undefined && this.payloadLog !== undefined)
      registerPayloadLogMetrics(this.payloadLog, this.metrics.registry);
  }

  /** Answers one request. Never throws: every failure becomes a status and `{"error": "..."}`. */
  async handle(req: HandlerRequest): Promise<HandlerResponse> {
    const started = performance.now();
    let res: HandlerResponse;
    let label = 'unmatched';
    let r: Route | undefined;
    let capture: PayloadCapture | undefined;
    try {
      const cors = this.cors(req);
      if (req.method === 'OPTIONS' && cors !== undefined)
        return { status: 204, headers: cors.preflight, body: '' };
      r = route(this.metrics, req);
      if (r === undefined) {
        res = json(404, {
          error: KNOWN_PATH.test(req.path)
            ? `no route for ${req.method} ${req.path}`
            : `not found: ${req.path}`,
        });
      } else {
        label = r.def.scope;
        // Without credentials configured there is nothing to wait for.
        if (this.context.options.auth !== undefined) await this.authorize(req, r.def.scope);
        if (this.payloadLog !== undefined && r.def.logged === true && r.params !== undefined)
          capture = this.payloadLog.begin(r.params[0], r.params[1], req);
        res =
          r.params === undefined
            ? json(400, { error: `the path ${req.path} is not valid percent-encoding` })
            : await r.def.run(
                capture === undefined ? this.context : capture.context(this.context),
                r.params,
                req,
                this.metrics,
              );
      }
      if (cors !== undefined) Object.assign(res.headers, cors.headers);
    } catch (e) {
      const f = httpFailure(e);
      if (
        r?.def.scope === 'inference' &&
        r.def.monitored !== false &&
        r.params !== undefined &&
        REFUSALS.has(f.status)
      )
        reportRefusal(this.context.deployer, r.params, e, f, performance.now() - started);
      res = json(f.status, { error: f.message }, f.headers);
      const cors = this.cors(req);
      if (cors !== undefined) Object.assign(res.headers, cors.headers);
    }
    capture?.end(res);
    this.metrics?.observeHttp(label, res.status, (performance.now() - started) / 1000);
    return res;
  }

  /** Checks credentials for a route scope; throws 401 or 403. gRPC calls go through it too. */
  async authorize(req: HandlerRequest, scope: RouteScope): Promise<void> {
    const auth = this.context.options.auth;
    if (auth === undefined || (this.tokens.length === 0 && auth.verify === undefined)) return;
    const exempt = auth.exempt ?? ['health'];
    if (scope !== 'management' && (exempt as readonly string[]).includes(scope)) return;
    const header = req.headers.authorization;
    const token =
      header !== undefined && /^Bearer\s+/i.test(header)
        ? header.replace(/^Bearer\s+/i, '').trim()
        : undefined;
    if (token !== undefined) {
      const d = digest(token);
      // Compare digests in constant time, so a token cannot be guessed byte by byte.
      if (this.tokens.some((t) => timingSafeEqual(t, d))) return;
    }
    if (
      auth.verify !== undefined &&
      (await auth.verify({ method: req.method, path: req.path, headers: req.headers, token, scope }))
    )
      return;
    throw new HttpError(
      token === undefined ? 401 : 403,
      token === undefined
        ? 'credentials required: send Authorization: Bearer <token>'
        : 'these credentials are not allowed here',
      {
        'www-authenticate': 'Bearer',
      },
    );
  }

  private cors(
    req: HandlerRequest,
  ): { headers: Record<string, string>; preflight: Record<string, string> } | undefined {
    const c = this.context.options.cors;
    if (c === undefined || c === false) return undefined;
    const options = c === true ? {} : c;
    const allow = allowedOrigin(c, req.headers.origin);
    if (allow === undefined) return { headers: {}, preflight: {} };
    const headers: Record<string, string> = {
      'access-control-allow-origin': allow,
      'access-control-expose-headers': 'inference-header-content-length',
      ...(allow === '*' ? {} : { vary: 'Origin' }),
    };
    return {
      headers,
      preflight: {
        ...headers,
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers':
          'authorization, content-type, inference-header-content-length, x-routing-key',
        'access-control-max-age': String(options.maxAge ?? 600),
      },
    };
  }

  /**
   * Starts draining: readiness turns false, new inference requests get 503, and every answer
   * from now on carries `Connection: close`.
   */
  drain(): void {
    this.context.draining = true;
    this.lastActivity = performance.now();
  }

  /**
   * A `node:http` / Express / Connect handler. Requests the handler has no route for go to
   * `next` when one is given (so it mounts beside an app's own routes), else get 404.
   */
  node = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const headers = req.headers as Record<string, string | undefined>;
    const method = req.method ?? 'GET';
    // The path alone: slicing is cheaper than a URL object, which costs as much as routing.
    const path = q === -1 ? target : target.slice(0, q);
    if (
      next !== undefined &&
      method !== 'OPTIONS' &&
      route(this.metrics, { method, path, headers, body: NO_BYTES }) === undefined
    ) {
      next();
      return;
    }
    // A draining server answers on connections that stay open, but asks clients to leave.
    if (this.context.draining) res.setHeader('connection', 'close');
    this.started();
    // One listener per request does both jobs: the client-gone signal and the in-flight count.
    const gone = new ClientGone();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client closed the connection'));
      this.finished();
    });
    readBody(req, this.context.options.maxBodyBytes, this.context.options.bodyTimeoutMs, (error, body) => {
      if (error !== undefined) {
        if (error.status === 413) lingerAfterAnswer(req, this.context.options.maxBodyBytes);
        sendResponse(
          res,
          json(error.status, { error: error.message }, { ...error.headers, connection: 'close' }),
        );
        return;
      }
      this.handle({ method, path, headers, body, signal: gone }).then((answer) => {
        // Draining began while this request ran: the answer asks the client to leave too.
        if (this.context.draining) answer.headers.connection = 'close';
        try {
          sendResponse(res, answer);
        } catch (e) {
          // Headers node:http refuses: the answer cannot be sent, so the connection goes.
          res.destroy(e as Error);
        }
      });
    });
  };

  private active = 0;
  private idle: (() => void)[] = [];

  /** Requests this handler is answering now. */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves when no request is being answered (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** When a request last started or finished while draining (`performance.now()`). */
  lastActivity = 0;

  private started(): void {
    this.active++;
    if (this.context.draining) this.lastActivity = performance.now();
  }

  private finished(): void {
    if (this.context.draining) this.lastActivity = performance.now();
    if (--this.active > 0 || this.idle.length === 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  /** A web-standard handler (`Request` → `Response`) for Hono, Bun, Deno or any fetch-style server. */
  fetch = async (request: Request): Promise<Response> => {
    this.started();
    try {
      return await this.serveFetch(request);
    } finally {
      this.finished();
    }
  };

  private async serveFetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const max = this.context.options.maxBodyBytes;
    const tooLarge = () =>
      toResponse(json(413, { error: `the body is over ${max} bytes, the most this server takes` }));
    if (Number(headers['content-length'] ?? '0') > max) return tooLarge();
    let coding: ReturnType<typeof bodyCoding>;
    try {
      coding = bodyCoding(headers['content-encoding']);
    } catch (e) {
      const f = e as HttpError;
      return toResponse(json(f.status, { error: f.message }, f.headers));
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (request.body !== null) {
      // As readBody: a compressed body is inflated as it streams, and `max` bounds what it inflates to.
      const reader = (
        coding === 'identity'
          ? request.body
          : request.body.pipeThrough(new DecompressionStream(coding === 'deflate' ? 'deflate' : 'gzip'))
      ).getReader();
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (e) {
          return toResponse(
            json(400, { error: `the ${coding} body could not be inflated: ${(e as Error).message}` }),
          );
        }
        if (next.done) break;
        size += next.value.byteLength;
        if (size > max) {
          await reader.cancel();
          return tooLarge();
        }
        chunks.push(next.value);
      }
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.byteLength;
    }
    return toResponse(
      await this.handle({
        method: request.method,
        path: url.pathname,
        headers,
        body,
        signal: request.signal,
      }),
    );
  }
}

function toResponse(r: HandlerResponse): Response {
  return new Response(r.status === 204 ? null : (r.body as ConstructorParameters<typeof Response>[0]), {
    status: r.status,
    headers: r.headers,
  });
}

/**
 * Creates the request handler of a Modelship server for a Deployer: mount `handler.node` in
 * `node:http`, Express or Connect, `handler.fetch` in Hono or any fetch-style server.
 *
 * @example
 * const handler = createInferenceHandler(deployer, { auth: { tokens: [process.env.TOKEN!] } });
 * app.use(handler.node);                       // Express: /v2/... and /v1/models/... beside your routes
 * honoApp.all('/v2/*', (c) => handler.fetch(c.req.raw));
 */
export function createInferenceHandler(deployer: Deployer, options: HandlerOptions = {}): InferenceHandler {
  return new InferenceHandler(deployer, options);
}
