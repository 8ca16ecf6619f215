import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, toHex, utf8 } from './encoding';
import { derToP1363, keyHint, p1363ToDer, readPublicKey } from './keys';
import { Sha256 } from './sha256';
import { createStatement, signModel } from './sign';
import { codeOf, memoryFiles } from './test-files';
import { verifyModelSignature } from './verify';

const FIXTURES = new URL('../../../../fixtures/model-signing/', import.meta.url).pathname;
const upstreamKey = readFileSync(join(FIXTURES, 'keys/signing-key-pub.pem'), 'utf8');

/** A fixture directory as memory files (everything in it, model.sig included, as on disk). */
function fixture(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const name of readdirSync(join(FIXTURES, dir))) out[name] = readFileSync(join(FIXTURES, dir, name));
  return out;
}

describe('Sha256', () => {
  it('matches node:crypto on sizes around block and chunk boundaries, fed in uneven pieces', () => {
    const data = new Uint8Array(3 * 65536 + 200);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const sizes = [
      0,
      1,
      55,
      56,
      57,
      63,
      64,
      65,
      119,
      120,
      127,
      128,
      129,
      1000,
      4095,
      4096,
      65535,
      65536,
      65537,
      3 * 65536 + 200,
    ];
    for (const size of sizes) {
      const bytes = data.subarray(0, size);
      const expected = createHash('sha256').update(bytes).digest('hex');
      for (const piece of [1, 7, 64, 1000, 65536]) {
        const h = new Sha256();
        for (let i = 0; i < size; i += piece) h.update(bytes.subarray(i, i + piece));
        expect(toHex(h.digest()), `size ${size} piece ${piece}`).toBe(expected);
      }
    }
  });

  it('hashes past 1 MiB pieces as node:crypto does', () => {
    const bytes = new Uint8Array((1 << 20) * 2 + 13).map((_, i) => i & 0xff);
    const h = new Sha256();
    h.update(bytes.subarray(0, 1 << 20));
    h.update(bytes.subarray(1 << 20));
    expect(toHex(h.digest())).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('keys and signatures', () => {
  it('computes the hint the tool writes for the upstream key', () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8'));
    expect(readPublicKey(upstreamKey).hint).toBe(bundle.verificationMaterial.publicKey.hint);
    expect(readPublicKey(upstreamKey).curve).toBe('P-384');
  });

  it('converts DER signatures to r||s and back, for every curve', () => {
    for (const namedCurve of ['P-256', 'P-384', 'P-521'] as const) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve });
      const size = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }[namedCurve];
      for (let i = 0; i < 20; i++) {
        const der = nodeSign(null, utf8(`m${i}`), { key: privateKey, dsaEncoding: 'der' });
        const raw = derToP1363(der, size)!;
        expect(raw.length).toBe(size * 2);
        expect(toHex(p1363ToDer(raw))).toBe(der.toString('hex'));
      }
    }
  });

  it('refuses what is not an EC public key with INVALID_ARGUMENT', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => readPublicKey(publicKey.export({ type: 'spki', format: 'pem' }) as string)).toThrow(
      /P-256, P-384 or P-521/,
    );
    expect(() => readPublicKey('not a key')).toThrow(/PEM public key/);
  });
});

