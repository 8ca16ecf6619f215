/**
 * The `signature` field of a repository model's config.json: which keys or identities must have
 * signed every version. Key and certificate files are named relative to the model's folder.
 *
 * ```json
 * { "signature": { "publicKeys": ["keys/release.pub"] } }
 * { "signature": { "identity": { "subject": "ci@example.com", "issuer": "https://accounts.google.com" } } }
 * { "signature": { "identity": { "certificateAuthorities": ["keys/ca.pem"] } } }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { invalidArgument, SignatureError } from '@modelship/core';
import { resolveInside } from '../repository/contain';
import type { SignaturePolicy } from './verify-model';

/** The config's signature policy, with file names still to be read. */
export interface ConfigSignature {
  publicKeys?: string[];
  identity?: { subject?: string; issuer?: string; certificateAuthorities?: string[]; trustedRoot?: string };
}

/** Checks config.json's `signature` field; every problem names the file and the field. */
export function parseConfigSignature(value: unknown, file: string): ConfigSignature | undefined {
  if (value === undefined) return undefined;
  const bad = (what: string, v: unknown) => invalidArgument(file, `signature.${what}`, v);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('must be { "publicKeys": [files] } or { "identity": { … } }', value);
  const s = value as Record<string, unknown>;
  const unknown = Object.keys(s).find((k) => k !== 'publicKeys' && k !== 'identity');
  if (unknown !== undefined)
    throw bad(`has an unknown field '${unknown}' (known: publicKeys, identity)`, unknown);
  const out: ConfigSignature = {};
  if (s.publicKeys !== undefined) out.publicKeys = files(s.publicKeys, 'publicKeys', bad);
  if (s.identity !== undefined) {
    const id = s.identity as Record<string, unknown>;
    if (typeof id !== 'object' || id === null || Array.isArray(id))
      throw bad('identity must be an object', id);
    const known = ['subject', 'issuer', 'certificateAuthorities', 'trustedRoot'];
    const extra = Object.keys(id).find((k) => !known.includes(k));
    if (extra !== undefined)
      throw bad(`identity has an unknown field '${extra}' (known: ${known.join(', ')})`, extra);
    for (const k of ['subject', 'issuer'] as const)
      if (id[k] !== undefined && (typeof id[k] !== 'string' || id[k] === ''))
        throw bad(`identity.${k} must be a string`, id[k]);
    out.identity = {
      subject: id.subject as string | undefined,
      issuer: id.issuer as string | undefined,
      certificateAuthorities:
        id.certificateAuthorities === undefined
          ? undefined
          : files(id.certificateAuthorities, 'identity.certificateAuthorities', bad),
      trustedRoot:
        id.trustedRoot === undefined ? undefined : files([id.trustedRoot], 'identity.trustedRoot', bad)[0],
    };
  }
  if (out.publicKeys === undefined && out.identity === undefined)
    throw bad('needs publicKeys or identity', value);
  return out;
}

function files(value: unknown, what: string, bad: (w: string, v: unknown) => Error): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw bad(`${what} must be a non-empty array of file names`, value);
  return value.map((f) => {
    const normal = typeof f === 'string' ? posix.normalize(f.replaceAll('\\', '/')) : '';
    if (
      normal === '' ||
      posix.isAbsolute(normal) ||
      win32.isAbsolute(f) ||
      normal === '..' ||
      normal.startsWith('../')
    )
      throw bad(`${what} must name files inside the model folder`, f);
    return normal;
  });
}

/** Reads the files a config names (inside `modelDir`) into the policy loadModel takes. */
export async function readConfigSignature(
  config: ConfigSignature,
  modelDir: string,
): Promise<SignaturePolicy> {
  const read = async (name: string) => {
    try {
      return await readFile(await resolveInside(modelDir, `${modelDir}/${name}`), 'utf8');
    } catch (e) {
      throw new SignatureError(
        'SIGNATURE_UNTRUSTED',
        `'${name}', named by config.json's signature, cannot be read: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  };
  const id = config.identity;
  return {
    publicKeys: config.publicKeys === undefined ? undefined : await Promise.all(config.publicKeys.map(read)),
    identity:
      id === undefined
        ? undefined
        : {
            subject: id.subject,
            issuer: id.issuer,
            certificateAuthorities:
              id.certificateAuthorities === undefined
                ? undefined
                : await Promise.all(id.certificateAuthorities.map(read)),
            trustedRoot: id.trustedRoot === undefined ? undefined : await read(id.trustedRoot),
          },
  };
}
