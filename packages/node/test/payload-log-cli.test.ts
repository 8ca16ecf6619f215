/**
 * `modelship serve --log-payload …` as a user runs it: a child process serving a repository
 * whose config.json files refine the flags per model, events read by a collector that parses
 * the CloudEvents HTTP binding itself, and the file sink flushed on SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run';
import { modelPath } from './fixtures';
import { startServe } from './serve-process';

const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
});

/** Binary content mode (HTTP binding §3.1): `ce-` headers, percent-decoded; Content-Type is datacontenttype. */
function attributes(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (k.startsWith('ce-')) out[k.slice(3)] = decodeURIComponent(String(v));
  out.datacontenttype = String(headers['content-type']);
  return out;
}

describe('modelship serve --log-payload', { timeout: 150_000 }, () => {
  it('sends CloudEvents per the flags and config.json, and flushes the file on SIGTERM', async () => {
    const events: { attributes: Record<string, string>; data: Record<string, unknown> }[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        events.push({ attributes: attributes(req.headers), data: JSON.parse(body) });
        res.end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    try {
      const root = mkdtempSync(join(tmpdir(), 'modelship-payload-repo-'));
      mkdirSync(join(root, 'fraud/1'), { recursive: true });
      copyFileSync(modelPath('fraud'), join(root, 'fraud/1/model.onnx'));
      writeFileSync(
        join(root, 'fraud/config.json'),
        JSON.stringify({ payloadLog: { policy: { fields: { 'inputs.features': 'keep' } } } }),
      );
      mkdirSync(join(root, 'linear/1'), { recursive: true });
      copyFileSync(modelPath('linear'), join(root, 'linear/1/model.onnx'));
      writeFileSync(join(root, 'linear/config.json'), JSON.stringify({ payloadLog: { mode: 'none' } }));
      const file = join(mkdtempSync(join(tmpdir(), 'modelship-payload-file-')), 'payloads.jsonl');
      const port = (collector.address() as AddressInfo).port;
      const serve = startServe([
        root,
        '--port',
        '0',
        '--log-payload',
        'all',
        '--log-payload-url',
        `http://127.0.0.1:${port}/events`,
        '--log-payload-file',
        file,
        '--log-payload-sample',
        '1',
      ]);
      running.push(serve.child);
      const url = await serve.url;
      const features = [Array.from({ length: 12 }, (_, i) => i / 10)];
      const fraud = await fetch(`${url}/v1/models/fraud:predict`, {
        method: 'POST',
        headers: { 'ce-id': 'cli-1' },
        body: JSON.stringify({ instances: features }),
      });
      expect(fraud.status).toBe(200);
      const linear = await fetch(`${url}/v2/models/linear/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
        }),
      });
      expect(linear.status).toBe(200);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      // The listing (printed after the "listening on" line the start waits for).
      expect(serve.output()).toContain(
        `Payload log              all → http://127.0.0.1:${port}/events, ${file}`,
      );
      // Only fraud logs (linear's config.json says none); its policy keeps the inputs.
      expect(events.map((e) => [e.attributes.id, e.attributes.type]).sort()).toEqual([
        ['cli-1', 'org.kubeflow.serving.inference.request'],
        ['cli-1', 'org.kubeflow.serving.inference.response'],
      ]);
      const request = events.find((e) => e.attributes.type!.endsWith('request'))!;
      expect(request.attributes).toMatchObject({
        specversion: '1.0',
        source: '/v1/models/fraud:predict',
        inferenceservicename: 'fraud',
        endpoint: '1',
        datacontenttype: 'application/json',
      });
      expect((request.data.inputs as { features: number[][] }).features[0]![1]).toBeCloseTo(0.1, 6);
      const response = events.find((e) => e.attributes.type!.endsWith('response'))!;
      expect(response.data.outputs).toBeUndefined(); // the policy named only the inputs
      expect(response.data.tensors).toEqual([
        { name: 'probability', datatype: 'FP32', shape: [1] },
        { name: 'label', datatype: 'INT64', shape: [1] },
      ]);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.id)).toEqual(['cli-1', 'cli-1']);
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  });

  it('encrypts the payload file with --log-key-file, and logs decrypt reads it back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-payload-enc-repo-'));
    mkdirSync(join(root, 'fraud/1'), { recursive: true });
    copyFileSync(modelPath('fraud'), join(root, 'fraud/1/model.onnx'));
    const tmp = mkdtempSync(join(tmpdir(), 'modelship-payload-enc-'));
    const file = join(tmp, 'payloads.jsonl');
    const keyFile = join(tmp, 'log.key');
    writeFileSync(keyFile, Buffer.alloc(32, 9));
    const policy = join(tmp, 'policy.json');
    writeFileSync(policy, JSON.stringify({ fields: { 'inputs.features': 'keep' } }));
    const serve = startServe([
      root,
      '--port',
      '0',
      '--log-payload-file',
      file,
      '--log-payload-policy',
      policy,
      '--log-key-file',
      keyFile,
    ]);
    running.push(serve.child);
    const url = await serve.url;
    const planted = 0.123456789;
    const answer = await fetch(`${url}/v1/models/fraud:predict`, {
      method: 'POST',
      headers: { 'ce-id': 'enc-1' },
      body: JSON.stringify({ instances: [[planted, ...Array.from({ length: 11 }, () => 0)]] }),
    });
    expect(answer.status).toBe(200);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const sealed = readFileSync(`${file}.jwe`, 'utf8');
    expect(sealed).toMatch(/^eyJ/); // compact JWE lines (one per append)
    for (const plain of ['enc-1', 'fraud', '0.1234', 'inference.request'])
      expect(sealed).not.toContain(plain);
    const read = await runCli(['logs', 'decrypt', `${file}.jwe`, '--key-file', keyFile]);
    expect(read.code, read.err).toBe(0);
    const lines = read.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.type])).toEqual([
      ['enc-1', 'org.kubeflow.serving.inference.request'],
      ['enc-1', 'org.kubeflow.serving.inference.response'],
    ]);
    expect(lines[0].data.inputs.features[0][0]).toBeCloseTo(planted, 6);
  });

  it('refuses a payload log without a sink, a bad mode or rate, a bad URL', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-payload-bad-'));
    for (const [args, message] of [
      [['--log-payload', 'all'], /needs a sink: --log-payload-url/],
      [
        ['--log-payload', 'some', '--log-payload-url', 'http://c/'],
        /--log-payload must be request, response or all/,
      ],
      [
        ['--log-payload-sample', '2', '--log-payload-url', 'http://c/'],
        /--log-payload-sample must be a number from 0 to 1/,
      ],
      [['--log-payload-url', 'collector:9000'], /--log-payload-url: .*http or https URL/],
    ] as [string[], RegExp][]) {
      const r = await runCli(['serve', root, '--port', '0', ...args]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
