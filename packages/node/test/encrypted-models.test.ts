import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { computeIntegrity, ModelshipError, toArray } from '@modelship/core';
import { encryptModel } from '@modelship/core/encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, signModelPath } from '../src/index';
import { casesOf, modelPath } from './fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'modelship-enc-'));
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1); // test-only
const OTHER = Uint8Array.from({ length: 32 }, (_, i) => 255 - i); // test-only
const plain = new Uint8Array(readFileSync(modelPath('fraud')));
const [fraudCase] = casesOf('fraud');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    const m = (await p) as { dispose?: () => Promise<void> };
    await m?.dispose?.();
  } catch (e) {
    if (!ModelshipError.isInstance(e)) throw e;
    return e.code;
  }
  return 'loaded';
}

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

async function predicts(model: Awaited<ReturnType<typeof loadModel>>): Promise<number[]> {
  const out = await model.predict(fraudCase!.inputs);
  const name = Object.keys(fraudCase!.outputs)[0]!;
  return Array.from(toArray(out[name]!) as ArrayLike<number>).map(Number);
}

describe('loadModel with decryption', () => {
  it('loads a JWE and a chunked file, in-thread and on a worker thread, with the key from bytes, env, file or a function', async () => {
    const jwe = await write('fraud.onnx.jwe', await encryptModel(plain, { key: KEY, kid: 'k1' }));
    const enc = await write(
      'fraud.onnx.enc',
      await encryptModel(plain, { key: KEY, format: 'chunked', chunkSize: 4096 }),
    );
    const keyFile = await write('model.key', KEY);
    const hexFile = await write(
      'model.hex',
      new TextEncoder().encode(`${Buffer.from(KEY).toString('hex')}\n`),
    );
    process.env.H7_TEST_MODEL_KEY = Buffer.from(KEY).toString('base64');
    const reference = await predicts(await loadModel(modelPath('fraud')));
    const asked: (string | undefined)[] = [];
    const sources = [
      { key: KEY },
      { key: { env: 'H7_TEST_MODEL_KEY' } },
      { key: { file: keyFile } },
      { key: { file: hexFile } },
      {
        key: async (kid: string | undefined) => {
          asked.push(kid);
          return KEY;
        },
      },
    ];
    for (const file of [jwe, enc])
      for (const decryption of sources) {
        const model = await loadModel(file, { decryption });
        expect(model.name).toBe('fraud');
        expect(await predicts(model)).toEqual(reference);
        await model.dispose();
      }
    expect(asked).toEqual(['k1', undefined]);
    const pool = await loadModel(pathToFileURL(enc), { decryption: { key: KEY }, instances: 1 });
    expect(await predicts(pool)).toEqual(reference);
    await pool.dispose();
    const fromBytes = await loadModel(readFileSync(jwe), { decryption: { key: KEY } });
    expect(await predicts(fromBytes)).toEqual(reference);
    await fromBytes.dispose();
  });

  it('refuses wrong key, tampered and truncated files with distinct codes; a plaintext file under decryption; a .jwe without a key', async () => {
    for (const format of ['jwe', 'chunked'] as const) {
      const sealed = await encryptModel(plain, { key: KEY, format, chunkSize: 4096 });
      const file = await write(`m-${format}.onnx.${format === 'jwe' ? 'jwe' : 'enc'}`, sealed);
      expect(await codeOf(loadModel(file, { decryption: { key: OTHER } }))).toBe('DECRYPTION_KEY_MISMATCH');
      const changed = sealed.slice();
      const at = sealed.length - 100;
      // A JWE is base64url text: put another letter of that alphabet there (a flipped bit could
      // leave the alphabet, which is a malformed file, not a tampered one); the chunked file is bytes.
      changed[at] = format === 'jwe' ? (sealed[at] === 0x41 ? 0x42 : 0x41) : sealed[at]! ^ 1;
      expect(await codeOf(loadModel(await write(`t-${format}`, changed), { decryption: { key: KEY } }))).toBe(
        'ENCRYPTED_MODEL_TAMPERED',
      );
      const cut = sealed.subarray(0, sealed.length - 300);
      expect(await codeOf(loadModel(await write(`c-${format}`, cut), { decryption: { key: KEY } }))).toBe(
        'ENCRYPTED_MODEL_TRUNCATED',
      );
      expect(await codeOf(loadModel(file))).toBe('DECRYPTION_KEY_MISSING');
      expect(await codeOf(loadModel(sealed))).toBe('DECRYPTION_KEY_MISSING');
    }
    expect(await codeOf(loadModel(modelPath('fraud'), { decryption: { key: KEY } }))).toBe(
      'ENCRYPTED_MODEL_INVALID',
    );
    delete process.env.H7_UNSET_KEY;
    await expect(
      loadModel(join(tmp, 'm-jwe.onnx.jwe'), { decryption: { key: { env: 'H7_UNSET_KEY' } } }),
    ).rejects.toThrow('the environment variable H7_UNSET_KEY that should hold the model key is not set');
    await expect(
      loadModel(join(tmp, 'm-jwe.onnx.jwe'), { decryption: { key: { file: join(tmp, 'nope.key') } } }),
    ).rejects.toMatchObject({
      code: 'DECRYPTION_KEY_MISSING',
    });
    await expect(
      loadModel(join(tmp, 'm-jwe.onnx.jwe'), { decryption: { key: { env: 'A', file: 'b' } as never } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('verifies a signature over the encrypted file, then decrypts; other bytes under the signed name are refused', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = {
      privateKey: privateKey.export({ type: 'sec1', format: 'pem' }) as string,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    };
    const dir = mkdtempSync(join(tmp, 'signed-'));
    const file = join(dir, 'fraud.onnx.jwe');
    writeFileSync(file, await encryptModel(plain, { key: KEY }));
    await signModelPath(dir, { privateKey: pem.privateKey });
    const options = { signature: { publicKeys: [pem.publicKey] }, decryption: { key: KEY } };
    const model = await loadModel(file, options);
    expect(model.name).toBe('fraud');
    expect(await predicts(model)).toEqual(await predicts(await loadModel(modelPath('fraud'))));
    await model.dispose();
    // Other bytes under the same name no longer match the signature, before any key is asked for.
    writeFileSync(file, await encryptModel(plain, { key: KEY }));
    expect(await codeOf(loadModel(file, options))).toBe('SIGNED_FILE_MISMATCH');
  });

  it('checks an integrity pin against the ciphertext, in both formats', async () => {
    for (const format of ['jwe', 'chunked'] as const) {
      const sealed = await encryptModel(plain, { key: KEY, format, chunkSize: 4096 });
      const file = await write(`pinned-${format}.onnx.enc`, sealed);
      const pin = await computeIntegrity(sealed);
      const model = await loadModel(file, { decryption: { key: KEY }, integrity: pin });
      await model.dispose();
      expect(
        await codeOf(loadModel(file, { decryption: { key: KEY }, integrity: await computeIntegrity(plain) })),
      ).toBe('INTEGRITY_MISMATCH');
    }
  });
});

/** Every file under `dir` (a few levels down), with its size and modification time. */
function listing(dir: string, depth = 3): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, left: number) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      try {
        const s = statSync(p);
        if (s.isDirectory()) {
          if (left > 0) walk(p, left - 1);
        } else out.set(p, `${s.size}:${s.mtimeMs}`);
      } catch {}
    }
  };
  walk(dir, depth);
  return out;
}

