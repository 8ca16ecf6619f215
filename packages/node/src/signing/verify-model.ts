/**
 * Signed models on disk: `verifyModelPath` checks a model directory or file against its
 * `model.sig`, and `signModelPath` writes one, both in the OpenSSF model-signing format.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign } from 'node:crypto';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument, ModelLoadError, SignatureError } from '@modelship/core';
import {
  checkModelFiles,
  MAX_BUNDLE_BYTES,
  parseSignatureBundle,
  readPublicKey,
  signModel,
  type VerifiedModel,
  verifySignedStatement,
} from '@modelship/core/signing';
import { identityCheck, type SignerIdentity } from './certificates';
import { diskModelFiles } from './model-files';

export type { SignerIdentity };

/** Who must have signed a model: any of `publicKeys`, or a certificate `identity` (or both). */
export interface SignaturePolicy {
  /** Trusted ECDSA public keys (P-256, P-384, P-521), PEM SubjectPublicKeyInfo text. */
  publicKeys?: readonly string[];
  /** Trusted certificate chains (a CA) or keyless (Sigstore) identities. */
  identity?: SignerIdentity;
  /** The signature file (default: `model.sig` in the model's directory). */
  path?: string;
  /** Paths in the model directory left out of the check, beside those the signature names. */
  ignorePaths?: readonly string[];
  /** Signature files larger than this are refused unread (default 16 MiB). */
  maxBytes?: number;
}

/** Checks a {@link SignaturePolicy} given to a public function; returns it. */
export function checkPolicy(policy: unknown, where: string): SignaturePolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy))
    throw invalidArgument(where, 'signature must be an object such as { publicKeys: [pem] }', policy);
  const p = policy as Record<string, unknown>;
  const known = ['publicKeys', 'identity', 'path', 'ignorePaths', 'maxBytes'];
  const extra = Object.keys(p).find((k) => !known.includes(k));
  if (extra !== undefined)
    throw invalidArgument(
      where,
      `signature has an unknown field '${extra}' (known: ${known.join(', ')})`,
      extra,
    );
  for (const key of ['publicKeys', 'ignorePaths'] as const)
    if (p[key] !== undefined && !(Array.isArray(p[key]) && p[key].every((k) => typeof k === 'string')))
      throw invalidArgument(where, `signature.${key} must be an array of strings`, p[key]);
  if (p.identity !== undefined && (typeof p.identity !== 'object' || p.identity === null))
    throw invalidArgument(
      where,
      'signature.identity must be an object ({ subject, issuer } or { certificateAuthorities })',
      p.identity,
    );
  if (
    (p.publicKeys as unknown[] | undefined)?.length === 0 ||
    (p.publicKeys === undefined && p.identity === undefined)
  )
    throw invalidArgument(where, 'signature needs publicKeys or an identity to trust', policy);
  // A key that cannot be read is the caller's mistake, said before any file is read.
  for (const [i, k] of ((p.publicKeys as string[] | undefined) ?? []).entries())
    readPublicKey(k, `signature.publicKeys[${i}]`);
  if (p.path !== undefined && (typeof p.path !== 'string' || p.path === ''))
    throw invalidArgument(where, 'signature.path must be a file path', p.path);
  if (p.maxBytes !== undefined && !(Number.isSafeInteger(p.maxBytes) && (p.maxBytes as number) > 0))
    throw invalidArgument(where, 'signature.maxBytes must be a positive integer', p.maxBytes);
  return p as SignaturePolicy;
}

/**
 * Verifies the model at `path` (a directory, or one file of it) against its signature. With a
 * file, the signature may cover that file alone (the tool's resource `.`) or its whole
 * directory, which must then include the file. `modelBytes`, when given, are the file's bytes
 * already read: they are what is checked, so the caller can load exactly them.
 *
 * @example
 * await verifyModelPath('models/fraud/3', { publicKeys: [await readFile('team.pub', 'utf8')] });
 */
export async function verifyModelPath(
  path: string,
  policy: SignaturePolicy,
  options: { modelBytes?: Uint8Array } = {},
): Promise<VerifiedModel> {
  checkPolicy(policy, 'verifyModelPath');
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('verifyModelPath', 'path must be a file or directory path', path);
  const { isDir, dir } = await locate(path);
  const sigPath = resolve(policy.path ?? join(dir, 'model.sig'));
  const bundle = parseSignatureBundle(await readBounded(sigPath, policy.maxBytes ?? MAX_BUNDLE_BYTES), {
    maxBytes: policy.maxBytes,
    source: sigPath,
  });
  const verified = await verifySignedStatement(bundle, {
    publicKeys: policy.publicKeys,
    checkSigner: policy.identity === undefined ? undefined : identityCheck(policy.identity),
    source: sigPath,
  });
  const { resources } = verified.manifest;
  const singleFile = !isDir && resources.length === 1 && resources[0]!.path === '.';
  const name = isDir || singleFile ? '.' : basename(path);
  const held = new Map(options.modelBytes === undefined ? [] : [[name, options.modelBytes] as const]);
  const files = diskModelFiles(singleFile ? resolve(path) : dir, singleFile, held);
  const ignorePaths = [...(policy.ignorePaths ?? []), ...inside(dir, sigPath)];
  if (!isDir && !singleFile && !resources.some((r) => r.path === name))
    throw new SignatureError('UNSIGNED_FILE', `'${name}' is not among the files ${sigPath} signs`, {
      details: { file: name },
    });
  await checkModelFiles(verified.manifest, files, { ignorePaths, source: sigPath });
  return verified;
}

