/**
 * The part of WebCrypto that encrypted models use, typed here because core compiles without the
 * DOM and Node type libraries. `globalThis.crypto` has it in Node ≥ 20 and in every browser
 * (in a secure context).
 */
import { ModelLoadError } from '../errors';

/** A WebCrypto `CryptoKey`, as far as Modelship looks at one. */
export interface CryptoKeyLike {
  readonly type: string;
  readonly algorithm: { readonly name: string; readonly length?: number };
  readonly usages: readonly string[];
  readonly extractable: boolean;
}

type Algorithm =
  | string
  | { name: string; length?: number; iv?: Uint8Array; additionalData?: Uint8Array; tagLength?: number };

/** The `SubtleCrypto` methods used to wrap, unwrap, encrypt and decrypt. */
export interface SubtleCipher {
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: Algorithm,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKeyLike>;
  unwrapKey(
    format: 'raw',
    wrapped: Uint8Array,
    unwrappingKey: CryptoKeyLike,
    unwrapAlgorithm: Algorithm,
    unwrappedKeyAlgorithm: Algorithm,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKeyLike>;
  wrapKey(
    format: 'raw',
    key: CryptoKeyLike,
    wrappingKey: CryptoKeyLike,
    algorithm: Algorithm,
  ): Promise<ArrayBuffer>;
  generateKey(algorithm: Algorithm, extractable: boolean, usages: string[]): Promise<CryptoKeyLike>;
  encrypt(algorithm: Algorithm, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: Algorithm, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>;
}

/** `globalThis.crypto`, narrowed to what is used. */
export interface WebCrypto {
  readonly subtle: SubtleCipher;
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/** The platform's WebCrypto, or a clear error where there is none (an insecure browser context). */
export function webCrypto(): WebCrypto {
  const crypto = (globalThis as { crypto?: Partial<WebCrypto> }).crypto;
  if (crypto?.subtle === undefined || crypto.getRandomValues === undefined) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      'encrypted models need WebCrypto (crypto.subtle); in a browser it exists only in secure contexts (https or localhost)',
    );
  }
  return crypto as WebCrypto;
}

/** True for a WebCrypto key from any realm (a worker's, another frame's). */
export function isCryptoKey(value: unknown): value is CryptoKeyLike {
  return Object.prototype.toString.call(value) === '[object CryptoKey]';
}
