import { invalidArgument, ModelLoadError } from '../errors';

/** The part of WebCrypto's `SubtleCrypto` integrity checks use. */
export interface SubtleDigest {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

const ALGORITHMS = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const;
type Algorithm = keyof typeof ALGORITHMS;
const STRENGTH: Record<Algorithm, number> = { sha256: 1, sha384: 2, sha512: 3 };

/** One hash of a Subresource Integrity string (`sha256-<base64>`). */
export interface IntegrityHash {
  algorithm: Algorithm;
  digest: string;
}

/**
 * Parses a Subresource Integrity string: one or more space-separated `sha256-…`, `sha384-…` or
 * `sha512-…` hashes with base64 digests. As in browsers, only the strongest algorithm present
 * counts, and any one of its hashes may match.
 */
export function parseIntegrity(integrity: unknown): IntegrityHash[] {
  if (typeof integrity !== 'string' || integrity.trim() === '') {
    throw invalidArgument('integrity', "expected an SRI string such as 'sha256-<base64 digest>'", integrity);
  }
  const hashes: IntegrityHash[] = [];
  for (const token of integrity.trim().split(/\s+/)) {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    const algorithm = m?.[1] as Algorithm | undefined;
    const digest = m?.[2];
    if (algorithm === undefined || digest === undefined || digest.length !== expectedLength(algorithm)) {
      throw invalidArgument(
        'integrity',
        `'${token.length > 80 ? `${token.slice(0, 77)}...` : token}' is not a sha256-, sha384- or sha512- hash with a base64 digest`,
        integrity,
      );
    }
    hashes.push({ algorithm, digest });
  }
  const strongest = Math.max(...hashes.map((h) => STRENGTH[h.algorithm]));
  return hashes.filter((h) => STRENGTH[h.algorithm] === strongest);
}

function expectedLength(algorithm: Algorithm): number {
  const bytes = { sha256: 32, sha384: 48, sha512: 64 }[algorithm];
  return Math.ceil(bytes / 3) * 4;
}

function defaultSubtle(): SubtleDigest {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleDigest } }).crypto?.subtle;
  if (subtle === undefined) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      'integrity checks need WebCrypto (crypto.subtle); in a browser it exists only in secure contexts (https or localhost)',
    );
  }
  return subtle;
}

/** Computes the SRI string of `bytes` (`sha256-…` by default). */
export async function computeIntegrity(
  bytes: Uint8Array,
  algorithm: Algorithm = 'sha256',
  subtle: SubtleDigest = defaultSubtle(),
): Promise<string> {
  checkBytes(bytes, 'computeIntegrity');
  if (typeof algorithm !== 'string' || !Object.hasOwn(ALGORITHMS, algorithm)) {
    throw invalidArgument('computeIntegrity', "algorithm must be 'sha256', 'sha384' or 'sha512'", algorithm);
  }
  const digest = await subtle.digest(ALGORITHMS[algorithm], bytes);
  return `${algorithm}-${toBase64(new Uint8Array(digest))}`;
}

/**
 * Checks `bytes` against an SRI string before anything uses them. A mismatch throws an
 * `INTEGRITY_MISMATCH` {@link ModelLoadError} naming the expected and the actual hash.
 */
export async function verifyIntegrity(
  bytes: Uint8Array,
  integrity: string,
  options: { subtle?: SubtleDigest; source?: string } = {},
): Promise<void> {
  checkBytes(bytes, 'verifyIntegrity');
  const hashes = parseIntegrity(integrity);
  const actual = await computeIntegrity(bytes, hashes[0]!.algorithm, options.subtle ?? defaultSubtle());
  expectIntegrity(integrity, actual, options.source);
}

/**
 * Throws `INTEGRITY_MISMATCH` unless `actual` (an SRI string of one hash, computed by the
 * caller, say incrementally) is one of the strongest hashes `integrity` lists.
 */
export function expectIntegrity(integrity: string, actual: string, source?: string): void {
  const hashes = parseIntegrity(integrity);
  if (!hashes.some((h) => `${h.algorithm}-${h.digest}` === actual)) {
    const shown = source === undefined ? 'the model' : `'${source}'`;
    throw new ModelLoadError(
      'INTEGRITY_MISMATCH',
      `integrity check failed for ${shown}: expected ${hashes.map((h) => `${h.algorithm}-${h.digest}`).join(' or ')}, but the bytes hash to ${actual}`,
      {
        details: {
          expected: hashes.map((h) => `${h.algorithm}-${h.digest}`),
          received: actual,
          source,
        },
      },
    );
  }
}

/** Refuses anything but a Uint8Array (from any realm) where model bytes are expected. */
export function checkBytes(bytes: unknown, where: string): void {
  if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    throw invalidArgument(where, 'bytes must be a Uint8Array', bytes);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding; written here because core's targets differ in `btoa`/`Buffer`. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[(n >> 18) & 63]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[(n >> 18) & 63]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return out;
}
