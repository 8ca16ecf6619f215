/**
 * Signed models in the browser: `model.sig` (OpenSSF model-signing) is fetched beside the model
 * and checked with WebCrypto against the keys the app trusts; the model's bytes, and every other
 * file the signature lists (fetched and hashed as they stream), must match it. A web server
 * cannot list a directory, so files beside the signed ones go unnoticed here (Node notices).
 */
import { invalidArgument, SignatureError } from '@modelship/core';
import {
  checkModelFiles,
  MAX_BUNDLE_BYTES,
  type ModelFiles,
  parseSignatureBundle,
  readPublicKey,
  verifySignedStatement,
} from '@modelship/core/signing';

/** Who must have signed a model loaded in the browser. */
export interface BrowserSignaturePolicy {
  /** Trusted ECDSA public keys (P-256, P-384; P-521 where WebCrypto has it), PEM SubjectPublicKeyInfo. */
  publicKeys: readonly string[];
  /** The signature's URL (default: `model.sig` beside the model). */
  url?: string;
  /** Paths the check leaves out, beside those the signature names. */
  ignorePaths?: readonly string[];
  /** Signatures larger than this are refused unread (default 16 MiB). */
  maxBytes?: number;
}

/**
 * Checks downloaded model `bytes` from `modelUrl` against its signature. Certificate and keyless
 * signatures are refused here (`SIGNATURE_UNTRUSTED`): verify those in Node.
 */
export async function verifyModelBytes(
  modelUrl: string,
  bytes: Uint8Array,
  policy: BrowserSignaturePolicy,
  init?: RequestInit,
): Promise<void> {
  if (
    typeof policy !== 'object' ||
    policy === null ||
    !Array.isArray(policy.publicKeys) ||
    policy.publicKeys.length === 0
  )
    throw invalidArgument(
      'loadModel',
      'signature must be { publicKeys: [pem, …] } (certificate identities are checked in Node)',
      policy,
    );
  for (const [i, k] of policy.publicKeys.entries()) readPublicKey(k, `signature.publicKeys[${i}]`);
  const max = policy.maxBytes ?? MAX_BUNDLE_BYTES;
  const sigUrl = new URL(policy.url ?? 'model.sig', modelUrl).href;
  const text = await fetchBounded(sigUrl, max, init);
  const bundle = parseSignatureBundle(text, { maxBytes: max, source: sigUrl });
  const { manifest } = await verifySignedStatement(bundle, { publicKeys: policy.publicKeys, source: sigUrl });
  const single = manifest.resources.length === 1 && manifest.resources[0]!.path === '.';
  const own = single ? '.' : decodeURIComponent(new URL(modelUrl).pathname.split('/').pop() ?? '');
  if (!manifest.resources.some((r) => r.path === own))
    throw new SignatureError('UNSIGNED_FILE', `'${own}' is not among the files ${sigUrl} signs`, {
      details: { file: own },
    });
  const files: ModelFiles = {
    read: async (path) => (path === own ? pieces(bytes) : fetchPieces(new URL(path, sigUrl).href, init)),
  };
  await checkModelFiles(manifest, files, { ignorePaths: policy.ignorePaths, source: sigUrl });
}

async function* pieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20));
}

async function fetchPieces(url: string, init?: RequestInit): Promise<AsyncIterable<Uint8Array> | undefined> {
  const response = await fetch(url, init).catch(() => undefined);
  if (response === undefined || !response.ok) return undefined;
  const body = response.body;
  if (body === null) return pieces(new Uint8Array(await response.arrayBuffer()));
  return (async function* () {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  })();
}

/** The signature's bytes, refusing (unread past the limit) one larger than `max`. */
async function fetchBounded(url: string, max: number, init?: RequestInit): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new SignatureError(
      'SIGNATURE_NOT_FOUND',
      `the model has no signature: could not fetch '${url}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!response.ok)
    throw new SignatureError(
      'SIGNATURE_NOT_FOUND',
      `the model has no signature: fetching '${url}' answered ${response.status}`,
      {
        details: { source: url, status: response.status },
      },
    );
  const tooLarge = (size: number | string) =>
    new SignatureError(
      'SIGNATURE_MALFORMED',
      `${url} is not a valid model signature: expected at most ${max} bytes, received ${size} bytes`,
      {
        details: { source: url },
      },
    );
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await response.body?.cancel();
    throw tooLarge(declared);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(`more than ${max}`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
