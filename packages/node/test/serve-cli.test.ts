/**
 * `modelship serve` as a user runs it: a child process on the shipped example repository,
 * answering over HTTP, picking up a new version dropped into the directory, and stopping
 * cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Profile, type Row, readCsv } from '@modelship/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir } from './fixtures';
import { startServe } from './serve-process';

const repoExample = fileURLToPath(new URL('../../../examples/model-repository/', import.meta.url));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
});

describe('modelship serve', { timeout: 150_000 }, () => {
  it('the example repository is byte-identical to the fixtures it copies', () => {
    for (const [copy, fixture] of <[string, string][]>[
      ['fraud/1/model.onnx', 'fraud_baseline.onnx'],
      ['fraud/2/model.onnx', 'fraud.onnx'],
      ['digits/1/model.onnx', 'digits.onnx'],
      ['iris/1/model.onnx', 'iris.onnx'],
    ]) {
      expect(
        readFileSync(join(repoExample, copy)).equals(readFileSync(`${fixturesDir}models/${fixture}`)),
        copy,
      ).toBe(true);
    }
  });

  it('serves a repository, follows it as versions arrive, and stops on SIGTERM', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-serve-'));
    cpSync(repoExample, root, { recursive: true });
    const logDir = mkdtempSync(join(tmpdir(), 'modelship-serve-log-'));
    const serve = startServe(
      [root, '--port', '0', '--poll-ms', '100', '--token', 'tok', '--log-dir', logDir],
      {},
    );
    running.push(serve.child);
    const url = await serve.url;
    const lines = serve.output().split('\n');
    expect(lines[0]).toBe(`modelship serving ${root}`);
    expect(lines, serve.output()).toContain(
      '  fraud   version 2  features float32 [batch, 12] → probability, label   dynamic batching',
    );
    expect(lines.some((l) => l.startsWith(`listening on ${url} (bearer tokens required)`))).toBe(true);

    const auth = { authorization: 'Bearer tok' };
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const infer = () =>
      fetch(`${url}/v2/models/fraud/infer`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: new Array(12).fill(0.5) }],
        }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { model_version: string } }));
    const first = await infer();
    expect(first).toMatchObject({ status: 200, body: { model_version: '2' } });
    expect((await fetch(`${url}/v2/models/fraud`)).status).toBe(401);

    // A new version dropped into the directory loads and takes over.
    mkdirSync(join(root, 'fraud', '3'));
    cpSync(`${fixturesDir}models/fraud.onnx`, join(root, 'fraud', '3', 'model.onnx'));
    await expect
      .poll(async () => (await infer()).body.model_version, { timeout: 15_000, interval: 100 })
      .toBe('3');
    expect(serve.output()).toMatch(/fraud version 3 is serving/);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.output()).toMatch(/stopped\n$/);
    // Every answered request was logged, and the log was flushed on the way out.
    const logged = readFileSync(join(logDir, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(logged.filter((l) => l.model === 'fraud').length).toBeGreaterThanOrEqual(2);
    expect(logged.map((l) => l.version)).toContain('3');
  });

  it('watches drift against profile.json beside a model and warns about what does not fit', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-serve-drift-'));
    cpSync(repoExample, root, { recursive: true });
    // fraud takes a [batch, 12] tensor: its profile has one feature per column.
    const rows: Row[] = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r);
    writeFileSync(
      join(root, 'fraud', 'profile.json'),
      JSON.stringify(Profile.fromDataset(rows, { exclude: ['label'] })),
    );
    // digits takes 64 columns: a 2-feature profile does not fit; it serves without a watch.
    writeFileSync(
      join(root, 'digits', 'profile.json'),
      JSON.stringify(Profile.fromDataset([{ a: 1, b: 2 }], {})),
    );
    // A model whose config names a labels file that is not there is not served, and says so.
    mkdirSync(join(root, 'wine', '1'), { recursive: true });
    cpSync(`${fixturesDir}models/iris.onnx`, join(root, 'wine', '1', 'model.onnx'));
    writeFileSync(join(root, 'wine', 'config.json'), '{"labels": "wine-labels.txt"}');
    const serve = startServe([root, '--port', '0']);
    running.push(serve.child);
    const url = await serve.url;
    const out = serve.output();
    expect(out).toMatch(/^ {2}fraud +version 2 .*dynamic batching; drift watched against profile\.json$/m);
    // iris ships its records' profile in the example repository.
    expect(out).toMatch(
      /^ {2}iris +version 1 .*records \(.*\) through pipeline\.json; drift watched against profile\.json$/m,
    );
    expect(out).toContain(
      "  warning: digits: drift is not watched: profile.json profiles 2 features but input 'pixels' [batch, 64] has 64 values per row",
    );
    expect(out).toContain(
      "  warning: wine: the labels file 'wine-labels.txt' named in config.json does not exist (wine/wine-labels.txt)",
    );
    expect(out).not.toMatch(/^ {2}wine /m);

    // Traffic with f3 moved by 3 standard deviations, over the Open Inference Protocol.
    const moved = rows
      .slice(0, 200)
      .flatMap((r) => Array.from({ length: 12 }, (_, i) => (r[`f${i}`] as number) + (i === 3 ? 3 : 0)));
    const res = await fetch(`${url}/v2/models/fraud/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'features', shape: [200, 12], datatype: 'FP32', data: moved }],
      }),
    });
    expect(res.status).toBe(200);
    // And iris records, as they are, through the records route.
    const iris = await fetch(`${url}/v1/models/iris:predict`, {
      method: 'POST',
      body: JSON.stringify({
        instances: Array.from({ length: 30 }, (_, i) => ({
          sepal_length: 5 + (i % 10) / 5,
          sepal_width: 3 + (i % 5) / 10,
          petal_length: 1.5 + (i % 20) / 5,
          petal_width: 0.2 + (i % 10) / 5,
        })),
      }),
    });
    expect(iris.status).toBe(200);
    const state = (await (await fetch(`${url}/v2/monitor`)).json()) as {
      drift: Record<string, { currentRows: number; features: { feature: string; drifted: boolean }[] }>;
    };
    expect(Object.keys(state.drift).sort()).toEqual(['fraud', 'iris']);
    expect(state.drift.fraud!.currentRows).toBe(200);
    expect(state.drift.fraud!.features.filter((f) => f.drifted).map((f) => f.feature)).toEqual(['f3']);
    expect(state.drift.iris!.currentRows).toBe(30);
    expect(state.drift.iris!.features.map((f) => f.feature)).toEqual([
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
    ]);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('serves a model whose synthetic warmup fails, says so, and keeps onnxruntime off stderr', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-serve-vad-'));
    mkdirSync(join(root, 'vad', '1'), { recursive: true });
    cpSync(`${fixturesDir}models/scalar_input.onnx`, join(root, 'vad', '1', 'model.onnx'));
    const serve = startServe([root, '--port', '0']);
    running.push(serve.child);
    const url = await serve.url;
    expect(serve.output()).toMatch(
      /vad version 1 serves without warmup: the synthetic warmup \(zeros, symbolic dimensions 1\) failed: .*Reshape/,
    );
    const r = await fetch(`${url}/v2/models/vad/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [
          { name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 1, 2, 3] },
          { name: 'sr', shape: [], datatype: 'INT64', data: [2] },
        ],
      }),
    });
    expect(((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([3]);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      'modelship_version_warmup_skipped{model="vad",version="1",reason="INFERENCE_FAILED"} 1',
    );
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.output()).not.toContain('[E:onnxruntime');
  });

  it("the README's first command, pnpm serve, serves the example repository", async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    // Its own process group, so the signal reaches the server under pnpm.
    const child = spawn('pnpm', ['serve', '--port', '0'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    let output = '';
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    await expect
      .poll(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], { timeout: 30_000, interval: 100 })
      .toBeDefined();
    const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
    // Without keep-alive (agent: false): a connection left open would hold the drain for its
    // quiet period, and under pnpm and tsx's CLI the server gets the signal twice (the group's
    // and tsx's relay), the second one ending it at once, before it says "stopped".
    const json = await new Promise<{ outputs: { data: number[] }[] }>((resolve, reject) => {
      const req = request(`${url}/v2/models/iris/infer`, { method: 'POST', agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      });
      req.on('error', reject);
      req.end(
        JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
          outputs: [{ name: 'probabilities' }],
        }),
      );
    });
    const p = json.outputs[0]!.data;
    expect(p.indexOf(Math.max(...p))).toBe(0); // setosa
    const exited = new Promise((resolve) => child.on('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    // pnpm may exit before the server has printed its last line.
    await expect.poll(() => output, { timeout: 15_000 }).toMatch(/stopped/);
  });

  it('serves a directory holding model.onnx as one model (KServe layout), over HTTP and gRPC', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-kserve-'));
    cpSync(`${fixturesDir}models/iris.onnx`, join(dir, 'model.onnx'));
    const serve = startServe([
      dir,
      '--model-name',
      'flowers',
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--workers',
      '2',
    ]);
    running.push(serve.child);
    const url = await serve.url;
    expect(serve.output()).toContain(
      '  flowers  version 1  input float32 [batch, 4] → logits, probabilities',
    );
    // Each worker's sessions get their share of the cores.
    expect(serve.output()).toMatch(
      /from 2 worker processes, \d+ onnxruntime threads? each \(\d+ cores shared; --threads to change\)/,
    );
    await expect.poll(() => serve.output()).toMatch(/gRPC +inference\.GRPCInferenceService on port \d+/);
    expect(serve.output()).not.toMatch(/Repository control/);
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/v2/models/flowers/ready`);
      expect(res.status).toBe(200);
    }
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });

  it('takes its settings from --config, with command-line flags winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-config-'));
    const file = join(dir, 'server.json');
    writeFileSync(
      file,
      JSON.stringify({
        port: 1,
        tokens: ['from-file'],
        cors: { origin: 'https://app.example' },
        maxBodyMb: 1,
      }),
    );
    const serve = startServe([repoExample, '--config', file, '--port', '0']);
    running.push(serve.child);
    const url = await serve.url;
    expect((await fetch(`${url}/v2/models/iris`)).status).toBe(401);
    const res = await fetch(`${url}/v2/models/iris`, {
      headers: { authorization: 'Bearer from-file', origin: 'https://app.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const big = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { authorization: 'Bearer from-file' },
      body: 'x'.repeat(2 << 20),
    });
    expect(big.status).toBe(413);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    writeFileSync(file, JSON.stringify({ prot: 8000 }));
    const bad = startServe([repoExample, '--config', file]);
    running.push(bad.child);
    bad.url.catch(() => {});
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--config .*server\.json: unknown setting 'prot' \(known: port, grpcPort, /);
    // Two servers start here: on a loaded machine that takes longer than the default 30 s.
  }, 150_000);

  it('takes --max-connections and --body-timeout', async () => {
    const serve = startServe([
      repoExample,
      '--port',
      '0',
      '--max-connections',
      '1',
      '--body-timeout',
      '1000',
    ]);
    running.push(serve.child);
    const { port } = new URL(await serve.url);
    const open = () =>
      new Promise<{ socket: Socket; answer: Promise<string> }>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (d) => {
          text += d;
        });
        const answer = new Promise<string>((done) => socket.on('close', () => done(text)));
        socket.once('connect', () => resolve({ socket, answer }));
        socket.once('error', reject);
      });
    // One connection, its request begun, holds the only place; the next is refused with 503.
    const held = await open();
    held.socket.write('POST /v2/models/iris/infer HTTP/1.1\r\n');
    const refused = await open();
    refused.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await refused.answer).toMatch(
      /^HTTP\/1\.1 503 [\s\S]*"this server has 1 connections open, its maxConnections; try again"/,
    );
    // The held request's body stalls: 408, and its connection closes.
    held.socket.write('Host: x\r\nContent-Length: 100\r\n\r\n{"in');
    expect(await held.answer).toMatch(/^HTTP\/1\.1 408 [\s\S]*"the request body sent nothing for 1000 ms"/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const bad = startServe([repoExample, '--max-connections', '0']);
    bad.url.catch(() => {});
    running.push(bad.child);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--max-connections must be at least 1, not 0/);
  });

  it('takes --model-control and --host, and refuses a model control mode it does not know', async () => {
    const serve = startServe([repoExample, '--port=0', '--model-control=explicit', '--host=127.0.0.1']);
    running.push(serve.child);
    const url = await serve.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect
      .poll(() => serve.output())
      .toMatch(/Repository control +POST .*\/v2\/repository\/models\/\{name\}\/load\|unload/);
    expect(serve.output()).not.toMatch(/--model-control explicit\)/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const bad = startServe([repoExample, '--model-control', 'poll']);
    bad.url.catch(() => {});
    running.push(bad.child);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--model-control must be none or explicit, not 'poll'/);
  });

  it('--cors with no value allows any origin', async () => {
    // One small model (KServe layout), the flag last with nothing after it, as docs/serving.md shows it.
    const dir = mkdtempSync(join(tmpdir(), 'modelship-cors-'));
    cpSync(`${fixturesDir}models/iris.onnx`, join(dir, 'model.onnx'));
    const serve = startServe([dir, '--port', '0', '--cors']);
    running.push(serve.child);
    const url = await serve.url;
    const res = await fetch(`${url}/v2/models/${basename(dir)}`, {
      headers: { origin: 'https://anywhere.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  }, 150_000);

  it('--cors with a value that is no origin is refused, naming the flag', async () => {
    const bad = startServe([repoExample, '--cors', 'localhost:3000']);
    bad.url.catch(() => {});
    running.push(bad.child);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toBe(
      "modelship: [INVALID_OPTION] --cors takes an origin such as https://app.example (or no value, for any origin), not 'localhost:3000'\n",
    );
  });

  it('reads bodyTimeoutMs and maxConnections from --config as --body-timeout and --max-connections', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-config-keys-'));
    const file = join(dir, 'server.json');
    for (const [setting, message] of [
      ['bodyTimeoutMs', '--body-timeout must be at least 1 ms, not 0'],
      ['maxConnections', '--max-connections must be at least 1, not 0'],
    ] as const) {
      writeFileSync(file, JSON.stringify({ [setting]: 0 }));
      const bad = startServe([repoExample, '--config', file]);
      bad.url.catch(() => {});
      running.push(bad.child);
      expect(await bad.exited).toBe(2);
      expect(bad.output()).toBe(`modelship: [INVALID_OPTION] ${message}\n`);
    }
  });

  it('a missing repository is one line with its code, not a stack trace', async () => {
    const bad = startServe(['nope']);
    bad.url.catch(() => {});
    running.push(bad.child);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toBe("modelship: [FILE_NOT_FOUND] the repository 'nope' does not exist\n");
  });

  it('prints its usage and refuses a bad port', async () => {
    const bad = startServe([repoExample, '--port', 'eighty']);
    bad.url.catch(() => {});
    running.push(bad.child);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toBe(
      "modelship: [INVALID_OPTION] --port must be a non-negative integer, not 'eighty'\n",
    );
  });
});
