/** @modelship/browser's loadModel with `decryption`, on onnxruntime-web's Node build (chromium-encrypted.test.ts repeats it in Chromium). */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeIntegrity, toArray } from '@modelship/core';
import { encryptModel } from '@modelship/core/encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesOf, modelPath } from '../../node/test/fixtures';
import { loadModel } from '../src/index';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 40); // test-only
const plain = new Uint8Array(readFileSync(modelPath('iris')));
let sealed: Uint8Array;
let server: Server;
let base: string;

beforeAll(async () => {
  sealed = await encryptModel(plain, { key: KEY, kid: 'web' });
  server = createServer((req, res) => {
    if (req.url !== '/models/iris.onnx.jwe') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': sealed.length }).end(sealed);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('loadModel with decryption (browser package)', () => {
  it('downloads the JWE, pins its integrity, decrypts in memory and predicts what the plain model predicts', async () => {
    const [c] = casesOf('iris');
    const reference = await loadModel(plain);
    const want = toArray((await reference.predict(c!.inputs)).probabilities!);
    await reference.dispose();
    const asked: (string | undefined)[] = [];
    const model = await loadModel(`${base}/models/iris.onnx.jwe`, {
      integrity: await computeIntegrity(sealed),
      decryption: {
        key: async (kid) => {
          asked.push(kid);
          return crypto.subtle.importKey('raw', KEY, 'AES-KW', false, ['unwrapKey']);
        },
      },
    });
    expect(model.name).toBe('iris');
    expect(asked).toEqual(['web']);
    expect(model.diagnostics.bytes).toBe(plain.length);
    expect(toArray((await model.predict(c!.inputs)).probabilities!)).toEqual(want);
    await model.dispose();
  });

  it('refuses a wrong key, a missing key and a plaintext model under decryption, with their codes', async () => {
    await expect(
      loadModel(`${base}/models/iris.onnx.jwe`, { decryption: { key: new Uint8Array(32) } }),
    ).rejects.toMatchObject({ code: 'DECRYPTION_KEY_MISMATCH' });
    await expect(loadModel(`${base}/models/iris.onnx.jwe`)).rejects.toMatchObject({
      code: 'DECRYPTION_KEY_MISSING',
      message: `${base}/models/iris.onnx.jwe is an encrypted model (a JWE); pass decryption: { key } to load it`,
    });
    await expect(loadModel(plain, { decryption: { key: KEY } })).rejects.toMatchObject({
      code: 'ENCRYPTED_MODEL_INVALID',
    });
  });
});
