/**
 * TLS for the standalone server: HTTPS and gRPC over TLS from one certificate and key, with
 * optional client certificates (mutual TLS) checked against a CA bundle.
 */
import { createSecureContext } from 'node:tls';
import { invalidArgument } from '@modelship/core';

/** PEM text, or its bytes as read from a file. */
export type Pem = string | Uint8Array;

/**
 * `createServer`'s `tls` option. With `ca`, every connection must present a client certificate
 * that chains to it (mutual TLS): the handshake fails without one, before any request is read,
 * on HTTPS and gRPC alike. Health checks then need a certificate too; a token is still asked
 * for on top where one is configured.
 */
export interface TlsOptions {
  /** The server's certificate chain (PEM), leaf first. */
  cert: Pem;
  /** Its private key (PEM). */
  key: Pem;
  /** CA certificates (PEM) client certificates must chain to; set to require them. */
  ca?: Pem;
}

/** The checked options, as Buffers node:https and grpc-js both take. */
export interface CheckedTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
}

/**
 * Checks the `tls` option: PEM present, the key matching the certificate, the CA parsable. A
 * wrong file is a clear `INVALID_ARGUMENT` naming the field, not an OpenSSL code at listen time.
 */
export function checkTls(value: unknown): CheckedTls {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument('createServer', 'tls must be { cert, key, ca? } (PEM strings or bytes)', value);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'cert' && k !== 'key' && k !== 'ca')
      throw invalidArgument('createServer', `tls has an unknown field '${k}' (known: cert, key, ca)`, k);
  const pem = (name: 'cert' | 'key' | 'ca', marker: RegExp): Buffer | undefined => {
    const v = o[name];
    if (v === undefined && name === 'ca') return undefined;
    if (typeof v !== 'string' && !(v instanceof Uint8Array))
      throw invalidArgument('createServer', `tls.${name} must be PEM text or its bytes`, v);
    const b = Buffer.from(v);
    if (!marker.test(b.toString('latin1')))
      throw invalidArgument(
        'createServer',
        `tls.${name} is not PEM (expected a "-----BEGIN ${name === 'key' ? '… PRIVATE KEY' : 'CERTIFICATE'}-----" block)`,
        v,
      );
    return b;
  };
  const cert = pem('cert', /-----BEGIN CERTIFICATE-----/)!;
  const key = pem('key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/)!;
  const ca = pem('ca', /-----BEGIN CERTIFICATE-----/);
  try {
    createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) });
  } catch (e) {
    const message = (e as Error).message;
    const what = /key values mismatch/.test(message)
      ? 'tls.key is not the private key of tls.cert'
      : `tls.cert, tls.key or tls.ca could not be used (${message})`;
    throw invalidArgument('createServer', what, message);
  }
  return { cert, key, ca };
}
