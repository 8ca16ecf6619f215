import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployer, type NamedTensors, toArray } from '@modelship/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemRepository, loadModel } from '../src/index';
import { casesOf, modelPath } from './fixtures';

let root: string;
const old = new Date(Date.now() - 60_000);

function putVersion(model: string, version: string, fixture: string): void {
  const dir = join(root, model, version);
  mkdirSync(dir, { recursive: true });
  copyFileSync(modelPath(fixture), join(dir, 'model.onnx'));
  utimesSync(join(dir, 'model.onnx'), old, old);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'modelship-deployer-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Random fraud rows with a fixed seed. */
function rows(n: number, seed = 1): Float32Array[] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: 12 }, () => 4 * next()));
}
const one = (r: Float32Array) => ({ features: { dtype: 'float32' as const, shape: [1, 12], data: r } });
const prob = (out: NamedTensors) => (out.probability!.data as Float32Array)[0]!;

describe('Deployer with onnxruntime-node models', () => {
  it('batches concurrent requests to fraud.onnx and answers each exactly as an unbatched call does', async () => {
    const raw = await loadModel(modelPath('fraud'));
    const inputs = rows(64);
    const expected = await Promise.all(inputs.map((r) => raw.predict(one(r)).then(prob)));
    const d = new Deployer();
    await d.deploy('fraud', () => loadModel(modelPath('fraud')), {
      version: '1',
      batching: { maxBatchSize: 32, maxQueueDelayMs: 1 },
    });
    const out = await Promise.all(inputs.map((r) => d.predict('fraud', one(r))));
    for (let i = 0; i < 64; i++) {
      expect(out[i]!.probability!.shape).toEqual([1]);
      expect(prob(out[i]!)).toBeCloseTo(expected[i]!, 6);
      expect(toArray(out[i]!.label!)).toEqual([expected[i]! > 0.5 ? 1n : 0n]);
    }
    const batching = d.status('fraud').versions[0]!.batching!;
    expect(batching.enabled).toBe(true);
    expect(batching.meanBatchSize).toBeGreaterThan(1);
    expect(batching.batches).toBeLessThan(64);
    await d.close();
    await raw.dispose();
  });

  it('swaps versions under 64 concurrent callers with no failed request', async () => {
    const d = new Deployer();
    await d.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const inputs = rows(8, 3);
    let stop = false;
    let ok = 0;
    const failures: unknown[] = [];
    const callers = Array.from({ length: 64 }, async (_, i) => {
      while (!stop) {
        try {
          await d.predict('fraud', one(inputs[i % 8]!));
          ok++;
        } catch (e) {
          failures.push(e);
        }
      }
    });
    for (let v = 2; v <= 4; v++) {
      await d.deploy('fraud', () => loadModel(modelPath('fraud')), { version: String(v) });
    }
    await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(callers);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(64);
    expect(d.status('fraud').versions.map((v) => v.version)).toEqual(['4']);
    await d.close();
  });

  it('serves a repository: a corrupt new version is reported and the old one keeps serving', async () => {
    putVersion('iris', '1', 'iris');
    const d = new Deployer();
    const repo = new FileSystemRepository(root, { settleMs: 0 }).attach(d);
    const failed: string[] = [];
    d.on('loadFailed', (e) => failed.push(`${e.name}/${e.version}:${e.stage}`));
    await repo.sync();
    const [c] = casesOf('iris');
    const before = toArray((await d.predict('iris', c!.inputs)).probabilities!);
    expect(before).toHaveLength(3);

    mkdirSync(join(root, 'iris', '2'));
    writeFileSync(join(root, 'iris', '2', 'model.onnx'), 'half a model');
    utimesSync(join(root, 'iris', '2', 'model.onnx'), old, old);
    await repo.sync();
    expect(failed).toEqual(['iris/2:load']);
    expect(d.status('iris')).toMatchObject({ primary: '1' });
    expect(toArray((await d.predict('iris', c!.inputs)).probabilities!)).toEqual(before);

    putVersion('iris', '3', 'iris');
    await repo.sync();
    // latest 1: version 3 serves, version 1 was drained and unloaded by the repository
    expect(d.status('iris').versions.map((v) => [v.version, v.state, v.traffic])).toEqual([
      ['3', 'ready', 1],
    ]);
    expect(toArray((await d.predict('iris', c!.inputs)).probabilities!)).toEqual(before);
    await d.close();
  });

  it('takes batching and a canary policy from config.json', async () => {
    putVersion('fraud', '1', 'fraud');
    putVersion('fraud', '2', 'fraud');
    writeFileSync(
      join(root, 'fraud', 'config.json'),
      JSON.stringify({
        versionPolicy: { latest: 2 },
        deploy: { batching: { maxBatchSize: 16 }, policy: { type: 'canary', weight: 0.25 } },
      }),
    );
    const d = new Deployer();
    await new FileSystemRepository(root, { settleMs: 0 }).attach(d).sync();
    const s = d.status('fraud');
    expect(s.primary).toBe('1');
    expect(s.policy).toMatchObject({ type: 'canary', version: '2', weight: 0.25 });
    expect(s.versions.map((v) => [v.version, v.traffic, v.batching?.enabled])).toEqual([
      ['1', 0.75, true],
      ['2', 0.25, true],
    ]);
    await d.close();
  });
});
