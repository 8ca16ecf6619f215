/**
 * Payload logging as KServe's inference logger does it: for each sampled inference request, a
 * CloudEvent for the request and one for its response (`mode`: `request`, `response` or `all`),
 * sharing one `ce-id`, sent to sinks off the request's path. Unlike KServe, which forwards the
 * raw bodies, the events carry the decoded request (tensors by name, records of a pipeline) so
 * a log policy can keep, hash, truncate or drop each field; without a policy only metadata is
 * logged (id, model, version, time, status, latency, sizes, tensor names, shapes and datatypes).
 */
import { randomUUID } from 'node:crypto';
import {
  createRedactor,
  type Deployer,
  invalidArgument,
  type LogPolicy,
  type NamedTensors,
  type Redactor,
  type Tensor,
  toNested,
} from '@modelship/core';
import {
  datatypeOf,
  type HandlerRequest,
  type HandlerResponse,
  type ServeContext,
} from '@modelship/core/serve';
import { type PayloadEvent, REQUEST_EVENT, RESPONSE_EVENT } from './cloudevents';
import type { PayloadSink } from './sinks';

/** What is logged: the request, the response, both, or (per model) nothing. */
export type PayloadLogMode = 'none' | 'request' | 'response' | 'all';

const MODES: readonly string[] = ['none', 'request', 'response', 'all'];

/** Settings server-wide, or for one model (config.json's `payloadLog`), which override them. */
export interface PayloadLogSettings {
  /** Default `'all'`, as KServe's logger. */
  mode?: PayloadLogMode;
  /** Share of requests logged, from 0 to 1 (default 1); a request and its response go together. */
  sampleRate?: number;
  /**
   * What of the payload (`inputs.<tensor>`, `outputs.<tensor>`, `records.*.<field>`) is kept,
   * hashed, truncated or dropped. Without one, every payload field is dropped: no raw inputs
   * are logged unless asked. A model's policy is laid over the server's, field by field, and
   * takes the server's `hashKey` when it has none.
   */
  policy?: LogPolicy;
}

/** Where a model's own settings come from: `FileSystemRepository` fits (config.json's `payloadLog`). */
export interface PayloadLogSource {
  payloadLogSettings(model: string): PayloadLogSettings | undefined;
}

/** `payloadLog` of `createInferenceHandler` and `createServer`. */
export interface PayloadLogOptions extends PayloadLogSettings {
  /** Where events go: {@link HttpPayloadSink}, {@link FilePayloadSink} or your own. */
  sinks: readonly PayloadSink[];
  /** Settings by model name, or a source such as the repository. */
  models?: PayloadLogSource | Readonly<Record<string, PayloadLogSettings>>;
  /** The events' `source` (default: the request's path, `/v2/models/fraud/infer`). */
  source?: string;
  /** Sent as the `namespace` extension, as KServe sends the InferenceService's namespace. */
  namespace?: string;
  /**
   * Request headers sent with both events, as KServe's `metadataHeaders`: the `metadata`
   * extension holds them as JSON (`{"x-tenant": ["acme"]}`). Headers can carry personal data
   * too: name only those that may leave the server.
   */
  metadataHeaders?: readonly string[];
  /** Numbers in [0, 1) deciding the sample (default `Math.random`); pass a seeded one for tests. */
  random?: () => number;
  /** How long `close` waits for the sinks to send what they hold (default 5000 ms). */
  closeTimeoutMs?: number;
}

/**
 * Checks settings; `keyLater` for a model's, whose policy may hash with the server's key (a
 * stand-in key checks the rest of it).
 */
function checkSettings(s: PayloadLogSettings, where: string, keyLater = false): void {
  if (typeof s !== 'object' || s === null) throw invalidArgument(where, 'settings must be an object', s);
  if (s.mode !== undefined && !MODES.includes(s.mode))
    throw invalidArgument(where, `mode must be one of ${MODES.join(', ')}`, s.mode);
  if (s.sampleRate !== undefined && !(s.sampleRate >= 0 && s.sampleRate <= 1))
    throw invalidArgument(where, 'sampleRate must be a number from 0 to 1', s.sampleRate);
  // A policy that cannot be built fails here, not on the first request.
  if (s.policy !== undefined)
    createRedactor(keyLater ? { hashKey: 'a stand-in key of 32 bytes......', ...s.policy } : s.policy);
}

