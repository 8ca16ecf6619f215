/**
 * Containment: every file the repository reads (model files, config.json, pipeline.json, the
 * labels file, warmup samples) goes through {@link resolveInside}, so a symbolic link pointing
 * out of the repository is refused wherever it sits, and messages name files relative to the
 * repository root rather than by their absolute path on the server.
 */
import { readFile, realpath } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { ModelshipError } from '@modelship/core';

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** `path` relative to the repository root when it lies under it (as given or resolved), else as given. */
export function relativeToRoot(root: string, realRoot: string, path: string): string {
  for (const r of [realRoot, root]) if (isInside(r, path) && path !== r) return relative(r, path);
  return path;
}

/**
 * The real path of `path` (symbolic links followed), which must lie inside `root`; a path
 * resolving outside it is refused with `MODEL_REJECTED`. Rejects with the file system's error
 * (`ENOENT`, …) when `path` does not exist.
 */
export async function resolveInside(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const real = await realpath(path);
  if (!isInside(realRoot, real))
    throw new ModelshipError(
      'MODEL_REJECTED',
      `${relativeToRoot(root, realRoot, path)} resolves outside the repository (a symbolic link?); it is not read`,
    );
  return real;
}

/** The text of a file inside `root`, or undefined when there is no such file. */
export async function readTextInside(root: string, path: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await resolveInside(root, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return readFile(real, 'utf8');
}

/**
 * A message with the repository root taken out of the paths it names, for answers that leave
 * the server (the index's reasons, error answers); logs keep the absolute paths.
 */
export function withoutRoot(message: string, root: string, realRoot: string): string {
  let out = message;
  for (const r of [realRoot, root]) {
    const prefix = r.endsWith(sep) ? r : r + sep;
    out = out.split(prefix).join('');
  }
  return out;
}
