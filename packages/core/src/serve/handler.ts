/**
 * The request handler, written once: routing, credentials, CORS, limits and error answers for
 * the Open Inference Protocol, TF Serving's REST API, TorchServe's API, the Monitor and metrics. A runtime only
 * moves bytes: `fetch` takes web-standard requests here, and `@modelship/node` adds its
 * `node:http` listener, prom-client metrics and payload log through {@link ServeHooks}.
 */
import { systemClock } from '../deploy/clock';
import type { Deployer } from '../deploy/deployer';
import { Credentials } from './auth';
import {
  type FetchRequestLike,
  readFetchRequest,
  toResponse,
  type WebRequest,
  type WebResponse,
} from './fetch-io';
import { HttpError, httpFailure } from './http-error';
import { json } from './json-body';
import { allowedOrigin, MODEL_CONTROL_MODES } from './model-control';
import { KNOWN_PATH, REFUSALS, type Route, reportRefusal, route } from './routes';
import type {
  HandlerOptions,
  HandlerRequest,
  HandlerResponse,
  RequestCapture,
  RouteScope,
  ServeContext,
  ServeHooks,
  ServeMetrics,
} from './types';
import { web } from './web';

const now = systemClock.now;

function isMetrics(m: unknown): m is ServeMetrics {
  const o = m as Partial<ServeMetrics> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.observeHttp === 'function' &&
    typeof o.observeExplain === 'function' &&
    typeof o.response === 'function'
  );
}

/**
 * Checks a handler's Deployer and options and fills in the defaults; throws a `TypeError`
 * naming the option. Runtime packages call it before building their own pieces.
 */
export function resolveHandlerOptions(deployer: Deployer, options: HandlerOptions): ServeContext['options'] {
  if (typeof deployer !== 'object' || deployer === null || typeof deployer.predict !== 'function')
    throw new TypeError('createInferenceHandler: the first argument must be a Deployer');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createInferenceHandler: options must be an object');
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
  const metrics = options.metrics;
  if (metrics !== undefined && typeof metrics !== 'boolean' && !isMetrics(metrics))
    throw new TypeError(
      'createInferenceHandler: metrics must be true, false or an object with observeHttp, observeExplain and response',
    );
  return { ...options, maxBodyBytes, maxTensorElements, bodyTimeoutMs };
}

interface CorsHeaders {
  headers: Record<string, string>;
  preflight: Record<string, string>;
}

/** A Modelship server's request handling, to mount anywhere. */
export class InferenceHandler {
  readonly context: ServeContext;
  /** What counts requests and answers `GET /metrics` (none when `metrics` is false, or in core alone by default). */
  readonly metrics: ServeMetrics | undefined;
  private readonly credentials: Credentials;
  private readonly capture: ServeHooks['capture'];

  /**
   * @param hooks the runtime's pieces (`@modelship/node` passes its payload logger); most
   *   callers leave it out.
   */
  constructor(deployer: Deployer, options: HandlerOptions = {}, hooks: ServeHooks = {}) {
    const resolved = resolveHandlerOptions(deployer, options);
    this.credentials = new Credentials(options.auth);
    this.context = { deployer, options: resolved, draining: false };
    this.metrics = isMetrics(options.metrics) ? options.metrics : undefined;
    this.capture = hooks.capture;
  }

