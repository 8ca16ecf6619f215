import { createHmac } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Deployer,
  decryptPredictionLog,
  functionModel,
  loadModel,
  ModelshipError,
  PredictionLog,
  type PredictionLogOptions,
  tensor,
} from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';

const HASH_KEY = 'the hash key of this test, 32+ b';
const EMAILS = ['alice@example.com', 'bob@example.com'];

/** A model taking an email (string) and an amount, answering a score: a Deployer serving it. */
async function emailDeployer(): Promise<Deployer> {
  const model = functionModel(
    ({ amount }) => ({
      score: tensor(
        'float32',
        Float32Array.from(amount!.data as Float32Array, (a) => a / 100),
        [amount!.shape[0]!],
      ),
    }),
    {
      name: 'scorer',
      signature: {
        inputs: [
          { name: 'email', dtype: 'string', shape: ['batch'] },
          { name: 'amount', dtype: 'float32', shape: ['batch'] },
        ],
        outputs: [{ name: 'score', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
  const deployer = new Deployer();
  await deployer.deploy('scorer', async () => model, { version: '1' });
  return deployer;
}

/**
 * Logs one prediction per email (amount 10, 20, …) with these options, flushing after each, in
 * `dir` (default: a new one); returns the directory.
 */
async function logEmails(
  options: PredictionLogOptions,
  emails = EMAILS,
  dir = mkdtempSync(join(tmpdir(), 'modelship-log-')),
): Promise<{ dir: string; log: PredictionLog }> {
  const deployer = await emailDeployer();
  const log = new PredictionLog(dir, { flushMs: 5, ...options });
  log.attach(deployer);
  for (const [i, email] of emails.entries()) {
    await deployer.predict('scorer', {
      email: tensor('string', [email], [1]),
      amount: tensor('float32', [10 * (i + 1)], [1]),
    });
    await log.flush();
  }
  await log.close();
  await deployer.close();
  return { dir, log };
}

const linesOf = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('PredictionLog', () => {
  it('writes one JSON line per prediction, rotates past maxBytes and keeps maxFiles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-log-'));
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '2' });
    const log = new PredictionLog(dir, {
      maxBytes: 2000,
      maxFiles: 2,
      flushMs: 5,
      tensors: true,
      policy: { default: 'keep' },
    });
    log.attach(deployer);
    const features = [new Array(12).fill(0.5)];
    for (let i = 0; i < 30; i++) {
      await deployer.predict('fraud', { features }, { routingKey: `user-${i}` });
      if (i % 5 === 4) await log.flush();
    }
    await deployer.predict('fraud', { features: [[1, 2]] }).catch(() => undefined); // refused: shape
    await log.close();
    await deployer.close();
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => f.startsWith('predictions-'))).toHaveLength(2);
    expect(files).toContain('predictions.jsonl');
    const current = readFileSync(join(dir, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = current.at(-1);
    expect(last).toMatchObject({ model: 'fraud', version: '2', error: 'INPUT_SHAPE_MISMATCH' });
    const ok = current.find((l) => l.error === undefined)!;
    expect(ok).toMatchObject({
      model: 'fraud',
      version: '2',
      batchSize: 1,
      routingKey: expect.stringMatching(/^user-\d+$/),
    });
    expect(ok.inputs.features[0]).toHaveLength(12);
    expect(ok.outputs.label).toEqual(['0']); // int64 written as digits
    expect(log.written).toBe(31);
    // Lines after close are dropped rather than written to a closed log.
    log.write({
      name: 'x',
      version: '1',
      kind: 'serve',
      latencyMs: 1,
      queueMs: 0,
      batchSize: 1,
      routingKey: undefined,
      inputs: {},
      outputs: undefined,
      error: undefined,
    });
    expect(log.written).toBe(31);
  });
});

