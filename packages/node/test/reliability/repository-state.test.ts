/**
 * The server's answers follow the repository on disk: readiness is false while a model it holds
 * does not serve (never loaded, or unloaded), TF Serving's status reports such versions, and a
 * serving version's file overwritten in place is noticed, checked and reloaded, or refused.
 */
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeIntegrity } from '@modelship/core';
import type { HandlerOptions } from '@modelship/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modelPath } from '../fixtures';
import { settled as old, scratchRepository, serveRepository } from './harness';

let repo: ReturnType<typeof scratchRepository>;
let root: string;
beforeEach(() => {
  repo = scratchRepository('modelship-state-');
  root = repo.root;
});
afterEach(() => repo.remove());

const putVersion = (model: string, version: string, fixture: string, bytes?: string) =>
  repo.putVersion(model, version, fixture, bytes);
const serve = (options: HandlerOptions = {}) => serveRepository(root, options);

describe('readiness follows the repository', () => {
  it('is false while a model on disk never loaded, and TF status says why', async () => {
    repo.copyExample('iris');
    putVersion('broken', '1', '', 'not an onnx file');
    const s = await serve();
    try {
      expect(s.deployer.names()).toEqual(['iris']);
      expect(await s.get('/v2/health/ready')).toEqual({ status: 400, json: { ready: false } });
      const status = (await s.get('/v1/models/broken')) as {
        status: number;
        json: {
          model_version_status: {
            version: string;
            state: string;
            status: { error_code: string; error_message: string };
          }[];
        };
      };
      expect(status.status).toBe(200);
      expect(status.json.model_version_status).toHaveLength(1);
      expect(status.json.model_version_status[0]).toMatchObject({
        version: '1',
        state: 'END',
        status: { error_code: 'UNKNOWN' },
      });
      expect(status.json.model_version_status[0]!.status.error_message).toMatch(/broken\/1\/model\.onnx/);
      expect((await s.get('/v1/models/iris')).json).toEqual({
        model_version_status: [
          { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        ],
      });
      // The broken model goes away: ready.
      rmSync(join(root, 'broken'), { recursive: true });
      await s.repository.sync();
      expect((await s.get('/v2/health/ready')).status).toBe(200);
      expect((await s.get('/v1/models/broken')).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('is false after a model is unloaded, and true again once it is loaded', async () => {
    repo.copyExample('iris');
    putVersion('fraud', '1', 'fraud');
    const s = await serve({ modelControl: 'explicit' });
    const post = (path: string) => fetch(s.url + path, { method: 'POST' }).then((r) => r.status);
    try {
      expect((await s.get('/v2/health/ready')).status).toBe(200);
      expect(await post('/v2/repository/models/fraud/unload')).toBe(200);
      expect(await s.get('/v2/health/ready')).toEqual({ status: 400, json: { ready: false } });
      expect((await s.get('/v1/models/fraud')).json).toEqual({
        model_version_status: [
          { version: '', state: 'END', status: { error_code: 'OK', error_message: '' } },
        ],
      });
      expect(await post('/v2/repository/models/fraud/load')).toBe(200);
      expect((await s.get('/v2/health/ready')).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('a serving file overwritten in place', () => {
  const infer = (url: string, name: string, input: string, width: number) =>
    fetch(`${url}/v2/models/${name}/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: input, shape: [1, width], datatype: 'FP32', data: new Array(width).fill(0.5) }],
      }),
    }).then((r) => r.status);

  it('is reloaded from the new bytes once they settle, and a touch alone reloads nothing', async () => {
    const file = putVersion('model', '1', 'iris');
    const s = await serve();
    try {
      expect(s.deployer.model('model').signature.inputs[0]!.name).toBe('input');
      // Same bytes, new time: not a change.
      const touched = new Date(Date.now() - 30_000);
      utimesSync(file, touched, touched);
      await s.repository.sync();
      await s.repository.sync();
      expect(s.changes).toEqual([]);
      // Other bytes, same path (fraud's model over iris's).
      writeFileSync(file, readFileSync(modelPath('fraud')));
      utimesSync(file, old, old);
      await s.repository.sync(); // seen once: it may still be being written
      expect(s.changes).toEqual([]);
      expect(s.deployer.model('model').signature.inputs[0]!.name).toBe('input');
      await s.repository.sync(); // seen unchanged: read, verified, loaded
      expect(s.changes).toEqual(['model/1 reloaded']);
      expect(s.deployer.model('model').signature.inputs[0]!.name).toBe('features');
      expect(await infer(s.url, 'model', 'features', 12)).toBe(200);
      expect((await s.get('/v2/health/ready')).status).toBe(200);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain(
        'modelship_repository_file_changes_total{model="model",version="1",outcome="reloaded"} 1',
      );
    } finally {
      await s.close();
    }
  });

  it('is refused when it no longer matches its pinned integrity: the loaded bytes keep serving, and status, index and metrics say so', async () => {
    const file = putVersion('model', '1', 'iris');
    writeFileSync(
      join(root, 'model', 'config.json'),
      JSON.stringify({ integrity: { '1': await computeIntegrity(readFileSync(modelPath('iris'))) } }),
    );
    const s = await serve({ modelControl: 'explicit' });
    try {
      writeFileSync(file, readFileSync(modelPath('fraud')));
      utimesSync(file, old, old);
      await s.repository.sync();
      await s.repository.sync();
      expect(s.changes).toEqual(['model/1 refused']);
      // Still iris's bytes answering.
      expect(s.deployer.model('model').signature.inputs[0]!.name).toBe('input');
      expect(await infer(s.url, 'model', 'input', 4)).toBe(200);
      const note = s.repository.status().model![0]!.note!;
      expect(note).toMatch(
        /^model\/1\/model\.onnx changed on disk and was not loaded \(.*integrity.*\); the bytes loaded before keep serving$/,
      );
      const index = (await fetch(`${s.url}/v2/repository/index`, { method: 'POST' }).then((r) =>
        r.json(),
      )) as unknown[];
      expect(index).toEqual([{ name: 'model', version: '1', state: 'READY', reason: note }]);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toContain(
        'modelship_repository_file_changes_total{model="model",version="1",outcome="refused"} 1',
      );
      // Not tried again at every poll.
      await s.repository.sync();
      await s.repository.sync();
      expect(s.changes).toEqual(['model/1 refused']);
    } finally {
      await s.close();
    }
  });
});
