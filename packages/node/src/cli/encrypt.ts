/**
 * `modelship encrypt` and `modelship decrypt`: a model encrypted for the repository (a compact
 * JWE, A256KW + A256GCM, as KServe reads; or the chunked format for large models), and back.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { computeIntegrity } from '@modelship/core';
import { type DecryptionKey, decryptModel, encryptionFormat, encryptModel } from '@modelship/core/encryption';
import type { Command } from 'commander';
import { DEFAULT_KEY_ENV, keyFromEnv, keyFromFile } from '../decryption';
import { CliError, UsageError } from './errors';
import { readBytes } from './files';

type Out = (s: string) => void;

export interface KeyFlags {
  keyFile?: string;
  keyEnv?: string;
}

interface EncryptFlags extends KeyFlags {
  newKey?: string;
  kid?: string;
  format?: string;
  output?: string;
  force?: boolean;
}

interface DecryptFlags extends KeyFlags {
  output?: string;
  check?: boolean;
  force?: boolean;
}

export const KEY_HELP = `a file holding the 256-bit key (32 bytes, a JWK, 64 hex digits or base64)`;

export function registerEncrypt(program: Command, out: Out, done: (code: number) => void): void {
  program
    .command('encrypt')
    .summary('encrypt a model for storage (JWE A256KW + A256GCM, or chunked)')
    .description(
      `Encrypts a model so it rests encrypted on disk and is decrypted only in memory when it loads. The key comes from --key-file, --key-env or $${DEFAULT_KEY_ENV}; --new-key makes one.`,
    )
    .argument('<model>', 'the file to encrypt (an .onnx model, usually)')
    .option('--key-file <file>', KEY_HELP)
    .option('--key-env <name>', `an environment variable holding the key (default: ${DEFAULT_KEY_ENV})`)
    .option(
      '--new-key <file>',
      'make a random key, write it to this new file (as a JWK, mode 600) and use it',
    )
    .option('--kid <id>', 'a key id written into the header and handed to key functions')
    .option(
      '--format <name>',
      'jwe (compact JWE, default: KServe and JOSE tools read it) or chunked (large models)',
    )
    .option('-o, --output <file>', 'where to write (default: <model>.jwe, or <model>.enc for chunked)')
    .option('--force', 'overwrite the output file')
    .action(async (path: string, flags: EncryptFlags) => done(await encrypt(path, flags, out)));
}

export function registerDecrypt(program: Command, out: Out, done: (code: number) => void): void {
  program
    .command('decrypt')
    .summary('decrypt an encrypted model to a file, or only check it')
    .description(
      'Decrypts a model made by modelship encrypt (or any JWE with A256KW + A256GCM). Loading never needs this: the server and loadModel decrypt in memory. --check verifies the key and every tag and writes nothing.',
    )
    .argument('<file>', 'a .jwe or .enc file')
    .option('--key-file <file>', KEY_HELP)
    .option('--key-env <name>', `an environment variable holding the key (default: ${DEFAULT_KEY_ENV})`)
    .option('-o, --output <file>', 'where to write the plaintext')
    .option('--check', 'decrypt in memory only, print the plaintext integrity string')
    .option('--force', 'overwrite the output file')
    .action(async (path: string, flags: DecryptFlags) => done(await decrypt(path, flags, out)));
}

/** The key of --key-file or --key-env (default: the variable `env`). */
export async function keyOf(flags: KeyFlags, env = DEFAULT_KEY_ENV): Promise<DecryptionKey> {
  if (flags.keyFile !== undefined && flags.keyEnv !== undefined)
    throw new UsageError('give the key by --key-file or by --key-env, not both');
  if (flags.keyFile !== undefined) return keyFromFile(flags.keyFile);
  return keyFromEnv(flags.keyEnv ?? env);
}

async function encrypt(path: string, flags: EncryptFlags, out: Out): Promise<number> {
  const format = flags.format ?? 'jwe';
  if (format !== 'jwe' && format !== 'chunked')
    throw new UsageError(`--format must be jwe or chunked, not '${format}'`);
  if (flags.newKey !== undefined && (flags.keyFile !== undefined || flags.keyEnv !== undefined))
    throw new UsageError('--new-key makes the key; do not also give --key-file or --key-env');
  const plaintext = await readBytes(path, 'the model');
  const output = flags.output ?? `${path}.${format === 'jwe' ? 'jwe' : 'enc'}`;
  let key: DecryptionKey;
  if (flags.newKey !== undefined) {
    const bytes = new Uint8Array(randomBytes(32));
    const jwk = {
      kty: 'oct',
      k: Buffer.from(bytes).toString('base64url'),
      alg: 'A256KW',
      ...(flags.kid === undefined ? {} : { kid: flags.kid }),
    };
    await writeNew(flags.newKey, `${JSON.stringify(jwk)}\n`, false, 0o600, '--new-key');
    key = bytes;
  } else key = await keyOf(flags);
  const sealed = await encryptModel(plaintext, {
    key,
    format,
    ...(flags.kid === undefined ? {} : { kid: flags.kid }),
  });
  await writeNew(output, sealed, flags.force === true, 0o644, '--output');
  out(
    `wrote ${output} (${format === 'jwe' ? 'compact JWE, A256KW + A256GCM' : 'chunked A256KW + A256GCM'}, ${sealed.length} bytes)`,
  );
  if (flags.newKey !== undefined) out(`wrote the key to ${flags.newKey}: keep it apart from the model`);
  out(
    `integrity of the encrypted file (config.json "integrity" pins this): ${await computeIntegrity(sealed)}`,
  );
  return 0;
}

async function decrypt(path: string, flags: DecryptFlags, out: Out): Promise<number> {
  if ((flags.output === undefined) === (flags.check !== true))
    throw new UsageError('give --output <file> to write the plaintext, or --check to verify only');
  const sealed = await readBytes(path, 'the encrypted model');
  if (encryptionFormat(sealed.subarray(0, 12)) === undefined)
    throw new CliError(
      'FILE_NOT_FOUND',
      `'${path}' is not an encrypted model (neither a JWE nor the chunked format)`,
    );
  const plaintext = await decryptModel(sealed, { key: await keyOf(flags), source: path });
  const integrity = await computeIntegrity(plaintext);
  if (flags.output !== undefined) {
    await writeNew(flags.output, plaintext, flags.force === true, 0o600, '--output');
    out(`wrote ${flags.output} (${plaintext.length} bytes, ${integrity})`);
  } else out(`${path} decrypts: ${plaintext.length} bytes, ${integrity}`);
  return 0;
}

/** Writes a file that must not exist yet (unless `force`): a key or a model is never overwritten by accident. */
export async function writeNew(
  path: string,
  data: string | Uint8Array,
  force: boolean,
  mode: number,
  what: string,
): Promise<void> {
  try {
    await writeFile(path, data, { flag: force ? 'w' : 'wx', mode });
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST')
      throw new UsageError(
        `${what} '${path}' exists already${what === '--new-key' ? '' : '; --force overwrites it'}`,
      );
    throw new CliError('FILE_NOT_FOUND', `cannot write ${what} '${path}': ${(e as Error).message}`);
  }
}
