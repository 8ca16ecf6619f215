import { posix, win32 } from 'node:path';
import { invalidArgument, parseIntegrity } from '@modelship/core';
import type { ExplainDefaults } from '@modelship/core/serve';
import { type PayloadLogSettings, parsePayloadLogSettings } from '../payload-log/payload-log';
import { type ConfigSignature, parseConfigSignature } from '../signing/repository-policy';

/** Which versions of a model are served, as in TF Serving and Triton. */
export type VersionPolicy = { latest: number } | { all: true } | { specific: readonly string[] };

/**
 * `<root>/<model>/config.json`, all fields optional:
 *
 * ```json
 * { "versionPolicy": { "latest": 2 },
 *   "integrity": { "3": "sha256-…" },
 *   "labels": "labels.txt",
 *   "warmup": { "samples": "warmup-requests" },
 *   "instances": 2,
 *   "decryption": { "keyEnv": "FRAUD_MODEL_KEY" },
 *   "deploy": { "batching": { "maxBatchSize": 32, "maxQueueDelayMs": 2 }, "policy": { "type": "canary", "weight": 0.1 } } }
 * ```
 *
 * `deploy` is passed to the Deployer as the deployment options of every version. `warmup.samples`
 * names, relative to the model's folder and inside it, a folder of `*.json` warmup requests (or
 * one such file) used for every version instead of each version's own `warmup/` folder.
 * `instances` is where inference runs (`loadModel`'s option: `0` in-thread, `n` worker threads,
 * `'auto'`). `signature` requires every version to be signed (see signing/repository-policy.ts).
 * `explain` configures `POST /v1/models/{name}:explain` (see {@link ExplainConfig}).
 * `payloadLog` (`{ "mode": "all", "sampleRate": 0.1, "policy": { "fields": { "inputs.amount": "keep" } } }`)
 * sets payload logging for the model over the server's (see docs/monitoring.md).
 * `decryption` names where the key of encrypted versions (`model.onnx.jwe`,
 * `model.onnx.enc`) is: `{ "keyEnv": "NAME" }` or `{ "keyFile": "/absolute/path" }`; with it,
 * a version that is not encrypted is refused. Without it, encrypted versions use the
 * repository's `decryption` option (`modelship serve`: `$MODELSHIP_MODEL_KEY`).
 */
export interface ModelConfig {
  versionPolicy: VersionPolicy;
  /** SRI strings by version; a version listed here never loads with other bytes. */
  integrity: Readonly<Record<string, string>>;
  /** A labels file beside config.json, one label per line. */
  labels: string | undefined;
  deploy: Readonly<Record<string, unknown>>;
  /** Warmup requests for every version, relative to the model's folder. */
  warmup: { samples: string } | undefined;
  /** Sessions on worker threads (Triton's `instance_group` `count`); unset: the server's default. */
  instances: number | 'auto' | undefined;
  /** Keys or identities that must have signed each version (`model.sig` in its folder). */
  signature?: ConfigSignature;
  /** Where `:explain` finds the background, and its requests' defaults. */
  explain: ExplainConfig | undefined;
  /** Where this model's key is; every version must then be encrypted. */
  decryption: { keyEnv: string } | { keyFile: string } | undefined;
  /** Payload logging for this model, over the server's (`modelship serve --log-payload`). */
  payloadLog?: PayloadLogSettings;
}

/**
 * config.json's `explain`, all fields optional:
 * `{ "background": "explain/background.jsonl", "maxRows": 100, "method": "kernel", "nsamples": 500, "seed": 0 }`.
 */
export interface ExplainConfig extends ExplainDefaults {
  /** The background file, relative to the model's folder and inside it (default `explain/background.jsonl`). */
  background?: string;
  /** Background rows used: a longer file is sampled down to this many, seeded (default 100). */
  maxRows?: number;
}

export const DEFAULT_CONFIG: ModelConfig = {
  versionPolicy: { latest: 1 },
  integrity: {},
  labels: undefined,
  deploy: {},
  warmup: undefined,
  instances: undefined,
  explain: undefined,
  decryption: undefined,
};

const KEYS = new Set([
  'versionPolicy',
  'integrity',
  'labels',
  'deploy',
  'warmup',
  'instances',
  'signature',
  'explain',
  'decryption',
  'payloadLog',
]);

