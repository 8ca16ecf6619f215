/**
 * CloudEvents 1.0 as KServe's inference logger sends them: an event per request and per
 * response, in the HTTP binding's binary content mode (attributes as `ce-*` headers, the data as
 * the body, `Content-Type` as `datacontenttype`), or in the JSON event format for a file.
 */

/** KServe's event types, so collectors written for KServe's logger take ours unchanged. */
export const REQUEST_EVENT = 'org.kubeflow.serving.inference.request';
export const RESPONSE_EVENT = 'org.kubeflow.serving.inference.response';

/** One logged request or response. */
export interface PayloadEvent {
  /** Shared by a request's event and its response's (KServe: the request's `Ce-Id`, else new). */
  id: string;
  type: typeof REQUEST_EVENT | typeof RESPONSE_EVENT;
  source: string;
  /** RFC 3339. */
  time: string;
  /**
   * Extension attributes (lower-case letters and digits): `inferenceservicename`, `endpoint`,
   * `component`, `namespace` as KServe sets them.
   */
  extensions: Readonly<Record<string, string>>;
  /** The data, sent as `application/json`. */
  data: Readonly<Record<string, unknown>>;
}

/**
 * A header value as the HTTP binding wants it (§3.1.3.2): space, `"`, `%` and everything
 * outside printable ASCII percent-encoded from UTF-8, upper-case hex.
 */
export function headerValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x25) out += ch;
    else
      for (const b of new TextEncoder().encode(ch))
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** JSON with 64-bit integers as digit strings. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The event in binary content mode: the request headers and body to POST. */
export function binaryMessage(event: PayloadEvent): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': headerValue(event.id),
    'ce-type': event.type,
    'ce-source': headerValue(event.source),
    'ce-time': event.time,
  };
  for (const [k, v] of Object.entries(event.extensions)) headers[`ce-${k}`] = headerValue(v);
  return { headers, body: jsonText(event.data) };
}

/** The event in the JSON event format (structured mode), one line of a payload file. */
export function structuredEvent(event: PayloadEvent): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.id,
    type: event.type,
    source: event.source,
    time: event.time,
    ...event.extensions,
    datacontenttype: 'application/json',
    data: event.data,
  };
}
