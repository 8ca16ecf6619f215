import type { Deployer } from '../deploy/deployer';
import type { ExplainMethod } from '../explain/types';
import type { AbortSignalLike } from '../model/model';
import type { Monitor } from '../monitor/monitor';
import type { Pixels } from '../pipeline/images';
import type { Pipeline } from '../pipeline/pipeline';

/** A request as the handler sees it, whatever server received it. */
export interface HandlerRequest {
  method: string;
  /** The path, without the query string. */
  path: string;
  /** The query string, without its `?` (TorchServe's `GET /models?limit=…` reads it). */
  query?: string;
  /** Header values by lower-case name. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  /** Fires when the client goes away; the request is dropped from the queue. */
  signal?: AbortSignalLike;
}

/** What the handler answers. */
export interface HandlerResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** Who is calling, for an `auth.verify` hook. */
export interface AuthRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  /** The bearer token, when the request carries one. */
  token: string | undefined;
  /** What the route does: health, metadata, inference, metrics or management. */
  scope: RouteScope;
}

export type RouteScope = 'health' | 'metadata' | 'inference' | 'metrics' | 'management';

export interface AuthOptions {
  /** Bearer tokens that are accepted (`Authorization: Bearer <token>`). */
  tokens?: readonly string[];
  /** Decides per request instead of (or after a miss in) `tokens`; return true to allow. */
  verify?: (request: AuthRequest) => boolean | Promise<boolean>;
  /** Scopes that need no credentials (default `['health']`; management always needs them). */
  exempt?: readonly Exclude<RouteScope, 'management'>[];
}

export interface CorsOptions {
  /** Allowed origins, or `'*'` (default `'*'`). */
  origin?: string | readonly string[];
  /** Seconds a preflight answer may be cached (default 600). */
  maxAge?: number;
}

/** What the repository extension routes need: `FileSystemRepository` fits. */
export interface RepositoryControl {
  index(): readonly { name: string; version: string; state: string; reason: string }[];
  load(model: string): Promise<void>;
  unload(model: string): Promise<void>;
  /** Files changed in place, counted on `/metrics` (`modelship_repository_file_changes_total`). */
  on?(
    event: 'versionChanged',
    listener: (e: { model: string; version: string; outcome: 'reloaded' | 'refused' }) => void,
  ): unknown;
}

/** Where the server finds a model's pipeline: `FileSystemRepository` fits (its pipeline.json files). */
export interface PipelineSource {
  pipeline(model: string): Pipeline | undefined;
}

/** The defaults of a model's `:explain` requests, which a request's `parameters` override. */
export interface ExplainDefaults {
  method?: ExplainMethod;
  nsamples?: number;
  maxEvals?: number;
  seed?: number;
  link?: 'identity' | 'logit';
  output?: string;
  /** A column index, or a class label of the model's pipeline. */
  class?: number | string;
  /** Names of the columns of a model without a pipeline (default `<input>[i]`, as the Monitor names them). */
  features?: readonly string[];
}

/**
 * What `POST /v1/models/{name}:explain` explains against, and its defaults: the repository reads
 * it from `<model>/explain/background.jsonl` and config.json's `explain`.
 */
export interface ExplainSettings extends ExplainDefaults {
  /**
   * The rows standing for "feature unknown": records (objects of fields) for a model served
   * with a pipeline, else rows of numbers, one per value of the model's `[batch, k]` input.
   */
  background: readonly (Readonly<Record<string, unknown>> | readonly number[])[];
  /** Where the background came from, for messages (`fraud/explain/background.jsonl`). */
  source?: string;
  /** Said in every answer's `notes` (the repository says when it sampled the background down). */
  notes?: readonly string[];
}

/** Where the server finds each model's {@link ExplainSettings}: `FileSystemRepository` fits. */
export interface ExplainSource {
  explainSettings(model: string): Promise<ExplainSettings | undefined>;
}

