/**
 * `@modelship/core/signing`: OpenSSF model-signing bundles, verified and written with WebCrypto
 * (Node and browsers). A subpath of its own, so only the bundles that verify carry it.
 */
export {
  MAX_BUNDLE_BYTES,
  parseSignatureBundle,
  type SignatureBundle,
  type SignerMaterial,
} from './bundle';
export { checkModelFiles, DEFAULT_IGNORE_PATHS, type ModelFiles } from './files';
export { derToP1363, keyHint, p1363ToDer, readPublicKey, type SubtleVerify, type VerifyKey } from './keys';
export { type IncrementalHash, Sha256 } from './sha256';
export { createBundle, createStatement, type SignFunction, type SignModelOptions, signModel } from './sign';
export {
  parseStatement,
  type Serialization,
  type SignedManifest,
  type SignedResource,
} from './statement';
export {
  type SignerCheck,
  type VerifiedModel,
  type VerifySignatureOptions,
  verifyModelSignature,
  verifySignedStatement,
} from './verify';
