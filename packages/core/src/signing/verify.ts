/**
 * Verifying a signed model: who signed it (a trusted key, or whatever a platform's
 * {@link SignerCheck} accepts), then that every file is as signed.
 */
import { describe, invalidArgument, SignatureError } from '../errors';
import { IN_TOTO_PAYLOAD_TYPE, malformed, parseSignatureBundle, type SignatureBundle } from './bundle';
import { checkModelFiles, type ModelFiles } from './files';
import { readPublicKey, type SubtleVerify, type VerifyKey, verifyDsseSignature } from './keys';
import { parseStatement, type SignedManifest } from './statement';

/**
 * A platform's check of bundles signed with a certificate (a chain to a CA, or Sigstore's
 * keyless Fulcio certificate). It throws a {@link SignatureError} when the signer is not trusted,
 * and returns who signed, and the key to check the DSSE signature with when it did not check it.
 */
export type SignerCheck = (bundle: SignatureBundle) => Promise<{ signer: string; key?: VerifyKey }>;

/** Options of {@link verifyModelSignature}. */
export interface VerifySignatureOptions {
  /** Trusted public keys (PEM SubjectPublicKeyInfo, ECDSA P-256/P-384/P-521); any one may have signed. */
  publicKeys?: readonly (string | Uint8Array)[];
  /** Checks certificate and keyless bundles (Node's `identity` option supplies one). */
  checkSigner?: SignerCheck;
  /** Paths left out on both sides, beside those the signature names (e.g. `['README.md']`). */
  ignorePaths?: readonly string[];
  /** Signature files larger than this are refused unread (default 16 MiB). */
  maxBytes?: number;
  /** Names the signature in messages (a file name or URL). */
  source?: string;
  /** WebCrypto (default `globalThis.crypto.subtle`). */
  subtle?: SubtleVerify;
}

/** A model whose signature and files checked out. */
export interface VerifiedModel {
  /** The key's label or the certificate identity that signed. */
  signer: string;
  manifest: SignedManifest;
}

/**
 * Verifies a model signed in the OpenSSF model-signing format (`model.sig`, a Sigstore bundle):
 * the signature with a trusted key (or `checkSigner`), then every file's SHA-256. Failures are
 * {@link SignatureError}s: `SIGNATURE_MALFORMED`, `SIGNATURE_UNSUPPORTED`, `SIGNATURE_INVALID`
 * (no trusted key made it), `SIGNATURE_UNTRUSTED` (signed in a way the options do not trust),
 * `SIGNED_FILE_MISSING`, `UNSIGNED_FILE`, `SIGNED_FILE_MISMATCH`.
 *
 * @example
 * const verified = await verifyModelSignature(bundleText, files, { publicKeys: [pem] });
 * verified.manifest.resources; // every signed file and its sha256
 */
export async function verifyModelSignature(
  bundle: string | Uint8Array,
  files: ModelFiles,
  options: VerifySignatureOptions = {},
): Promise<VerifiedModel> {
  if (typeof files !== 'object' || files === null || typeof files.read !== 'function')
    throw invalidArgument('verifyModelSignature', 'files must have a read(path) method', files);
  const parsed = parseSignatureBundle(bundle, options);
  const { signer, manifest } = await verifySignedStatement(parsed, options);
  await checkModelFiles(manifest, files, options);
  return { signer, manifest };
}

/**
 * The signature half of {@link verifyModelSignature}: authenticates the bundle and only then
 * reads its statement.
 */
export async function verifySignedStatement(
  bundle: SignatureBundle,
  options: VerifySignatureOptions = {},
): Promise<VerifiedModel> {
  const source = options.source ?? 'the signature';
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw malformed(source, `payloadType ${IN_TOTO_PAYLOAD_TYPE}`, describe(bundle.payloadType));
  const keys = (options.publicKeys ?? []).map((k, i) => readPublicKey(k, `public key ${i + 1}`));
  let signer: string;
  if (bundle.signer.kind === 'publicKey') {
    if (keys.length === 0)
      throw untrusted(source, 'it is signed with a public key, and no publicKeys were given to trust');
    const hint = bundle.signer.hint;
    // A bundle names its key by a hint; without one (tool < 1.1) every trusted key is tried.
    const candidates = hint === undefined ? keys : keys.filter((k) => k.hint === hint);
    const key = await firstVerifying(candidates, bundle, options);
    if (key === undefined)
      throw new SignatureError(
        'SIGNATURE_INVALID',
        hint !== undefined && candidates.length === 0
          ? `${source} was signed by another key (hint ${hint}) than the ${keys.length} trusted (${keys.map((k) => k.hint.slice(0, 12)).join(', ')})`
          : `${source} does not verify with the trusted key${keys.length > 1 ? 's' : ''}: the key is wrong or the signed statement was altered`,
        { details: { source, hint } },
      );
    signer = key.label;
  } else {
    if (options.checkSigner === undefined)
      throw untrusted(
        source,
        `it is signed with ${bundle.signer.kind === 'certificate' ? 'a Sigstore (keyless) certificate' : 'a certificate chain'}; those are verified in Node with the identity option`,
      );
    const checked = await options.checkSigner(bundle);
    if (checked.key !== undefined && (await firstVerifying([checked.key], bundle, options)) === undefined)
      throw new SignatureError(
        'SIGNATURE_INVALID',
        `${source} does not verify with the key of its certificate (${checked.signer})`,
        {
          details: { source },
        },
      );
    signer = checked.signer;
  }
  return { signer, manifest: parseStatement(bundle.payload, source) };
}

async function firstVerifying(
  keys: readonly VerifyKey[],
  bundle: SignatureBundle,
  options: VerifySignatureOptions,
): Promise<VerifyKey | undefined> {
  const subtle = options.subtle ?? defaultSubtle();
  for (const key of keys)
    for (const sig of bundle.signatures)
      if (await verifyDsseSignature(key, bundle.payloadType, bundle.payload, sig, subtle)) return key;
  return undefined;
}

function untrusted(source: string, why: string): SignatureError {
  return new SignatureError('SIGNATURE_UNTRUSTED', `${source} is not trusted: ${why}`, {
    details: { source },
  });
}

function defaultSubtle(): SubtleVerify {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleVerify } }).crypto?.subtle;
  if (subtle === undefined)
    throw new SignatureError(
      'SIGNATURE_UNSUPPORTED',
      'signature checks need WebCrypto (crypto.subtle); in a browser it exists only in secure contexts (https or localhost)',
    );
  return subtle;
}
