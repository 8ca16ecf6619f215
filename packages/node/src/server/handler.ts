/**
 * The core handler (`@modelship/core/serve`) with Node's pieces plugged in: `handler.node` for
 * `node:http`, Express and Connect, Prometheus metrics through prom-client, payload logging,
 * and PNG decoding for image fields.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deployer } from '@modelship/core';
import {
  InferenceHandler as CoreHandler,
  type HandlerOptions as CoreHandlerOptions,
  resolveHandlerOptions,
  type WebRequest,
  type WebResponse,
} from '@modelship/core/serve';
import { registerPayloadLogMetrics } from '../payload-log/metrics';
import { PayloadLogger, type PayloadLogOptions } from '../payload-log/payload-log';
import { decodePng } from '../png';
import { registerRepositoryMetrics, ServerMetrics } from './metrics';
import { ClientGone, lingerAfterAnswer, readBody, sendResponse } from './node-io';

/** Options of {@link createInferenceHandler} and `createServer`. */
export interface HandlerOptions extends CoreHandlerOptions {
  /**
   * Payload logging, as KServe's logger: a CloudEvent per sampled inference request and response
   * to the sinks given (default off). Without a `policy`, no input or output values are logged,
   * only metadata. See docs/monitoring.md, "Payload logging".
   */
  payloadLog?: PayloadLogOptions;
}

/** Node's pieces of a handler, built once its options are known to be valid. */
function nodePieces(deployer: Deployer, options: HandlerOptions) {
  resolveHandlerOptions(deployer, options);
  const metrics =
    options.metrics === false
      ? undefined
      : typeof options.metrics === 'object'
        ? options.metrics
        : new ServerMetrics(deployer, options.monitor);
  const registry = metrics instanceof ServerMetrics ? metrics.registry : undefined;
  if (registry !== undefined && options.repository !== undefined)
    registerRepositoryMetrics(options.repository, registry);
  const payloadLog = options.payloadLog === undefined ? undefined : new PayloadLogger(options.payloadLog);
  if (registry !== undefined && payloadLog !== undefined) registerPayloadLogMetrics(payloadLog, registry);
  return { metrics, payloadLog };
}

/** A Modelship server's request handling, to mount anywhere. */
export class InferenceHandler extends CoreHandler {
  /** Prometheus metrics (prom-client) unless `metrics` is false or an object of the caller's. */
  declare readonly metrics: ServerMetrics | CoreHandler['metrics'];
  /** Payload logging, when `payloadLog` is set; `close()` it after draining (ModelshipServer does). */
  readonly payloadLog: PayloadLogger | undefined;

  constructor(deployer: Deployer, options: HandlerOptions = {}) {
    const { metrics, payloadLog } = nodePieces(deployer, options);
    super(
      deployer,
      { ...options, decodeImage: options.decodeImage ?? decodePng, metrics: metrics ?? false },
      payloadLog === undefined
        ? {}
        : { capture: (model, version, req) => payloadLog.begin(model, version, req) },
    );
    this.payloadLog = payloadLog;
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
    const query = q === -1 ? undefined : target.slice(q + 1);
    if (next !== undefined && method !== 'OPTIONS' && !this.hasRoute(method, path)) {
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
          this.refusal(method, path, {
            status: error.status,
            message: error.message,
            headers: { ...error.headers, connection: 'close' },
          }),
        );
        return;
      }
      this.handle({ method, path, query, headers, body, signal: gone }).then((answer) => {
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

/**
 * A web-standard fetch handler (`Request` → `Response`) with Node's pieces: the core's
 * `createFetchHandler` plus Prometheus metrics at `/metrics`, payload logging and PNG decoding.
 */
export function createFetchHandler(
  deployer: Deployer,
  options: HandlerOptions = {},
): (request: WebRequest) => Promise<WebResponse> {
  return new InferenceHandler(deployer, options).fetch;
}
