import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeIntegrity, type Model, toArray } from '@modelship/core';
import { encryptModel } from '@modelship/core/encryption';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileSystemRepository } from '../src/index';
import { casesOf, modelPath } from './fixtures';

class RecordingDeployer {
  readonly models = new Map<string, Model>();
  async deploy(name: string, source: () => Promise<Model>, options: Record<string, unknown>): Promise<void> {
    this.models.set(`${name}/${options.version}`, await source());
  }
  async undeploy(name: string, version?: string): Promise<void> {
    await this.models.get(`${name}/${version}`)?.dispose();
    this.models.delete(`${name}/${version}`);
  }
}

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 3 * i); // test-only
const OTHER = Uint8Array.from({ length: 32 }, (_, i) => 200 - i); // test-only
const old = new Date(Date.now() - 60_000);
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'modelship-enc-repo-'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

function put(model: string, version: string, name: string, bytes: Uint8Array): string {
  const dir = join(root, model, version);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, bytes);
  utimesSync(file, old, old);
  return file;
}

const iris = new Uint8Array(readFileSync(modelPath('iris')));

async function probabilities(m: Model): Promise<number[]> {
  const [c] = casesOf('iris');
  return Array.from(toArray((await m.predict(c!.inputs)).probabilities!) as ArrayLike<number>).map(Number);
}

describe('encrypted versions in a repository', () => {
  it('serves model.onnx.jwe and model.onnx.enc with the repository key function, and tells a wrong key per version', async () => {
    put('iris', '1', 'model.onnx.jwe', await encryptModel(iris, { key: KEY, kid: 'iris' }));
    put('chunked', '1', 'model.onnx.enc', await encryptModel(iris, { key: KEY, format: 'chunked' }));
    put('wrong', '1', 'model.onnx.jwe', await encryptModel(iris, { key: OTHER }));
    put('plain', '1', 'model.onnx', iris);
    const asked: (string | undefined)[] = [];
    const deployer = new RecordingDeployer();
    const failed: string[] = [];
    const repo = new FileSystemRepository(root, {
      settleMs: 0,
      decryption: {
        key: (kid) => {
          asked.push(kid);
          return KEY;
        },
      },
    }).attach(deployer);
    repo.on('loadFailed', ({ model, error }) => failed.push(`${model}: ${(error as { code: string }).code}`));
    await repo.sync();
    const reference = await probabilities(deployer.models.get('plain/1')!);
    expect(await probabilities(deployer.models.get('iris/1')!)).toEqual(reference);
    expect(await probabilities(deployer.models.get('chunked/1')!)).toEqual(reference);
    expect(deployer.models.get('iris/1')!.name).toBe('iris');
    expect(failed).toEqual(['wrong: DECRYPTION_KEY_MISMATCH']);
    expect(repo.status().wrong).toEqual([
      {
        version: '1',
        state: 'failed',
        error: expect.stringContaining(
          "wrong/1/model.onnx.jwe: the key does not unwrap the file's content key",
        ),
      },
    ]);
    expect(asked.sort()).toEqual(['iris', undefined, undefined]);
    for (const m of deployer.models.values()) await m.dispose();
  });

  it('takes the key from config.json, then refuses a plaintext version (the old one keeps serving); integrity pins the ciphertext', async () => {
    const sealed = await encryptModel(iris, { key: KEY });
    put('iris', '1', 'model.onnx.jwe', sealed);
    mkdirSync(join(root, 'iris'), { recursive: true });
    writeFileSync(
      join(root, 'iris', 'config.json'),
      JSON.stringify({
        decryption: { keyEnv: 'H7_IRIS_KEY' },
        integrity: { '1': await computeIntegrity(sealed), '3': await computeIntegrity(iris) },
      }),
    );
    vi.stubEnv('H7_IRIS_KEY', Buffer.from(KEY).toString('hex'));
    const deployer = new RecordingDeployer();
    const failed: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    repo.on('loadFailed', ({ version, error }) =>
      failed.push(`${version}: ${(error as { code: string }).code}`),
    );
    await repo.sync();
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    put('iris', '2', 'model.onnx', iris);
    await repo.sync();
    expect(failed).toEqual(['2: ENCRYPTED_MODEL_INVALID']);
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    // Version 3 is pinned to the plaintext's hash: the pin is checked on the file, the ciphertext.
    put('iris', '3', 'model.onnx.jwe', sealed);
    await repo.sync();
    expect(failed).toEqual(['2: ENCRYPTED_MODEL_INVALID', '3: INTEGRITY_MISMATCH']);
    for (const m of deployer.models.values()) await m.dispose();
  });

  it('refuses a config.json decryption that holds a key or a relative path, and two model files in a version', async () => {
    for (const decryption of [
      { key: 'abc' },
      { keyFile: 'keys/iris.key' },
      { keyEnv: 'A', keyFile: '/k' },
      { keyEnv: '1X' },
    ]) {
      mkdirSync(join(root, 'm'), { recursive: true });
      writeFileSync(join(root, 'm', 'config.json'), JSON.stringify({ decryption }));
      const problems: string[] = [];
      const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(new RecordingDeployer());
      repo.on('problem', (p) => problems.push(p.reason));
      await repo.sync();
      expect(problems).toEqual([
        expect.stringContaining(
          'm/config.json: decryption must be { "keyEnv": "<environment variable>" } or { "keyFile": "<absolute path>" }',
        ),
      ]);
    }
    rmSync(join(root, 'm'), { recursive: true });
    put('two', '1', 'model.onnx', iris);
    copyFileSync(join(root, 'two', '1', 'model.onnx'), join(root, 'two', '1', 'model.onnx.jwe'));
    const problems: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(new RecordingDeployer());
    repo.on('problem', (p) => problems.push(p.reason));
    await repo.sync();
    expect(problems).toEqual(['the version folder holds model.onnx and model.onnx.jwe; keep one']);
  });
});
