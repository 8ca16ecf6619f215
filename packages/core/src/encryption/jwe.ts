/**
 * JSON Web Encryption (RFC 7516) with `alg: A256KW` and `enc: A256GCM`: what KServe's storage
 * initializer decrypts (kserve#5382) and what `jose`, jwcrypto or `step crypto jwe` write. The
 * compact form is read from bytes and written as bytes; the JSON forms (general and flattened)
 * are read. AES-GCM in WebCrypto is one-shot, so ciphertext and plaintext are both in memory
 * for a moment: see chunked.ts for large models.
 */
import { decodeUtf8 } from '../load/protobuf';
import { utf8 } from '../pipeline/hash-bucket';
import { base64UrlLength, decodeBase64Url, encodeBase64Url, encodeBase64UrlInto } from './base64url';
import { malformed, tampered, truncated, wrongKey } from './errors';
import { type KeySource, resolveKey } from './keys';
import type { CryptoKeyLike, SubtleCipher, WebCrypto } from './webcrypto';

const TAG = 16;
const IV = 12;
const WRAPPED = 40;
const DOT = 46;

/** Header parameters Modelship understands; others (`cty`, `typ`, vendor ones) are ignored, as RFC 7516 says. */
interface Header {
  alg?: unknown;
  enc?: unknown;
  kid?: unknown;
  zip?: unknown;
  crit?: unknown;
}

/** Decrypts a compact JWE held in `bytes` (trailing whitespace, such as a final newline, is allowed). */
export async function decryptCompact(
  bytes: Uint8Array,
  key: KeySource,
  crypto: WebCrypto,
  source: string,
): Promise<Uint8Array> {
  let end = bytes.length;
  while (
    end > 0 &&
    (bytes[end - 1] === 10 || bytes[end - 1] === 13 || bytes[end - 1] === 32 || bytes[end - 1] === 9)
  )
    end--;
  const dots: number[] = [];
  for (let i = 0; i < end && dots.length < 5; i++) if (bytes[i] === DOT) dots.push(i);
  if (dots.length > 4) throw malformed(source, 'a compact JWE has five parts; this has more');
  if (dots.length < 4)
    throw truncated(
      source,
      `a compact JWE has five dot-separated parts (header.key.iv.ciphertext.tag); only ${dots.length + 1} are present`,
    );
  const [d0, d1, d2, d3] = dots as [number, number, number, number];
  const header = parseHeader(decodeBase64Url(bytes, 0, d0), source);
  const kid = checkHeader(header, source);
  const encryptedKey = part(bytes, d0 + 1, d1, source, 'encrypted key');
  const iv = part(bytes, d1 + 1, d2, source, 'initialization vector');
  // 22 characters hold the 16-byte tag; fewer means the file was cut inside it.
  if (end - d3 - 1 < 22)
    throw truncated(source, `the authentication tag has ${end - d3 - 1} of its 22 base64url characters`);
  const tag = part(bytes, d3 + 1, end, source, 'authentication tag');
  checkTag(tag, source);
  // The ciphertext is decoded with room for the tag after it: WebCrypto wants them joined.
  const sealed = decodeBase64Url(bytes, d2 + 1, d3, TAG);
  if (sealed === undefined) throw malformed(source, 'the ciphertext is not base64url');
  sealed.set(tag, sealed.length - TAG);
  const aad = bytes.slice(0, d0);
  return open(crypto.subtle, key, kid, encryptedKey, iv, sealed, aad, source);
}

