/**
 * What a model repository on disk can and cannot make the server do: files reached through
 * symbolic links out of the repository are never read (model files, config.json,
 * pipeline.json, the labels file), models named like Object.prototype properties are just
 * names on every route, and no answer names an absolute path on the server.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemRepository, type HandlerOptions } from '@modelship/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelPath } from '../fixtures';
import { settled as old, scratchRepository, serveRepository } from './harness';

let repo: ReturnType<typeof scratchRepository>;
let root: string;
let outside: string;
beforeEach(() => {
  repo = scratchRepository('modelship-safety-');
  root = repo.root;
  outside = mkdtempSync(join(tmpdir(), 'modelship-outside-'));
});
afterEach(() => {
  repo.remove();
  rmSync(outside, { recursive: true, force: true });
});

const putVersion = (model: string, version: string, fixture = 'iris') =>
  repo.putVersion(model, version, fixture);
const serve = (options: HandlerOptions = {}) => serveRepository(root, options);

describe('containment: files out of the repository are never read', () => {
  it('refuses a symlinked labels file, pipeline.json and config.json pointing outside', async () => {
    repo.copyExample('iris');
    // The secret is shaped like a labels file, so serving it would show it in answers.
    writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-1\nTOP-SECRET-2\nTOP-SECRET-3\n');
    rmSync(join(root, 'iris', 'labels.txt'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'iris', 'labels.txt'));
    // Another model whose pipeline.json is a link out; a third whose config.json is.
    repo.copyExample('iris', 'flowers');
    writeFileSync(join(outside, 'pipeline.json'), '{}');
    rmSync(join(root, 'flowers', 'pipeline.json'));
    symlinkSync(join(outside, 'pipeline.json'), join(root, 'flowers', 'pipeline.json'));
    putVersion('fraud', '1', 'fraud');
    writeFileSync(join(outside, 'config.json'), '{"versionPolicy": {"all": true}}');
    symlinkSync(join(outside, 'config.json'), join(root, 'fraud', 'config.json'));
    const s = await serve();
    try {
      expect(s.deployer.names()).toEqual([]);
      expect(s.problems.sort()).toEqual(
        [
          `${join(root, 'flowers', 'pipeline.json')}: flowers/pipeline.json resolves outside the repository (a symbolic link?); it is not read`,
          `${join(root, 'fraud', 'config.json')}: fraud/config.json resolves outside the repository (a symbolic link?); it is not read`,
          `${join(root, 'iris', 'pipeline.json')}: iris/labels.txt resolves outside the repository (a symbolic link?); it is not read`,
        ].sort(),
      );
      const res = await fetch(`${s.url}/v1/models/iris:predict`, {
        method: 'POST',
        body: JSON.stringify({
          instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
        }),
      });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('TOP-SECRET');
    } finally {
      await s.close();
    }
  });

  it('refuses a model file linked from outside, and says so without absolute paths', async () => {
    copyFileSync(modelPath('iris'), join(outside, 'model.onnx'));
    mkdirSync(join(root, 'iris', '1'), { recursive: true });
    symlinkSync(join(outside, 'model.onnx'), join(root, 'iris', '1', 'model.onnx'));
    const repository = new FileSystemRepository(root, { settleMs: 0 });
    await expect(repository.loadVersion('iris', '1')).rejects.toThrow(
      'iris/1/model.onnx resolves outside the repository (a symbolic link?); it is not read',
    );
  });
});

describe('models named like Object.prototype properties', () => {
  const NAMES = ['constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__proto__'];

  it('are unknown models on every route when absent: 404 or a plain answer, never 500', async () => {
    putVersion('iris', '1');
    const s = await serve({ modelControl: 'explicit' });
    try {
      const seen: string[] = [];
      for (const name of NAMES) {
        const n = encodeURIComponent(name);
        for (const [method, path, body] of [
          ['POST', `/v2/repository/models/${n}/load`, ''],
          ['POST', `/v2/repository/models/${n}/unload`, ''],
          ['GET', `/v2/models/${n}`, undefined],
          ['GET', `/v2/models/${n}/versions/1`, undefined],
          ['GET', `/v2/models/${n}/ready`, undefined],
          ['POST', `/v2/models/${n}/infer`, '{"inputs":[]}'],
          ['POST', `/v1/models/${n}:predict`, '{"instances":[[1]]}'],
          ['POST', `/v1/models/${n}:predict`, '{"instances":[{"a":1}]}'],
          ['GET', `/v1/models/${n}`, undefined],
          ['GET', `/v1/models/${n}/versions/1`, undefined],
          ['GET', `/v1/models/${n}/metadata`, undefined],
        ] as const) {
          const res = await fetch(s.url + path, { method, body });
          seen.push(`${method} ${path} ${res.status}`);
        }
        const ingest = await fetch(`${s.url}/v2/monitor/ingest`, {
          method: 'POST',
          body: JSON.stringify({
            records: [{ model: name, version: '1', latencyMs: 1 }],
            inputs: [{ model: name, rows: [[1]] }],
          }),
        });
        expect(ingest.status).toBeLessThan(500);
      }
      for (const path of ['/v2/monitor', '/metrics', '/v2/health/ready'])
        expect((await fetch(s.url + path)).status, path).toBeLessThan(500);
      expect(seen.filter((l) => !/ (404|400)$/.test(l))).toEqual([]);
      // Still serving.
      expect((await fetch(`${s.url}/v2/models/iris/ready`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('are served like any model when they are on disk', async () => {
    const present = ['constructor', 'hasOwnProperty', 'toString'];
    for (const name of present) putVersion(name, '1');
    const s = await serve({ modelControl: 'explicit' });
    try {
      expect(s.deployer.names().sort()).toEqual([...present].sort());
      const infer = JSON.stringify({
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
      });
      for (const name of present) {
        expect((await fetch(`${s.url}/v2/models/${name}/ready`)).status).toBe(200);
        const res = await fetch(`${s.url}/v2/models/${name}/infer`, { method: 'POST', body: infer });
        expect(((await res.json()) as { model_name: string }).model_name).toBe(name);
        expect((await fetch(`${s.url}/v1/models/${name}`)).status).toBe(200);
        const post = (action: string) =>
          fetch(`${s.url}/v2/repository/models/${name}/${action}`, { method: 'POST' }).then((r) => r.status);
        expect(await post('unload')).toBe(200);
        expect((await fetch(`${s.url}/v2/models/${name}/ready`)).status).toBe(400);
        expect(await post('load')).toBe(200);
        expect((await fetch(`${s.url}/v2/models/${name}/ready`)).status).toBe(200);
      }
      const index = (await (await fetch(`${s.url}/v2/repository/index`, { method: 'POST' })).json()) as {
        name: string;
      }[];
      expect(index.map((e) => e.name)).toEqual(['constructor', 'hasOwnProperty', 'toString']);
      expect(Object.keys(s.repository.status()).sort()).toEqual([...present].sort());
    } finally {
      await s.close();
    }
  });
});

describe('no absolute paths in answers', () => {
  it('names files relative to the repository in the index and in load errors', async () => {
    putVersion('iris', '1');
    mkdirSync(join(root, 'broken', '1'), { recursive: true });
    writeFileSync(join(root, 'broken', '1', 'model.onnx'), 'not onnx');
    utimesSync(join(root, 'broken', '1', 'model.onnx'), old, old);
    mkdirSync(join(root, 'pinned', '1'), { recursive: true });
    copyFileSync(modelPath('iris'), join(root, 'pinned', '1', 'model.onnx'));
    utimesSync(join(root, 'pinned', '1', 'model.onnx'), old, old);
    writeFileSync(
      join(root, 'pinned', 'config.json'),
      JSON.stringify({ integrity: { '1': `sha256-${Buffer.alloc(32).toString('base64')}` } }),
    );
    const s = await serve({ modelControl: 'explicit' });
    try {
      const index = await (await fetch(`${s.url}/v2/repository/index`, { method: 'POST' })).text();
      const load = await (
        await fetch(`${s.url}/v2/repository/models/broken/load`, { method: 'POST' })
      ).text();
      const pinned = await (
        await fetch(`${s.url}/v2/repository/models/pinned/load`, { method: 'POST' })
      ).text();
      const status = await (await fetch(`${s.url}/v1/models/pinned`)).text();
      for (const text of [index, load, pinned, status]) {
        expect(text).not.toContain(root);
        expect(text).not.toContain(tmpdir());
      }
      expect(JSON.parse(index)).toContainEqual(
        expect.objectContaining({
          name: 'broken',
          state: 'UNAVAILABLE',
          reason: expect.stringContaining('broken/1/model.onnx'),
        }),
      );
      expect(JSON.parse(pinned).error).toMatch(/pinned\/1\/model\.onnx/);
    } finally {
      await s.close();
    }
  });
});
