/**
 * A repository whose config.json requires signatures: through a real server, an unsigned or
 * badly signed new version is refused (loadFailed) while the old one keeps answering, a
 * properly signed one replaces it, and an unsigned in-place swap is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signModelPath } from '../src/index';
import { modelPath } from './fixtures';
import { scratchRepository, serveRepository, settled } from './reliability/harness';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
};

let repo: ReturnType<typeof scratchRepository>;
beforeEach(() => {
  repo = scratchRepository('modelship-signed-repo-');
});
afterEach(() => repo.remove());

describe('a repository that requires signatures', () => {
  it('serves only signed versions; the old version keeps serving through refusals', async () => {
    const release = pair();
    const dir = join(repo.root, 'fraud');
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'keys', 'release.pub'), release.publicKey);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ signature: { publicKeys: ['keys/release.pub'] } }),
    );
    repo.putVersion('fraud', '1', 'fraud');
    await signModelPath(join(dir, '1'), { privateKey: release.privateKey });

    const s = await serveRepository(repo.root);
    const failed: string[] = [];
    s.repository.on('loadFailed', (e) =>
      failed.push(`${e.model}/${e.version} ${(e.error as { code?: string }).code}`),
    );
    const infer = async () => {
      const r = await fetch(`${s.url}/v2/models/fraud/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: new Array(12).fill(0.5) }],
        }),
      });
      return { status: r.status, version: ((await r.json()) as { model_version?: string }).model_version };
    };
    try {
      expect(await infer()).toEqual({ status: 200, version: '1' });

      repo.putVersion('fraud', '2', 'fraud'); // unsigned
      await s.repository.sync();
      repo.putVersion('fraud', '3', 'fraud'); // signed by a key the config does not trust
      await signModelPath(join(dir, '3'), { privateKey: pair().privateKey });
      await s.repository.sync();
      expect(failed).toEqual(['fraud/2 SIGNATURE_NOT_FOUND', 'fraud/3 SIGNATURE_INVALID']);
      expect(await infer()).toEqual({ status: 200, version: '1' });
      const index = (await s.post('/v2/repository/index')).json as {
        version: string;
        state: string;
        reason: string;
      }[];
      expect(index.find((e) => e.version === '3')).toMatchObject({
        state: 'UNAVAILABLE',
        reason: expect.stringMatching(
          /model.sig was signed by another key \(hint [0-9a-f]{64}\) than the 1 trusted/,
        ),
      });

      repo.putVersion('fraud', '4', 'fraud');
      await signModelPath(join(dir, '4'), { privateKey: release.privateKey });
      await s.repository.sync();
      expect(await infer()).toEqual({ status: 200, version: '4' });

      // Swapped in place for other bytes nobody signed: refused, the signed bytes keep serving.
      const file = join(dir, '4', 'model.onnx');
      writeFileSync(file, readFileSync(modelPath('iris')));
      utimesSync(file, settled, settled);
      await s.repository.sync();
      await s.repository.sync();
      expect(s.changes).toEqual(['fraud/4 refused']);
      expect(await infer()).toEqual({ status: 200, version: '4' });
    } finally {
      await s.close();
    }
  });

  it('config.json signature fields are checked, naming the file', async () => {
    repo.putVersion('m', '1', 'iris');
    const problems: string[] = [];
    for (const signature of [{ publicKeys: [] }, { publicKeys: ['../outside.pub'] }, { keys: ['a'] }, {}]) {
      writeFileSync(join(repo.root, 'm', 'config.json'), JSON.stringify({ signature }));
      const s = await serveRepository(repo.root);
      try {
        problems.push(...s.problems);
        expect(s.deployer.names()).toEqual([]);
      } finally {
        await s.close();
      }
    }
    expect(problems).toHaveLength(4);
    expect(problems.every((p) => p.includes('config.json') && p.includes('signature'))).toBe(true);
  });
});
