/** Base64, hex, PEM and the little DER the signature format needs, without `Buffer` or `atob`. */
import { toBase64 } from '../load/integrity';

export { toBase64 };

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Standard base64 (with or without padding; `-` and `_` of the URL alphabet accepted, as
 * protobuf's JSON form allows). Returns undefined for anything that is not base64.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  const clean = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  // Built per call rather than at module level, which would stay in every bundle of core.
  const index = new Map([...B64].map((c, i) => [c, i]));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const c of clean) {
    const v = index.get(c);
    if (v === undefined) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function isSha256Hex(text: unknown): text is string {
  return typeof text === 'string' && /^[0-9a-f]{64}$/.test(text);
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

// Every runtime core targets has TextEncoder/TextDecoder; core's lib (ES2022, no DOM) does not
// declare them.
interface TextCodecs {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}
const codecs = globalThis as unknown as TextCodecs;

export const utf8 = (text: string): Uint8Array => new codecs.TextEncoder().encode(text);

/** A lenient UTF-8 decoder, as streams decode text: malformed bytes become U+FFFD. */
export const utf8Decoder = (): { decode(bytes: Uint8Array): string } =>
  new codecs.TextDecoder('utf-8', { fatal: false });

/** Strict UTF-8 to text: malformed bytes throw. */
export const fromUtf8 = (bytes: Uint8Array): string =>
  new codecs.TextDecoder('utf-8', { fatal: true }).decode(bytes);

/** The base64 body of the first PEM block labelled `label`, decoded; undefined when there is none. */
export function pemBody(pem: string, label: string): Uint8Array | undefined {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  return m === null ? undefined : fromBase64(m[1]!.replace(/\s+/g, ''));
}

/** DER as PEM the way OpenSSL and Python's `cryptography` write it: 64-column lines, final newline. */
export function toPem(der: Uint8Array, label: string): string {
  const body = toBase64(der).replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** One DER element: its tag and where its contents lie in the input. */
export interface Der {
  tag: number;
  start: number;
  end: number;
}

/** Reads the DER element at `at` (definite lengths only); undefined when the bytes are not DER. */
export function readDer(bytes: Uint8Array, at: number, limit = bytes.length): Der | undefined {
  if (at + 2 > limit) return undefined;
  const tag = bytes[at]!;
  let len = bytes[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[start + i]!;
    start += n;
  }
  const end = start + len;
  return end > limit ? undefined : { tag, start, end };
}

/** The elements inside a constructed DER element. */
export function derChildren(bytes: Uint8Array, parent: Der): Der[] | undefined {
  const out: Der[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = readDer(bytes, at, parent.end);
    if (child === undefined) return undefined;
    out.push(child);
    at = child.end;
  }
  return out;
}
