/**
 * Encrypted models in Node: where the key comes from (a function, an environment variable, a
 * key file) and reading an encrypted file into memory, decrypted. The plaintext exists only in
 * this process's memory: nothing is written to disk, and onnxruntime gets the bytes.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import {
  type ByteSource,
  expectIntegrity,
  invalidArgument,
  ModelLoadError,
  parseIntegrity,
} from '@modelship/core';
import { type DecryptionKey, decryptFrom, type KeySource, parseKeyText } from '@modelship/core/encryption';

/**
 * Where the key-wrapping key of an encrypted model comes from: the key itself or a function of
 * the key id (see `@modelship/core`'s `KeySource`), `{ env: 'NAME' }` (an environment variable
 * holding it as a JWK, 64 hex digits or base64) or `{ file: 'path' }` (a file holding 32 raw
 * bytes or the same text). Variables and files are read at each load, so a rotated key is
 * picked up by the next version loaded.
 */
export type NodeKeySource = KeySource | { env: string } | { file: string };

/** `loadModel`'s `decryption` option in Node. */
export interface NodeDecryptionOptions {
  key: NodeKeySource;
}

/** The environment variable `modelship serve` and the repository read a key from by default. */
export const DEFAULT_KEY_ENV = 'MODELSHIP_MODEL_KEY';

/** File names of encrypted models: `model.onnx.jwe` (JWE) or `model.onnx.enc` (chunked). */
export function isEncryptedName(path: string): boolean {
  return /\.(jwe|enc)$/i.test(path);
}

/** Checks a `decryption` option and turns env and file sources into a key function. */
export function keySource(options: unknown, where: string): KeySource {
  if (typeof options !== 'object' || options === null || !('key' in options))
    throw invalidArgument(
      where,
      'decryption must be { key }: a key, (kid) => key, { env } or { file }',
      options,
    );
  const key = (options as { key: unknown }).key;
  if (
    typeof key === 'object' &&
    key !== null &&
    !(key instanceof Uint8Array) &&
    ('env' in key || 'file' in key)
  ) {
    const keys = Object.keys(key);
    const env = (key as { env?: unknown }).env;
    const file = (key as { file?: unknown }).file;
    if (
      keys.length !== 1 ||
      (env !== undefined && (typeof env !== 'string' || env === '')) ||
      (file !== undefined && (typeof file !== 'string' || file === ''))
    )
      throw invalidArgument(
        where,
        "decryption.key must be { env: 'NAME' } or { file: 'path' }, one of them",
        key,
      );
    return env !== undefined ? () => keyFromEnv(env as string) : () => keyFromFile(file as string);
  }
  return key as KeySource;
}

/** The key in environment variable `name`. */
export function keyFromEnv(name: string): DecryptionKey {
  const text = process.env[name];
  if (text === undefined || text.trim() === '')
    throw new ModelLoadError(
      'DECRYPTION_KEY_MISSING',
      `the environment variable ${name} that should hold the model key is not set`,
    );
  return parseKeyText(text, `the environment variable ${name}`);
}

/** The key in a file: 32 raw bytes, or a JWK / hex / base64 text. */
export async function keyFromFile(path: string): Promise<DecryptionKey> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ModelLoadError(
      'DECRYPTION_KEY_MISSING',
      `cannot read the key file '${path}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (bytes.length === 32) return new Uint8Array(bytes);
  return parseKeyText(bytes.toString('utf8'), `the key file '${path}'`);
}

/**
 * Reads and decrypts an encrypted model file. An integrity pin applies to the file as it lies
 * on disk (the ciphertext): its hash is taken from the same reads that decrypt it, and a
 * mismatch throws before the plaintext leaves this function.
 */
export async function readEncrypted(
  path: string,
  key: KeySource,
  integrity: string | undefined,
  source = path,
): Promise<Uint8Array> {
  const hashes = integrity === undefined ? undefined : parseIntegrity(integrity);
  const hash = hashes === undefined ? undefined : createHash(hashes[0]!.algorithm);
  let hashed = 0;
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path);
  } catch (e) {
    throw new ModelLoadError('MODEL_NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
      details: { source: path },
    });
  }
  try {
    const { size } = await file.stat();
    const reader: ByteSource = {
      size,
      read: async (offset, length) => {
        const buffer = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        let got = 0;
        while (got < buffer.length) {
          const { bytesRead } = await file.read(buffer, got, buffer.length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        const bytes = buffer.subarray(0, got);
        // Reads come in order and may overlap (the format's opening is read twice): hash each byte once.
        if (hash !== undefined && offset <= hashed && offset + got > hashed) {
          hash.update(bytes.subarray(hashed - offset));
          hashed = offset + got;
        }
        return bytes;
      },
    };
    const plaintext = await decryptFrom(reader, { key, source });
    if (hash !== undefined) {
      // Every byte was read to decrypt; a file that grew meanwhile is hashed to its end here.
      if (hashed < size) hash.update(await reader.read(hashed, size - hashed));
      expectIntegrity(integrity!, `${hashes![0]!.algorithm}-${hash.digest('base64')}`, source);
    }
    return plaintext;
  } finally {
    await file.close().catch(() => undefined);
  }
}
