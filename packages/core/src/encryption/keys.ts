/**
 * Keys of encrypted models: a 256-bit AES key-wrapping key (JOSE's `A256KW`), given as a
 * WebCrypto key, as 32 bytes, or by a function of the file's key id so any KMS plugs in.
 */
import { invalidArgument, ModelLoadError } from '../errors';
import { decodeBase64Url } from './base64url';
import { type CryptoKeyLike, isCryptoKey, type SubtleCipher } from './webcrypto';

/** A key-wrapping key: an `AES-KW` WebCrypto key of 256 bits, or its 32 raw bytes. */
export type DecryptionKey = CryptoKeyLike | Uint8Array;

/**
 * Called with the key id the file names (`kid`, undefined when it names none); returns the key.
 * A KMS client, a secret store or a prompt fits here.
 */
export type KeyProvider = (kid: string | undefined) => DecryptionKey | Promise<DecryptionKey>;

/** A key, or where to get it. */
export type KeySource = DecryptionKey | KeyProvider;

const KEY_BYTES = 32;

/** Checks a key source given to a public function (the provider's answer is checked when called). */
export function checkKeySource(value: unknown, where: string): KeySource {
  if (typeof value === 'function') return value as KeyProvider;
  checkKey(value, where);
  return value as DecryptionKey;
}

function checkKey(value: unknown, where: string): asserts value is DecryptionKey {
  if (isCryptoKey(value)) {
    if (value.algorithm.name !== 'AES-KW' || value.algorithm.length !== 256)
      throw invalidArgument(
        where,
        `the key must be a 256-bit AES-KW CryptoKey (algorithm ${value.algorithm.name}${value.algorithm.length === undefined ? '' : `-${value.algorithm.length}`} given)`,
        value,
      );
    return;
  }
  if (Object.prototype.toString.call(value) === '[object Uint8Array]') {
    const n = (value as Uint8Array).length;
    if (n !== KEY_BYTES) throw invalidArgument(where, `the key must be 32 bytes (AES-256), not ${n}`, value);
    return;
  }
  throw invalidArgument(
    where,
    'the key must be a CryptoKey (AES-KW, 256 bits), 32 bytes or a function (kid) => key',
    value,
  );
}

/**
 * The key-wrapping key for `kid`, as a WebCrypto key allowed to `usage`. A provider that throws
 * or answers nothing is a `DECRYPTION_KEY_MISSING` error naming the key id.
 */
export async function resolveKey(
  source: KeySource,
  kid: string | undefined,
  usage: 'wrapKey' | 'unwrapKey',
  subtle: SubtleCipher,
  where: string,
): Promise<CryptoKeyLike> {
  let key: unknown = source;
  if (typeof source === 'function') {
    const which = kid === undefined ? 'the key' : `key '${kid}'`;
    try {
      key = await source(kid);
    } catch (e) {
      throw new ModelLoadError(
        'DECRYPTION_KEY_MISSING',
        `${where}: the key provider failed for ${which}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e, details: { kid } },
      );
    }
    if (key === undefined || key === null)
      throw new ModelLoadError('DECRYPTION_KEY_MISSING', `${where}: the key provider has no ${which}`, {
        details: { kid },
      });
  }
  checkKey(key, where);
  if (isCryptoKey(key)) {
    if (!key.usages.includes(usage))
      throw invalidArgument(
        where,
        `the AES-KW key must allow '${usage}' (it allows ${key.usages.join(', ') || 'nothing'})`,
        key,
      );
    return key;
  }
  return subtle.importKey('raw', key, 'AES-KW', false, [usage]);
}

/**
 * A key written as text: a JWK (`{"kty":"oct","k":"…"}`, as a KBS or `jose` stores it), 64
 * hexadecimal digits, or base64 / base64url of 32 bytes (`openssl rand -base64 32`). Whitespace
 * around it is ignored. `what` names where the text came from (an environment variable, a file).
 */
export function parseKeyText(text: string, what: string): Uint8Array {
  if (typeof text !== 'string') throw invalidArgument('parseKeyText', 'text must be a string', text);
  const t = text.trim();
  let bytes: Uint8Array | undefined;
  if (t.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(t);
    } catch {
      jwk = undefined;
    }
    const j = jwk as { kty?: unknown; k?: unknown } | undefined;
    if (j?.kty !== 'oct' || typeof j.k !== 'string')
      throw new ModelLoadError(
        'DECRYPTION_KEY_MISSING',
        `${what} is not a symmetric JWK: expected {"kty":"oct","k":"<base64url>"}`,
      );
    bytes = decodeBase64Url(j.k);
  } else if (/^[0-9a-fA-F]{64}$/.test(t)) {
    bytes = Uint8Array.from({ length: 32 }, (_, i) => Number.parseInt(t.slice(2 * i, 2 * i + 2), 16));
  } else {
    bytes = decodeBase64Url(t);
  }
  if (bytes?.length !== KEY_BYTES)
    throw new ModelLoadError(
      'DECRYPTION_KEY_MISSING',
      `${what} does not hold a 256-bit key: expected a JWK, 64 hex digits or base64 of 32 bytes, received ${bytes === undefined ? 'text that is none of these' : `${bytes.length} bytes`}`,
    );
  return bytes;
}
