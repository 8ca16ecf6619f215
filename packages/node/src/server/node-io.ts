/** Reading request bodies from and writing answers to `node:http`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { AbortSignalLike } from '@modelship/core';
import {
  type BodyCoding,
  bodyCoding,
  type HandlerResponse,
  HttpError,
  NO_BYTES,
} from '@modelship/core/serve';

/** Body reads waiting for the end of the current poll phase (see {@link afterThisRead}). */
let unsure: BodyRead[] = [];

function runUnsure(): void {
  const reads = unsure;
  unsure = [];
  for (const read of reads) read.arm();
}

/**
 * Arms a read's idle timer, if it still needs one, once the socket reads of this event-loop
 * turn are parsed (in one `setImmediate` for all the requests of the turn). node:http announces
 * a request when its headers are parsed, before its body in the same read: a microtask is too
 * early to see the body complete (every request would set a timer), and a timer or a microtask
 * per request costs more than reading a small body does.
 */
function afterThisRead(read: BodyRead): void {
  if (unsure.push(read) === 1) setImmediate(runUnsure);
}

/**
 * One body being read. A class with methods, and anonymous listeners calling them, rather than
 * named closures: fewer allocations per request (and under tsx, which keeps function names,
 * no `defineProperty` per closure).
 */
class BodyRead {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private wire = 0;
  private failed = false;
  private idle: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly max: number,
    private readonly idleMs: number,
    private readonly done: (error: HttpError | undefined, body: Uint8Array) => void,
    private readonly inflater: Inflate | Gunzip | undefined,
  ) {}

  /** A body that arrived with its headers is complete by now: only one still on its way gets a timer. */
  arm(): void {
    if (this.req.complete || this.failed) return;
    this.idle = setTimeout(() => {
      if (!this.failed && !this.req.complete)
        this.fail(new HttpError(408, `the request body sent nothing for ${this.idleMs} ms`));
    }, this.idleMs);
  }

  fail(error: HttpError): void {
    this.failed = true;
    clearTimeout(this.idle);
    this.inflater?.destroy();
    this.req.resume();
    this.done(error, NO_BYTES);
  }

  /** A chunk of the body (inflated, when it is coded). */
  take(chunk: Buffer): void {
    if (this.failed) return;
    this.idle?.refresh();
    this.size += chunk.byteLength;
    if (this.size > this.max) {
      this.fail(
        new HttpError(
          413,
          this.inflater === undefined
            ? `the body is over ${this.max} bytes, the most this server takes`
            : `the body inflates to over ${this.max} bytes, the most this server takes`,
        ),
      );
      return;
    }
    this.chunks.push(chunk);
  }

  /** A chunk of a coded body as it came, before inflating. */
  takeWire(chunk: Buffer): void {
    if (this.failed) return;
    this.idle?.refresh();
    this.wire += chunk.byteLength;
    if (this.wire > this.max)
      this.fail(new HttpError(413, `the body is over ${this.max} bytes, the most this server takes`));
    else this.inflater!.write(chunk);
  }

  /** The end of the wire bytes of a coded body. */
  endWire(): void {
    clearTimeout(this.idle);
    if (!this.failed) this.inflater!.end();
  }

  finish(): void {
    clearTimeout(this.idle);
    if (this.failed) return;
    const c = this.chunks;
    this.done(undefined, c.length === 1 ? c[0]! : Buffer.concat(c, this.size));
  }

  error(what: string, e: Error): void {
    if (!this.failed) this.fail(new HttpError(400, `${what}: ${e.message}`));
  }
}