const SETTINGS_KEYS = ['mode', 'sampleRate', 'policy'];
const POLICY_KEYS = ['fields', 'default', 'hashKey'];

/**
 * Reads settings from JSON (config.json's `payloadLog`, or a policy file): unknown fields,
 * a mode or rate out of range and a policy `createRedactor` refuses are INVALID_ARGUMENT naming
 * `where`.
 */
export function parsePayloadLogSettings(value: unknown, where: string): PayloadLogSettings {
  checkObject(value, where, 'payloadLog', SETTINGS_KEYS);
  const policy = (value as { policy?: unknown }).policy;
  if (policy !== undefined) checkObject(policy, where, 'payloadLog.policy', POLICY_KEYS);
  checkSettings(value as PayloadLogSettings, where, true);
  return value as PayloadLogSettings;
}

/** A log policy read from JSON: an object of `fields`, `default` and `hashKey`, checked by `createRedactor`. */
export function parseLogPolicy(value: unknown, where: string): LogPolicy {
  checkObject(value, where, 'the policy', POLICY_KEYS);
  createRedactor(value as LogPolicy);
  return value as LogPolicy;
}

/** A JSON object with only the `keys` known to `what`. */
function checkObject(value: unknown, where: string, what: string, keys: readonly string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(where, `${what} must be an object of ${keys.join(', ')}`, value);
  for (const key of Object.keys(value))
    if (!keys.includes(key))
      throw invalidArgument(where, `${what} has an unknown field '${key}' (known: ${keys.join(', ')})`, key);
}

/** One model's settings, resolved. */
interface Resolved {
  mode: PayloadLogMode;
  sampleRate: number;
  redactor: Redactor;
  /** False without a policy: payload values are not even read. */
  values: boolean;
}

const UNUSABLE: Resolved = { mode: 'none', sampleRate: 0, redactor: createRedactor(), values: false };

/** Logs sampled inference requests and responses to its sinks; see {@link PayloadLogOptions}. */
export class PayloadLogger {
  private readonly random: () => number;
  private readonly server: Resolved;
  /** Lower-cased, as the handler's headers are. */
  readonly metadataHeaders: readonly string[] | undefined;
  /** By the model settings object they came from, so a config.json reload is picked up. */
  private readonly resolved = new WeakMap<PayloadLogSettings, Resolved>();

