/**
 * Checking a model's files against what a signature vouches for, and hashing them for a new
 * signature. The files come through {@link ModelFiles}, which Node implements with the file
 * system and the browser with fetch; files are hashed in pieces and never held whole.
 */
import { SignatureError } from '../errors';
import { malformed } from './bundle';
import { toHex } from './encoding';
import { type IncrementalHash, Sha256 } from './sha256';
import type { Serialization, SignedManifest, SignedResource } from './statement';

/** A model's files, as a platform reads them. */
export interface ModelFiles {
  /**
   * Every file of the model: '/'-separated paths relative to the model directory, or `['.']`
   * for a model that is one file. Absent where files cannot be listed (a web server): files
   * beside the signed ones then go unnoticed.
   */
  list?(): Promise<readonly string[]>;
  /** The file's bytes in pieces (of about 1 MiB), or undefined when there is no such file. */
  read(path: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** A hash to use instead of core's {@link Sha256} (Node passes its native one). */
  createHash?(): IncrementalHash;
}

/** Paths the model-signing tool never signs: git's files and the signature itself. */
export const DEFAULT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

/** A path equal to or under one of `ignored`. */
export function isIgnored(path: string, ignored: readonly string[]): boolean {
  return ignored.some((p) => {
    const q = p.replace(/^\.\//, '').replace(/\/+$/, '');
    return path === q || path.startsWith(`${q}/`);
  });
}

/** Paths as Python's `PurePosixPath` orders them (segment by segment), as the tool sorts resources. */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/**
 * Checks every signed file against its digest. Refuses, in this order: a signed file that is
 * missing (`SIGNED_FILE_MISSING`), a file the signature does not cover (`UNSIGNED_FILE`, when
 * `files` can list), a file whose bytes differ (`SIGNED_FILE_MISMATCH`). `ignorePaths` are left
 * out of both sides, beside those the signature names and {@link DEFAULT_IGNORE_PATHS}.
 */
export async function checkModelFiles(
  manifest: SignedManifest,
  files: ModelFiles,
  options: { ignorePaths?: readonly string[]; source?: string } = {},
): Promise<void> {
  const source = options.source ?? 'the signature';
  const ignored = [
    ...DEFAULT_IGNORE_PATHS,
    ...manifest.serialization.ignorePaths,
    ...(options.ignorePaths ?? []),
  ];
  const byPath = new Map<string, SignedResource[]>();
  for (const r of manifest.resources) {
    if (
      r.path.startsWith('/') ||
      r.path.split('/').some((s) => s === '..' || s === '') ||
      r.path.includes('\\')
    )
      throw malformed(source, 'resource paths inside the model', `'${r.name}'`);
    if (isIgnored(r.path, ignored)) continue;
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  }
  if (files.list !== undefined) {
    const present = new Set((await files.list()).filter((p) => !isIgnored(p, ignored)));
    const missing = [...byPath.keys()].filter((p) => !present.has(p));
    if (missing.length > 0) throw missingFile(missing[0]!, missing.length);
    const extra = [...present].filter((p) => !byPath.has(p)).sort(comparePaths);
    if (extra.length > 0)
      throw new SignatureError(
        'UNSIGNED_FILE',
        `'${extra[0]}' is in the model but not covered by its signature${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}; sign the model again, or ignore the path`,
        { details: { file: extra[0], files: extra } },
      );
  }
  for (const [path, resources] of byPath) {
    const chunks = await files.read(path);
    if (chunks === undefined) throw missingFile(path, 1);
    const parts = [...resources].sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
    const actual = await hashParts(chunks, parts, files.createHash ?? (() => new Sha256()));
    const bad = parts.findIndex((r, i) => actual[i] !== r.digest);
    if (bad >= 0) {
      const r = parts[bad]!;
      throw new SignatureError(
        'SIGNED_FILE_MISMATCH',
        `'${r.name}' does not match its signature: expected sha256 ${r.digest}, the file hashes to ${actual[bad] ?? '(it is shorter than signed)'}`,
        { details: { file: r.path, resource: r.name, expected: r.digest, received: actual[bad] } },
      );
    }
  }
}

function missingFile(path: string, count: number): SignatureError {
  return new SignatureError(
    'SIGNED_FILE_MISSING',
    `'${path}' is signed but missing from the model${count > 1 ? ` (and ${count - 1} more)` : ''}`,
    { details: { file: path } },
  );
}

/**
 * Hex digests of consecutive byte ranges of one stream: one per part (a whole file, or shards
 * [start, end)). A stream longer than the last part gives that part a digest of all the rest,
 * so it cannot match.
 */
async function hashParts(
  chunks: AsyncIterable<Uint8Array>,
  parts: readonly SignedResource[],
  createHash: () => IncrementalHash,
): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = parts.map(() => undefined);
  let k = 0;
  let offset = 0;
  let hash = createHash();
  const endOf = (i: number) =>
    i === parts.length - 1 ? Number.POSITIVE_INFINITY : (parts[i]!.end ?? Number.POSITIVE_INFINITY);
  for await (const chunk of chunks) {
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, endOf(k) - offset);
      hash.update(chunk.subarray(at, at + take));
      at += take;
      offset += take;
      if (offset === endOf(k)) {
        out[k] = toHex(hash.digest());
        k++;
        hash = createHash();
      }
    }
  }
  // The last part takes the rest of the stream; a stream that ended inside an earlier part
  // leaves it and those after it without digests.
  if (k === parts.length - 1) out[k] = toHex(hash.digest());
  return out;
}

/** Hashes one whole file (1 MiB pieces in, one hex SHA-256 out); undefined when it does not exist. */
export async function hashFile(files: ModelFiles, path: string): Promise<string | undefined> {
  const chunks = await files.read(path);
  if (chunks === undefined) return undefined;
  const [digest] = await hashParts(
    chunks,
    [{ name: path, path, digest: '' }],
    files.createHash ?? (() => new Sha256()),
  );
  return digest;
}

/**
 * The resources a new signature lists: every file `files` lists except the ignored ones, sorted
 * as the tool sorts them, each with its SHA-256.
 */
export async function hashModelFiles(
  files: ModelFiles,
  serialization: Serialization,
): Promise<SignedResource[]> {
  if (files.list === undefined) throw new TypeError('hashModelFiles: the files must be listable');
  const paths = (await files.list())
    .filter((p) => !isIgnored(p, serialization.ignorePaths))
    .sort(comparePaths);
  const out: SignedResource[] = [];
  for (const path of paths) {
    const digest = await hashFile(files, path);
    if (digest === undefined) throw missingFile(path, 1);
    out.push({ name: path, path, digest });
  }
  return out;
}
