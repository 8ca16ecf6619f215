/**
 * Encrypted models at rest: decrypted in memory, handed to onnxruntime as bytes, never written
 * out in the clear. Two formats, told apart by their first bytes:
 *
 * - **JWE** (RFC 7516), `alg: A256KW`, `enc: A256GCM`, compact or JSON serialization: what
 *   KServe's storage initializer decrypts, and what any JOSE library writes. One AES-GCM
 *   operation over the whole model.
 * - **Chunked** (`\x89MSENC`, see chunked.ts): the same algorithms per 1 MiB chunk, so a large
 *   model is decrypted without its ciphertext and plaintext both in memory.
 *
 * Both wrap a fresh content key per file with the caller's 256-bit key-wrapping key.
 */
import { invalidArgument, ModelLoadError } from '../errors';
import { checkBytes } from '../load/integrity';
import type { ByteSource } from '../load/protobuf';
import { DEFAULT_CHUNK, decryptChunked, encryptChunked } from './chunked';
import { type EncryptionFormat, formatOf, MAGIC } from './detect';
import { malformed, truncated } from './errors';
import { decryptCompact, decryptJson, encryptCompact } from './jwe';
import { checkKeySource, type KeySource } from './keys';
import { type WebCrypto, webCrypto } from './webcrypto';

export type { EncryptionFormat };

/** How an encrypted model is opened. */
export interface DecryptionOptions {
  /**
   * The 256-bit key-wrapping key: a WebCrypto `AES-KW` key, its 32 bytes, or a function of the
   * file's key id (`kid`) returning either, so a KMS plugs in:
   * `key: async (kid) => kms.fetchKey(kid)`.
   */
  key: KeySource;
}

/** Options of {@link encryptModel}. */
export interface EncryptionOptions {
  /** The key-wrapping key, as for decryption (a function is called with `kid`). */
  key: KeySource;
  /** A key id written into the header, handed to the key function when decrypting. */
  kid?: string;
  /** `'jwe'` (compact, default) or `'chunked'` (for models of hundreds of MB and more). */
  format?: 'jwe' | 'chunked';
  /** Plaintext bytes per chunk of the chunked format (default 1 MiB, from 1 KiB to 1 GiB). */
  chunkSize?: number;
}

/**
 * Which encrypted format `head` (the first bytes of a file, 12 are enough) is in, or undefined
 * for anything else (an ONNX model, say). A JSON object is taken as a JWE here: call it only on
 * files that are meant to be encrypted.
 */
export function encryptionFormat(head: Uint8Array): EncryptionFormat | undefined {
  checkBytes(head, 'encryptionFormat');
  return formatOf(head);
}

/**
 * Decrypts an encrypted model (either format) held in memory. Errors, with nothing returned:
 * `DECRYPTION_KEY_MISSING` (the key function has no key), `DECRYPTION_KEY_MISMATCH` (the key
 * does not unwrap the file's content key), `ENCRYPTED_MODEL_TAMPERED` (a tag does not verify),
 * `ENCRYPTED_MODEL_TRUNCATED`, `ENCRYPTED_MODEL_INVALID` (not an encrypted model, or another
 * algorithm).
 *
 * @example
 * const onnx = await decryptModel(bytes, { key: async (kid) => keys.get(kid) });
 */
export async function decryptModel(
  bytes: Uint8Array,
  options: DecryptionOptions & { source?: string },
): Promise<Uint8Array> {
  checkBytes(bytes, 'decryptModel');
  return decryptFrom(memorySource(bytes), options);
}

/**
 * Decrypts an encrypted model read through a {@link ByteSource}: a chunked file is read one
 * chunk at a time (peak memory: the model plus a chunk), a JWE whole.
 */
export async function decryptFrom(
  file: ByteSource,
  options: DecryptionOptions & { source?: string },
): Promise<Uint8Array> {
  const { key, source } = checkDecryption(options, 'decryptModel');
  const f = file as Partial<ByteSource> | null;
  if (
    typeof f !== 'object' ||
    f === null ||
    !Number.isSafeInteger(f.size) ||
    (f.size as number) < 0 ||
    typeof f.read !== 'function'
  )
    throw invalidArgument('decryptFrom', 'file must be a ByteSource { size, read(offset, length) }', file);
  const crypto = webCrypto();
  const head = await file.read(0, Math.min(file.size, 12));
  const format = head.length === 0 ? undefined : encryptionFormat(head);
  const what = source ?? 'the encrypted model';
  if (format === 'chunked') return decryptChunked(file, key, crypto, what);
  if (format === undefined && head.length > 0 && head.length < 12 && startsOneOf(head))
    throw truncated(what, `it ends after ${head.length} bytes, inside the format's opening`);
  if (format === undefined)
    throw malformed(
      what,
      `not an encrypted model: expected a JWE (compact "eyJ…" or JSON) or Modelship's chunked format, received ${head.length === 0 ? 'an empty file' : `bytes starting ${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`}`,
    );
  const all = await file.read(0, file.size);
  return format === 'jwe' ? decryptCompact(all, key, crypto, what) : decryptJson(all, key, crypto, what);
}

/**
 * Encrypts a model: a compact JWE (A256KW + A256GCM) by default, readable by KServe and any
 * JOSE library, or the chunked format for large models.
 *
 * @example
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const sealed = await encryptModel(onnxBytes, { key, kid: 'models-2026' });
 */
export async function encryptModel(plaintext: Uint8Array, options: EncryptionOptions): Promise<Uint8Array> {
  checkBytes(plaintext, 'encryptModel');
  const { key } = checkDecryption(options, 'encryptModel');
  const { kid, format = 'jwe', chunkSize = DEFAULT_CHUNK } = options;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > 256))
    throw invalidArgument('encryptModel', 'kid must be a non-empty string of at most 256 characters', kid);
  const crypto: WebCrypto = webCrypto();
  if (format === 'jwe') return encryptCompact(plaintext, key, kid, crypto);
  if (format === 'chunked') return encryptChunked(plaintext, key, kid, chunkSize, crypto);
  throw invalidArgument('encryptModel', "format must be 'jwe' or 'chunked'", format);
}

/** Checks a `decryption` (or encryption) options object. */
export function checkDecryption(options: unknown, where: string): { key: KeySource; source?: string } {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options must be an object with a key', options);
  const o = options as { key?: unknown; source?: unknown };
  if (o.key === undefined)
    throw new ModelLoadError(
      'DECRYPTION_KEY_MISSING',
      `${where}: no key was given (key: a CryptoKey, 32 bytes or (kid) => key)`,
    );
  if (o.source !== undefined && typeof o.source !== 'string')
    throw invalidArgument(where, 'source must be a string', o.source);
  return { key: checkKeySource(o.key, where), source: o.source as string | undefined };
}

/** A few bytes that begin a compact JWE or a chunked file, and nothing more. */
function startsOneOf(head: Uint8Array): boolean {
  return [MAGIC, Uint8Array.of(0x65, 0x79, 0x4a)].some(
    (m) => head.length < m.length && head.every((b, i) => b === m[i]),
  );
}

function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}
