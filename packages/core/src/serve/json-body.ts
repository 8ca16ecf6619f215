/**
 * JSON in and out of the protocols: answers as `{"...": ...}` with their content type, and
 * request bodies parsed with the depth limit and messages every route shares.
 */
import { describeValue as describe, HttpError } from './http-error';
import { jsonDepth, MAX_JSON_DEPTH } from './json-scan';
import type { HandlerResponse } from './types';
import { web } from './web';

/**
 * Answer headers are built as literals, never cloned with `{ ...shared }`: V8 gives each clone of
 * a shared object its own hidden class once a header is added to it, so every request made a new
 * map in the old generation and node:http's property reads went megamorphic (7 µs a request).
 */
export function json(status: number, value: unknown, headers?: Record<string, string>): HandlerResponse {
  const out: Record<string, string> = { 'content-type': 'application/json' };
  if (headers !== undefined) Object.assign(out, headers);
  return { status, headers: out, body: JSON.stringify(value) };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field of a request object, read only when it is the object's own. */
export function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Parses a JSON request body, answering 400 with the parser's reason when it is not JSON, and
 * when it nests deeper than {@link MAX_JSON_DEPTH} (checked before parsing, so no recursive walk
 * over the value can run out of stack). `retry` reads a body `JSON.parse` refused another way
 * (TF Serving's NaN tokens), or returns undefined to refuse it with `JSON.parse`'s reason.
 */
export function parseJsonBody(
  text: string,
  what: string,
  retry?: (text: string) => unknown,
): Record<string, unknown> {
  const value = parseJsonValue(text, what, retry);
  if (!isObject(value))
    throw new HttpError(400, `the ${what} must be a JSON object, received ${describe(value)}`);
  return value;
}

/** {@link parseJsonBody} for a body that may be any JSON value (TorchServe's lists of records). */
export function parseJsonValue(text: string, what: string, retry?: (text: string) => unknown): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw new HttpError(400, `the ${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    try {
      value = retry?.(text);
    } catch (e2) {
      throw new HttpError(400, `malformed JSON in the ${what}: ${(e2 as Error).message}`);
    }
    if (value === undefined)
      throw new HttpError(400, `malformed JSON in the ${what}: ${(e as Error).message}`);
  }
  return value;
}

const decoder = new web.TextDecoder('utf-8', { fatal: true });

export function text(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(400, `the ${what} is not valid UTF-8`);
  }
}
