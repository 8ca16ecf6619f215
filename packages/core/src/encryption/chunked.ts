/**
 * Modelship's chunked encryption for large models. WebCrypto's AES-GCM is one-shot: a JWE of a
 * 4 GB model is decrypted with the whole ciphertext and the whole plaintext in memory at once
 * (and base64url makes the file a third larger). Here the plaintext is cut into chunks (1 MiB by
 * default), each sealed on its own, so a loader reads one chunk at a time into the one buffer
 * onnxruntime will get: peak memory is the model plus a chunk.
 *
 * Layout (all integers big-endian):
 *
 * ```
 * 0   8 bytes  magic "\x89MSENC\r\n" (the PNG trick: text-mode or 7-bit mangling breaks it)
 * 8   4 bytes  H, the header's length (at most 64 KiB)
 * 12  H bytes  header, UTF-8 JSON: {"alg":"A256KW","enc":"A256GCM","kid"?,"size":N,"chunk":C,
 *              "ek":"<AES-KW-wrapped content key>","nonce":"<8 random bytes>"}
 * 12+H         chunks: ceil(N / C) of them (one, empty, when N = 0); chunk i is
 *              AES-256-GCM(plaintext[iC, min((i+1)C, N)]) followed by its 16-byte tag
 * ```
 *
 * - Nonce of chunk i: the 8 random bytes, then i as 4 bytes. A fresh content key per file
 *   already makes nonces unique; the random prefix is a second line should a key ever be reused.
 *   At most 2^32 chunks (4 PiB at 1 MiB).
 * - Additional data of chunk i: the file's first 12+H bytes (magic, length, header), then one
 *   byte, 1 for the last chunk and 0 for the others. Every chunk so authenticates the header (a
 *   changed size, chunk size, key id or nonce fails every tag), its own position (the nonce), and
 *   whether it is the last: a file cut at a chunk boundary, or chunks reordered, never decrypts,
 *   even by a reader that did not check the size first (this one does: a short file is
 *   `ENCRYPTED_MODEL_TRUNCATED`, trailing bytes `ENCRYPTED_MODEL_INVALID`).
 */
import { invalidArgument } from '../errors';
import type { ByteSource } from '../load/protobuf';
import { decodeUtf8 } from '../load/protobuf';
import { utf8 } from '../pipeline/hash-bucket';
import { decodeBase64Url, encodeBase64Url } from './base64url';
import { isChunked, MAGIC } from './detect';
import { malformed, tampered, truncated } from './errors';
import { newContentKey, unwrapContentKey } from './jwe';
import type { KeySource } from './keys';
import type { CryptoKeyLike, WebCrypto } from './webcrypto';

const TAG = 16;
const PREFIX = 12;
const MAX_HEADER = 64 * 1024;
/** Default plaintext bytes per chunk. */
export const DEFAULT_CHUNK = 1 << 20;
const MIN_CHUNK = 1 << 10;
const MAX_CHUNK = 1 << 30;
const KEYS = /* @__PURE__ */ new Set(['alg', 'enc', 'kid', 'size', 'chunk', 'ek', 'nonce']);

interface Parsed {
  prefix: Uint8Array;
  size: number;
  chunk: number;
  count: number;
  kid: string | undefined;
  ek: Uint8Array;
  nonce: Uint8Array;
}