  constructor(readonly options: PayloadLogOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('payloadLog', 'options must be an object with sinks', options);
    const sinks = options.sinks;
    if (
      !Array.isArray(sinks) ||
      sinks.length === 0 ||
      sinks.some((s) => typeof s?.send !== 'function' || typeof s?.close !== 'function')
    )
      throw invalidArgument(
        'payloadLog',
        'sinks must be a non-empty list of sinks (send, stats, close)',
        sinks,
      );
    checkSettings(options, 'payloadLog');
    const headers = options.metadataHeaders;
    if (
      headers !== undefined &&
      (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string' || h === ''))
    )
      throw invalidArgument('payloadLog', 'metadataHeaders must be a list of header names', headers);
    this.metadataHeaders = headers?.map((h) => h.toLowerCase());
    if (options.random !== undefined && typeof options.random !== 'function')
      throw invalidArgument(
        'payloadLog',
        'random must be a function returning numbers in [0, 1)',
        options.random,
      );
    for (const k of ['source', 'namespace'] as const)
      if (options[k] !== undefined && (typeof options[k] !== 'string' || options[k] === ''))
        throw invalidArgument('payloadLog', `${k} must be a non-empty string`, options[k]);
    if (options.closeTimeoutMs !== undefined && !(options.closeTimeoutMs >= 0))
      throw invalidArgument(
        'payloadLog',
        'closeTimeoutMs must be a non-negative number',
        options.closeTimeoutMs,
      );
    this.random = options.random ?? Math.random;
    this.server = this.resolve(undefined);
  }

  private resolve(model: PayloadLogSettings | undefined): Resolved {
    const base = this.options;
    const policy = mergePolicy(base.policy, model?.policy);
    return {
      mode: model?.mode ?? base.mode ?? 'all',
      sampleRate: model?.sampleRate ?? base.sampleRate ?? 1,
      redactor: createRedactor(policy),
      values: policy !== undefined,
    };
  }

  private settingsFor(model: string): Resolved {
    const source = this.options.models;
    const own =
      source === undefined
        ? undefined
        : typeof (source as PayloadLogSource).payloadLogSettings === 'function'
          ? (source as PayloadLogSource).payloadLogSettings(model)
          : Object.hasOwn(source, model)
            ? (source as Readonly<Record<string, PayloadLogSettings>>)[model]
            : undefined;
    if (own === undefined) return this.server;
    let r = this.resolved.get(own);
    if (r === undefined) {
      try {
        checkSettings(own, `payloadLog of model '${model}'`, true);
        r = this.resolve(own);
      } catch {
        // Settings that cannot apply (a hashing policy and no key on the server) log nothing
        // rather than fail the model's requests; /metrics counts the requests not logged.
        r = UNUSABLE;
      }
      this.resolved.set(own, r);
    }
    return r;
  }

  /**
   * Starts logging one request to `model`, or returns undefined when the model logs nothing or
   * the request is not in the sample.
   */
  begin(model: string, version: string | undefined, req: HandlerRequest): PayloadCapture | undefined {
    const s = this.settingsFor(model);
    if (s === UNUSABLE) this.errors++;
    if (s.mode === 'none' || s.sampleRate === 0) return undefined;
    if (s.sampleRate < 1 && !(this.random() < s.sampleRate)) return undefined;
    return new PayloadCapture(this, s, model, version, req);
  }

  /**
   * Requests not logged because their model's settings cannot apply (a hashing policy and no
   * key on the server), and events a sink or the policy threw on; requests never see these.
   */
  errors = 0;

  /** Hands an event to every sink. */
  emit(event: PayloadEvent): void {
    for (const sink of this.options.sinks) {
      try {
        sink.send(event);
      } catch {
        this.errors++;
      }
    }
  }

  /** Sends what the sinks hold (within `closeTimeoutMs`) and stops them. */
  async close(): Promise<void> {
    const limit = this.options.closeTimeoutMs ?? 5000;
    // Events of requests answered just now are built on the next turn: let them reach the sinks.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(this.options.sinks.map((s) => s.close(limit)));
  }
}

/** A model's policy laid over the server's. */
function mergePolicy(base: LogPolicy | undefined, own: LogPolicy | undefined): LogPolicy | undefined {
  if (own === undefined) return base;
  if (base === undefined) return own;
  const hashKey = own.hashKey ?? base.hashKey;
  const fallback = own.default ?? base.default;
  return {
    fields: { ...base.fields, ...own.fields },
    ...(fallback === undefined ? {} : { default: fallback }),
    ...(hashKey === undefined ? {} : { hashKey }),
  };
}

/** The `ce-id` a client sent (KServe reads it too), when it is a plain token; else a new UUID. */
function requestId(req: HandlerRequest): string {
  const given = req.headers['ce-id'];
  return given !== undefined && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

function describeTensors(tensors: NamedTensors | undefined) {
  if (tensors === undefined) return [];
  return Object.entries(tensors).map(([name, t]) => ({
    name,
    datatype: datatypeOf(t.dtype),
    shape: [...t.shape],
  }));
}

/** Tensor values as nested arrays by name; 64-bit integers as strings, which JSON and hashes take. */
function tensorValues(tensors: NamedTensors): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const nested = toNested(t as Tensor);
    out[name] =
      t.dtype === 'int64' || t.dtype === 'uint64'
        ? JSON.parse(JSON.stringify(nested, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))
        : nested;
  }
  return out;
}

/** What a response was, taken when it is answered. */
interface Answer {
  status: number;
  time: string;
  latencyMs: number;
  contentType: string | null;
  bytes: number;
}

