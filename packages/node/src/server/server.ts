/**
 * A standalone Modelship server on `node:http`: the handler plus a listener, with graceful
 * shutdown (stop accepting, readiness false, let requests in flight finish, then close).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Deployer } from '@modelship/core';
import { isTorchServeManagementPath, json, torchServeError } from '@modelship/core/serve';
import { listenGrpc } from './grpc';
import { type HandlerOptions, InferenceHandler } from './handler';
import { sendResponse } from './node-io';
import { type CheckedTls, checkTls, type TlsOptions } from './tls';

/** How long requests must have stopped, while draining, before idle connections are closed. */
const DRAIN_QUIET_MS = 250;

export interface ServerOptions extends HandlerOptions {
  /** How long `close` waits for requests in flight before cutting connections (default 10 s). */
  drainTimeoutMs?: number;
  /** Close the Deployer too when the server closes (default false: it is yours). */
  closeDeployer?: boolean;
  /**
   * Connections open at once (default 1024). A request on a connection past it is answered 503
   * with `Connection: close` and `Retry-After: 1`, without being read; such a connection that
   * sends no request within a second is closed.
   */
  maxConnections?: number;
  /** How long a connection may take to send a request's headers (default 15,000 ms). */
  headersTimeoutMs?: number;
  /**
   * Serve HTTPS (and gRPC over TLS) with this certificate and key; with `ca`, clients must
   * present a certificate that chains to it (mutual TLS, required, not merely requested).
   * Without it the server speaks plain HTTP: put it behind a TLS terminator, or on loopback.
   */
  tls?: TlsOptions;
  /**
   * Serve TorchServe's management API (`GET /models…`) on this port instead of the main one, as
   * TorchServe does (8081 there; 0 picks a free one): `listen` starts it on the same host, and
   * each port answers the other's paths 404. Default: on the main port.
   */
  managementPort?: number;
}

/** A request's path, without its query string. */
function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** How long a connection past `maxConnections` may take to send the request it is refused. */
const EXCESS_GRACE_MS = 1000;

/** A running (or ready to run) Modelship HTTP server. */
export class ModelshipServer {
  readonly handler: InferenceHandler;
  readonly http: Server;
  private closing: Promise<void> | undefined;
  private grpc: GrpcServer | undefined;
  private readonly tls: CheckedTls | undefined;

