/**
 * Writing signatures in the model-signing format: the in-toto statement (predicate v1.0) and
 * the Sigstore bundle around its DSSE envelope, field for field as tool 1.1 writes them for a
 * key. The signing itself is passed in, so any key store can do it.
 */
import { BUNDLE_MEDIA_TYPES, IN_TOTO_PAYLOAD_TYPE } from './bundle';
import { fromHex, toBase64, toHex, utf8 } from './encoding';
import { comparePaths, DEFAULT_IGNORE_PATHS, hashModelFiles, type ModelFiles } from './files';
import { keyHint, pae } from './keys';
import { Sha256 } from './sha256';
import { PREDICATE_V1, type Serialization, type SignedResource, STATEMENT_TYPE } from './statement';

/** Signs the PAE bytes, resolving to a DER ECDSA signature. */
export type SignFunction = (data: Uint8Array) => Promise<Uint8Array>;

/** Options of {@link signModel}. */
export interface SignModelOptions {
  /** The model's name in the statement (the tool uses the directory or file name). */
  modelName: string;
  /** The signer's public key (SPKI DER), named in the bundle by its hint. */
  publicKey: Uint8Array;
  sign: SignFunction;
  /** Paths not signed, beside git's files; the signature file's own name belongs here. */
  ignorePaths?: readonly string[];
}

/** The statement's JSON bytes, as the tool writes it (two-space indents, resources sorted). */
export function createStatement(
  modelName: string,
  resources: readonly SignedResource[],
  serialization: Serialization,
): Uint8Array {
  const sorted = [...resources].sort(
    (a, b) => comparePaths(a.path, b.path) || (a.start ?? 0) - (b.start ?? 0),
  );
  const root = new Sha256();
  for (const r of sorted) root.update(fromHex(r.digest));
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: modelName, digest: { sha256: toHex(root.digest()) } }],
    predicateType: PREDICATE_V1,
    predicate: {
      serialization: {
        method: serialization.method,
        hash_type: serialization.hashType,
        allow_symlinks: serialization.allowSymlinks,
        ...(serialization.shardSize === undefined ? {} : { shard_size: serialization.shardSize }),
        ...(serialization.ignorePaths.length === 0 ? {} : { ignore_paths: serialization.ignorePaths }),
      },
      resources: sorted.map((r) => ({ name: r.name, algorithm: 'sha256', digest: r.digest })),
    },
  };
  return utf8(JSON.stringify(statement, null, 2));
}

/** The bundle (`model.sig` text) around a signed statement. */
export async function createBundle(
  payload: Uint8Array,
  publicKey: Uint8Array,
  sign: SignFunction,
): Promise<string> {
  const signature = await sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return JSON.stringify({
    mediaType: BUNDLE_MEDIA_TYPES[0],
    verificationMaterial: { publicKey: { hint: keyHint(publicKey) }, tlogEntries: [] },
    dsseEnvelope: {
      payload: toBase64(payload),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: toBase64(signature), keyid: '' }],
    },
  });
}

/**
 * Hashes every file of a model and signs the list: the text of a `model.sig` the OpenSSF
 * model-signing tool (and {@link verifyModelSignature}) verifies.
 */
export async function signModel(files: ModelFiles, options: SignModelOptions): Promise<string> {
  const serialization: Serialization = {
    method: 'files',
    hashType: 'sha256',
    allowSymlinks: false,
    ignorePaths: [...new Set([...DEFAULT_IGNORE_PATHS, ...(options.ignorePaths ?? [])])],
  };
  const resources = await hashModelFiles(files, serialization);
  return createBundle(
    createStatement(options.modelName, resources, serialization),
    options.publicKey,
    options.sign,
  );
}