/** Reads and checks the header (nothing is authenticated until the first chunk opens). */
async function readHeader(file: ByteSource, source: string): Promise<Parsed> {
  const head = await file.read(0, PREFIX);
  if (head.length < PREFIX || !isChunked(head))
    throw head.length < PREFIX && isChunked(Uint8Array.from([...head, ...MAGIC.subarray(head.length)]))
      ? truncated(source, 'the file ends inside its first 12 bytes')
      : malformed(source, "not in Modelship's chunked format (the magic bytes differ)");
  const length = new DataView(head.buffer, head.byteOffset, PREFIX).getUint32(8);
  if (length === 0 || length > MAX_HEADER)
    throw malformed(source, `the header length must be from 1 to ${MAX_HEADER} bytes, received ${length}`);
  const text = await file.read(PREFIX, length);
  if (text.length < length) throw truncated(source, `the header has ${text.length} of its ${length} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(text));
  } catch (e) {
    throw malformed(source, `the header is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw malformed(source, 'the header must be a JSON object');
  const h = raw as Record<string, unknown>;
  for (const k of Object.keys(h))
    if (!KEYS.has(k))
      throw malformed(source, `the header has an unknown field '${k}' (known: ${[...KEYS].join(', ')})`);
  if (h.alg !== 'A256KW' || h.enc !== 'A256GCM')
    throw malformed(
      source,
      `expected alg A256KW with enc A256GCM, received alg ${JSON.stringify(h.alg)} with enc ${JSON.stringify(h.enc)}`,
    );
  if (h.kid !== undefined && typeof h.kid !== 'string')
    throw malformed(source, "the header's kid must be a string");
  const size = h.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw malformed(
      source,
      `the header's size must be a non-negative integer, received ${JSON.stringify(size)}`,
    );
  const chunk = h.chunk;
  if (typeof chunk !== 'number' || !Number.isSafeInteger(chunk) || chunk < MIN_CHUNK || chunk > MAX_CHUNK)
    throw malformed(
      source,
      `the header's chunk must be an integer from ${MIN_CHUNK} to ${MAX_CHUNK}, received ${JSON.stringify(chunk)}`,
    );
  const count = Math.max(1, Math.ceil(size / chunk));
  if (count > 2 ** 32) throw malformed(source, `${count} chunks is more than the 2^32 nonces allow`);
  const ek = typeof h.ek === 'string' ? decodeBase64Url(h.ek) : undefined;
  if (ek === undefined) throw malformed(source, "the header's ek must be base64url");
  const nonce = typeof h.nonce === 'string' ? decodeBase64Url(h.nonce) : undefined;
  if (nonce?.length !== 8) throw malformed(source, "the header's nonce must be base64url of 8 bytes");
  const prefix = new Uint8Array(PREFIX + length);
  prefix.set(head);
  prefix.set(text, PREFIX);
  return { prefix, size, chunk, count, kid: h.kid as string | undefined, ek, nonce };
}

function nonceOf(prefix: Uint8Array, i: number): Uint8Array {
  const n = new Uint8Array(12);
  n.set(prefix);
  new DataView(n.buffer).setUint32(8, i);
  return n;
}

function aadOf(header: Uint8Array, last: boolean): Uint8Array {
  const aad = new Uint8Array(header.length + 1);
  aad.set(header);
  aad[header.length] = last ? 1 : 0;
  return aad;
}

/**
 * Decrypts a chunked file read through `file`, one chunk at a time, into one buffer. Reads are
 * sequential and cover every byte once, so a reader may hash them on the way (node does, for
 * integrity pins on the ciphertext).
 */
export async function decryptChunked(
  file: ByteSource,
  key: KeySource,
  crypto: WebCrypto,
  source: string,
): Promise<Uint8Array> {
  const p = await readHeader(file, source);
  const cek = await unwrapContentKey(crypto.subtle, key, p.kid, p.ek, source);
  const expected = p.prefix.length + p.size + p.count * TAG;
  const out = new Uint8Array(p.size);
  const middle = aadOf(p.prefix, false);
  const last = aadOf(p.prefix, true);
  let at = p.prefix.length;
  for (let i = 0; i < p.count; i++) {
    const plain = i === p.count - 1 ? p.size - i * p.chunk : p.chunk;
    const sealed = await file.read(at, plain + TAG);
    if (sealed.length < plain + TAG)
      throw truncated(
        source,
        `chunk ${i + 1} of ${p.count} has ${sealed.length} of its ${plain + TAG} bytes (the header says ${p.size} plaintext bytes, ${expected} bytes in all; the file has ${file.size})`,
      );
    const opened = await openChunk(
      crypto,
      cek,
      p.nonce,
      i,
      i === p.count - 1 ? last : middle,
      sealed,
      source,
      p.count,
    );
    out.set(opened, i * p.chunk);
    at += sealed.length;
  }
  if (file.size > expected)
    throw malformed(
      source,
      `${file.size - expected} bytes follow the last chunk (the header accounts for ${expected})`,
    );
  return out;
}

async function openChunk(
  crypto: WebCrypto,
  cek: CryptoKeyLike,
  nonce: Uint8Array,
  i: number,
  aad: Uint8Array,
  sealed: Uint8Array,
  source: string,
  count: number,
): Promise<Uint8Array> {
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonceOf(nonce, i), additionalData: aad, tagLength: 128 },
        cek,
        sealed,
      ),
    );
  } catch (e) {
    throw tampered(source, `chunk ${i + 1} of ${count}`, e);
  }
}

/** Encrypts `plaintext` in the chunked format. */
export async function encryptChunked(
  plaintext: Uint8Array,
  key: KeySource,
  kid: string | undefined,
  chunk: number,
  crypto: WebCrypto,
): Promise<Uint8Array> {
  if (!(Number.isSafeInteger(chunk) && chunk >= MIN_CHUNK && chunk <= MAX_CHUNK))
    throw invalidArgument(
      'encryptModel',
      `chunkSize must be an integer from ${MIN_CHUNK} to ${MAX_CHUNK}`,
      chunk,
    );
  const { cek, encryptedKey } = await newContentKey(key, kid, crypto, 'encryptModel');
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  const size = plaintext.length;
  const header = utf8(
    JSON.stringify({
      alg: 'A256KW',
      enc: 'A256GCM',
      ...(kid === undefined ? {} : { kid }),
      size,
      chunk,
      ek: encodeBase64Url(encryptedKey),
      nonce: encodeBase64Url(nonce),
    }),
  );
  const count = Math.max(1, Math.ceil(size / chunk));
  const prefix = new Uint8Array(PREFIX + header.length);
  prefix.set(MAGIC);
  new DataView(prefix.buffer).setUint32(8, header.length);
  prefix.set(header, PREFIX);
  const out = new Uint8Array(prefix.length + size + count * TAG);
  out.set(prefix);
  const middle = aadOf(prefix, false);
  const last = aadOf(prefix, true);
  let at = prefix.length;
  for (let i = 0; i < count; i++) {
    const piece = plaintext.subarray(i * chunk, Math.min(size, (i + 1) * chunk));
    const sealed = await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: nonceOf(nonce, i),
        additionalData: i === count - 1 ? last : middle,
        tagLength: 128,
      },
      cek,
      piece,
    );
    out.set(new Uint8Array(sealed), at);
    at += sealed.byteLength;
  }
  return out;
}