function withoutTelemetryVar(): NodeJS.ProcessEnv {
  const { ORT_DISABLE_TELEMETRY: _, ...env } = process.env;
  return env;
}

describe('no plaintext on disk', () => {
  it('writes no file while loading and running an encrypted model: not in TMPDIR, the model folder or /tmp', async () => {
    const dir = mkdtempSync(join(tmp, 'repo-'));
    const ownTmp = mkdtempSync(join(tmp, 'tmpdir-'));
    const file = join(dir, 'model.onnx.enc');
    writeFileSync(file, await encryptModel(plain, { key: KEY, format: 'chunked' }));
    const before = { dir: listing(dir), ownTmp: listing(ownTmp), sys: listing(tmpdir(), 2) };
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = ownTmp;
    try {
      const model = await loadModel(file, { decryption: { key: KEY } });
      await predicts(model);
      await model.dispose();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect([...listing(dir)]).toEqual([...before.dir]);
    expect([...listing(ownTmp)]).toEqual([...before.ownTmp]);
    // /tmp is shared with other processes: no file that is new or changed there holds the model.
    const needle = Buffer.from(plain.subarray(plain.length >> 1, (plain.length >> 1) + 64));
    for (const [path, stamp] of listing(tmpdir(), 2)) {
      if (before.sys.get(path) === stamp || statSync(path).size > 1 << 28) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch {
        continue;
      }
      expect(bytes.includes(needle), path).toBe(false);
    }
  });

  const strace = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));
  const traceable =
    strace !== undefined && spawnSync(strace, ['-qq', '-e', 'trace=none', 'true']).status === 0;
  it.runIf(traceable)(
    'opens no file for writing in the whole process (strace, where ptrace is allowed)',
    async () => {
      const dir = mkdtempSync(join(tmp, 'traced-'));
      const file = join(dir, 'model.onnx.jwe');
      writeFileSync(file, await encryptModel(plain, { key: KEY }));
      const log = join(mkdtempSync(join(tmp, 'trace-')), 'trace.txt');
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const child = fileURLToPath(new URL('./encrypted-load.child.ts', import.meta.url));
      const run = spawnSync(
        strace!,
        [
          '-f',
          '-qq',
          '-o',
          log,
          '-e',
          'trace=open,openat,creat,rename,renameat,renameat2,link,linkat,memfd_create',
          process.execPath,
          '--import',
          tsx,
          '--conditions=@modelship/source',
          child,
          file,
        ],
        {
          // tsx's compile cache is the test harness writing, not Modelship; onnxruntime's telemetry
          // database is what loadModel turns off for an encrypted model (so the variable is unset here).
          env: {
            ...withoutTelemetryVar(),
            TSX_DISABLE_CACHE: '1',
            H7_TEST_KEY_HEX: Buffer.from(KEY).toString('hex'),
          },
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(run.stdout.trim(), run.stderr).toBe('predicted');
      const lines = readFileSync(log, 'utf8').split('\n');
      const writes = lines.filter(
        (l) =>
          (/O_WRONLY|O_RDWR|O_CREAT/.test(l) &&
            !/"\/dev\/(null|tty|pts|urandom|shm)|"\/proc\//.test(l) &&
            !/= -1 /.test(l)) ||
          /\b(creat|rename\w*|link\w*|memfd_create)\(/.test(l),
      );
      // Node's own handles (its event loop's eventfd, pipes) are not files; anything else would be.
      expect(writes).toEqual([]);
      expect(lines.some((l) => l.includes(file))).toBe(true);
    },
    150_000,
  );
});
