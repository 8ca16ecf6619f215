/** `modelship sign` and `modelship verify`: round trip, the upstream fixtures, exit codes. */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli-run';
import { fixturesDir, modelPath } from './fixtures';

const run = (...argv: string[]) => runCli(argv);

const UPSTREAM = join(fixturesDir, 'model-signing');

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'modelship-sign-cli-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('modelship sign / verify', () => {
  it('signs a model directory and verifies it; a changed file exits 1 with its code', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(join(tmp, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(tmp, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const model = join(tmp, 'fraud');
    mkdirSync(model);
    copyFileSync(modelPath('fraud'), join(model, 'model.onnx'));
    writeFileSync(join(model, 'README.md'), 'notes');

    const signed = await run('sign', model, '--key', join(tmp, 'key.pem'), '--ignore-paths', 'README.md');
    expect(signed).toEqual({ code: 0, out: `signed ${model}: ${join(model, 'model.sig')}`, err: '' });
    expect(await run('verify', model, '--key', join(tmp, 'pub.pem'))).toEqual({
      code: 0,
      out: `verified ${model}: 1 file signed by public key 1`,
      err: '',
    });
    const json = JSON.parse((await run('verify', model, '--key', join(tmp, 'pub.pem'), '--json')).out);
    expect(json.resources.map((r: { name: string }) => r.name)).toEqual(['model.onnx']);

    appendFileSync(join(model, 'model.onnx'), 'x');
    const bad = await run('verify', model, '--key', join(tmp, 'pub.pem'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /^modelship: \[SIGNED_FILE_MISMATCH\] 'model\.onnx' does not match its signature/,
    );
  });

  it('verifies the upstream key, certificate and keyless fixtures', async () => {
    const keys = join(UPSTREAM, 'keys');
    const byKey = await run(
      'verify',
      join(UPSTREAM, 'v1.0.1-elliptic-key'),
      '--key',
      join(keys, 'signing-key-pub.pem'),
      '--ignore-paths',
      'ignore-me',
    );
    expect(byKey).toMatchObject({
      code: 0,
      out: `verified ${join(UPSTREAM, 'v1.0.1-elliptic-key')}: 2 files signed by public key 1`,
    });
    const byCa = await run('verify', join(UPSTREAM, 'v0.2.0-certificate'), '--ca', join(keys, 'ca-cert.pem'));
    expect(byCa).toMatchObject({
      code: 0,
      out: `verified ${join(UPSTREAM, 'v0.2.0-certificate')}: 2 files signed by CN=intermediate-ca`,
    });
    const keyless = await run(
      'verify',
      join(UPSTREAM, 'v1.1.0-sigstore'),
      '--identity',
      'stefanb@us.ibm.com',
      '--issuer',
      'https://sigstore.verify.ibm.com/oauth2',
    );
    expect(keyless).toMatchObject({ code: 0, out: expect.stringMatching(/signed by stefanb@us.ibm.com/) });
  });

  it('exit codes: no trust given 2, missing model 2, unsigned 1, wrong identity 1', async () => {
    expect(await run('verify', UPSTREAM)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^modelship: \[INVALID_OPTION\] say whom to trust/),
    });
    expect(await run('verify', join(tmp, 'nope'), '--key', 'k.pem')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/\[FILE_NOT_FOUND\] the model/),
    });
    cpSync(join(UPSTREAM, 'v1.1.0-elliptic-key'), join(tmp, 'm'), { recursive: true });
    rmSync(join(tmp, 'm', 'model.sig'));
    expect(
      await run('verify', join(tmp, 'm'), '--key', join(UPSTREAM, 'keys', 'signing-key-pub.pem')),
    ).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^modelship: \[SIGNATURE_NOT_FOUND\]/),
    });
    expect(
      await run(
        'verify',
        join(UPSTREAM, 'v1.1.0-sigstore'),
        '--identity',
        'eve@example.com',
        '--issuer',
        'https://sigstore.verify.ibm.com/oauth2',
      ),
    ).toMatchObject({ code: 1, err: expect.stringMatching(/^modelship: \[SIGNATURE_UNTRUSTED\]/) });
    expect(await run('sign', tmp)).toMatchObject({ code: 2, err: expect.stringMatching(/--key/) });
  });
});
