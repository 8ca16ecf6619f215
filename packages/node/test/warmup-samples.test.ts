/**
 * Warmup in a repository: a synthetic warmup that fails never refuses a working model (it
 * serves, and status, events and /metrics say why the warmup was skipped), while warmup
 * samples stored with a version (`<model>/<version>/warmup/*.json`, or config.json's
 * `warmup.samples`) are real requests whose failure refuses the version.
 *
 * scalar_input.onnx frames `x` in fours: the zeros of shape [1, 1] the synthetic warmup sends
 * make onnxruntime's Reshape fail, while 8 samples run.
 */
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, Deployer, FileSystemRepository } from '@modelship/node';
import { afterEach, describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';

const sample = (samples: number, sr: number | number[] = 16000) =>
  JSON.stringify({
    inputs: [
      {
        name: 'x',
        shape: [1, samples],
        datatype: 'FP32',
        data: Array.from({ length: samples }, (_, i) => i),
      },
      {
        name: 'sr',
        shape: Array.isArray(sr) ? [sr.length] : [],
        datatype: 'INT64',
        data: Array.isArray(sr) ? sr : [sr],
      },
    ],
  });

function repo(files: Record<string, string | { model: true } | { link: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'modelship-warmup-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    if (typeof content === 'string') writeFileSync(full, content);
    else if ('model' in content) copyFileSync(modelPath('scalar_input'), full);
    else symlinkSync(content.link, full);
  }
  return root;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function start(root: string) {
  const deployer = new Deployer();
  const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
  const events: string[] = [];
  deployer.on('warmupSkipped', (e) => events.push(`warmupSkipped ${e.name}/${e.version}`));
  deployer.on('warmedUp', (e) => events.push(`warmedUp ${e.name}/${e.version} runs=${e.runs}`));
  repository.on('loadFailed', (e) => events.push(`loadFailed ${e.model}/${e.version}`));
  repository.on('problem', (p) => events.push(`problem ${p.reason}`));
  repository.attach(deployer);
  const server = createServer(deployer, { repository, closeDeployer: true });
  cleanups.push(async () => {
    await repository.stop();
    await server.close();
  });
  await repository.start();
  const { url } = await server.listen(0, '127.0.0.1');
  const infer = (body: string, version?: string) =>
    fetch(`${url}/v2/models/vad${version === undefined ? '' : `/versions/${version}`}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
  return { deployer, repository, url, events, infer };
}

/** frame means × sr, as numpy computes them for x = 0..n-1. */
const answer = (samples: number, sr = 16000) =>
  Array.from({ length: samples / 4 }, (_, f) => (4 * f + 1.5) * sr);

describe('warmup in a repository', () => {
  it('serves a model whose synthetic warmup fails, and says why in status, events and /metrics', async () => {
    const { deployer, url, events, infer } = await start(repo({ 'vad/1/model.onnx': { model: true } }));
    expect(events).toEqual(['warmupSkipped vad/1']);
    const warmup = deployer.status('vad').versions[0]!.warmup;
    expect(warmup).toMatchObject({ state: 'skipped', runs: 0, code: 'INFERENCE_FAILED' });
    expect(warmup.reason).toMatch(
      /^the synthetic warmup \(zeros, symbolic dimensions 1\) failed: .*Reshape.*cannot be reshaped/,
    );
    expect((await fetch(`${url}/v2/models/vad/ready`)).status).toBe(200);
    const ok = await infer(sample(8));
    expect(ok.status).toBe(200);
    expect(ok.json.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 2], data: answer(8) }]);
    // The scalar is checked against its declared rank before onnxruntime sees it.
    const wrong = await infer(sample(8, [16000, 8000]));
    expect(wrong).toEqual({
      status: 400,
      json: { error: "input 'sr': expected rank 0 [], received rank 1 [2]" },
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain(
      'modelship_version_warmup_skipped{model="vad",version="1",reason="INFERENCE_FAILED"} 1',
    );
  });

  it('runs the samples in warmup/ in file-name order before the version takes traffic', async () => {
    const { deployer, url, events, infer } = await start(
      repo({
        'vad/1/model.onnx': { model: true },
        'vad/1/warmup/b.json': sample(12),
        'vad/1/warmup/a.json': sample(8, 8000),
        'vad/1/warmup/notes.txt': 'not a sample',
      }),
    );
    expect(events).toEqual(['warmedUp vad/1 runs=2']);
    expect(deployer.status('vad').versions[0]!.warmup).toEqual({ state: 'warmed', runs: 2 });
    expect((await infer(sample(4))).json.outputs).toMatchObject([{ data: answer(4) }]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).not.toContain('modelship_version_warmup_skipped{');
  });

  it('refuses a version whose warmup sample fails, naming the file; the old version keeps serving', async () => {
    const root = repo({ 'vad/1/model.onnx': { model: true } });
    const { deployer, repository, events, infer } = await start(root);
    // Version 2: the first sample (in name order) fits, the second sends a rank-1 `sr`.
    mkdirSync(join(root, 'vad/2/warmup'), { recursive: true });
    writeFileSync(join(root, 'vad/2/warmup/01-good.json'), sample(8));
    writeFileSync(join(root, 'vad/2/warmup/02-bad.json'), sample(8, [1, 2]));
    writeFileSync(join(root, 'vad/2/warmup/10-bad.json'), sample(1));
    copyFileSync(modelPath('scalar_input'), join(root, 'vad/2/model.onnx'));
    await repository.sync();
    expect(events).toEqual(['warmupSkipped vad/1', 'loadFailed vad/2']);
    expect(repository.status().vad).toEqual([
      { version: '1', state: 'serving' },
      {
        version: '2',
        state: 'failed',
        error:
          "model 'vad' version '2' failed its warmup: sample vad/2/warmup/02-bad.json: input 'sr': expected rank 0 [], received rank 1 [2]",
      },
    ]);
    expect(deployer.status('vad').versions.map((v) => v.version)).toEqual(['1']);
    expect((await infer(sample(8))).json).toMatchObject({
      model_version: '1',
      outputs: [{ data: answer(8) }],
    });
  });

  it('refuses samples that are not JSON or do not fit the model, naming the file', async () => {
    const root = repo({
      'vad/1/model.onnx': { model: true },
      'vad/1/warmup/a.json': '{"inputs": [',
      'vad/2/model.onnx': { model: true },
      'vad/2/warmup/a.json': JSON.stringify({
        inputs: [{ name: 'audio', shape: [1], datatype: 'FP32', data: [0] }],
      }),
      'vad/3/model.onnx': { model: true },
      'vad/3/warmup/a.json': '[1, 2]',
    });
    const { repository } = await start(root);
    const errors = Object.fromEntries(repository.status().vad!.map((v) => [v.version, v.error]));
    expect(errors['3']).toBe(
      "model 'vad' version '3' failed its warmup: vad/3/warmup/a.json: an inference request must be a JSON object, received an array of length 2",
    );
    // The version policy then falls back to the next newest version, and so on.
    expect(errors['2']).toBe(
      "model 'vad' version '2' failed its warmup: vad/2/warmup/a.json: model 'vad' has no input 'audio' (inputs: 'x', 'sr')",
    );
    expect(errors['1']).toMatch(/^vad\/1\/warmup\/a\.json is not JSON: /);
  });

  it('takes samples from the location config.json names, inside the model folder only; deploy.warmup false runs none', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'modelship-outside-'));
    writeFileSync(join(outside, 'a.json'), sample(8));
    const root = repo({
      'vad/config.json': JSON.stringify({ warmup: { samples: 'requests' } }),
      'vad/requests/a.json': sample(8),
      'vad/1/model.onnx': { model: true },
      'vad/1/warmup/a.json': '{ "ignored": "config.json names another location" ',
      'far/config.json': JSON.stringify({ warmup: { samples: '../vad/requests' } }),
      'far/1/model.onnx': { model: true },
      'link/config.json': JSON.stringify({ warmup: { samples: 'out' } }),
      'link/out': { link: outside },
      'link/1/model.onnx': { model: true },
      'file/config.json': JSON.stringify({ warmup: { samples: 'one.json' } }),
      'file/one.json': sample(1),
      'file/1/model.onnx': { model: true },
      'off/config.json': JSON.stringify({ deploy: { warmup: false } }),
      'off/1/model.onnx': { model: true },
      'off/1/warmup/a.json': sample(1),
    });
    const { deployer, repository, events } = await start(root);
    expect(deployer.status('vad').versions[0]!.warmup).toEqual({ state: 'warmed', runs: 1 });
    expect(events).toContain(
      // config.json is named relative to the repository root.
      'problem far/config.json: warmup.samples must be a relative path inside the model folder, received "../vad/requests"',
    );
    expect(deployer.names()).not.toContain('far');
    expect(repository.status().link![0]!.error).toBe(
      'link/out: warmup samples must lie inside the model folder link',
    );
    // deploy.warmup false turns every warmup off, samples included.
    expect(deployer.status('off').versions[0]!.warmup).toEqual({ state: 'off', runs: 0 });
    expect(repository.status().file![0]!.error).toMatch(
      /^model 'file' version '1' failed its warmup: sample file\/one\.json: .*cannot be reshaped/,
    );
  });
});
