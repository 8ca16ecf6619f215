/**
 * The in-toto statement inside a model signature, as the list of files (or file shards) and
 * their SHA-256 digests it vouches for. Two predicates exist: `signature/v1.0` (tool ≥ 0.3) and
 * `Digests/v0.1`, written by tool 0.2 and still accepted by the upstream verifier.
 */
import { describe, SignatureError } from '../errors';
import { malformed } from './bundle';
import { fromHex, fromUtf8, isSha256Hex, toHex } from './encoding';
import { Sha256 } from './sha256';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_V1 = 'https://model_signing/signature/v1.0';
export const PREDICATE_V0_2 = 'https://model_signing/Digests/v0.1';

/** How the signer cut the model into resources: whole files, or shards of `shardSize` bytes. */
export interface Serialization {
  method: 'files' | 'shards';
  hashType: 'sha256';
  allowSymlinks: boolean;
  shardSize?: number;
  ignorePaths: string[];
}

/** One signed resource: a file (`name`) or a shard (`path:start:end`), and its SHA-256. */
export interface SignedResource {
  name: string;
  /** The file the resource is, or is part of ('/'-separated, relative to the model). */
  path: string;
  /** For shards: the byte range [start, end). */
  start?: number;
  end?: number;
  /** Lower-case hex SHA-256. */
  digest: string;
}

/** What a model signature vouches for. */
export interface SignedManifest {
  predicateType: typeof PREDICATE_V1 | typeof PREDICATE_V0_2;
  /** The model's name as the signer saw it (its directory or file name; informative only). */
  modelName: string;
  /** SHA-256 over the resources' digests in order (v1.0 only): one digest for the whole model. */
  rootDigest?: string;
  serialization: Serialization;
  resources: SignedResource[];
}

/**
 * Reads the statement from a DSSE payload. Throws `SIGNATURE_MALFORMED` for a statement that is
 * not one (including a root digest that does not match the resources) and
 * `SIGNATURE_UNSUPPORTED` for a hash other than SHA-256 or an unknown serialization method.
 */
export function parseStatement(payload: Uint8Array, source = 'the signature'): SignedManifest {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(payload));
  } catch {
    throw malformed(source, 'an in-toto statement in JSON as the DSSE payload', 'a payload that is not JSON');
  }
  const st = obj(json, 'the statement', source);
  if (st._type !== STATEMENT_TYPE)
    throw malformed(source, `statement _type ${STATEMENT_TYPE}`, describe(st._type));
  if (!Array.isArray(st.subject) || st.subject.length === 0)
    throw malformed(source, 'statement.subject as a non-empty array', describe(st.subject));
  if (st.predicateType === PREDICATE_V0_2) return compat(st.subject, source);
  if (st.predicateType !== PREDICATE_V1)
    throw malformed(source, `predicateType ${PREDICATE_V1} or ${PREDICATE_V0_2}`, describe(st.predicateType));
  if (st.subject.length !== 1) throw malformed(source, 'one subject', `${st.subject.length}`);
  const subject = obj(st.subject[0], 'statement.subject[0]', source);
  const modelName = str(subject.name, 'statement.subject[0].name', source);
  const rootDigest = obj(subject.digest, 'statement.subject[0].digest', source).sha256;
  if (!isSha256Hex(rootDigest))
    throw malformed(source, 'subject digest sha256 as 64 hex digits', describe(rootDigest));
  // Fields beside serialization and resources are ignored, as the v1.0 predicate asks.
  const predicate = obj(st.predicate, 'statement.predicate', source);
  const serialization = parseSerialization(
    obj(predicate.serialization, 'predicate.serialization', source),
    source,
  );
  if (!Array.isArray(predicate.resources))
    throw malformed(source, 'predicate.resources as an array', describe(predicate.resources));
  const root = new Sha256();
  const seen = new Set<string>();
  const resources = predicate.resources.map((r, i): SignedResource => {
    const where = `predicate.resources[${i}]`;
    const res = obj(r, where, source);
    const name = str(res.name, `${where}.name`, source);
    if (res.algorithm !== 'sha256')
      throw unsupported(source, `${where}.algorithm: only sha256 is supported`, describe(res.algorithm));
    if (!isSha256Hex(res.digest))
      throw malformed(source, `${where}.digest as 64 hex digits`, describe(res.digest));
    if (seen.has(name)) throw malformed(source, 'each resource named once', `'${name}' twice`);
    seen.add(name);
    root.update(fromHex(res.digest));
    return { ...resourceName(name, serialization, source), digest: res.digest };
  });
  const computed = toHex(root.digest());
  if (computed !== rootDigest)
    throw malformed(
      source,
      `resources that hash to the subject's digest ${rootDigest}`,
      `resources hashing to ${computed}`,
    );
  return { predicateType: PREDICATE_V1, modelName, rootDigest, serialization, resources };
}

