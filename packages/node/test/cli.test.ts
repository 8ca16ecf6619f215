import { readFileSync } from 'node:fs';
import { computeIntegrity } from '@modelship/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-run';
import { modelPath } from './fixtures';

const run = (...argv: string[]) => runCli(argv);

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
      code: 2,
      err: "modelship: [FILE_NOT_FOUND] the model '/no/such/model.onnx' does not exist\n",
    });
    const rejected = await run('inspect', modelPath('bad_op'));
    expect(rejected.code).toBe(1);
    expect(rejected.err).toMatch(/^modelship: \[MODEL_REJECTED\] onnxruntime could not load model 'bad_op'/);
    expect(rejected.err.trimEnd().split('\n')).toHaveLength(1);
    expect((await run('frob')).code).toBe(2);
    expect((await run('frob')).err).toMatch(
      /^modelship: \[UNKNOWN_COMMAND\] unknown command 'frob'\n\nUsage: modelship /,
    );
    expect((await run('inspect')).err).toMatch(
      /^modelship: \[MISSING_ARGUMENT\] missing required argument 'model' for modelship inspect\n/,
    );
    expect((await run('inspect', 'a', 'b')).err).toMatch(
      /^modelship: \[TOO_MANY_ARGUMENTS\] too many arguments for 'inspect'/,
    );
    expect((await run('inspect', 'a', '--colour')).code).toBe(2);
    expect((await run('hash', 'a', '--algorithm', 'md5')).err).toMatch(
      /^modelship: \[INVALID_OPTION\] --algorithm must be sha256, sha384 or sha512, not 'md5'\n$/,
    );
    expect((await run()).code).toBe(2);
    expect(await run('help')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^Usage: modelship \[options\] \[command\]/),
    });
  });

  it('hash of a missing file says the file is missing', async () => {
    expect(await run('hash', 'missing.bin')).toEqual({
      code: 2,
      out: '',
      err: "modelship: [FILE_NOT_FOUND] the file 'missing.bin' does not exist\n",
    });
  });

  it('--version, <command> --help and help <command> print to stdout with exit code 0', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await run('--version')).toEqual({ code: 0, out: pkg.version, err: '' });
    const help = await run('eval', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: modelship eval \[options\] <model> <data>\n/);
    expect(help.out).toMatch(/^ {2}--label <column> +label column \(default: label\)$/m);
    expect(await run('help', 'eval')).toEqual(help);
    const serve = await run('help', 'serve');
    for (const flag of [
      '--port',
      '--grpc-port',
      '--cors [origin]',
      '--model-control <m>',
      '--max-connections <n>',
      '--body-timeout <ms>',
      '--workers',
      '--instances <n|auto>',
      '--model-name',
      '--log-dir',
      '--config',
    ])
      expect(serve.out).toContain(`  ${flag}`);
    expect((await run('help', 'evl')).err).toMatch(
      /^modelship: \[UNKNOWN_COMMAND\] unknown command 'evl'; did you mean eval\?\n\nUsage: modelship /,
    );
    expect((await run('hash', '-h')).out).toMatch(/^Usage: modelship hash \[options\] <file>/);
  });

  it("an unknown flag suggests the near one and shows the command's options", async () => {
    const r = await run('eval', 'm.onnx', 'd.csv', '--lable', 'target');
    expect(r.code).toBe(2);
    const [first, blank, ...help] = r.err.split('\n');
    expect(first).toBe(
      "modelship: [UNKNOWN_OPTION] unknown option '--lable' for modelship eval; did you mean --label?",
    );
    expect(blank).toBe('');
    expect(help[0]).toBe('Usage: modelship eval [options] <model> <data>');
    expect(help.some((l) => /^ {2}--features <a,b,...> /.test(l))).toBe(true);
  });
});