describe('upstream signatures (sigstore/model-transparency scripts/tests)', () => {
  it.each(['v0.3.1', 'v1.0.0'])('%s elliptic-key: the signed file verifies', async (v) => {
    const dir = `${v}-elliptic-key`;
    const sig = readFileSync(join(FIXTURES, dir, 'model.sig'));
    const files = memoryFiles({ '.': readFileSync(join(FIXTURES, dir, 'signme-1')) });
    const verified = await verifyModelSignature(sig, files, { publicKeys: [upstreamKey] });
    expect(verified.manifest.resources).toEqual([
      {
        name: '.',
        path: '.',
        digest: createHash('sha256')
          .update(readFileSync(join(FIXTURES, dir, 'signme-1')))
          .digest('hex'),
      },
    ]);
  });

  it.each(['v1.0.1', 'v1.1.0'])(
    '%s elliptic-key: the directory verifies; ignore-me is an unsigned file',
    async (v) => {
      const dir = `${v}-elliptic-key`;
      const sig = readFileSync(join(FIXTURES, dir, 'model.sig'));
      const files = memoryFiles(fixture(dir));
      const ok = await verifyModelSignature(sig, files, {
        publicKeys: [upstreamKey],
        ignorePaths: ['model.sig', 'ignore-me'],
      });
      expect(ok.manifest.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
      expect(ok.manifest.modelName).toBe(dir);
      if (v === 'v1.0.1')
        // v1.0.1 did not record its ignored paths: without the caller's, ignore-me is refused.
        expect(
          await codeOf(
            verifyModelSignature(sig, files, { publicKeys: [upstreamKey], ignorePaths: ['model.sig'] }),
          ),
        ).toBe('UNSIGNED_FILE');
    },
  );

  it('the tamper matrix: each failure has its own code', async () => {
    const dir = 'v1.1.0-elliptic-key';
    const sig = readFileSync(join(FIXTURES, dir, 'model.sig'));
    const base = fixture(dir);
    const run = (files: Record<string, Uint8Array>, keys = [upstreamKey]) =>
      codeOf(verifyModelSignature(sig, memoryFiles(files), { publicKeys: keys }));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    expect(await run(base)).toBe('verified');
    expect(await run({ ...base, 'signme-1': utf8('tampered') })).toBe('SIGNED_FILE_MISMATCH');
    const { 'signme-2': _, ...missing } = base;
    expect(await run(missing)).toBe('SIGNED_FILE_MISSING');
    expect(await run({ ...base, 'extra.onnx': utf8('x') })).toBe('UNSIGNED_FILE');
    expect(await run(base, [other])).toBe('SIGNATURE_INVALID');
    expect(await codeOf(verifyModelSignature(sig, memoryFiles(base), {}))).toBe('SIGNATURE_UNTRUSTED');
  });

  it('a statement altered after signing does not verify', async () => {
    const bundle = JSON.parse(readFileSync(join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8'));
    const payload = new TextDecoder().decode(fromBase64(bundle.dsseEnvelope.payload));
    bundle.dsseEnvelope.payload = Buffer.from(payload.replace('"signme-2"', '"signme-3"')).toString('base64');
    const files = memoryFiles(fixture('v1.1.0-elliptic-key'));
    expect(
      await codeOf(verifyModelSignature(JSON.stringify(bundle), files, { publicKeys: [upstreamKey] })),
    ).toBe('SIGNATURE_INVALID');
  });

  it('certificate and keyless bundles need a signer check (Node gives one)', async () => {
    for (const dir of ['v1.1.0-certificate', 'v1.1.0-sigstore', 'v0.2.0-certificate']) {
      const sig = readFileSync(join(FIXTURES, dir, 'model.sig'));
      expect(
        await codeOf(verifyModelSignature(sig, memoryFiles(fixture(dir)), { publicKeys: [upstreamKey] })),
      ).toBe('SIGNATURE_UNTRUSTED');
    }
  });
});

describe('signModel', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const sign = async (data: Uint8Array) => nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
  const model = {
    'model.onnx': new Uint8Array(3_000_000).map((_, i) => i % 251),
    'b/config.json': utf8('{}'),
    'a.txt': utf8('a'),
    '.git/HEAD': utf8('ref'),
  };

  it('writes what verifies, in the upstream layout field by field', async () => {
    const text = await signModel(memoryFiles(model, 65536), {
      modelName: 'm',
      publicKey: spki,
      sign,
      ignorePaths: ['model.sig'],
    });
    const ours = JSON.parse(text);
    const theirs = JSON.parse(readFileSync(join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8'));
    const shape = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.slice(0, 1).map(shape)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
          : typeof v;
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours.verificationMaterial.publicKey.hint).toBe(keyHint(spki));
    const statement = JSON.parse(Buffer.from(ours.dsseEnvelope.payload, 'base64').toString());
    const upstream = JSON.parse(Buffer.from(theirs.dsseEnvelope.payload, 'base64').toString());
    expect(Object.keys(statement)).toEqual(Object.keys(upstream));
    expect(statement._type).toBe(upstream._type);
    expect(statement.predicateType).toBe(upstream.predicateType);
    expect(Object.keys(statement.predicate.serialization).sort()).toEqual(
      Object.keys(upstream.predicate.serialization).sort(),
    );
    expect(statement.predicate.serialization.ignore_paths).toEqual([
      '.git',
      '.gitattributes',
      '.github',
      '.gitignore',
      'model.sig',
    ]);
    expect(statement.predicate.resources.map((r: { name: string }) => r.name)).toEqual([
      'a.txt',
      'b/config.json',
      'model.onnx',
    ]);
    expect(statement.predicate.resources[2].digest).toBe(
      createHash('sha256').update(model['model.onnx']).digest('hex'),
    );
    const verified = await verifyModelSignature(text, memoryFiles(model), { publicKeys: [pem] });
    expect(verified.manifest.rootDigest).toBe(statement.subject[0].digest.sha256);
  });

  it('the root digest is the SHA-256 of the resources digests in order, as upstream computes it', () => {
    const upstream = JSON.parse(
      Buffer.from(
        JSON.parse(readFileSync(join(FIXTURES, 'v1.1.0-elliptic-key/model.sig'), 'utf8')).dsseEnvelope
          .payload,
        'base64',
      ).toString(),
    );
    const ours = JSON.parse(
      new TextDecoder().decode(
        createStatement(
          'v1.1.0-elliptic-key',
          upstream.predicate.resources.map((r: { name: string; digest: string }) => ({ ...r, path: r.name })),
          {
            method: 'files',
            hashType: 'sha256',
            allowSymlinks: false,
            ignorePaths: [],
          },
        ),
      ),
    );
    expect(ours.subject).toEqual(upstream.subject);
  });
});
