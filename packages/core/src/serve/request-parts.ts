/**
 * The parts of a request as a TorchServe handler reads them: the body, or the parts of a
 * multipart form (`curl -F data=@file`); JSON or raw bytes; the query string's parameters.
 */
import { HttpError } from './http-error';
import { parseTfJsonValue } from './tf-json';
import type { HandlerRequest } from './types';
import { web } from './web';

/** One payload of a request: the body, or one part of a multipart form. */
export interface Payload {
  bytes: Uint8Array;
  type: string;
}

const utf8 = new web.TextDecoder('utf-8', { fatal: true });

/** The payloads of a request: the parts of a multipart form named `data` or `body` (else all of them), or the body. */
export function payloads(req: HandlerRequest): Payload[] {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) return [{ bytes: req.body, type }];
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type']!);
  if (boundary === null) throw new HttpError(400, 'the multipart/form-data body has no boundary');
  const parts = multipart(req.body, boundary[1] ?? boundary[2]!);
  const named = parts.filter((p) => p.name === 'data' || p.name === 'body');
  const chosen = named.length > 0 ? named : parts;
  if (chosen.length === 0) throw new HttpError(400, 'the multipart/form-data body has no parts');
  return chosen;
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = bytes.indexOf(first!, from); i !== -1; i = bytes.indexOf(first!, i + 1)) {
    if (i + needle.length > bytes.length) return -1;
    for (let j = 1; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const latin1 = new web.TextDecoder('latin1');

/** The parts of a multipart/form-data body (RFC 7578): name, content type and bytes of each. */
function multipart(body: Uint8Array, boundary: string): (Payload & { name: string | undefined })[] {
  // After the first, a delimiter is a line of its own: it follows a CRLF, which is not the part's.
  const delimiter = new web.TextEncoder().encode(`\r\n--${boundary}`);
  const parts: (Payload & { name: string | undefined })[] = [];
  const first = indexOf(body, delimiter.subarray(2), 0);
  if (first === -1)
    throw new HttpError(400, `the multipart/form-data body has no part delimited by --${boundary}`);
  let at = first + delimiter.length - 2;
  for (;;) {
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // the closing --boundary--
    const headerEnd = indexOf(body, CRLF2, at);
    const next = headerEnd === -1 ? -1 : indexOf(body, delimiter, headerEnd + 2);
    if (next === -1)
      throw new HttpError(400, `the multipart/form-data body's part ${parts.length} is cut short`);
    const head = latin1.decode(body.subarray(at, headerEnd));
    parts.push({
      name: /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1],
      type: (/content-type:\s*([^\r\n]*)/i.exec(head)?.[1] ?? '').trim().toLowerCase(),
      bytes: body.subarray(Math.min(headerEnd + 4, next), next),
    });
    at = next + delimiter.length;
  }
}

const CRLF2 = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);

/** JSON by its content type, or by its first character when the type does not say (curl -d). */
export function isJson(p: Payload): boolean {
  if (p.type.includes('json')) return true;
  if (p.type.startsWith('image/') || p.type.startsWith('application/octet-stream')) return false;
  for (const b of p.bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b; // { or [
  }
  return false;
}

export function parse(p: Payload, what: string): unknown {
  let text: string;
  try {
    text = utf8.decode(p.bytes);
  } catch {
    throw new HttpError(400, `the ${what} is not valid UTF-8`);
  }
  return parseTfJsonValue(text, what);
}

/** The parameters of a query string, the first of each name (`+` and percent-escapes decoded). */
export function queryParameters(query: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (query ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (v: string) => {
      try {
        return decodeURIComponent(v.replaceAll('+', ' '));
      } catch {
        throw new HttpError(
          400,
          `the query parameter ${JSON.stringify(pair.slice(0, 60))} is not valid percent-encoding`,
        );
      }
    };
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    if (!out.has(key)) out.set(key, decode(eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return out;
}

/** An integer query parameter as TorchServe reads one: the default when absent or not an integer. */
export function intParameter(query: Map<string, string>, key: string, fallback: number): number {
  const v = query.get(key);
  return v !== undefined && /^[+-]?\d{1,9}$/.test(v) ? Number(v) : fallback;
}
