/**
 * The web-standard globals the serving code uses. Every runtime core serves from (Node, Bun,
 * Deno, Workers, browsers) has them; core's lib (ES2022, no DOM, no Node types) does not declare
 * them, so they are typed here as far as this code uses them and read at call time.
 */
import type { AbortSignalLike } from '../model/model';

export interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}

/** A `ReadableStream` of bytes, as far as the fetch handler reads one. */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
  };
  pipeThrough(transform: { writable: unknown; readable: unknown }): ByteStream;
}

interface WebGlobals {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => Utf8Decoder;
  AbortController: new () => { readonly signal: AbortSignalLike; abort(reason?: unknown): void };
  DecompressionStream: new (format: 'gzip' | 'deflate') => { writable: unknown; readable: unknown };
  URL: new (url: string) => { readonly pathname: string; readonly search: string };
  Response: new (
    body: Uint8Array | string | null,
    init: { status: number; headers: Record<string, string> },
  ) => unknown;
}

export const web = globalThis as unknown as WebGlobals;

/** Decodes UTF-8 as `Buffer#toString('utf8')` does: a malformed sequence becomes U+FFFD. */
const lenient = new web.TextDecoder('utf-8', { ignoreBOM: true });

/** A request body as text (JSON bodies; what is not UTF-8 fails to parse and is reported there). */
export function bodyText(bytes: Uint8Array): string {
  return lenient.decode(bytes);
}

const timers = globalThis as unknown as {
  setImmediate?: (fn: () => void) => unknown;
  setTimeout(fn: () => void, ms: number): unknown;
};

/**
 * Lets the event loop turn (other requests, health checks) before going on: `setImmediate`
 * where the runtime has it (Node, Bun), a zero timer elsewhere.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) =>
    timers.setImmediate === undefined ? timers.setTimeout(resolve, 0) : timers.setImmediate(resolve),
  );
}
