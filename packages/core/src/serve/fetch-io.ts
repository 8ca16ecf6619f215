/**
 * Reading a web-standard `Request` and writing a `Response`: what Bun, Deno, Workers, service
 * workers and Node's own `fetch` types hand a fetch handler. The body limit holds while the
 * stream is read (a body over it is cancelled at the first chunk past the limit, never
 * buffered whole), and a gzip or deflate body is inflated as it streams, bounded the same way.
 */
import type { AbortSignalLike } from '../model/model';
import { HttpError } from './http-error';
import type { HandlerRequest, HandlerResponse } from './types';
import { type ByteStream, web } from './web';

/** The part of a `Request` the handler reads. */
export interface FetchRequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: { forEach(callback: (value: string, name: string) => void): void };
  readonly body: ByteStream | null;
  readonly signal?: AbortSignalLike;
}

/**
 * The runtime's `Request` where its types declare one (DOM, Workers, `@types/node`), else the
 * part of it the handler reads: a fetch handler's signature then fits `export default { fetch }`.
 */
export type WebRequest = typeof globalThis extends { Request: { prototype: infer R } } ? R : FetchRequestLike;

/** The runtime's `Response` where its types declare one, else `unknown`. */
export type WebResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : unknown;

/** The request body codings the server decompresses, and how (HTTP's `deflate` is zlib's format). */
export const BODY_CODINGS = ['gzip', 'x-gzip', 'deflate'] as const;
export type BodyCoding = 'identity' | (typeof BODY_CODINGS)[number];

/**
 * The body coding a request declares: none (`identity`), gzip or deflate; any other is a 415
 * that names the ones accepted (in `Accept-Encoding`, as RFC 7694 asks).
 */
export function bodyCoding(header: string | undefined): BodyCoding {
  if (header === undefined) return 'identity'; // nearly every request
  const coding = header.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if ((BODY_CODINGS as readonly string[]).includes(coding)) return coding as BodyCoding;
  throw new HttpError(
    415,
    `Content-Encoding '${header}' is not supported; send the body as it is, or compressed with gzip or deflate`,
    { 'accept-encoding': 'gzip, deflate' },
  );
}

/** Pieces in arrival order, joined into one array. */
function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

/**
 * A `Request` as the handler sees it, its body read whole: a declared length over `max` is
 * refused before anything is read, and a streamed body is cancelled at the first chunk that
 * takes it (or what it inflates to) over `max`. Throws an {@link HttpError} (400, 413, 415).
 */
export async function readFetchRequest(request: WebRequest, max: number): Promise<HandlerRequest> {
  const r = request as unknown as FetchRequestLike;
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const tooLarge = () => new HttpError(413, `the body is over ${max} bytes, the most this server takes`);
  if (Number(headers['content-length'] ?? '0') > max) throw tooLarge();
  const coding = bodyCoding(headers['content-encoding']);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (r.body !== null) {
    // As node's readBody: a compressed body is inflated as it streams, and `max` bounds what it inflates to.
    const reader = (
      coding === 'identity'
        ? r.body
        : r.body.pipeThrough(new web.DecompressionStream(coding === 'deflate' ? 'deflate' : 'gzip'))
    ).getReader();
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (e) {
        if (r.signal?.aborted) throw new HttpError(499, 'the client closed the connection');
        throw new HttpError(
          400,
          coding === 'identity'
            ? `the request body could not be read: ${(e as Error).message}`
            : `the ${coding} body could not be inflated: ${(e as Error).message}`,
        );
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(next.value);
    }
  }
  const url = new web.URL(r.url);
  return {
    method: r.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    body: concat(chunks, size),
    ...(r.signal === undefined ? {} : { signal: r.signal }),
  };
}

/** The handler's answer as a web-standard `Response`. */
export function toResponse(r: HandlerResponse): WebResponse {
  return new web.Response(r.status === 204 ? null : r.body, {
    status: r.status,
    headers: r.headers,
  }) as WebResponse;
}