/** Whether `path` is a directory, and the directory that holds the model's files and signature. */
async function locate(path: string): Promise<{ isDir: boolean; dir: string }> {
  const info = await stat(path).catch((e) => {
    throw new ModelLoadError('MODEL_NOT_FOUND', `no model at '${path}'`, {
      cause: e,
      details: { source: path },
    });
  });
  return { isDir: info.isDirectory(), dir: resolve(info.isDirectory() ? path : dirname(path)) };
}

/** `file` as a '/'-separated path inside `dir` (to leave it out of the files), or none when outside. */
function inside(dir: string, file: string): string[] {
  const rel = relative(dir, file);
  return rel.startsWith('..') || isAbsolute(rel) ? [] : [rel.split(sep).join('/')];
}

/** Reads a signature file, refusing one larger than `max` without reading it whole. */
async function readBounded(file: string, max: number): Promise<Uint8Array> {
  const handle = await open(file).catch((e) => {
    throw new SignatureError(
      'SIGNATURE_NOT_FOUND',
      `the model has no signature: cannot read '${file}' (${(e as NodeJS.ErrnoException).code})`,
      {
        cause: e,
        details: { source: file },
      },
    );
  });
  try {
    const tooLarge = (size: number) =>
      new SignatureError(
        'SIGNATURE_MALFORMED',
        `${file} is not a valid model signature: expected at most ${max} bytes, received ${size} bytes`,
        {
          details: { source: file, expected: max, received: size },
        },
      );
    const { size } = await handle.stat();
    if (size > max) throw tooLarge(size);
    // One byte past the stated size tells a file that grew since; never more than max + 1.
    const buffer = new Uint8Array(size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, n, buffer.length - n, null);
      n += bytesRead;
      if (bytesRead === 0 || n === buffer.length) break;
    }
    if (n > max) throw tooLarge(n);
    return buffer.subarray(0, n);
  } finally {
    await handle.close();
  }
}

/** Options of {@link signModelPath}. */
export interface SignModelPathOptions {
  /** The private key, PEM (PKCS#8 or SEC1 `EC PRIVATE KEY`), on P-256, P-384 or P-521. */
  privateKey: string;
  /** Where to write the signature (default: `model.sig` in the model directory, or beside the file). */
  output?: string;
  /** Paths in the directory not to sign, beside git's files and the signature itself. */
  ignorePaths?: readonly string[];
}

/**
 * Signs a model directory (every file in it) or one file, writing `model.sig` as the OpenSSF
 * model-signing tool does with `sign key`. Returns the signature's path.
 *
 * @example
 * await signModelPath('models/fraud/3', { privateKey: await readFile('team.key', 'utf8') });
 */
export async function signModelPath(path: string, options: SignModelPathOptions): Promise<string> {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('signModelPath', 'path must be a file or directory path', path);
  if (typeof options !== 'object' || options === null || typeof options.privateKey !== 'string')
    throw invalidArgument('signModelPath', 'options.privateKey must be PEM text', options?.privateKey);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(options.privateKey);
  } catch (e) {
    throw invalidArgument(
      'signModelPath',
      `privateKey is not a PEM private key (${(e as Error).message})`,
      'the key',
    );
  }
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const hash = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' }[curve ?? ''];
  if (hash === undefined)
    throw invalidArgument(
      'signModelPath',
      'privateKey must be an ECDSA key on P-256, P-384 or P-521',
      key.asymmetricKeyType,
    );
  const { isDir, dir } = await locate(path);
  const output = resolve(options.output ?? join(dir, 'model.sig'));
  const ignorePaths = [...(options.ignorePaths ?? []), ...(isDir ? inside(dir, output) : [])];
  const text = await signModel(diskModelFiles(resolve(path), !isDir), {
    modelName: basename(resolve(path)),
    publicKey: new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' })),
    sign: async (data) => new Uint8Array(nodeSign(hash, data, { key, dsaEncoding: 'der' })),
    ignorePaths,
  });
  await writeFile(output, text);
  return output;
}

/** The model file's bytes, verified against its signature (what loadModel loads with `signature`). */
export async function readVerifiedModel(path: string, policy: SignaturePolicy): Promise<Uint8Array> {
  checkPolicy(policy, 'loadModel');
  const bytes = await readFile(path).catch((e) => {
    throw new ModelLoadError('MODEL_NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
      details: { source: path },
    });
  });
  await verifyModelPath(path, policy, { modelBytes: bytes });
  return bytes;
}
