/** Test helper: a model's files held in memory, served in pieces of `chunk` bytes. */
import type { ModelFiles } from './files';

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