/** Options of {@link createInferenceHandler} and `createServer`. */
export interface HandlerOptions {
  /** Credentials; without them every route is open. */
  auth?: AuthOptions;
  /** CORS for browser clients (default off). */
  cors?: boolean | CorsOptions;
  /** Largest request body in bytes (default 64 MiB): larger requests get 413 before they are read. */
  maxBodyBytes?: number;
  /**
   * How long a request body may send nothing before the request gets 408 and its connection
   * closes (default 10,000 ms); `node:http` only.
   */
  bodyTimeoutMs?: number;
  /** Largest number of elements in one input tensor (default 16,777,216). */
  maxTensorElements?: number;
  /** Per-request deadline in milliseconds, queue time included (default: none). */
  timeoutMs?: number;
  /**
   * Metrics at `GET /metrics`: `false` serves none; a {@link ServeMetrics} counts requests and
   * renders the page; `true` (default) is the runtime's own: Prometheus through prom-client in
   * `@modelship/node`, none in core alone (`/metrics` answers 404 there).
   */
  metrics?: boolean | ServeMetrics;
  /** A Monitor whose windows, live accuracy and alerts `/metrics` also exposes. */
  monitor?: Monitor;
  /**
   * Model names `POST /v2/monitor/ingest` takes telemetry for besides the deployed ones (default
   * none): records for any other name are refused, so made-up names never become series.
   */
  ingestModels?: readonly string[];
  /**
   * A model repository to control over Triton's repository extension (`POST /v2/repository/index`,
   * `…/models/{name}/load`, `…/unload`); these routes always need credentials when auth is set.
   */
  repository?: RepositoryControl;
  /**
   * Whether the repository extension may load and unload models (Triton's model control mode):
   * `'none'` (default) refuses both with 403 and leaves the index readable; `'explicit'` allows
   * them, with credentials when `auth` is set, and never to a browser page whose origin `cors`
   * does not allow.
   */
  modelControl?: ModelControlMode;
  /**
   * Pipelines by model name (or a source such as the repository): a model with one takes
   * records at `POST /v1/models/{name}[/versions/{v}]:predict` (`{"instances": [{...}]}`, KServe
   * V1 style) and answers `{"predictions": [{...}]}`. The Monitor, if any, sees the records.
   */
  pipelines?: PipelineSource | Readonly<Record<string, Pipeline>>;
  /**
   * Decodes the image bytes a record sends (base64 in JSON) for a pipeline's image fields
   * (default in `@modelship/node`: `decodePng`; in core alone: none, so image fields are refused
   * until one is given; pass sharp or another decoder for JPEG and the rest).
   */
  decodeImage?: (bytes: Uint8Array) => Pixels | Promise<Pixels>;
  /**
   * Backgrounds by model name (or a source such as the repository) for
   * `POST /v1/models/{name}[/versions/{v}]:explain`; a model without one answers 404 naming the
   * file to add.
   */
  explain?: ExplainSource | Readonly<Record<string, ExplainSettings>>;
  /**
   * The most model rows one `:explain` request may cost: instances × coalitions per instance ×
   * background rows, plus the background and the instances themselves (default 2,000,000).
   * Dearer requests get 400 saying what to lower.
   */
  maxExplainRows?: number;
  /**
   * `:explain` requests computed at once (default 1); more are refused at once with 503 and
   * `Retry-After`. Their model calls also queue with inference, under the version's admission.
   */
  maxConcurrentExplains?: number;
  /**
   * Serve TorchServe's inference API (`/ping`, `/predictions/…`, `/explanations/…`) and the read
   * side of its management API (`GET /models…`) beside the other protocols (default true).
   */
  torchserve?: boolean;
  /** Name and version reported by `GET /v2` (default `modelship` and the package version). */
  serverName?: string;
  serverVersion?: string;
}

/** What every route needs. */
export interface ServeContext {
  deployer: Deployer;
  options: Required<Pick<HandlerOptions, 'maxBodyBytes' | 'maxTensorElements' | 'bodyTimeoutMs'>> &
    HandlerOptions;
  /** True while the server drains: readiness is false and new inference is refused. */
  draining: boolean;
}

/**
 * What the handler reports to a metrics backend, and how `GET /metrics` is rendered.
 * `@modelship/node` implements it with prom-client (Triton's metric names).
 */
export interface ServeMetrics {
  /** One answered HTTP request: its route kind (`inference`, `metadata`, …, `unmatched`), status and time. */
  observeHttp(route: string, code: number, seconds: number): void;
  /** One `:explain` request of a deployed model: `success` or the error code, and the model rows it cost. */
  observeExplain(model: string, outcome: string, rows: number): void;
  /** The answer to `GET /metrics`. */
  response(): HandlerResponse | Promise<HandlerResponse>;
  /** Stops listening to the Deployer; a server calls it when it closes. */
  dispose?(): void;
}

/** One inference request being watched (payload logging), from its routing to its answer. */
export interface RequestCapture {
  /** The context the route runs with (a watching Deployer, say). */
  context(ctx: ServeContext): ServeContext;
  /** Called once with the answer; must not throw. */
  end(res: HandlerResponse): void;
}

/** Runtime pieces a runtime package plugs into the handler (`@modelship/node`: its payload logger). */
export interface ServeHooks {
  /** Starts watching an inference request of `model` (undefined: not watched). */
  capture?(model: string, version: string | undefined, req: HandlerRequest): RequestCapture | undefined;
}

/** Path parameters of a route: the model name and, when the path has one, the version. */
export type RouteParams = [string, string | undefined];

/** One route of the handler: a method and path pattern, and what answers it. */
export interface RouteDef {
  /** The HTTP method, or `*` for any (a protocol's answer to the methods it does not take). */
  method: string;
  pattern: RegExp;
  scope: RouteScope;
  /** False for an inference route whose refusals are not the model's failed requests (`:explain`). */
  monitored?: false;
  /** An inference route whose requests and responses payload logging records. */
  logged?: true;
  /** A TorchServe route, served unless `torchserve: false`. */
  torchserve?: true;
  /** How this route answers a failure (default `{"error": "..."}`, the protocols' shape). */
  failure?: (
    e: unknown,
    f: { status: number; message: string; headers: Record<string, string> },
  ) => HandlerResponse;
  run: (
    ctx: ServeContext,
    p: RouteParams,
    req: HandlerRequest,
    metrics: ServeMetrics | undefined,
  ) => HandlerResponse | Promise<HandlerResponse>;
}

/** `none`: load and unload are refused (default); `explicit`: they are allowed. */
export type ModelControlMode = 'none' | 'explicit';
