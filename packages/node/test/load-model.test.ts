import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { computeIntegrity, OnnxModel, toArray } from '@modelship/core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';
import { casesOf, expected, failure, modelPath } from './fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'modelship-load-'));

describe('loadModel', () => {
  it('loads a model from a path, names it after the file and reads its signature', async () => {
    const model = await loadModel(modelPath('fraud'));
    expect(model).toBeInstanceOf(OnnxModel);
    expect(model.name).toBe('fraud');
    expect(model.version).toBe('1');
    expect(model.signature).toEqual(expected.fraud!.signature);
    await model.dispose();
  });

  it('loads from a file: URL and from bytes, with the given name and version', async () => {
    const fromUrl = await loadModel(pathToFileURL(modelPath('linear')), { name: 'lin', version: '7' });
    expect([fromUrl.name, fromUrl.version]).toEqual(['lin', '7']);
    const bytes = readFileSync(modelPath('linear'));
    const fromBytes = await loadModel(new Uint8Array(bytes), { name: 'lin' });
    const fromBuffer = await loadModel(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    expect(fromBuffer.name).toBe('model');
    const [{ inputs }] = casesOf('linear') as [ReturnType<typeof casesOf>[0]];
    const a = await fromUrl.predict(inputs);
    const b = await fromBytes.predict(inputs);
    expect(Array.from(a.y!.data as Float32Array)).toEqual(Array.from(b.y!.data as Float32Array));
    await Promise.all([fromUrl.dispose(), fromBytes.dispose(), fromBuffer.dispose()]);
  });

  it('verifies integrity before creating the session', async () => {
    const bytes = readFileSync(modelPath('fraud'));
    const good = await computeIntegrity(bytes);
    const model = await loadModel(modelPath('fraud'), { integrity: good });
    expect(model.signature.inputs[0]!.name).toBe('features');
    await model.dispose();

    const wrong = await computeIntegrity(new Uint8Array([1, 2, 3]));
    const e = await failure(loadModel(modelPath('fraud'), { integrity: wrong }));
    expect(e.code).toBe('INTEGRITY_MISMATCH');
    expect(e.message).toContain(`expected ${wrong}, but the bytes hash to ${good}`);
    expect((await failure(loadModel(modelPath('fraud'), { integrity: 'sha256-nothex' }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('says when the file does not exist or is a directory', async () => {
    const missing = await failure(loadModel(join(tmp, 'nope.onnx')));
    expect(missing.code).toBe('MODEL_NOT_FOUND');
    expect(missing.message).toBe(`no model file at '${join(tmp, 'nope.onnx')}'`);
    const dir = await failure(loadModel(tmp));
    expect(dir.code).toBe('MODEL_NOT_FOUND');
    expect(dir.message).toMatch(/is a directory, not a model file/);
  });

  it('says when a file is not a model at all', async () => {
    const path = join(tmp, 'notes.onnx');
    writeFileSync(path, '{"this": "is json"}');
    const e = await failure(loadModel(path));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(
      /notes\.onnx is not an ONNX model: byte 0 does not start an ONNX ModelProto field/,
    );
    const empty = join(tmp, 'empty.onnx');
    writeFileSync(empty, '');
    expect((await failure(loadModel(empty))).message).toMatch(/is not an ONNX model: it is empty/);
    const truncated = join(tmp, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(modelPath('fraud')).subarray(0, 200));
    expect((await failure(loadModel(truncated))).code).toBe('MODEL_INVALID');
    expect((await failure(loadModel(new Uint8Array([0xff, 0xff, 0xff])))).code).toBe('MODEL_INVALID');
  });

  it('reports a model onnxruntime refuses, keeping its error as the cause', async () => {
    const e = await failure(loadModel(modelPath('bad_op')));
    expect(e.code).toBe('MODEL_REJECTED');
    expect(e.message).toMatch(/onnxruntime could not load model 'bad_op'/);
    expect(e.message).toMatch(/NoSuchOp/);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('passes session options through and refuses bad ones', async () => {
    const model = await loadModel(modelPath('iris'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'basic',
      executionMode: 'sequential',
    });
    const [c] = casesOf('iris');
    const out = await model.predict(c!.inputs);
    expect(toArray(out.probabilities!).length).toBe(toArray(c!.outputs.probabilities!).length);
    await model.dispose();
    for (const bad of [
      { executionProviders: [] },
      { intraOpNumThreads: -1 },
      { intraOpNumThreads: 1.5 },
      { graphOptimizationLevel: 'max' },
      { executionMode: 'async' },
      { name: '' },
    ]) {
      expect((await failure(loadModel(modelPath('iris'), bad as never))).code).toBe('INVALID_ARGUMENT');
    }
    expect((await failure(loadModel(42 as never))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(loadModel(new URL('https://example.com/m.onnx')))).code).toBe('INVALID_ARGUMENT');
  });

  it('reports an execution provider this build does not have as MODEL_REJECTED', async () => {
    const e = await failure(loadModel(modelPath('iris'), { executionProviders: ['no-such-ep'] }));
    expect(e.code).toBe('MODEL_REJECTED');
  });
});