function compat(subjects: unknown[], source: string): SignedManifest {
  const resources = subjects.map((s, i): SignedResource => {
    const where = `statement.subject[${i}]`;
    const subject = obj(s, where, source);
    const name = str(subject.name, `${where}.name`, source);
    const digest = obj(subject.digest, `${where}.digest`, source).sha256;
    if (!isSha256Hex(digest))
      throw malformed(source, `${where}.digest.sha256 as 64 hex digits`, describe(digest));
    return { name, path: name, digest };
  });
  return {
    predicateType: PREDICATE_V0_2,
    modelName: 'compat-undefined-not-present',
    serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
    resources,
  };
}

function parseSerialization(s: Record<string, unknown>, source: string): Serialization {
  if (s.method !== 'files' && s.method !== 'shards')
    throw unsupported(source, "serialization.method 'files' or 'shards'", describe(s.method));
  if (s.hash_type !== 'sha256')
    throw unsupported(source, "serialization.hash_type 'sha256'", describe(s.hash_type));
  if (typeof s.allow_symlinks !== 'boolean')
    throw malformed(source, 'serialization.allow_symlinks as a boolean', describe(s.allow_symlinks));
  const ignore = s.ignore_paths ?? [];
  if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string'))
    throw malformed(source, 'serialization.ignore_paths as an array of strings', describe(ignore));
  const out: Serialization = {
    method: s.method,
    hashType: 'sha256',
    allowSymlinks: s.allow_symlinks,
    ignorePaths: ignore as string[],
  };
  if (s.method === 'shards') {
    if (!(Number.isSafeInteger(s.shard_size) && (s.shard_size as number) > 0))
      throw malformed(source, 'serialization.shard_size as a positive integer', describe(s.shard_size));
    out.shardSize = s.shard_size as number;
  }
  return out;
}

function resourceName(
  name: string,
  serialization: Serialization,
  source: string,
): Omit<SignedResource, 'digest'> {
  if (serialization.method === 'files') return { name, path: name };
  const m = /^(.*):(\d+):(\d+)$/.exec(name);
  const start = Number(m?.[2]);
  const end = Number(m?.[3]);
  if (m === null || start > end || !Number.isSafeInteger(end))
    throw malformed(source, "shard names as 'path:start:end'", describe(name));
  return { name, path: m[1]!, start, end };
}

function obj(value: unknown, where: string, source: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(source, `${where} as a JSON object`, describe(value));
  return value as Record<string, unknown>;
}

function str(value: unknown, where: string, source: string): string {
  if (typeof value !== 'string' || value === '')
    throw malformed(source, `${where} as a non-empty string`, describe(value));
  return value;
}

function unsupported(source: string, expected: string, received: string): SignatureError {
  return new SignatureError(
    'SIGNATURE_UNSUPPORTED',
    `${source} uses what Modelship does not verify: expected ${expected}, received ${received}`,
    {
      details: { source, expected, received },
    },
  );
}
