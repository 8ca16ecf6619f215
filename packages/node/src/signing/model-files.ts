/** A model's files on disk, as core's signature checks read them: listed, then hashed 1 MiB at a time. */
import { createHash } from 'node:crypto';
import { lstat, open, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SignatureError } from '@modelship/core';
import type { ModelFiles } from '@modelship/core/signing';

const CHUNK = 1 << 20;

/**
 * The files of the model at `root`: a directory (every regular file under it) or one file
 * (listed as `'.'`, as the signing tool names it). `inMemory` serves some files from bytes
 * already read (the model file about to be loaded), so what is checked is what loads.
 */
export function diskModelFiles(
  root: string,
  isFile: boolean,
  inMemory: ReadonlyMap<string, Uint8Array> = new Map(),
): ModelFiles {
  return {
    list: async () => (isFile ? ['.'] : walk(root, root)),
    read: async (path) => {
      const held = inMemory.get(path);
      if (held !== undefined) return pieces(held);
      const file = isFile ? (path === '.' ? root : undefined) : join(root, ...path.split('/'));
      if (file === undefined) return undefined;
      const info = await lstat(file).catch(() => undefined);
      if (info === undefined || !info.isFile()) return undefined;
      return readPieces(file);
    },
    createHash: () => {
      const h = createHash('sha256');
      return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) };
    },
  };
}

async function walk(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(root, full)));
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
    // The tool refuses symbolic links unless told otherwise; a link could point anywhere.
    else
      throw new SignatureError(
        'UNSIGNED_FILE',
        `'${relative(root, full)}' in the model is not a regular file (a link?); signatures cover regular files only`,
        {
          details: { file: relative(root, full) },
        },
      );
  }
  return out;
}

async function* pieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
}

async function* readPieces(file: string): AsyncGenerator<Uint8Array> {
  const handle = await open(file);
  try {
    const buffer = new Uint8Array(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) return;
      // The hash consumes each piece before the next read reuses the buffer.
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