/** Parses and checks a model's config.json; every problem names the file and the field. */
export function parseModelConfig(text: string, file: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(file, `is not valid JSON (${(e as Error).message})`, text.slice(0, 40));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidArgument(file, 'must hold a JSON object', raw);
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!KEYS.has(key))
      throw invalidArgument(file, `has an unknown field '${key}' (known: ${[...KEYS].join(', ')})`, key);
  }
  const integrity: Record<string, string> = {};
  if (c.integrity !== undefined) {
    if (typeof c.integrity !== 'object' || c.integrity === null || Array.isArray(c.integrity)) {
      throw invalidArgument(file, 'integrity must map versions to SRI strings', c.integrity);
    }
    for (const [version, sri] of Object.entries(c.integrity)) {
      parseIntegrity(sri);
      integrity[version] = sri as string;
    }
  }
  if (c.labels !== undefined && (typeof c.labels !== 'string' || !/^[\w.-]+$/.test(c.labels))) {
    throw invalidArgument(file, 'labels must be a file name beside config.json', c.labels);
  }
  if (
    c.deploy !== undefined &&
    (typeof c.deploy !== 'object' || c.deploy === null || Array.isArray(c.deploy))
  ) {
    throw invalidArgument(file, 'deploy must be an object of deployment options', c.deploy);
  }
  const instances = c.instances;
  if (
    instances !== undefined &&
    instances !== 'auto' &&
    !(Number.isSafeInteger(instances) && (instances as number) >= 0 && (instances as number) <= 256)
  ) {
    throw invalidArgument(file, `instances must be "auto" or an integer from 0 to 256`, instances);
  }
  return {
    versionPolicy:
      c.versionPolicy === undefined ? DEFAULT_CONFIG.versionPolicy : checkPolicy(c.versionPolicy, file),
    integrity,
    labels: c.labels as string | undefined,
    deploy: (c.deploy as Record<string, unknown> | undefined) ?? {},
    warmup: c.warmup === undefined ? undefined : checkWarmup(c.warmup, file),
    instances: instances as ModelConfig['instances'],
    signature: parseConfigSignature(c.signature, file),
    explain: c.explain === undefined ? undefined : checkExplain(c.explain, file),
    decryption: c.decryption === undefined ? undefined : checkDecryption(c.decryption, file),
    ...(c.payloadLog === undefined ? {} : { payloadLog: checkPayloadLog(c.payloadLog, file) }),
  };
}

/** config.json's `payloadLog`; a hash key has no place in a repository, so it must come from the server. */
function checkPayloadLog(value: unknown, file: string): PayloadLogSettings {
  const policy = (value as { policy?: { hashKey?: unknown } } | null)?.policy;
  if (typeof policy === 'object' && policy !== null && policy.hashKey !== undefined)
    throw invalidArgument(
      file,
      'payloadLog.policy.hashKey must not be in config.json: give the key to the server (--log-payload-policy)',
      '<hidden>',
    );
  return parsePayloadLogSettings(value, file);
}

/** A path relative to the model's folder that cannot climb out of it; checked again on disk. */
function insidePath(value: unknown, file: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.includes('\u0000'))
    throw invalidArgument(file, `${what} must be a relative path inside the model folder`, value);
  const normal = posix.normalize(value.replaceAll('\\', '/'));
  if (posix.isAbsolute(normal) || win32.isAbsolute(value) || normal === '..' || normal.startsWith('../'))
    throw invalidArgument(file, `${what} must be a relative path inside the model folder`, value);
  return normal;
}

const EXPLAIN_KEYS = [
  'background',
  'maxRows',
  'method',
  'nsamples',
  'maxEvals',
  'seed',
  'link',
  'output',
  'class',
  'features',
];

