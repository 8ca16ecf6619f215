/** Reading request bodies from and writing answers to `node:http`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AbortSignalLike } from '@modelship/core';
import { NO_BYTES } from './codec';
import { HttpError } from './http-error';
import type { HandlerResponse } from './types';

/**
 * Reads a request body, refusing one over `max` bytes with 413 as soon as the declared length
 * (or the bytes received) pass it, without buffering the rest. Calls `done` once, with the body
 * or the error; a callback, not a promise, because a promise per request showed in the
 * one-connection latency.
 */
export function readBody(
  req: IncomingMessage,
  max: number,
  done: (error: HttpError | undefined, body: Uint8Array) => void,
): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    req.resume(); // discard what arrives; the answer closes the connection
    done(new HttpError(413, `the body is ${declared} bytes; this server takes at most ${max}`), NO_BYTES);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.byteLength;
    if (size > max) {
      failed = true;
      req.resume();
      done(new HttpError(413, `the body is over ${max} bytes, the most this server takes`), NO_BYTES);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  req.on('error', (e) => {
    if (failed) return;
    failed = true;
    done(new HttpError(400, `the request body could not be read: ${e.message}`), NO_BYTES);
  });
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
