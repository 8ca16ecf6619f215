/**
 * `@modelship/core/encryption`: models encrypted at rest (JWE A256KW + A256GCM, and a chunked
 * AEAD stream for large files), decrypted in memory with WebCrypto in Node and browsers. A
 * subpath of its own, so only the bundles that decrypt carry it.
 */
export {
  type DecryptionOptions,
  decryptFrom,
  decryptModel,
  type EncryptionFormat,
  type EncryptionOptions,
  encryptionFormat,
  encryptModel,
} from './encryption';
export { type DecryptionKey, type KeyProvider, type KeySource, parseKeyText } from './keys';
export type { CryptoKeyLike } from './webcrypto';
