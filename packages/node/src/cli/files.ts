/** Files named on the command line: a missing one is `FILE_NOT_FOUND`, naming what it was for. */
import { readFile, stat } from 'node:fs/promises';
import { CliError } from './errors';

/**
 * Checks that `path` exists (and is a directory when `directory` is set) before a command
 * hands it on, so the user reads "no such file" rather than a loader's error.
 *
 * @param what what the path was given as, e.g. "the model" or "--compare".
 */
export async function mustExist(path: string, what: string, directory = false): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new CliError('FILE_NOT_FOUND', `${what} '${path}' does not exist`);
    throw new CliError('FILE_NOT_FOUND', `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
  if (directory && !isDirectory)
    throw new CliError('FILE_NOT_FOUND', `${what} '${path}' is a file; a directory is expected`);
  if (!directory && isDirectory)
    throw new CliError('FILE_NOT_FOUND', `${what} '${path}' is a directory; a file is expected`);
}

/** A file's bytes; a missing or unreadable file is `FILE_NOT_FOUND` naming `what`. */
export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  await mustExist(path, what);
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError('FILE_NOT_FOUND', `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}