function byteLength(body: Uint8Array | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

/**
 * One sampled request, while it runs: the routes' Deployer is wrapped so the decoded inputs,
 * the records of a pipeline, the version that answered and the outputs are seen as they pass.
 */
export class PayloadCapture {
  readonly id: string;
  private readonly time = new Date().toISOString();
  private readonly started = performance.now();
  private inputs: NamedTensors | undefined;
  private records: readonly unknown[] | undefined;
  private outputs: NamedTensors | undefined;
  private version: string | undefined;

  constructor(
    private readonly logger: PayloadLogger,
    private readonly settings: Resolved,
    private readonly model: string,
    version: string | undefined,
    private readonly req: HandlerRequest,
  ) {
    this.id = requestId(req);
    this.version = version;
  }

  /** The routes' context, with a Deployer whose `predict` this capture watches. */
  context(ctx: ServeContext): ServeContext {
    const deployer = ctx.deployer;
    const watched: Deployer['predict'] = (name, inputs, options) => {
      if (this.inputs === undefined) {
        this.inputs = inputs as NamedTensors;
        this.records = options?.records;
      }
      const onRoute = options?.onRoute;
      return deployer
        .predict(name, inputs, {
          ...options,
          onRoute: (v: string) => {
            this.version = v;
            onRoute?.(v);
          },
        })
        .then((out) => {
          this.outputs ??= out;
          return out;
        });
    };
    const facade = new Proxy(deployer, {
      get: (target, key) => {
        if (key === 'predict') return watched;
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return Object.create(ctx, { deployer: { value: facade } }) as ServeContext;
  }

  /** Emits the request's and the response's events, as the mode says; never throws. */
  end(res: HandlerResponse): void {
    // What the answer was is taken now; the events are built (tensor values read, the policy
    // applied, JSON made) after the answer has gone out, off the request's path.
    const answer: Answer = {
      status: res.status,
      time: new Date().toISOString(),
      latencyMs: Math.round((performance.now() - this.started) * 1000) / 1000,
      contentType: res.headers['content-type'] ?? null,
      bytes: byteLength(res.body),
    };
    setImmediate(() => {
      try {
        this.emit(answer);
      } catch {
        this.logger.errors++;
      }
    });
  }

  private emit(answer: Answer): void {
    const { mode, redactor, values } = this.settings;
    const options = this.logger.options;
    const extensions: Record<string, string> = {
      inferenceservicename: this.model,
      component: 'predictor',
      ...(this.version === undefined ? {} : { endpoint: this.version }),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    };
    const named = this.logger.metadataHeaders;
    if (named !== undefined) {
      const metadata: Record<string, string[]> = {};
      for (const h of named) {
        const v = this.req.headers[h];
        if (v !== undefined) metadata[h] = [v];
      }
      extensions.metadata = JSON.stringify(metadata);
    }
    const source = options.source ?? this.req.path;
    const meta = {
      id: this.id,
      model: this.model,
      ...(this.version === undefined ? {} : { version: this.version }),
    };
    if (mode === 'all' || mode === 'request') {
      const data: Record<string, unknown> = {
        ...meta,
        time: this.time,
        endpoint: this.req.path,
        contentType: this.req.headers['content-type'] ?? null,
        bytes: this.req.body.byteLength,
        tensors: describeTensors(this.inputs),
      };
      if (values && this.inputs !== undefined) data.inputs = tensorValues(this.inputs);
      if (values && this.records !== undefined) data.records = this.records;
      this.logger.emit({
        id: this.id,
        type: REQUEST_EVENT,
        source,
        time: this.time,
        extensions,
        data: redactor.apply(data),
      });
    }
    if (mode === 'all' || mode === 'response') {
      const { time, ...facts } = answer;
      const data: Record<string, unknown> = {
        ...meta,
        time,
        ...facts,
        tensors: describeTensors(this.outputs),
      };
      if (values && this.outputs !== undefined) data.outputs = tensorValues(this.outputs);
      this.logger.emit({
        id: this.id,
        type: RESPONSE_EVENT,
        source,
        time,
        extensions,
        data: redactor.apply(data),
      });
    }
  }
}