  constructor(
    readonly deployer: Deployer,
    private readonly options: ServerOptions = {},
  ) {
    this.tls = options.tls === undefined ? undefined : checkTls(options.tls);
    this.handler = new InferenceHandler(deployer, options);
    const max = options.maxConnections ?? 1024;
    const headersTimeout = options.headersTimeoutMs ?? 15_000;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new TypeError('createServer: maxConnections must be a positive integer');
    if (!(headersTimeout > 0))
      throw new TypeError('createServer: headersTimeoutMs must be a positive number');
    // Connections past the limit stay only long enough to be told why.
    const excess = new WeakSet<Socket>();
    const refuse = (req: IncomingMessage, res: ServerResponse): void => {
      req.resume();
      sendResponse(
        res,
        json(
          503,
          { error: `this server has ${max} connections open, its maxConnections; try again` },
          { connection: 'close', 'retry-after': '1' },
        ),
      );
    };
    const managementPort = options.managementPort;
    if (managementPort !== undefined) {
      if (!Number.isSafeInteger(managementPort) || managementPort < 0 || managementPort > 65535)
        throw new TypeError('createServer: managementPort must be an integer from 0 to 65535');
      if (options.torchserve === false)
        throw new TypeError(
          'createServer: managementPort serves the TorchServe API, which torchserve: false turns off',
        );
    }
    // With a management port, each port serves its own paths only.
    const elsewhere = (req: IncomingMessage, res: ServerResponse, where: string): void => {
      req.resume();
      sendResponse(
        res,
        torchServeError(404, 'ResourceNotFoundException', `${req.method} ${req.url} is served on ${where}`),
      );
    };
    const split = managementPort !== undefined;
    // The handler counts requests in flight and asks clients to leave while draining.
    const handle = (req: IncomingMessage, res: ServerResponse): void =>
      excess.has(req.socket)
        ? refuse(req, res)
        : split && isTorchServeManagementPath(pathOf(req))
          ? elsewhere(req, res, 'the management port')
          : this.handler.node(req, res);
    const manage = (req: IncomingMessage, res: ServerResponse): void =>
      excess.has(req.socket)
        ? refuse(req, res)
        : isTorchServeManagementPath(pathOf(req))
          ? this.handler.node(req, res)
          : elsewhere(req, res, 'the inference port, not the management port');
    const listener = (handler: typeof handle): Server => {
      const tls = this.tls;
      const server =
        tls === undefined
          ? createHttpServer(handler)
          : createHttpsServer(
              tls.ca === undefined
                ? { cert: tls.cert, key: tls.key }
                : { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true },
              handler,
            );
      // Over TLS a request's socket is the TLS socket: count those (once the handshake is done).
      server.prependListener(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
        if (this.open >= max) {
          excess.add(socket);
          socket.setTimeout(EXCESS_GRACE_MS, () => socket.destroy());
          return;
        }
        this.open++;
        socket.once('close', () => this.open--);
      });
      // Slow clients must not hold a connection forever.
      server.headersTimeout = headersTimeout;
      server.requestTimeout = 120_000;
      return server;
    };
    this.http = listener(handle);
    this.management = split ? listener(manage) : undefined;
  }

  /** The listener of TorchServe's management API, when `managementPort` gives it its own port. */
  readonly management: Server | undefined;

  private open = 0;

  /** Connections open now, counted against `maxConnections` (refused ones not included). */
  get connections(): number {
    return this.open;
  }

  /**
   * Starts listening; resolves with the bound address (port 0 picks a free port). The default
   * host is the loopback address: pass `'0.0.0.0'` (or `'::'`) to take connections from other
   * machines, as a container must.
   */
  async listen(
    port = 8000,
    host = '127.0.0.1',
  ): Promise<{ port: number; host: string; url: string; management?: { port: number; url: string } }> {
    const main = await this.bind(this.http, port, host);
    if (this.management === undefined) return main;
    const management = await this.bind(this.management, this.options.managementPort!, host).catch(
      async (e: unknown) => {
        await new Promise((resolve) => this.http.close(resolve));
        throw e;
      },
    );
    return { ...main, management: { port: management.port, url: management.url } };
  }

  private bind(
    server: Server,
    port: number,
    host: string,
  ): Promise<{ port: number; host: string; url: string }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const a = server.address() as AddressInfo;
        const shown = a.address === '0.0.0.0' || a.address === '::' ? 'localhost' : a.address;
        resolve({
          port: a.port,
          host: a.address,
          url: `${this.tls === undefined ? 'http' : 'https'}://${shown}:${a.port}`,
        });
      });
    });
  }

  /**
   * Also serves the protocol over gRPC (`inference.GRPCInferenceService`) on `port` (0 picks a
   * free one), with the same deployer, credentials, limits and TLS settings; `close` stops it too.
   */
  async listenGrpc(port = 8001, host = '127.0.0.1'): Promise<{ port: number }> {
    if (this.grpc !== undefined) throw new Error('listenGrpc: the gRPC server is already listening');
    const { server, port: bound } = await listenGrpc(this.handler, port, host, this.options.tls);
    this.grpc = server;
    return { port: bound };
  }

  /**
   * Shuts down gracefully: readiness turns false and new inference gets 503 at once, the
   * listener stops accepting, requests in flight finish (up to `drainTimeoutMs`), then every
   * connection closes and payload logging flushes (up to its `closeTimeoutMs`). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.handler.drain();
      // Stop accepting connections, holding back what http.Server.close also does since Node 19,
      // closing idle keep-alive connections at once: a client sending its next request on one
      // just then gets a reset. Open connections stay until their next answer (a 503 for
      // inference, with Connection: close) or until requests stop coming (see settled).
      const stopped = new Promise<void>((resolve) => {
        const closeIdle = this.http.closeIdleConnections;
        this.http.closeIdleConnections = () => {};
        try {
          this.http.close(() => resolve());
        } finally {
          this.http.closeIdleConnections = closeIdle;
        }
      });
      const management = this.management;
      const managementStopped =
        management === undefined || !management.listening
          ? Promise.resolve()
          : new Promise<void>((resolve) => management.close(() => resolve()));
      const grpc = this.grpc;
      // gRPC calls in flight finish; new calls are refused at once.
      const grpcStopped =
        grpc === undefined
          ? Promise.resolve()
          : new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.drainTimeoutMs ?? 10_000);
        timer.unref();
      });
      await Promise.race([Promise.all([this.settled(), grpcStopped]), timeout]);
      this.http.closeIdleConnections();
      await Promise.race([this.handler.whenIdle(), timeout]);
      clearTimeout(timer);
      this.http.closeAllConnections();
      management?.closeAllConnections();
      grpc?.forceShutdown();
      await Promise.all([stopped, managementStopped]);
      // Every answered request has logged its events: send what the sinks hold, within their limit.
      await this.handler.payloadLog?.close();
      this.handler.metrics?.dispose?.();
      if (this.options.closeDeployer === true) await this.deployer.close();
    })();
    return this.closing;
  }

  /**
   * Resolves once no request is in flight and none has started or finished for
   * {@link DRAIN_QUIET_MS} (or no connection is open): a keep-alive client whose last answer
   * came before the drain has had time to send its next request and be told to leave.
   */
  private async settled(): Promise<void> {
    for (;;) {
      await this.handler.whenIdle();
      const open = await new Promise<number>((resolve) =>
        this.http.getConnections((_e, n) => resolve(n ?? 0)),
      );
      if (open === 0) return;
      const wait = this.handler.lastActivity + DRAIN_QUIET_MS - performance.now();
      if (wait <= 0 && this.handler.inFlight === 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 5)));
    }
  }

  /** Closes on SIGTERM or SIGINT (a second signal exits at once), then calls `onClosed`. */
  closeOnSignals(onClosed: () => void = () => process.exit(0)): void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      signalled = true;
      void this.close().then(onClosed);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}

/**
 * Creates a standalone server for a Deployer: the Open Inference Protocol under `/v2`, TF
 * Serving's REST API under `/v1/models`, TorchServe's API (`/ping`, `/predictions/…`, and
 * `/models…` here or on `managementPort`), Prometheus metrics at `/metrics`.
 *
 * @example
 * const server = createServer(deployer, { auth: { tokens: [process.env.TOKEN!] } });
 * const { url } = await server.listen(8000);
 * server.closeOnSignals();
 */
export function createServer(deployer: Deployer, options: ServerOptions = {}): ModelshipServer {
  return new ModelshipServer(deployer, options);
}
