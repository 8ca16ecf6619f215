import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeIntegrity } from '@modelship/core';
import { encryptionFormat } from '@modelship/core/encryption';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadModel } from '../src/index';
import { runCli } from './cli-run';
import { modelPath } from './fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'modelship-encrypt-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (...argv: string[]) => runCli(argv);

describe('modelship encrypt / decrypt', () => {
  it('encrypts with a new key (a JWK, mode 600), the file loads with it, and decrypts back byte for byte', async () => {
    const plain = readFileSync(modelPath('iris'));
    const model = join(tmp, 'iris.onnx');
    writeFileSync(model, plain);
    const key = join(tmp, 'iris.key');
    const r = await run('encrypt', model, '--new-key', key, '--kid', 'prod-1');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const sealed = readFileSync(`${model}.jwe`);
    expect(r.out.split('\n')).toEqual([
      `wrote ${model}.jwe (compact JWE, A256KW + A256GCM, ${sealed.length} bytes)`,
      `wrote the key to ${key}: keep it apart from the model`,
      `integrity of the encrypted file (config.json "integrity" pins this): ${await computeIntegrity(sealed)}`,
    ]);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(readFileSync(key, 'utf8'));
    expect(Object.keys(jwk).sort()).toEqual(['alg', 'k', 'kid', 'kty']);
    expect(JSON.parse(Buffer.from(sealed.toString().split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'A256KW',
      enc: 'A256GCM',
      kid: 'prod-1',
    });
    const loaded = await loadModel(`${model}.jwe`, { decryption: { key: { file: key } } });
    expect(loaded.signature.inputs[0]!.name).toBe('input');
    expect(loaded.name).toBe('iris');
    await loaded.dispose();
    const back = join(tmp, 'iris.back.onnx');
    const d = await run('decrypt', `${model}.jwe`, '--key-file', key, '-o', back);
    expect(d.code).toBe(0);
    expect(readFileSync(back).equals(plain)).toBe(true);
    expect(d.out).toBe(`wrote ${back} (${plain.length} bytes, ${await computeIntegrity(plain)})`);
  });

  it('writes the chunked format with the key from an environment variable; --check writes nothing', async () => {
    const model = join(tmp, 'fraud.onnx');
    writeFileSync(model, readFileSync(modelPath('fraud')));
    vi.stubEnv('MODELSHIP_MODEL_KEY', Buffer.alloc(32, 7).toString('base64'));
    try {
      expect((await run('encrypt', model, '--format', 'chunked')).code).toBe(0);
      const sealed = readFileSync(`${model}.enc`);
      expect(encryptionFormat(sealed)).toBe('chunked');
      const c = await run('decrypt', `${model}.enc`, '--check');
      expect(c.out).toBe(
        `${model}.enc decrypts: ${statSync(model).size} bytes, ${await computeIntegrity(readFileSync(model))}`,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails with one line and a code: wrong key, tampered file, missing key, bad flags, existing output', async () => {
    const model = join(tmp, 'linear.onnx');
    writeFileSync(model, readFileSync(modelPath('linear')));
    const key = join(tmp, 'linear.key');
    const other = join(tmp, 'other.key');
    writeFileSync(other, Buffer.alloc(32, 9));
    expect((await run('encrypt', model, '--new-key', key)).code).toBe(0);
    const wrong = await run('decrypt', `${model}.jwe`, '--key-file', other, '--check');
    expect([wrong.code, wrong.err.split(']')[0]]).toEqual([1, 'modelship: [DECRYPTION_KEY_MISMATCH']);
    const tampered = join(tmp, 'tampered.jwe');
    const bytes = readFileSync(`${model}.jwe`);
    bytes[bytes.length - 30] = bytes[bytes.length - 30] === 65 ? 66 : 65;
    writeFileSync(tampered, bytes);
    expect((await run('decrypt', tampered, '--key-file', key, '--check')).err).toMatch(
      /^modelship: \[ENCRYPTED_MODEL_TAMPERED\]/,
    );
    vi.stubEnv('MODELSHIP_MODEL_KEY', '');
    try {
      const missing = await run('encrypt', model, '-o', join(tmp, 'x.jwe'));
      expect(missing.err).toBe(
        'modelship: [DECRYPTION_KEY_MISSING] the environment variable MODELSHIP_MODEL_KEY that should hold the model key is not set\n',
      );
    } finally {
      vi.unstubAllEnvs();
    }
    const again = await run('encrypt', model, '--key-file', key);
    expect([again.code, again.err.split('\n')[0]]).toEqual([
      2,
      `modelship: [INVALID_OPTION] --output '${model}.jwe' exists already; --force overwrites it`,
    ]);
    expect((await run('encrypt', model, '--key-file', key, '--force')).code).toBe(0);
    expect((await run('encrypt', model, '--key-file', key, '--format', 'xz')).err).toMatch(
      /--format must be jwe or chunked, not 'xz'/,
    );
    expect((await run('decrypt', `${model}.jwe`, '--key-file', key)).code).toBe(2);
    expect((await run('decrypt', model, '--key-file', key, '--check')).err).toMatch(
      /is not an encrypted model/,
    );
    expect((await run('encrypt', model, '--new-key', key)).err).toMatch(
      /--new-key '.*linear.key' exists already\n/,
    );
  });
});
