/**
 * Signed models in the browser package (WebCrypto, fetch): a signed model loads, and every
 * refusal has its code; the upstream key-signed fixtures verify through the same path.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../core/src/signing/test-files';
import { signModelPath } from '../../node/src/signing/verify-model';
import { fixturesDir, modelPath } from '../../node/test/fixtures';
import { loadModel } from '../src/index';
import { verifyModelBytes } from '../src/signature';

let server: Server;
let base: string;
let root: string;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const upstreamKey = readFileSync(join(fixturesDir, 'model-signing/keys/signing-key-pub.pem'), 'utf8');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'modelship-browser-signed-'));
  // signed/: model.onnx and weights.bin, signed together; the other folders are altered copies.
  for (const dir of ['signed', 'tampered', 'missing', 'unsigned', 'huge']) {
    mkdirSync(join(root, dir));
    copyFileSync(modelPath('fraud'), join(root, dir, 'model.onnx'));
    writeFileSync(join(root, dir, 'weights.bin'), Buffer.alloc(2_500_000, 3));
    if (dir !== 'unsigned')
      await signModelPath(join(root, dir), {
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      });
  }
  writeFileSync(join(root, 'tampered', 'weights.bin'), Buffer.alloc(2_500_000, 4));
  rmSync(join(root, 'missing', 'weights.bin'));
  writeFileSync(join(root, 'huge', 'model.sig'), Buffer.alloc(17 * 1024 * 1024, 32));
  server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '').replace(/^\/(upstream\/)?/, '');
    const file = req.url?.startsWith('/upstream/')
      ? join(fixturesDir, 'model-signing', path)
      : join(root, path);
    if (path.includes('..') || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-length': body.byteLength }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

describe('loadModel(url, { signature }) in the browser package', () => {
  it('loads a signed model and predicts', async () => {
    const model = await loadModel(`${base}/signed/model.onnx`, { signature: { publicKeys: [pem] } });
    try {
      const out = await model.predict({
        features: { dtype: 'float32', shape: [1, 12], data: new Float32Array(12) },
      });
      expect(out.probability!.shape).toEqual([1]);
    } finally {
      await model.dispose();
    }
  });

  it('refuses each kind of bad model with its own code', async () => {
    const load = (dir: string, keys = [pem]) =>
      codeOf(loadModel(`${base}/${dir}/model.onnx`, { signature: { publicKeys: keys } }));
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    expect(await load('tampered')).toBe('SIGNED_FILE_MISMATCH');
    expect(await load('missing')).toBe('SIGNED_FILE_MISSING');
    expect(await load('unsigned')).toBe('SIGNATURE_NOT_FOUND');
    expect(await load('huge')).toBe('SIGNATURE_MALFORMED');
    expect(await load('signed', [other])).toBe('SIGNATURE_INVALID');
    await expect(
      loadModel(`${base}/signed/model.onnx`, { signature: { publicKeys: [] } }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      loadModel(readFileSync(modelPath('fraud')), { signature: { publicKeys: [pem] } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('verifies the upstream key-signed fixtures; certificate signatures are for Node', async () => {
    for (const v of ['v1.0.1', 'v1.1.0']) {
      const url = `${base}/upstream/${v}-elliptic-key/signme-1`;
      const bytes = readFileSync(join(fixturesDir, 'model-signing', `${v}-elliptic-key`, 'signme-1'));
      await expect(verifyModelBytes(url, bytes, { publicKeys: [upstreamKey] })).resolves.toBeUndefined();
      await expect(
        verifyModelBytes(url, new Uint8Array([...bytes, 1]), { publicKeys: [upstreamKey] }),
      ).rejects.toMatchObject({
        code: 'SIGNED_FILE_MISMATCH',
      });
    }
    const cert = `${base}/upstream/v1.1.0-certificate/signme-1`;
    await expect(
      verifyModelBytes(cert, readFileSync(join(fixturesDir, 'model-signing/v1.1.0-certificate/signme-1')), {
        publicKeys: [upstreamKey],
      }),
    ).rejects.toMatchObject({
      code: 'SIGNATURE_UNTRUSTED',
    });
  });
});
