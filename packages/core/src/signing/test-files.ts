/** Test helpers for signed models (core, node and browser tests share them). */
import { ModelshipError } from '../errors';
import type { ModelFiles } from './files';

/**
 * The `code` a promise rejects with ('verified' when it resolves; a model it resolves to is
 * disposed). Anything but a ModelshipError fails the test.
 */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    const value = await p;
    await (value as { dispose?: () => Promise<void> } | undefined)?.dispose?.();
  } catch (e) {
    if (ModelshipError.isInstance(e)) return e.code;
    throw e;
  }
  return 'verified';
}

/** A model's files held in memory, served in pieces of `chunk` bytes. */

export function memoryFiles(files: Record<string, Uint8Array>, chunk = 1 << 20, listable = true): ModelFiles {
  const read = async (path: string) => {
    const bytes = files[path];
    if (bytes === undefined) return undefined;
    return (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })();
  };
  return listable ? { list: async () => Object.keys(files), read } : { read };
}