/** `explain`: each field's type checked here, so a request never pays for a typo in the file. */
function checkExplain(value: unknown, file: string): ExplainConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(file, `explain must be an object of ${EXPLAIN_KEYS.join(', ')}`, value);
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (!EXPLAIN_KEYS.includes(key))
      throw invalidArgument(
        file,
        `explain has an unknown field '${key}' (known: ${EXPLAIN_KEYS.join(', ')})`,
        key,
      );
  }
  const out: ExplainConfig = {};
  if (e.background !== undefined) out.background = insidePath(e.background, file, 'explain.background');
  for (const key of ['maxRows', 'nsamples', 'maxEvals'] as const) {
    const v = e[key];
    if (v === undefined) continue;
    if (!(Number.isSafeInteger(v) && (v as number) > 0))
      throw invalidArgument(file, `explain.${key} must be a positive integer`, v);
    out[key] = v as number;
  }
  if (e.seed !== undefined) {
    if (!Number.isSafeInteger(e.seed)) throw invalidArgument(file, 'explain.seed must be an integer', e.seed);
    out.seed = e.seed as number;
  }
  if (e.method !== undefined) {
    if (e.method !== 'exact' && e.method !== 'kernel' && e.method !== 'permutation')
      throw invalidArgument(file, "explain.method must be 'exact', 'kernel' or 'permutation'", e.method);
    out.method = e.method;
  }
  if (e.link !== undefined) {
    if (e.link !== 'identity' && e.link !== 'logit')
      throw invalidArgument(file, "explain.link must be 'identity' or 'logit'", e.link);
    out.link = e.link;
  }
  if (e.output !== undefined) {
    if (typeof e.output !== 'string' || e.output === '')
      throw invalidArgument(file, 'explain.output must be an output name', e.output);
    out.output = e.output;
  }
  if (e.class !== undefined) {
    if (!((Number.isSafeInteger(e.class) && (e.class as number) >= 0) || typeof e.class === 'string'))
      throw invalidArgument(
        file,
        'explain.class must be a column index (an integer ≥ 0) or a label',
        e.class,
      );
    out.class = e.class as number | string;
  }
  if (e.features !== undefined) {
    const f = e.features;
    if (
      !Array.isArray(f) ||
      f.length === 0 ||
      !f.every((x) => typeof x === 'string' && x !== '') ||
      new Set(f).size !== f.length
    )
      throw invalidArgument(file, 'explain.features must be a list of distinct column names', f);
    out.features = [...(f as string[])];
  }
  return out;
}

/** `{ "keyEnv": "NAME" }` or `{ "keyFile": "/absolute/path" }`: never the key itself, which would sit beside the model. */
function checkDecryption(value: unknown, file: string): ModelConfig['decryption'] {
  const d = value as Record<string, unknown> | null;
  const keys = typeof d === 'object' && d !== null && !Array.isArray(d) ? Object.keys(d) : [];
  if (
    keys.length === 1 &&
    keys[0] === 'keyEnv' &&
    typeof d!.keyEnv === 'string' &&
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(d!.keyEnv)
  )
    return { keyEnv: d!.keyEnv };
  if (
    keys.length === 1 &&
    keys[0] === 'keyFile' &&
    typeof d!.keyFile === 'string' &&
    (posix.isAbsolute(d!.keyFile) || win32.isAbsolute(d!.keyFile))
  )
    return { keyFile: d!.keyFile };
  throw invalidArgument(
    file,
    'decryption must be { "keyEnv": "<environment variable>" } or { "keyFile": "<absolute path>" }',
    value,
  );
}

/** `{ "samples": "<path inside the model's folder>" }`; the path is checked again on disk. */
function checkWarmup(value: unknown, file: string): { samples: string } {
  const w = value as Record<string, unknown> | null;
  if (typeof w !== 'object' || w === null || Array.isArray(w) || Object.keys(w).join() !== 'samples')
    throw invalidArgument(file, 'warmup must be { "samples": "<path inside the model folder>" }', value);
  return { samples: insidePath(w.samples, file, 'warmup.samples') };
}

function checkPolicy(value: unknown, file: string): VersionPolicy {
  const p = value as Record<string, unknown> | null;
  if (typeof p === 'object' && p !== null && Object.keys(p).length === 1) {
    if ('latest' in p && Number.isSafeInteger(p.latest) && (p.latest as number) >= 1)
      return { latest: p.latest as number };
    if ('all' in p && p.all === true) return { all: true };
    if (
      'specific' in p &&
      Array.isArray(p.specific) &&
      p.specific.every((v) => typeof v === 'string' && isVersion(v))
    ) {
      return { specific: [...(p.specific as string[])] };
    }
  }
  throw invalidArgument(
    file,
    'versionPolicy must be { "latest": n } (n ≥ 1), { "all": true } or { "specific": ["1", "3"] }',
    value,
  );
}

/** Version folders are positive integers without leading zeros, as in Triton. */
export function isVersion(name: string): boolean {
  return /^[1-9][0-9]{0,15}$/.test(name);
}

/** Picks the versions a policy serves from those on disk (numeric order). */
export function selectVersions(policy: VersionPolicy, available: readonly string[]): string[] {
  const sorted = [...available].sort((a, b) => Number(a) - Number(b));
  if ('latest' in policy) return sorted.slice(-policy.latest);
  if ('all' in policy) return sorted;
  return sorted.filter((v) => policy.specific.includes(v));
}
