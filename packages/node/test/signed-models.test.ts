/**
 * Signed models on disk: the upstream model-signing fixtures (keys, certificate chains,
 * keyless) verify, every kind of tampering is refused with its own code, our signatures
 * round-trip, and loadModel loads only what verifies.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf } from '../../core/src/signing/test-files';
import { loadModel, signModelPath, verifyModelPath } from '../src/index';
import { fixturesDir, modelPath } from './fixtures';

const UPSTREAM = join(fixturesDir, 'model-signing');
const key = (name: string) => readFileSync(join(UPSTREAM, 'keys', name), 'utf8');
const upstreamPub = key('signing-key-pub.pem');
const ca = key('ca-cert.pem');
const KEYLESS = { subject: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' };

function keys(namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    privateKey: privateKey.export({ type: 'sec1', format: 'pem' }) as string,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'modelship-signed-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('upstream signatures verify from disk', () => {
  it.each(['v0.3.1', 'v1.0.0'])('%s elliptic key (one file signed)', async (v) => {
    const verified = await verifyModelPath(join(UPSTREAM, `${v}-elliptic-key`, 'signme-1'), {
      publicKeys: [upstreamPub],
    });
    expect(verified.manifest.resources.map((r) => r.name)).toEqual(['.']);
  });

  it.each(['v1.0.1', 'v1.1.0'])(
    '%s elliptic key (directory, ignore-me left out as upstream does)',
    async (v) => {
      const dir = join(UPSTREAM, `${v}-elliptic-key`);
      const verified = await verifyModelPath(dir, { publicKeys: [upstreamPub], ignorePaths: ['ignore-me'] });
      expect(verified.manifest.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
    },
  );

  it.each(['v0.2.0', 'v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'])(
    '%s certificate chain to the upstream CA',
    async (v) => {
      const verified = await verifyModelPath(join(UPSTREAM, `${v}-certificate`), {
        identity: { certificateAuthorities: [ca] },
        ignorePaths: ['ignore-me'],
      });
      expect(verified.signer).toBe('CN=intermediate-ca');
      expect(verified.manifest.predicateType).toBe(
        v === 'v0.2.0' ? 'https://model_signing/Digests/v0.1' : 'https://model_signing/signature/v1.0',
      );
      expect(verified.manifest.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
    },
  );

  it.each(['v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'])(
    '%s keyless, offline, against the public-good root',
    async (v) => {
      const verified = await verifyModelPath(join(UPSTREAM, `${v}-sigstore`), {
        identity: KEYLESS,
        ignorePaths: ['ignore-me'],
      });
      expect(verified.signer).toBe('stefanb@us.ibm.com (https://sigstore.verify.ibm.com/oauth2)');
    },
  );

  it('refuses an untrusted signer of each kind', async () => {
    const dir = (d: string) => join(UPSTREAM, d);
    expect(
      await codeOf(
        verifyModelPath(dir('v1.1.0-sigstore'), { identity: { ...KEYLESS, subject: 'someone@else.com' } }),
      ),
    ).toBe('SIGNATURE_UNTRUSTED');
    expect(
      await codeOf(
        verifyModelPath(dir('v1.1.0-sigstore'), {
          identity: { ...KEYLESS, issuer: 'https://accounts.google.com' },
        }),
      ),
    ).toBe('SIGNATURE_UNTRUSTED');
    // The leaf itself as the only "CA": the chain does not end at a trusted root.
    expect(
      await codeOf(
        verifyModelPath(dir('v1.1.0-certificate'), {
          identity: { certificateAuthorities: [key('signing-key-cert.pem')] },
        }),
      ),
    ).toBe('SIGNATURE_UNTRUSTED');
    expect(
      await codeOf(
        verifyModelPath(dir('v1.1.0-certificate'), {
          identity: { certificateAuthorities: [ca], subject: 'CN=other' },
        }),
      ),
    ).toBe('SIGNATURE_UNTRUSTED');
    expect(await codeOf(verifyModelPath(dir('v1.1.0-certificate'), { publicKeys: [upstreamPub] }))).toBe(
      'SIGNATURE_UNTRUSTED',
    );
    expect(
      await codeOf(verifyModelPath(dir('v1.1.0-elliptic-key'), { publicKeys: [keys('P-384').publicKey] })),
    ).toBe('SIGNATURE_INVALID');
  });
});

describe('the tamper matrix on disk', () => {
  const cases: [string, (dir: string) => void, string][] = [
    ['untouched', () => {}, 'verified'],
    ['a tampered file', (d) => appendFileSync(join(d, 'signme-1'), 'x'), 'SIGNED_FILE_MISMATCH'],
    ['a missing file', (d) => rmSync(join(d, 'signme-2')), 'SIGNED_FILE_MISSING'],
    ['an extra file', (d) => writeFileSync(join(d, 'extra.bin'), 'x'), 'UNSIGNED_FILE'],
    [
      'an extra file in a subfolder',
      (d) => {
        mkdirSync(join(d, 'sub'));
        writeFileSync(join(d, 'sub', 'w.bin'), 'x');
      },
      'UNSIGNED_FILE',
    ],
    ['no signature', (d) => rmSync(join(d, 'model.sig')), 'SIGNATURE_NOT_FOUND'],
    [
      'a signature that is not JSON',
      (d) => writeFileSync(join(d, 'model.sig'), '{"mediaType":'),
      'SIGNATURE_MALFORMED',
    ],
    [
      'an oversized signature',
      (d) => writeFileSync(join(d, 'model.sig'), Buffer.alloc(17 * 1024 * 1024, 32)),
      'SIGNATURE_MALFORMED',
    ],
  ];
  it.each(cases)('%s', async (_, change, code) => {
    for (const kind of ['elliptic-key', 'certificate', 'sigstore']) {
      const dir = join(tmp, kind);
      cpSync(join(UPSTREAM, `v1.1.0-${kind}`), dir, { recursive: true });
      change(dir);
      const policy =
        kind === 'elliptic-key'
          ? { publicKeys: [upstreamPub] }
          : { identity: kind === 'certificate' ? { certificateAuthorities: [ca] } : KEYLESS };
      expect(await codeOf(verifyModelPath(dir, policy)), kind).toBe(code);
    }
  });

  it('bounds the signature read: maxBytes refuses a larger file naming both sizes', async () => {
    const dir = join(tmp, 'm');
    cpSync(join(UPSTREAM, 'v1.1.0-elliptic-key'), dir, { recursive: true });
    await expect(verifyModelPath(dir, { publicKeys: [upstreamPub], maxBytes: 1000 })).rejects.toThrow(
      /expected at most 1000 bytes, received 1679 bytes/,
    );
  });
});

describe('signModelPath', () => {
  it.each(['P-256', 'P-384', 'P-521'] as const)('round-trips a directory signed with %s', async (curve) => {
    const k = keys(curve);
    const dir = join(tmp, 'model');
    mkdirSync(join(dir, 'weights'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'weights', 'extra.bin'), Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'HEAD'), 'ref');
    const written = await signModelPath(dir, { privateKey: k.privateKey });
    expect(written).toBe(join(dir, 'model.sig'));
    const verified = await verifyModelPath(dir, { publicKeys: [k.publicKey] });
    expect(verified.manifest.resources.map((r) => r.name)).toEqual(['model.onnx', 'weights/extra.bin']);
    expect(verified.manifest.modelName).toBe('model');
    appendFileSync(join(dir, 'weights', 'extra.bin'), 'x');
    expect(await codeOf(verifyModelPath(dir, { publicKeys: [k.publicKey] }))).toBe('SIGNED_FILE_MISMATCH');
  });

  it('signs one file as the tool does (resource ".")', async () => {
    const k = keys();
    const file = join(tmp, 'fraud.onnx');
    copyFileSync(modelPath('fraud'), file);
    await signModelPath(file, { privateKey: k.privateKey });
    const verified = await verifyModelPath(file, { publicKeys: [k.publicKey] });
    expect(verified.manifest.resources.map((r) => r.name)).toEqual(['.']);
  });

  it('refuses keys it cannot sign with', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    await expect(signModelPath(tmp, { privateKey: rsa })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(signModelPath(tmp, { privateKey: 'nope' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

describe('loadModel with a signature policy', () => {
  it('loads a signed model and refuses an unsigned, re-keyed or altered one', async () => {
    const k = keys();
    const dir = join(tmp, '1');
    mkdirSync(dir);
    const file = join(dir, 'model.onnx');
    copyFileSync(modelPath('fraud'), file);
    const policy = { signature: { publicKeys: [k.publicKey] } };
    expect(await codeOf(loadModel(file, policy))).toBe('SIGNATURE_NOT_FOUND');
    await signModelPath(dir, { privateKey: k.privateKey });
    const model = await loadModel(file, policy);
    try {
      expect(model.name).toBe('model');
      const out = await model.predict({
        features: { dtype: 'float32', shape: [1, 12], data: new Float32Array(12) },
      });
      expect(Object.keys(out).sort()).toEqual(['label', 'probability']);
    } finally {
      await model.dispose();
    }
    expect(await codeOf(loadModel(file, { signature: { publicKeys: [keys().publicKey] } }))).toBe(
      'SIGNATURE_INVALID',
    );
    appendFileSync(file, Buffer.from([0]));
    expect(await codeOf(loadModel(file, policy))).toBe('SIGNED_FILE_MISMATCH');
  });

  it('checks its options', async () => {
    const bytes = readFileSync(modelPath('fraud'));
    await expect(loadModel(bytes, { signature: { publicKeys: [keys().publicKey] } })).rejects.toThrow(
      /loaded from its path/,
    );
    await expect(loadModel(modelPath('fraud'), { signature: {} as never })).rejects.toThrow(
      /publicKeys or an identity/,
    );
    await expect(
      loadModel(modelPath('fraud'), { signature: { publicKeys: ['not a key'] } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/signature.publicKeys\[0\] must be a PEM public key/),
    });
  });
});