/** Decrypts a JWE in JSON serialization (general with `recipients`, or flattened). */
export async function decryptJson(
  bytes: Uint8Array,
  key: KeySource,
  crypto: WebCrypto,
  source: string,
): Promise<Uint8Array> {
  const text = decodeUtf8(bytes).trim();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    if (!text.endsWith('}')) throw truncated(source, 'the JSON ends before its closing brace');
    throw malformed(source, `not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw malformed(source, 'a JWE in JSON serialization is an object');
  const j = raw as Record<string, unknown>;
  const field = (name: string, optional = false): Uint8Array | undefined => {
    const v = j[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string')
      throw malformed(
        source,
        `the member '${name}' must be a base64url string, received ${v === undefined ? 'none' : typeof v}`,
      );
    const b = decodeBase64Url(v);
    if (b === undefined) throw malformed(source, `the member '${name}' is not base64url`);
    return b;
  };
  const protectedB64 = j.protected === undefined ? '' : j.protected;
  if (typeof protectedB64 !== 'string')
    throw malformed(source, "the member 'protected' must be a base64url string");
  const protectedHeader = protectedB64 === '' ? {} : parseHeader(decodeBase64Url(protectedB64), source);
  const shared = { ...protectedHeader, ...objectMember(j.unprotected, 'unprotected', source) };
  const recipients =
    j.recipients === undefined
      ? [{ header: j.header, encrypted_key: j.encrypted_key }]
      : Array.isArray(j.recipients) && j.recipients.length > 0
        ? (j.recipients as { header?: unknown; encrypted_key?: unknown }[])
        : undefined;
  if (recipients === undefined) throw malformed(source, "'recipients' must be a non-empty array");
  const iv = field('iv')!;
  const ciphertext = field('ciphertext')!;
  const tag = field('tag')!;
  checkTag(tag, source);
  const aadB64 = typeof j.aad === 'string' ? `.${j.aad}` : '';
  if (j.aad !== undefined && typeof j.aad !== 'string')
    throw malformed(source, "the member 'aad' must be a base64url string");
  const aad = utf8(protectedB64 + aadB64);
  const sealed = new Uint8Array(ciphertext.length + TAG);
  sealed.set(ciphertext);
  sealed.set(tag, ciphertext.length);
  // Several recipients: the first whose key unwraps opens the file.
  let mismatch: unknown;
  for (const r of recipients) {
    if (typeof r !== 'object' || r === null) throw malformed(source, 'each recipient must be an object');
    const header = { ...shared, ...objectMember(r.header, 'header', source) };
    const kid = checkHeader(header, source);
    if (typeof r.encrypted_key !== 'string')
      throw malformed(source, "a recipient's 'encrypted_key' must be a base64url string");
    const encryptedKey = decodeBase64Url(r.encrypted_key);
    if (encryptedKey === undefined) throw malformed(source, "a recipient's 'encrypted_key' is not base64url");
    try {
      return await open(crypto.subtle, key, kid, encryptedKey, iv, sealed, aad, source);
    } catch (e) {
      if (!(e as { code?: string }).code?.startsWith('DECRYPTION_KEY') || recipients.length === 1) throw e;
      mismatch = e;
    }
  }
  throw mismatch;
}

/** Encrypts `plaintext` as a compact JWE (A256KW + A256GCM), written straight into bytes. */
export async function encryptCompact(
  plaintext: Uint8Array,
  key: KeySource,
  kid: string | undefined,
  crypto: WebCrypto,
): Promise<Uint8Array> {
  const header =
    kid === undefined ? { alg: 'A256KW', enc: 'A256GCM' } : { alg: 'A256KW', enc: 'A256GCM', kid };
  const protectedB64 = encodeBase64Url(utf8(JSON.stringify(header)));
  const { encryptedKey, cek } = await newContentKey(key, kid, crypto, 'encryptModel');
  const iv = crypto.getRandomValues(new Uint8Array(IV));
  const aad = utf8(protectedB64);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, cek, plaintext),
  );
  const ciphertext = sealed.subarray(0, sealed.length - TAG);
  const tag = sealed.subarray(sealed.length - TAG);
  const out = new Uint8Array(
    aad.length +
      4 +
      base64UrlLength(WRAPPED) +
      base64UrlLength(IV) +
      base64UrlLength(ciphertext.length) +
      base64UrlLength(TAG),
  );
  out.set(aad);
  let o = aad.length;
  for (const p of [encryptedKey, iv, ciphertext, tag]) {
    out[o++] = DOT;
    o = encodeBase64UrlInto(p, out, o);
  }
  return out;
}

/** A fresh AES-256-GCM content key and its AES-KW wrapping under the key for `kid`. */
export async function newContentKey(
  key: KeySource,
  kid: string | undefined,
  crypto: WebCrypto,
  where: string,
): Promise<{ cek: CryptoKeyLike; encryptedKey: Uint8Array }> {
  const kek = await resolveKey(key, kid, 'wrapKey', crypto.subtle, where);
  const cek = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
  const encryptedKey = new Uint8Array(await crypto.subtle.wrapKey('raw', cek, kek, 'AES-KW'));
  return { cek, encryptedKey };
}

/**
 * Unwraps the content key with the key for `kid`, then opens the sealed bytes: a failed unwrap
 * is the wrong key, a failed tag a changed file; two errors a caller can tell apart.
 */
export async function unwrapContentKey(
  subtle: SubtleCipher,
  key: KeySource,
  kid: string | undefined,
  encryptedKey: Uint8Array,
  source: string,
): Promise<CryptoKeyLike> {
  if (encryptedKey.length !== WRAPPED)
    throw malformed(
      source,
      `the encrypted key must be ${WRAPPED} bytes (an AES-256 key wrapped with A256KW), received ${encryptedKey.length}`,
    );
  const kek = await resolveKey(key, kid, 'unwrapKey', subtle, source);
  try {
    return await subtle.unwrapKey(
      'raw',
      encryptedKey,
      kek,
      'AES-KW',
      { name: 'AES-GCM', length: 256 },
      false,
      ['decrypt'],
    );
  } catch (e) {
    throw wrongKey(source, kid, e);
  }
}

async function open(
  subtle: SubtleCipher,
  key: KeySource,
  kid: string | undefined,
  encryptedKey: Uint8Array,
  iv: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
  source: string,
): Promise<Uint8Array> {
  if (iv.length !== IV)
    throw malformed(
      source,
      `the initialization vector must be ${IV} bytes for A256GCM, received ${iv.length}`,
    );
  const cek = await unwrapContentKey(subtle, key, kid, encryptedKey, source);
  try {
    return new Uint8Array(
      await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }, cek, sealed),
    );
  } catch (e) {
    throw tampered(source, 'the JWE', e);
  }
}

/** A tag cut short is a truncated file (the tag is the last part); a longer one is malformed. */
function checkTag(tag: Uint8Array, source: string): void {
  if (tag.length < TAG)
    throw truncated(source, `the authentication tag has ${tag.length} of its ${TAG} bytes`);
  if (tag.length > TAG)
    throw malformed(source, `the authentication tag must be ${TAG} bytes, received ${tag.length}`);
}

function part(bytes: Uint8Array, from: number, to: number, source: string, name: string): Uint8Array {
  const b = decodeBase64Url(bytes, from, to);
  if (b === undefined) throw malformed(source, `the ${name} is not base64url`);
  return b;
}

function parseHeader(decoded: Uint8Array | undefined, source: string): Header {
  let header: unknown;
  try {
    header = decoded === undefined ? undefined : JSON.parse(decodeUtf8(decoded));
  } catch {
    header = undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw malformed(source, 'the protected header is not base64url of a JSON object');
  return header as Header;
}

function objectMember(value: unknown, name: string, source: string): Header {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(source, `the member '${name}' must be an object`);
  return value as Header;
}

/** Checks `alg`, `enc`, `zip` and `crit`; returns the key id. */
function checkHeader(header: Header, source: string): string | undefined {
  if (header.alg !== 'A256KW' || header.enc !== 'A256GCM')
    throw malformed(
      source,
      `expected alg A256KW with enc A256GCM (what KServe's encrypted artifacts use), received alg ${JSON.stringify(header.alg)} with enc ${JSON.stringify(header.enc)}`,
    );
  if (header.zip !== undefined)
    throw malformed(source, `compressed JWE (zip ${JSON.stringify(header.zip)}) is not supported`);
  if (header.crit !== undefined)
    throw malformed(
      source,
      `the header lists critical extensions (${JSON.stringify(header.crit)}) Modelship does not implement`,
    );
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw malformed(source, "the header's kid must be a string");
  return header.kid as string | undefined;
}
