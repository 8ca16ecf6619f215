/**
 * The prediction log's settings of `modelship serve`: `--log-policy` (or `logPolicy` in
 * --config, a file or the policy itself) and `--log-key-file` / `--log-key-env` to encrypt it.
 */
import { readFile } from 'node:fs/promises';
import { createRedactor, type LogPolicy, ModelshipError } from '@modelship/core';
import type { PredictionLogOptions } from '../prediction-log';
import { keyOf } from './encrypt';
import { UsageError } from './errors';
import { mustExist } from './files';

/** Where `hash` rules take their key when the policy names none. */
export const LOG_HASH_KEY_ENV = 'MODELSHIP_LOG_HASH_KEY';

export interface LogFlags {
  logDir?: string;
  logPolicy?: string;
  logKeyFile?: string;
  logKeyEnv?: string;
}

/** The PredictionLog options the flags and the --config file ask for (checked, keys read). */
export async function predictionLogOptions(
  flags: LogFlags,
  config: Record<string, unknown>,
): Promise<PredictionLogOptions> {
  const inline =
    flags.logPolicy === undefined && typeof config.logPolicy === 'object' ? config.logPolicy : undefined;
  const file = flags.logPolicy ?? (typeof config.logPolicy === 'string' ? config.logPolicy : undefined);
  const asked = [
    (file !== undefined || inline !== undefined) && '--log-policy',
    flags.logKeyFile !== undefined && '--log-key-file',
    flags.logKeyEnv !== undefined && '--log-key-env',
  ].filter((v) => v !== false);
  if (flags.logDir === undefined) {
    if (asked.length > 0)
      throw new UsageError(`${asked.join(' and ')} set(s) up the prediction log: give --log-dir too`);
    return {};
  }
  const source = file === undefined ? 'logPolicy in --config' : `--log-policy ${file}`;
  const policy = file === undefined ? (inline as LogPolicy | undefined) : await readPolicy(file);
  const options: PredictionLogOptions = {};
  if (policy !== undefined) {
    const hashKey = process.env[LOG_HASH_KEY_ENV];
    const withKey =
      typeof policy === 'object' && policy !== null && policy.hashKey === undefined && hashKey
        ? { ...policy, hashKey }
        : policy;
    try {
      createRedactor(withKey);
    } catch (e) {
      if (!ModelshipError.isInstance(e)) throw e;
      throw new UsageError(
        `${source}: ${e.message.replace(/^createRedactor: /, '')}${/hashKey/.test(e.message) ? ` (or set $${LOG_HASH_KEY_ENV})` : ''}`,
      );
    }
    options.policy = withKey;
  }
  if (flags.logKeyFile !== undefined && flags.logKeyEnv !== undefined)
    throw new UsageError('give the log key by --log-key-file or by --log-key-env, not both');
  if (flags.logKeyFile !== undefined || flags.logKeyEnv !== undefined) {
    // Read now, so a missing key stops the server before it serves rather than at the first write.
    const key = await keyOf({ keyFile: flags.logKeyFile, keyEnv: flags.logKeyEnv }).catch((e: unknown) => {
      throw new UsageError(`the prediction log's key: ${(e as Error).message}`);
    });
    options.encryption = { key };
  }
  return options;
}

async function readPolicy(file: string): Promise<LogPolicy> {
  await mustExist(file, '--log-policy');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LogPolicy;
  } catch (e) {
    throw new UsageError(`--log-policy ${file}: ${(e as Error).message}`);
  }
}