/**
 * Reads a request body, refusing one over `max` bytes with 413 as soon as the declared length
 * (or the bytes received) pass it, without buffering the rest. A gzip or deflate body is
 * inflated as it arrives and `max` bounds the inflated size too: inflating stops at the first
 * byte over it, so a small bomb costs no more memory than a large honest body. A body that
 * sends nothing for `idleMs` gets 408. Calls `done` once, with the body or the error; a
 * callback, not a promise, because a promise per request showed in the one-connection latency.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  idleMs: number,
  done: (error: HttpError | undefined, body: Uint8Array) => void,
): void {
  let coding: BodyCoding;
  try {
    coding = bodyCoding(req.headers['content-encoding']);
  } catch (e) {
    req.resume();
    done(e as HttpError, NO_BYTES);
    return;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    req.resume(); // discard what arrives; the answer closes the connection
    done(new HttpError(413, `the body is ${declared} bytes; this server takes at most ${max}`), NO_BYTES);
    return;
  }
  const inflater =
    coding === 'identity' ? undefined : coding === 'deflate' ? createInflate() : createGunzip();
  const read = new BodyRead(req, max, idleMs, done, inflater);
  afterThisRead(read);
  if (inflater === undefined) {
    req.on('data', (chunk: Buffer) => read.take(chunk));
    req.on('end', () => read.finish());
  } else {
    inflater.on('data', (chunk: Buffer) => read.take(chunk));
    inflater.on('end', () => read.finish());
    inflater.on('error', (e) => read.error(`the ${coding} body could not be inflated`, e));
    req.on('data', (chunk: Buffer) => read.takeWire(chunk));
    req.on('end', () => read.endWire());
  }
  req.on('error', (e) => read.error('the request body could not be read', e));
}

/** How much of a refused body a lingering close reads and drops, beyond the limit, before it cuts. */
const LINGER_BYTES = 64 * 1024 * 1024;
/** How long a lingering close waits for more of the body before it cuts. */
const LINGER_IDLE_MS = 2000;

/**
 * Closes the connection of a request whose body is refused unread (413) the way RFC 9112 §9.6
 * asks: the answer goes out with `Connection: close`, then only the sending side is closed and
 * the rest of the body is read and dropped (up to the limit plus 64 MiB, and while it keeps
 * coming), so the client, still writing, gets to read the answer instead of `EPIPE` or a reset.
 * node:http would destroy the socket as soon as the answer is written (`destroySoon`).
 */
export function lingerAfterAnswer(req: IncomingMessage, max: number): void {
  const socket = req.socket;
  let read = 0;
  const cut = (): void => {
    socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_IDLE_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    read += chunk.byteLength;
    if (read > max + LINGER_BYTES) cut();
    else timer.refresh();
  });
  socket.once('end', cut); // the client is done and has closed its side
  socket.once('close', () => clearTimeout(timer));
  // node:http ends a `Connection: close` answer with socket.destroySoon(): half-close instead.
  socket.destroySoon = () => {
    socket.end();
  };
}

/** Writes an answer with its length. */
export function sendResponse(res: ServerResponse, r: HandlerResponse): void {
  if (res.headersSent || res.destroyed) return;
  const length = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.byteLength;
  r.headers['content-length'] = String(length);
  res.writeHead(r.status, r.headers);
  // A string body goes out in one write with the headers; a buffer would take a second chunk (writev).
  res.end(r.body);
}

/**
 * The part of `AbortSignal` the Deployer uses, fired when the client goes away. Cheaper than an
 * `AbortController` per request, which costs more than parsing the request does.
 */
export class ClientGone implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  // One listener is the rule (the Deployer's), so it gets a field rather than an array.
  private listener: (() => void) | undefined = undefined;
  private more: (() => void)[] | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === undefined) this.listener = listener;
    else if (this.more === undefined) this.more = [listener];
    else this.more.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener === listener) {
      this.listener = this.more?.shift();
      return;
    }
    const i = this.more?.indexOf(listener) ?? -1;
    if (i >= 0) this.more!.splice(i, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const first = this.listener;
    const more = this.more;
    this.listener = undefined;
    this.more = undefined;
    first?.();
    if (more !== undefined) for (const l of more) l();
  }
}
