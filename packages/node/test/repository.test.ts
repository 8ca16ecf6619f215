import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeIntegrity, type Model, ModelshipError, toArray } from '@modelship/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemRepository } from '../src/index';
import { casesOf, modelPath } from './fixtures';

/** Stands in for the Deployer: records calls, holds what it was given. */
class RecordingDeployer {
  readonly log: string[] = [];
  readonly models = new Map<string, Model>();
  async deploy(name: string, source: () => Promise<Model>, options: Record<string, unknown>): Promise<void> {
    this.log.push(`deploy ${name}/${options.version}`);
    const model = await source();
    this.models.set(`${name}/${options.version}`, model);
  }
  async undeploy(name: string, version?: string): Promise<void> {
    const key = `${name}/${version}`;
    const model = this.models.get(key);
    if (model === undefined) throw new ModelshipError('VERSION_NOT_FOUND' as never, `no ${key}`);
    this.log.push(`undeploy ${key}`);
    await model.dispose();
    this.models.delete(key);
  }
}

let root: string;
const old = new Date(Date.now() - 60_000);

function putVersion(model: string, version: string, fixture = 'iris', when = old): string {
  const dir = join(root, model, version);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'model.onnx');
  copyFileSync(modelPath(fixture), file);
  utimesSync(file, when, when);
  return file;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'modelship-repo-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('FileSystemRepository', () => {
  it('serves the latest version of each model, then a newer one before retiring the old', async () => {
    putVersion('iris', '1');
    putVersion('iris', '2');
    putVersion('fraud', '7', 'fraud');
    const deployer = new RecordingDeployer();
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    await repo.sync();
    expect(deployer.log.sort()).toEqual(['deploy fraud/7', 'deploy iris/2']);
    expect(repo.status()).toEqual({
      fraud: [{ version: '7', state: 'serving' }],
      iris: [
        { version: '1', state: 'available' },
        { version: '2', state: 'serving' },
      ],
    });
    const iris = deployer.models.get('iris/2')!;
    expect([iris.name, iris.version]).toEqual(['iris', '2']);
    const [c] = casesOf('iris');
    expect(toArray((await iris.predict(c!.inputs)).probabilities!).length).toBe(3);

    putVersion('iris', '10');
    deployer.log.length = 0;
    await repo.sync();
    expect(deployer.log).toEqual(['deploy iris/10', 'undeploy iris/2']);
    expect(repo.status().iris!.map((v) => `${v.version}:${v.state}`)).toEqual([
      '1:available',
      '2:available',
      '10:serving',
    ]);
  });

  it('never reads a file still being written', async () => {
    const deployer = new RecordingDeployer();
    const repo = new FileSystemRepository(root, { settleMs: 5_000 }).attach(deployer);
    const file = join(root, 'iris', '1', 'model.onnx');
    mkdirSync(join(root, 'iris', '1'), { recursive: true });
    writeFileSync(file, readFileSync(modelPath('iris')).subarray(0, 100)); // half copied, just now
    await repo.sync();
    expect(deployer.log).toEqual([]);
    expect(repo.status().iris).toEqual([{ version: '1', state: 'waiting' }]);
    copyFileSync(modelPath('iris'), file);
    utimesSync(file, old, old); // the copy finished a while ago
    await repo.sync(); // it grew since the last scan: wait one more
    expect(deployer.log).toEqual([]);
    await repo.sync();
    expect(deployer.log).toEqual(['deploy iris/1']);
  });

  it('reports a corrupt version, keeps the old one serving, and retries only when the file changes', async () => {
    putVersion('iris', '1');
    const deployer = new RecordingDeployer();
    const failures: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    repo.on('loadFailed', ({ model, version, error }) =>
      failures.push(`${model}/${version}: ${(error as Error).message}`),
    );
    await repo.sync();
    const bad = join(root, 'iris', '2');
    mkdirSync(bad);
    writeFileSync(join(bad, 'model.onnx'), 'this is not a model');
    utimesSync(join(bad, 'model.onnx'), old, old);
    await repo.sync();
    await repo.sync();
    expect(failures).toEqual([
      `iris/2: ${join(await import('node:fs').then((f) => f.realpathSync(root)), 'iris/2/model.onnx')} is not an ONNX model: byte 0 does not start an ONNX ModelProto field (field 14, wire type 4)`,
    ]);
    expect(deployer.log).toEqual(['deploy iris/1', 'deploy iris/2']);
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    expect(repo.status().iris).toEqual([
      { version: '1', state: 'serving' },
      { version: '2', state: 'failed', error: expect.stringMatching(/is not an ONNX model/) },
    ]);
    putVersion('iris', '2'); // fixed
    await repo.sync();
    expect([...deployer.models.keys()]).toEqual(['iris/2']);
  });

  it('drains and unloads a deleted version', async () => {
    putVersion('iris', '1');
    const deployer = new RecordingDeployer();
    const removed: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    repo.on('versionRemoved', ({ model, version }) => removed.push(`${model}/${version}`));
    await repo.sync();
    rmSync(join(root, 'iris'), { recursive: true });
    await repo.sync();
    expect(removed).toEqual(['iris/1']);
    expect(deployer.models.size).toBe(0);
    expect(repo.status()).toEqual({});
  });

  it('follows the version policy and the integrity in config.json', async () => {
    for (const v of ['1', '2', '3']) putVersion('iris', v);
    const good = await computeIntegrity(readFileSync(modelPath('iris')));
    const wrong = await computeIntegrity(new Uint8Array([1]));
    writeFileSync(
      join(root, 'iris', 'config.json'),
      JSON.stringify({
        versionPolicy: { specific: ['1', '3'] },
        integrity: { '1': good, '3': wrong },
        deploy: { batching: { maxBatchSize: 8 } },
      }),
    );
    const deployer = new RecordingDeployer();
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    await repo.sync();
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    expect(repo.status().iris).toEqual([
      { version: '1', state: 'serving' },
      { version: '2', state: 'available' },
      { version: '3', state: 'failed', error: expect.stringMatching(/integrity check failed/) },
    ]);
    writeFileSync(join(root, 'iris', 'config.json'), JSON.stringify({ versionPolicy: { all: true } }));
    await repo.sync();
    expect([...deployer.models.keys()].sort()).toEqual(['iris/1', 'iris/2', 'iris/3']);
  });

  it('reports bad config, bad names and links out of the root, and serves the rest', async () => {
    putVersion('iris', '1');
    putVersion('fraud', '1', 'fraud');
    writeFileSync(join(root, 'fraud', 'config.json'), '{"versionPolicy": {"newest": 1}}');
    mkdirSync(join(root, 'bad name'));
    const outside = mkdtempSync(join(tmpdir(), 'modelship-outside-'));
    mkdirSync(join(outside, '1'));
    copyFileSync(modelPath('iris'), join(outside, '1', 'model.onnx'));
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(outside, '1'), join(root, 'iris', '5'));
    const deployer = new RecordingDeployer();
    const problems: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    repo.on('problem', (p) => problems.push(`${p.model ?? '-'}/${p.version ?? '-'}: ${p.reason}`));
    await repo.sync();
    await repo.sync(); // problems are reported once, not on every scan
    expect(problems.sort()).toEqual([
      "-/-: 'bad name' is not a valid model name (letters, digits, '.', '_', '-')",
      'escape/-: symbolic link points outside the repository',
      expect.stringMatching(/^fraud\/-: .*config\.json: versionPolicy must be/),
      'iris/5: symbolic link points outside the repository',
    ]);
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses a model whose config.json names a labels file that is not there', async () => {
    putVersion('iris', '1');
    putVersion('fraud', '1', 'fraud');
    writeFileSync(join(root, 'fraud', 'config.json'), '{"labels": "labels.txt"}');
    putVersion('digits', '1', 'digits');
    writeFileSync(join(root, 'digits', 'config.json'), '{"labels": "classes.txt"}');
    mkdirSync(join(root, 'digits', 'classes.txt'));
    const deployer = new RecordingDeployer();
    const problems: string[] = [];
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(deployer);
    repo.on('problem', (p) => problems.push(`${p.model}: ${p.reason}`));
    await repo.sync();
    expect(problems.sort()).toEqual([
      "digits: the labels file 'classes.txt' named in config.json is not a file",
      "fraud: the labels file 'labels.txt' named in config.json does not exist",
    ]);
    expect([...deployer.models.keys()]).toEqual(['iris/1']);
    // Once the file is there, the model loads.
    writeFileSync(join(root, 'fraud', 'labels.txt'), 'legit\nfraud\n');
    await repo.sync();
    expect([...deployer.models.keys()].sort()).toEqual(['fraud/1', 'iris/1']);
  });

  it('refuses names that would leave the repository', async () => {
    const repo = new FileSystemRepository(root);
    await expect(repo.loadVersion('../etc', '1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(repo.loadVersion('iris', '../../x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(repo.loadVersion('iris', '01')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new FileSystemRepository('')).toThrow(/root must be a directory path/);
    expect(() => new FileSystemRepository(root, { pollIntervalMs: -1 })).toThrow(
      /pollIntervalMs must be a non-negative number/,
    );
    expect(() => repo.attach({} as never)).toThrow(/deploy and undeploy/);
    await expect(repo.start()).rejects.toThrow(/attach a deployer first/);
  });

  it('picks up changes by itself once started', async () => {
    putVersion('iris', '1');
    const deployer = new RecordingDeployer();
    const repo = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 20 }).attach(deployer);
    await repo.start();
    const serving = new Promise((resolve) => repo.once('versionServing', resolve));
    putVersion('iris', '2');
    expect(await serving).toEqual({ model: 'iris', version: '2' });
    await repo.stop();
    expect([...deployer.models.keys()].includes('iris/2')).toBe(true);
  });
});
