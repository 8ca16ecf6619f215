/**
 * Signatures as the ONNX graph declares them (a scalar is [], an undeclared shape null), the
 * rank errors that follow from them, and onnxruntime's own logging kept off stderr.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readOnnxSignature, toArray } from '@modelship/core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';
import { casesOf, expected, failure, modelPath } from './fixtures';

describe('signatures read from the ONNX graph', () => {
  it('reports a scalar input as [], from a path and from bytes', async () => {
    const want = expected.scalar_input!.signature;
    expect(want.inputs[1]).toEqual({ name: 'sr', dtype: 'int64', shape: [] });
    const fromPath = await loadModel(modelPath('scalar_input'));
    const fromBytes = await loadModel(new Uint8Array(readFileSync(modelPath('scalar_input'))));
    expect(fromPath.signature).toEqual(want);
    expect(fromBytes.signature).toEqual(want);
    await Promise.all([fromPath.dispose(), fromBytes.dispose()]);
  });

  it('keeps named, unnamed and fixed dimensions as declared, for every fixture', async () => {
    for (const name of ['unknown_dims', 'fixed_shape', 'embedding', 'resize_linear', 'fraud']) {
      const model = await loadModel(modelPath(name));
      if (expected[name] !== undefined) expect(model.signature, name).toEqual(expected[name]!.signature);
      const declared = await readOnnxSignature(readFileSync(modelPath(name)));
      expect(model.signature.inputs.map((s) => s.shape)).toEqual(declared.inputs.map((d) => d.shape));
      await model.dispose();
    }
  });

  it('a scalar input sent with rank 1 is INPUT_RANK_MISMATCH naming it, not a silent broadcast', async () => {
    const model = await loadModel(modelPath('scalar_input'));
    const [{ inputs, outputs }] = casesOf('scalar_input') as [ReturnType<typeof casesOf>[0]];
    const out = await model.predict(inputs);
    expect(toArray(out.y!)).toEqual(toArray(outputs.y!));
    // onnxruntime itself would broadcast [2] against [batch, frames] and answer.
    const e = await failure(
      model.predict({ ...inputs, sr: { dtype: 'int64', shape: [2], data: BigInt64Array.of(16000n, 8000n) } }),
    );
    expect(e.code).toBe('INPUT_RANK_MISMATCH');
    expect(e.message).toBe("input 'sr': expected rank 0 [], received rank 1 [2]");
    expect(e.details).toMatchObject({ input: 'sr', expected: [], received: [2] });
    await model.dispose();
  });
});

describe("onnxruntime's own logging", () => {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli') as string;
  const child = fileURLToPath(new URL('./ort-logging.child.ts', import.meta.url));
  function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [tsx, '--conditions=@modelship/source', child, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('error', reject);
      p.on('exit', (code) => resolve({ stdout, stderr, code }));
    });
  }

  it('stays off stderr by default; the error reaches the caller typed', async () => {
    const { stdout, stderr, code } = await run([]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('INFERENCE_FAILED');
    expect(stderr).not.toMatch(/onnxruntime/);
  }, 60_000);

  it('logSeverityLevel turns it back on', async () => {
    const { stdout, stderr, code } = await run(['3']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('INFERENCE_FAILED');
    expect(stderr).toMatch(/\[E:onnxruntime:.*Reshape/);
  }, 60_000);

  it('refuses a level onnxruntime does not have', async () => {
    const e = await failure(loadModel(modelPath('linear'), { logSeverityLevel: 5 as never }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('logSeverityLevel must be 0 (verbose)');
  });
});
