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
  /** Payload logging's file sink, which the key also encrypts. */
  logPayloadFile?: string;
}

/** `policy` with `$MODELSHIP_LOG_HASH_KEY` as its `hashKey` when it is an object naming none. */
export function withEnvHashKey(policy: unknown): unknown {
  const hashKey = process.env[LOG_HASH_KEY_ENV];
  return typeof policy === 'object' &&
    policy !== null &&
    !Array.isArray(policy) &&
    (policy as LogPolicy).hashKey === undefined &&
    hashKey
    ? { ...policy, hashKey }
    : policy;
}

/** The PredictionLog options the flags and the --config file ask for (checked, keys read). */
export async function predictionLogOptions(
  flags: LogFlags,
  config: Record<string, unknown>,
): Promise<PredictionLogOptions> {
  const inline =
    flags.logPolicy === undefined && typeof config.logPolicy === 'object' ? config.logPolicy : undefined;
  const file = flags.logPolicy ?? (typeof config.logPolicy === 'string' ? config.logPolicy : undefined);
  const keyed = flags.logPayloadFile !== undefined;
  const asked = [
    (file !== undefined || inline !== undefined) && '--log-policy',
    !keyed && flags.logKeyFile !== undefined && '--log-key-file',
    !keyed && flags.logKeyEnv !== undefined && '--log-key-env',
  ].filter((v) => v !== false);
  if (flags.logDir === undefined) {
    if (asked.length > 0)
      throw new UsageError(
        `${asked.join(' and ')} set(s) up the prediction log: give --log-dir too${keyed ? '' : ' (or --log-payload-file for a key)'}`,
      );
    const encryption = await logEncryption(flags);
    return encryption === undefined ? {} : { encryption };
  }
  const source = file === undefined ? 'logPolicy in --config' : `--log-policy ${file}`;
  const policy = file === undefined ? (inline as LogPolicy | undefined) : await readPolicy(file);
  const options: PredictionLogOptions = {};
  if (policy !== undefined) {
    const withKey = withEnvHashKey(policy) as LogPolicy;
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
  const encryption = await logEncryption(flags);
  if (encryption !== undefined) options.encryption = encryption;
  return options;
}

/** The key of `--log-key-file` / `--log-key-env`, read now, so a missing key stops the server before it serves. */
async function logEncryption(flags: LogFlags): Promise<PredictionLogOptions['encryption']> {
  if (flags.logKeyFile !== undefined && flags.logKeyEnv !== undefined)
    throw new UsageError('give the log key by --log-key-file or by --log-key-env, not both');
  if (flags.logKeyFile === undefined && flags.logKeyEnv === undefined) return undefined;
  const key = await keyOf({ keyFile: flags.logKeyFile, keyEnv: flags.logKeyEnv }).catch((e: unknown) => {
    throw new UsageError(`the log key: ${(e as Error).message}`);
  });
  return { key };
}

async function readPolicy(file: string): Promise<LogPolicy> {
  await mustExist(file, '--log-policy');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LogPolicy;
  } catch (e) {
    throw new UsageError(`--log-policy ${file}: ${(e as Error).message}`);
  }
}