describe('PredictionLog with a log policy', () => {
  it('logs no inputs or outputs when tensors is on but no policy keeps them', async () => {
    const { dir } = await logEmails({ tensors: true });
    const lines = linesOf(join(dir, 'predictions.jsonl'));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({ model: 'scorer', version: '1', batchSize: 1 });
      expect(line).not.toHaveProperty('inputs');
      expect(line).not.toHaveProperty('outputs');
    }
    expect(readFileSync(join(dir, 'predictions.jsonl'), 'utf8')).not.toContain('example.com');
  });

  it('keeps, hashes and drops fields as the policy says', async () => {
    const { dir } = await logEmails({
      policy: {
        fields: { 'inputs.email.*': 'hash', 'inputs.amount': 'keep', 'outputs.*': 'keep' },
        hashKey: HASH_KEY,
      },
    });
    const text = readFileSync(join(dir, 'predictions.jsonl'), 'utf8');
    expect(text).not.toContain('example.com');
    const lines = linesOf(join(dir, 'predictions.jsonl'));
    const hash = (s: string) => createHmac('sha256', HASH_KEY).update(s).digest('hex');
    expect(lines.map((l) => l.inputs)).toEqual([
      { email: [hash(EMAILS[0]!)], amount: [10] },
      { email: [hash(EMAILS[1]!)], amount: [20] },
    ]);
    expect(lines.map((l) => l.outputs)).toEqual([
      { score: [0.10000000149011612] },
      { score: [0.20000000298023224] },
    ]);
    // A policy alone turns tensors on; the file is readable by its owner only.
    expect(statSync(join(dir, 'predictions.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('refuses a bad policy when the log is made', () => {
    const make = (options: PredictionLogOptions) => () => new PredictionLog('/tmp/unused', options);
    expect(make({ policy: { default: 'hash' } })).toThrow(/needs a hashKey/);
    expect(make({ policy: { fields: { 'inputs.x': { truncate: -2 } } } })).toThrow(/non-negative integer/);
    expect(make({ tensors: 'yes' as never })).toThrow(/tensors must be true or false/);
    let error: unknown;
    try {
      make({ policy: { default: 'nope' as never } })();
    } catch (e) {
      error = e;
    }
    expect(ModelshipError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
  });

  it('starts on a fresh line after a torn last line, so only that line is lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-log-'));
    writeFileSync(join(dir, 'predictions.jsonl'), '{"model":"scorer","version":"1"}\n{"model":"sco');
    await logEmails({}, ['x'], dir);
    const rows = readFileSync(join(dir, 'predictions.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toBe('{"model":"sco');
    expect(JSON.parse(rows[2]!)).toMatchObject({ model: 'scorer', version: '1' });
  });
});

describe('PredictionLog encrypted at rest', () => {
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const policy = { default: 'keep' as const };

  it('writes no plaintext and decrypts back to the same lines', async () => {
    const { dir, log } = await logEmails({ policy, encryption: { key, kid: 'logs-1' } });
    expect(readdirSync(dir)).toEqual(['predictions.jsonl.jwe']);
    expect(log.path).toBe(join(dir, 'predictions.jsonl.jwe'));
    const text = readFileSync(join(dir, 'predictions.jsonl.jwe'), 'utf8');
    // The planted values appear nowhere on disk, nor does any line's JSON.
    for (const planted of [...EMAILS, 'example', 'scorer', '"inputs"']) expect(text).not.toContain(planted);
    const rows = text.trim().split('\n');
    expect(rows.every((r) => /^eyJ[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/.test(r))).toBe(true);
    const header = JSON.parse(Buffer.from(rows[0]!.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'A256KW', enc: 'A256GCM', kid: 'logs-1' });
    const { lines, damaged } = await decryptPredictionLog(text, { key });
    expect(damaged).toEqual([]);
    expect(lines.map((l) => JSON.parse(l).inputs)).toEqual([
      { email: [EMAILS[0]], amount: [10] },
      { email: [EMAILS[1]], amount: [20] },
    ]);
  });

  it('refuses a wrong key with a typed error and reports a torn or changed line', async () => {
    const { dir } = await logEmails({ policy, encryption: { key } });
    const file = join(dir, 'predictions.jsonl.jwe');
    const wrong = new Uint8Array(32).fill(9);
    await expect(decryptPredictionLog(readFileSync(file, 'utf8'), { key: wrong })).rejects.toMatchObject({
      code: 'DECRYPTION_KEY_MISMATCH',
    });
    // A crash mid-append: half a line at the end. The log then goes on, from a fresh line.
    const good = readFileSync(file, 'utf8');
    appendFileSync(file, good.slice(0, 40));
    await logEmails({ policy, encryption: { key } }, ['carol@example.com'], dir);
    const read = await decryptPredictionLog(readFileSync(file, 'utf8'), { key });
    expect(read.lines.map((l) => JSON.parse(l).inputs.email[0])).toEqual([...EMAILS, 'carol@example.com']);
    expect(read.damaged).toHaveLength(1);
    expect(read.damaged[0]!.line).toBe(good.trim().split('\n').length + 1);
    expect(read.damaged[0]!.code).toMatch(/^ENCRYPTED_MODEL_(TRUNCATED|INVALID)$/);
    // One changed character in a ciphertext: that line is reported as tampered, the others read.
    const rows = good.trim().split('\n');
    const parts = rows[0]!.split('.');
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1);
    const changed = [parts.join('.'), ...rows.slice(1)].join('\n');
    const tampered = await decryptPredictionLog(changed, { key });
    expect(tampered.damaged).toEqual([
      expect.objectContaining({ line: 1, code: 'ENCRYPTED_MODEL_TAMPERED' }),
    ]);
  });

  it('rotates encrypted files under their own name', async () => {
    const emails = ['u0@example.com', 'u1@example.com', 'u2@example.com', 'u3@example.com'];
    const { dir } = await logEmails({ policy, encryption: { key }, maxBytes: 600, maxFiles: 1 }, emails);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^predictions-.+\.jsonl\.jwe$/);
    expect(files[1]).toBe('predictions.jsonl.jwe');
  });
});