  /**
   * Answers one request. Never throws: every failure becomes a status and `{"error": "..."}`
   * (TorchServe's routes: `{"code", "type", "message"}`).
   */
  async handle(req: HandlerRequest): Promise<HandlerResponse> {
    const started = now();
    let res: HandlerResponse;
    let label = 'unmatched';
    let r: Route | undefined;
    let capture: RequestCapture | undefined;
    try {
      const cors = this.cors(req);
      if (req.method === 'OPTIONS' && cors !== undefined)
        return { status: 204, headers: cors.preflight, body: '' };
      r = route(this.metrics, req.method, req.path, this.context.options.torchserve !== false);
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
        if (this.capture !== undefined && r.def.logged === true && r.params !== undefined)
          capture = this.capture(r.params[0], r.params[1], req);
        if (r.params === undefined)
          throw new HttpError(400, `the path ${req.path} is not valid percent-encoding`);
        res = await r.def.run(
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
        reportRefusal(this.context.deployer, r.params, e, f, now() - started);
      res = r?.def.failure?.(e, f) ?? json(f.status, { error: f.message }, f.headers);
      const cors = this.cors(req);
      if (cors !== undefined) Object.assign(res.headers, cors.headers);
    }
    capture?.end(res);
    this.metrics?.observeHttp(label, res.status, (now() - started) / 1000);
    return res;
  }

  /** Checks credentials for a route scope; throws 401 or 403. gRPC calls go through it too. */
  authorize(req: HandlerRequest, scope: RouteScope): Promise<void> {
    return this.credentials.check(req, scope);
  }

  /** Whether a request with this method and path has a route here (mounting beside an app's own routes). */
  hasRoute(method: string, path: string): boolean {
    return route(this.metrics, method, path, this.context.options.torchserve !== false) !== undefined;
  }

  /**
   * The answer to a request refused before it was routed (its body too large, too slow, or in
   * an unknown coding), in the shape of the route it was for: TorchServe's for its paths.
   */
  refusal(
    method: string,
    path: string,
    f: { status: number; message: string; headers: Record<string, string> },
  ): HandlerResponse {
    const def = route(this.metrics, method, path, this.context.options.torchserve !== false)?.def;
    return (
      def?.failure?.(new HttpError(f.status, f.message, f.headers), f) ??
      json(f.status, { error: f.message }, f.headers)
    );
  }

  private cors(req: HandlerRequest): CorsHeaders | undefined {
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
        // TorchServe's clients may send predictions with PUT, so a page's preflight allows it
        // while those routes are mounted.
        'access-control-allow-methods':
          this.context.options.torchserve !== false ? 'GET, POST, PUT, OPTIONS' : 'GET, POST, OPTIONS',
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
    this.lastActivity = now();
  }

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

  /** Counts a request in; a runtime's listener calls it when a request arrives. */
  protected started(): void {
    this.active++;
    if (this.context.draining) this.lastActivity = now();
  }

  /** Counts a request out, once its answer is sent or its client gone. */
  protected finished(): void {
    if (this.context.draining) this.lastActivity = now();
    if (--this.active > 0 || this.idle.length === 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  /**
   * A web-standard handler (`Request` → `Response`) for Hono, Bun, Deno, Workers or any
   * fetch-style server. The body limit holds while the body streams in; `request.signal`
   * drops the request from the model's queue when the client goes away.
   */
  fetch = async (request: WebRequest): Promise<WebResponse> => {
    this.started();
    try {
      let req: HandlerRequest;
      try {
        req = await readFetchRequest(request, this.context.options.maxBodyBytes);
      } catch (e) {
        const f = e as HttpError;
        const r = request as unknown as FetchRequestLike;
        return toResponse(this.refusal(r.method, new web.URL(r.url).pathname, f));
      }
      return toResponse(await this.handle(req));
    } finally {
      this.finished();
    }
  };
}

/**
 * Creates the request handler of a Modelship server for a Deployer: `handler.fetch` answers
 * web-standard requests; `@modelship/node`'s handler adds `handler.node` for `node:http`,
 * Express or Connect.
 *
 * @example
 * const handler = createInferenceHandler(deployer, { auth: { tokens: [token] } });
 * honoApp.all('/v2/*', (c) => handler.fetch(c.req.raw));
 */
export function createInferenceHandler(deployer: Deployer, options: HandlerOptions = {}): InferenceHandler {
  return new InferenceHandler(deployer, options);
}

/**
 * A web-standard fetch handler serving a Deployer: the Open Inference Protocol under `/v2`,
 * TF Serving's REST API under `/v1/models`, TorchServe's API (`/ping`, `/predictions`, `/models`), with the same routes, limits, credentials and
 * error answers as the Node server. Export it from a Bun, Deno or Workers entry, or call it
 * from a service worker.
 *
 * @example
 * const fetch = createFetchHandler(deployer, { auth: { tokens: [env.TOKEN] } });
 * export default { fetch };
 */
export function createFetchHandler(
  deployer: Deployer,
  options: HandlerOptions = {},
): (request: WebRequest) => Promise<WebResponse> {
  return new InferenceHandler(deployer, options).fetch;
}
