/**
 * The prediction log's policy and encryption as a user sets them up: `modelship serve
 * --log-policy --log-key-file`, then `modelship logs decrypt`.
 */
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run';
import { startServe } from './serve-process';

const repoExample = fileURLToPath(new URL('../../../examples/model-repository/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'modelship-log-policy-'));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
});

const HASH_KEY = 'hash key for the serve test, 32b';
const PLANTED = 4242.125;

describe('modelship serve --log-policy --log-key-file', { timeout: 150_000 }, () => {
  it('logs hashed inputs, encrypted at rest, and logs decrypt reads them back', async () => {
    const root = join(tmp, 'repo');
    cpSync(repoExample, root, { recursive: true });
    const logDir = join(tmp, 'logs');
    const policyFile = join(tmp, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ fields: { 'inputs.features': 'hash', 'outputs.label': 'keep' } }),
    );
    const keyFile = join(tmp, 'log.key');
    writeFileSync(keyFile, Buffer.alloc(32, 7));
    const serve = startServe(
      [root, '--port', '0', '--log-dir', logDir, '--log-policy', policyFile, '--log-key-file', keyFile],
      { MODELSHIP_LOG_HASH_KEY: HASH_KEY },
    );
    running.push(serve.child);
    const url = await serve.url;
    const features = [PLANTED, ...new Array(11).fill(0.5)];
    const res = await fetch(`${url}/v2/models/fraud/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: features }],
      }),
    });
    expect(res.status).toBe(200);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    expect(readdirSync(logDir)).toEqual(['predictions.jsonl.jwe']);
    const raw = readFileSync(join(logDir, 'predictions.jsonl.jwe'), 'utf8');
    for (const planted of [String(PLANTED), 'fraud', 'features']) expect(raw).not.toContain(planted);

    const wrong = join(tmp, 'wrong.key');
    writeFileSync(wrong, Buffer.alloc(32, 8));
    const refused = await runCli(['logs', 'decrypt', logDir, '--key-file', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/DECRYPTION_KEY_MISMATCH/);
    expect(refused.out).toBe('');

    const read = await runCli(['logs', 'decrypt', logDir, '--key-file', keyFile]);
    expect(read.err).toBe('');
    expect(read.code).toBe(0);
    const lines = read.out.split('\n').map((l) => JSON.parse(l));
    const line = lines.find((l) => l.model === 'fraud')!;
    expect(line).toMatchObject({ model: 'fraud', version: '2', batchSize: 1 });
    // features as the float32 tensor the model saw, in canonical JSON, hashed with the key.
    const canonical = JSON.stringify([Array.from(Float32Array.from(features))]);
    expect(line.inputs).toEqual({ features: createHmac('sha256', HASH_KEY).update(canonical).digest('hex') });
    expect(Object.keys(line.outputs)).toEqual(['label']);
    expect(read.out).not.toContain(String(PLANTED));

    // A torn line (a crash mid-append) is reported after the others are written.
    const torn = join(tmp, 'torn.jsonl.jwe');
    writeFileSync(torn, `${raw}${raw.slice(0, 50)}`);
    const partly = await runCli(['logs', 'decrypt', torn, '--key-file', keyFile]);
    expect(partly.code).toBe(1);
    expect(partly.out).toBe(read.out);
    expect(partly.err).toMatch(
      new RegExp(
        `^modelship: \\[ENCRYPTED_MODEL_(TRUNCATED|INVALID)\\] 1 line\\(s\\) did not decrypt, the other ${lines.length} were written: .*torn\\.jsonl\\.jwe line ${raw.trim().split('\n').length + 1} `,
      ),
    );

    // To a file, which must be new.
    const out = join(tmp, 'plain.jsonl');
    expect(
      (
        await runCli([
          'logs',
          'decrypt',
          join(logDir, 'predictions.jsonl.jwe'),
          '--key-file',
          keyFile,
          '-o',
          out,
        ])
      ).code,
    ).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${read.out}\n`);
    expect((await runCli(['logs', 'decrypt', logDir, '--key-file', keyFile, '-o', out])).err).toMatch(
      /exists already/,
    );
  });

  it('refuses a bad policy, a missing key or a policy without --log-dir before serving', async () => {
    const root = join(tmp, 'repo-bad');
    cpSync(repoExample, root, { recursive: true });
    const logDir = join(tmp, 'logs-bad');
    const bad = join(tmp, 'bad-policy.json');
    writeFileSync(bad, JSON.stringify({ fields: { 'inputs.features': 'redact' } }));
    const r1 = await runCli(['serve', root, '--log-dir', logDir, '--log-policy', bad]);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(
      /--log-policy .*bad-policy\.json: fields\["inputs\.features"\] must be 'keep', 'drop', 'hash' or \{ truncate: n \}, received "redact"/,
    );
    const hashing = join(tmp, 'hash-policy.json');
    writeFileSync(hashing, JSON.stringify({ default: 'hash' }));
    const r2 = await runCli(['serve', root, '--log-dir', logDir, '--log-policy', hashing]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/needs a hashKey.*MODELSHIP_LOG_HASH_KEY/);
    const r3 = await runCli(['serve', root, '--log-policy', hashing]);
    expect(r3.err).toMatch(/--log-policy set\(s\) up the prediction log: give --log-dir too/);
    const r4 = await runCli([
      'serve',
      root,
      '--log-dir',
      logDir,
      '--log-key-env',
      'MODELSHIP_TEST_NO_SUCH_KEY',
    ]);
    expect(r4.code).toBe(2);
    expect(r4.err).toMatch(/the log key: .*MODELSHIP_TEST_NO_SUCH_KEY/);
    // In a --config file: an inline policy is checked the same way.
    const config = join(tmp, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ logDir, logPolicy: { fields: { 'inputs.features': { truncate: -1 } } } }),
    );
    const r5 = await runCli(['serve', root, '--config', config]);
    expect(r5.code).toBe(2);
    expect(r5.err).toMatch(/logPolicy in --config: .*truncate must be a non-negative integer, received -1/);
    writeFileSync(config, JSON.stringify({ logPolicy: [] }));
    expect((await runCli(['serve', root, '--config', config])).err).toMatch(/'logPolicy' has the wrong type/);
    expect(readdirSync(tmp)).not.toContain('logs-bad');
    // logs decrypt's own mistakes name it, with its usage.
    const r6 = await runCli(['logs', 'decrypt']);
    expect(r6.code).toBe(2);
    expect(r6.err).toMatch(
      /^modelship: \[MISSING_ARGUMENT\] missing required argument 'paths' for modelship logs decrypt\n\nUsage: modelship logs decrypt /,
    );
    expect((await runCli(['logs', 'decrypt', join(tmp, 'none')])).err).toMatch(
      /\[FILE_NOT_FOUND\] the log '.*none' does not exist/,
    );
    expect((await runCli(['logs', 'decrypt', root])).err).toMatch(/holds no predictions\*\.jsonl\.jwe/);
  });
});
