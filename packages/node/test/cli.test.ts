import { readFileSync } from 'node:fs';
import { computeIntegrity } from '@modelship/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { modelPath } from './fixtures';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(argv, (s) => out.push(s));
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('modelship CLI', () => {
  it('inspect prints the signature and the integrity string', async () => {
    const sri = await computeIntegrity(readFileSync(modelPath('fraud')));
    const r = await run('inspect', modelPath('fraud'));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      `fraud  0.5 KiB  ${sri}`,
      '  input   features     float32  [batch, 12]',
      '  output  probability  float32  [batch]',
      '  output  label        int64    [batch]',
    ]);
    const json = JSON.parse((await run('inspect', modelPath('iris'), '--json')).out);
    expect(json.signature.outputs.map((o: { name: string }) => o.name)).toEqual(['logits', 'probabilities']);
  });

  it('hash prints an SRI string loadModel accepts', async () => {
    const r = await run('hash', modelPath('iris'), '--algorithm', 'sha384');
    expect(r.out).toBe(await computeIntegrity(readFileSync(modelPath('iris')), 'sha384'));
  });

  it('exits 1 with the error code when the model fails, 2 on a wrong command line', async () => {
    expect(await run('inspect', '/no/such/model.onnx')).toMatchObject({
      code: 1,
      err: "modelship: [MODEL_NOT_FOUND] cannot read '/no/such/model.onnx': ENOENT: no such file or directory, open '/no/such/model.onnx'\n",
    });
    expect((await run('inspect', modelPath('bad_op'))).err).toMatch(
      /^modelship: \[MODEL_REJECTED\] onnxruntime could not load model 'bad_op'/,
    );
    expect((await run('frob')).code).toBe(2);
    expect((await run('frob')).err).toMatch(/^modelship: unknown command 'frob'/);
    expect((await run('inspect')).err).toMatch(/expected one file, received 0/);
    expect((await run('inspect', 'a', '--colour')).code).toBe(2);
    expect((await run('hash', 'a', '--algorithm', 'md5')).err).toMatch(
      /--algorithm must be sha256, sha384 or sha512, not 'md5'/,
    );
    expect((await run()).code).toBe(2);
    expect(await run('help')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^Usage: modelship <command>/),
    });
  });
});
