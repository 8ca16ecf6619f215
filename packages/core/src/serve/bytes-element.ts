/**
 * One BYTES element on the wire: its text when the bytes are UTF-8, else the raw bytes, and
 * JSON's `{"b64": "..."}` form for bytes that are not text (TF Serving's). Shared by the codec
 * and the streaming JSON tensor reader, so neither imports the other for it.
 */
import { fromBase64, toBase64 } from '../signing/encoding';
import { HttpError } from './http-error';
import { web } from './web';

const utf8 = new web.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new web.TextEncoder();

/**
 * One BYTES element as core's string tensor holds it: its text when the bytes are valid UTF-8,
 * else a copy of the raw bytes (a plain `Uint8Array`, never a view into the request).
 */
export function bytesElement(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return new Uint8Array(bytes);
  }
}

/** The bytes of one BYTES element: text as UTF-8, raw bytes as they are. */
export function elementBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

/** JSON's form of a BYTES element: a string, or `{"b64": "..."}` for bytes that are not UTF-8. */
export function jsonElement(v: string | Uint8Array): string | { b64: string } {
  return typeof v === 'string' ? v : { b64: toBase64(v) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A BYTES element from JSON: a string is its text; `{"b64": "<base64>"}` (TF Serving's form,
 * which our JSON answers use for raw bytes) is decoded. Anything else is returned unchanged for
 * the tensor check to refuse.
 */
export function fromJsonElement(v: unknown, where: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const b64 = (v as { b64?: unknown }).b64;
  if (keys.length !== 1 || keys[0] !== 'b64' || typeof b64 !== 'string') return v;
  if (!BASE64.test(b64)) throw new HttpError(400, `${where}: {"b64": ...} holds text that is not base64`);
  return bytesElement(fromBase64(b64)!);
}
