/**
 * Payload logging as KServe's logger does it: CloudEvents for a request and its response, read
 * by a collector written from the CloudEvents HTTP binding (binary content mode), never by our
 * own encoder; sampling with an injected source; a collector that is down or hangs never fails
 * or holds up inference; the file sink; the log policy; draining flushes.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createInferenceHandler,
  createServer,
  Deployer,
  decryptPredictionLog,
  FilePayloadSink,
  functionModel,
  HttpPayloadSink,
  type HttpSinkOptions,
  type PayloadEvent,
  type PayloadLogOptions,
  type PayloadSink,
  Pipeline,
  tensor,
} from '@modelship/node';
import { afterEach, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../src/repository/config';
import { bytesField, cat, packedFloats, packedVarints, str, unary } from './protobuf';

// --- A CloudEvents receiver written from the HTTP binding spec (v1.0, §3.1), not from our code.

interface ReceivedEvent {
  attributes: Record<string, string>;
  data: unknown;
}

/** RFC 7230 §3.2.6 quoted-string, reversed (§3.1.3.2 says receivers must accept it). */
function unquote(v: string): string {
  if (!v.startsWith('"')) return v;
  let out = '';
  for (let i = 1; i < v.length - 1; i++) out += v[i] === '\\' ? v[++i] : v[i];
  return out;
}

/** One round of percent-decoding; invalid UTF-8 is refused, as §3.1.3.2 requires. */
function percentDecode(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '%') {
      bytes.push(Number.parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...new TextEncoder().encode(v[i]));
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

/** A binary-mode message as a CloudEvent: `ce-` headers are attributes, Content-Type is datacontenttype. */
function readBinaryMode(headers: IncomingHttpHeaders, body: Buffer): ReceivedEvent {
  const type = String(headers['content-type'] ?? '');
  if (type.startsWith('application/cloudevents')) throw new Error(`not binary mode: ${type}`);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.startsWith('ce-')) attributes[name.slice(3)] = percentDecode(unquote(String(value)));
  if ('datacontenttype' in attributes) throw new Error('ce-datacontenttype must not be sent in binary mode');
  attributes.datacontenttype = type;
  for (const required of ['id', 'source', 'specversion', 'type'])
    if (!(required in attributes)) throw new Error(`missing required attribute ${required}`);
  const data = /^application\/json\b/.test(type) ? JSON.parse(body.toString('utf8')) : body;
  return { attributes, data };
}

/**
 * A message in any content mode (§3): batched (`application/cloudevents-batch…`, a JSON array of
 * events in the JSON format, whose members are the attributes and `data`), structured, or binary.
 */
function readMessage(headers: IncomingHttpHeaders, body: Buffer): ReceivedEvent[] {
  const type = String(headers['content-type'] ?? '');
  if (!type.startsWith('application/cloudevents')) return [readBinaryMode(headers, body)];
  const parsed = JSON.parse(body.toString('utf8'));
  const list: Record<string, unknown>[] = type.startsWith('application/cloudevents-batch')
    ? parsed
    : [parsed];
  return list.map(({ data, ...attributes }) => {
    for (const required of ['id', 'source', 'specversion', 'type'])
      if (!(required in attributes)) throw new Error(`missing required attribute ${required}`);
    return { attributes: attributes as Record<string, string>, data };
  });
}

/** A collector on port 0; `answer` decides each POST's status, or holds it until released. */
function collector(answer: (n: number) => number | 'hold' = () => 200) {
  const events: ReceivedEvent[] = [];
  /** Content types of the POSTs answered 200, in order. */
  const types: string[] = [];
  const held: (() => void)[] = [];
  let posts = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = answer(posts++);
      const reply = (status: number) => {
        if (status === 200) {
          events.push(...readMessage(req.headers, Buffer.concat(chunks)));
          types.push(String(req.headers['content-type']));
          for (const w of waiters.filter((w) => events.length >= w.n)) w.resolve();
        }
        res.writeHead(status).end();
      };
      if (a === 'hold') held.push(() => reply(200));
      else reply(a);
    });
  });
  const url = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`),
    ),
  );
  return {
    server,
    url,
    events,
    types,
    get posts() {
      return posts;
    },
    /** POSTs received and not answered yet. */
    get holding() {
      return held.length;
    },
    release: () => {
      for (const r of held.splice(0)) r();
    },
    received: (n: number) =>
      new Promise<void>((resolve) => {
        if (events.length >= n) resolve();
        else waiters.push({ n, resolve });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class MemorySink implements PayloadSink {
  readonly kind = 'memory';
  readonly events: PayloadEvent[] = [];
  send(e: PayloadEvent): void {
    this.events.push(e);
  }
  stats() {
    return { sent: this.events.length, dropped: 0, failed: 0, queued: 0 };
  }
  async close(): Promise<void> {}
}

// --- The served model: y = 2x, on [batch, 2] float32.

function doubler() {
  return functionModel(
    ({ x }) => ({
      y: tensor(
        'float32',
        Array.from(x!.data as Float32Array, (v) => v * 2),
        x!.shape,
      ),
    }),
    {
      name: 'double',
      version: '1',
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
      },
    },
  );
}

const open: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c();
});

async function serve(payloadLog: PayloadLogOptions, extra: Parameters<typeof createServer>[1] = {}) {
  const deployer = new Deployer();
  await deployer.deploy('double', async () => doubler(), { version: '1' });
  const server = createServer(deployer, { payloadLog, closeDeployer: true, ...extra });
  const { url } = await server.listen(0, '127.0.0.1');
  open.push(() => server.close());
  return { server, url };
}

/** A collector (closed after the test) and an HTTP sink posting to it. */
async function collecting(answer?: (n: number) => number | 'hold', options?: HttpSinkOptions) {
  const c = collector(answer);
  open.push(c.close);
  return { c, sink: new HttpPayloadSink(await c.url, options) };
}

async function infer(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v2/models/double/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const oneRow = { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1.5, -2] }] };

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('payload logging to an HTTP collector (CloudEvents, binary mode)', { timeout: 30_000 }, () => {
  it('sends a request and its response with the same ce-id, KServe types and extensions', async () => {
    const { c, sink } = await collecting();
    const { url } = await serve({
      mode: 'all',
      sinks: [sink],
      namespace: 'fraud team',
      metadataHeaders: ['X-Tenant', 'x-absent'],
      policy: { fields: { 'inputs.x': 'keep', 'outputs.y': 'keep' } },
    });
    const answer = await infer(url, oneRow, { 'ce-id': 'req-42', 'x-tenant': 'acme', 'x-secret': 's' });
    expect(answer.status).toBe(200);
    await c.received(2);
    const request = c.events.find((e) => e.attributes.type === 'org.kubeflow.serving.inference.request')!;
    const response = c.events.find((e) => e.attributes.type === 'org.kubeflow.serving.inference.response')!;
    for (const e of [request, response])
      expect(e.attributes).toMatchObject({
        specversion: '1.0',
        id: 'req-42',
        source: '/v2/models/double/infer',
        inferenceservicename: 'double',
        endpoint: '1',
        component: 'predictor',
        namespace: 'fraud team', // a space, percent-encoded on the wire and decoded per the spec
        metadata: '{"x-tenant":["acme"]}', // quotes percent-encoded on the wire
        datacontenttype: 'application/json',
      });
    expect(Date.parse(request.attributes.time!)).not.toBeNaN();
    expect(request.data).toMatchObject({
      id: 'req-42',
      model: 'double',
      version: '1',
      endpoint: '/v2/models/double/infer',
      contentType: 'application/json',
      bytes: JSON.stringify(oneRow).length,
      tensors: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
      inputs: { x: [[1.5, -2]] },
    });
    expect(response.data).toMatchObject({
      id: 'req-42',
      model: 'double',
      version: '1',
      status: 200,
      tensors: [{ name: 'y', datatype: 'FP32', shape: [1, 2] }],
      outputs: { y: [[3, -4]] },
    });
    expect((response.data as { latencyMs: number }).latencyMs).toBeGreaterThanOrEqual(0);
    // The response event's size is the answer's bytes.
    expect((response.data as { bytes: number }).bytes).toBe(JSON.stringify(answer.body).length);
  });

  it('without a policy logs metadata only: no input or output values', async () => {
    const { c, sink } = await collecting();
    const { url } = await serve({ sinks: [sink] });
    await infer(url, oneRow);
    await c.received(2);
    const [a, b] = c.events;
    expect(a!.attributes.id).toBe(b!.attributes.id);
    expect(a!.attributes.id).toMatch(/^[0-9a-f-]{36}$/); // a new UUID when the client sent no ce-id
    // Exactly the metadata: nothing else that could hold a value.
    const request = c.events.find((e) => e.attributes.type!.endsWith('request'))!;
    const response = c.events.find((e) => e.attributes.type!.endsWith('response'))!;
    expect(Object.keys(request.data as object).sort()).toEqual(
      ['bytes', 'contentType', 'endpoint', 'id', 'model', 'tensors', 'time', 'version'].sort(),
    );
    expect(Object.keys(response.data as object).sort()).toEqual(
      ['bytes', 'contentType', 'id', 'latencyMs', 'model', 'status', 'tensors', 'time', 'version'].sort(),
    );
    expect((request.data as { tensors: unknown }).tensors).toEqual([
      { name: 'x', datatype: 'FP32', shape: [1, 2] },
    ]);
  });

  it("logs the decoded tensors of a binary-extension body, and the refusals' status", async () => {
    const { c, sink } = await collecting();
    const { url } = await serve({
      mode: 'all',
      sinks: [sink],
      policy: { fields: { 'inputs.*': 'keep' } },
    });
    const header = JSON.stringify({
      inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
    });
    const bytes = Buffer.concat([Buffer.from(header), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
    const res = await fetch(`${url}/v2/models/double/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
      body: bytes,
    });
    expect(res.status).toBe(200);
    await c.received(2);
    const request = c.events.find((e) => e.attributes.type!.endsWith('.request'))!;
    expect(request.data).toMatchObject({
      bytes: bytes.byteLength,
      contentType: 'application/octet-stream',
      tensors: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }],
      inputs: {
        x: [
          [1, 2],
          [3, 4],
        ],
      },
    });
    expect((request.data as Record<string, unknown>).outputs).toBeUndefined(); // not kept by the policy
    // A request refused for its shape is logged with its status, and nothing decoded.
    const bad = await infer(url, {
      inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }],
    });
    expect(bad.status).toBe(400);
    await c.received(4);
    const refused = c.events.slice(2).find((e) => e.attributes.type!.endsWith('.response'))!;
    expect(refused.data).toMatchObject({ status: 400, tensors: [] });
  });

  it('retries a collector answering 503, with the same event', async () => {
    const { c, sink } = await collecting((n) => (n === 0 ? 503 : 200), { backoffMs: 1, concurrency: 1 });
    const { url } = await serve({ mode: 'request', sinks: [sink] });
    await infer(url, oneRow, { 'ce-id': 'again' });
    await c.received(1);
    await until(() => sink.stats().sent === 1);
    expect(c.posts).toBe(2);
    expect(c.events.map((e) => e.attributes.id)).toEqual(['again']);
    expect(sink.stats()).toEqual({ sent: 1, dropped: 0, failed: 0, queued: 0 });
  });
});

describe('batched content mode, when asked for', { timeout: 30_000 }, () => {
  it('sends what queued up behind a slow POST as one batch of JSON-format events', async () => {
    let hold = true;
    const { c, sink } = await collecting(() => (hold ? 'hold' : 200), { concurrency: 1, maxBatch: 50 });
    const { url } = await serve({ mode: 'all', sinks: [sink], policy: { fields: { 'inputs.x': 'keep' } } });
    for (let i = 0; i < 4; i++) await infer(url, oneRow, { 'ce-id': `b${i}` });
    await until(() => c.holding === 1);
    hold = false;
    c.release();
    await until(() => sink.stats().sent === 8);
    expect(c.types.every((t) => t.startsWith('application/cloudevents-batch+json'))).toBe(true);
    expect(c.posts).toBeLessThan(8); // fewer POSTs than events: they went in batches
    expect(c.events.map((e) => `${e.attributes.id}:${e.attributes.type!.split('.').at(-1)}`).sort()).toEqual(
      ['b0', 'b1', 'b2', 'b3'].flatMap((id) => [`${id}:request`, `${id}:response`]),
    );
    const request = c.events.find((e) => e.attributes.type!.endsWith('request'))!;
    expect(request.attributes).toMatchObject({
      specversion: '1.0',
      datacontenttype: 'application/json',
      inferenceservicename: 'double',
    });
    expect((request.data as { inputs: unknown }).inputs).toEqual({ x: [[1.5, -2]] });
  });
});

describe('a collector that is down or hangs', { timeout: 30_000 }, () => {
  it('never holds up inference: the queue stays bounded and drops are counted on /metrics', async () => {
    const { c, sink } = await collecting(() => 'hold', { maxQueue: 2, concurrency: 1, timeoutMs: 60_000 });
    const { server, url } = await serve(
      { mode: 'all', sinks: [sink], closeTimeoutMs: 100 },
      { drainTimeoutMs: 1000 },
    );
    for (let i = 0; i < 6; i++) expect((await infer(url, oneRow)).status).toBe(200);
    // Every answer came back while the collector still holds the first event unanswered.
    await until(() => c.holding === 1);
    const s = sink.stats();
    expect(s.queued).toBe(2);
    expect(s.dropped + s.queued + 1).toBe(12); // 6 requests × 2 events, one in flight
    expect(await metric(url, 'modelship_payload_log_events_total{sink="http",outcome="dropped"}')).toBe(
      s.dropped,
    );
    expect(await metric(url, 'modelship_payload_log_queue_length{sink="http"}')).toBe(2);
    // Closing gives the sink its limit, then gives up on what is left: close does not hang.
    await server.close();
    expect(sink.stats()).toMatchObject({ sent: 0, failed: 3, queued: 0 });
  });

  it('bounds the queue by bytes too: the oldest go, and an event larger than the bound alone is dropped', async () => {
    let hold = true;
    const { c, sink } = await collecting(() => (hold ? 'hold' : 200), {
      concurrency: 1,
      maxQueueBytes: 2500,
      timeoutMs: 60_000,
    });
    const event = (id: string, size: number): PayloadEvent => ({
      id,
      type: 'org.kubeflow.serving.inference.request',
      source: '/test',
      time: new Date().toISOString(),
      extensions: {},
      data: { pad: 'x'.repeat(size) },
    });
    sink.send(event('first', 10)); // taken by the sender, held by the collector
    await until(() => c.holding === 1);
    for (const id of ['a', 'b', 'c']) sink.send(event(id, 1000));
    expect(sink.stats()).toMatchObject({ queued: 2, dropped: 1 }); // 'a' made room for 'c'
    sink.send(event('huge', 3000));
    expect(sink.stats()).toMatchObject({ queued: 2, dropped: 2 });
    hold = false;
    c.release();
    await sink.close();
    expect(c.events.map((e) => e.attributes.id)).toEqual(['first', 'b', 'c']);
  });

  it('gives up on an event after its retries when nothing listens', async () => {
    const c = collector();
    const gone = await c.url;
    await c.close(); // the port is closed: connections are refused
    const sink = new HttpPayloadSink(gone, { retries: 2, backoffMs: 1 });
    const { url } = await serve({ mode: 'all', sinks: [sink] });
    expect((await infer(url, oneRow)).status).toBe(200);
    await until(() => sink.stats().failed === 2);
    expect(sink.stats()).toEqual({ sent: 0, dropped: 0, failed: 2, queued: 0 });
    expect(await metric(url, 'modelship_payload_log_events_total{sink="http",outcome="failed"}')).toBe(2);
  });

  it('drains: closing the server sends what the sink holds', async () => {
    let hold = true;
    const { c, sink } = await collecting(() => (hold ? 'hold' : 200), { concurrency: 1 });
    const { server, url } = await serve({ mode: 'all', sinks: [sink] });
    for (let i = 0; i < 3; i++) await infer(url, oneRow);
    await until(() => c.holding === 1);
    const closed = server.close();
    hold = false;
    c.release();
    await closed;
    expect(c.events).toHaveLength(6);
    expect(sink.stats()).toEqual({ sent: 6, dropped: 0, failed: 0, queued: 0 });
  });
});

describe('sampling, modes and policies', () => {
  it('samples with the injected source; a request and its response go together', async () => {
    const memory = new MemorySink();
    const draws = [0.05, 0.5, 0.09, 0.95, 0.1];
    const { url } = await serve({
      mode: 'all',
      sampleRate: 0.1,
      sinks: [memory],
      random: () => draws.shift()!,
    });
    for (let i = 0; i < 5; i++) await infer(url, oneRow, { 'ce-id': `r${i}` });
    expect(memory.events.map((e) => `${e.id}:${e.type.split('.').at(-1)}`)).toEqual([
      'r0:request',
      'r0:response',
      'r2:request',
      'r2:response',
    ]);
  });

  it('per model settings override the server: mode none, request only, its own policy', async () => {
    const memory = new MemorySink();
    const deployer = new Deployer();
    await deployer.deploy('double', async () => doubler(), { version: '1' });
    await deployer.deploy('quiet', async () => doubler(), { version: '1' });
    const server = createServer(deployer, {
      closeDeployer: true,
      payloadLog: {
        mode: 'all',
        sinks: [memory],
        models: {
          quiet: { mode: 'none' },
          double: { mode: 'request', policy: { fields: { 'inputs.x': 'keep' } } },
        },
      },
    });
    const { url } = await server.listen(0, '127.0.0.1');
    open.push(() => server.close());
    await infer(url, oneRow);
    await fetch(`${url}/v2/models/quiet/infer`, { method: 'POST', body: JSON.stringify(oneRow) });
    expect(memory.events.map((e) => [e.extensions.inferenceservicename, e.type.split('.').at(-1)])).toEqual([
      ['double', 'request'],
    ]);
    expect(memory.events[0]!.data.inputs).toEqual({ x: [[1.5, -2]] });
  });

  it("a model's hashing policy takes the server's key; without one the model logs nothing and inference is untouched", async () => {
    const memory = new MemorySink();
    const hashing = { policy: { fields: { 'inputs.x': 'hash' as const } } };
    const withKey = await serve({
      sinks: [memory],
      policy: { hashKey: 'server-key-0123456789' },
      models: { double: hashing },
    });
    await infer(withKey.url, oneRow);
    expect(memory.events[0]!.data.inputs).toEqual({ x: expect.any(String) });
    const without = await serve({ sinks: [memory], models: { double: hashing } });
    expect((await infer(without.url, oneRow)).status).toBe(200);
    expect(memory.events).toHaveLength(2);
    expect(
      await metric(without.url, 'modelship_payload_log_events_total{sink="none",outcome="failed"}'),
    ).toBe(1);
  });

  it("logs TF Serving's :predict (row format) through the fetch handler too", async () => {
    const memory = new MemorySink();
    const deployer = new Deployer();
    await deployer.deploy('double', async () => doubler(), { version: '1' });
    open.push(() => deployer.close());
    const handler = createInferenceHandler(deployer, {
      payloadLog: { sinks: [memory], policy: { fields: { 'outputs.y': 'keep' } } },
    });
    const res = await handler.fetch(
      new Request('http://local/v1/models/double:predict', {
        method: 'POST',
        body: JSON.stringify({
          instances: [
            [1, 2],
            [3, 4],
          ],
        }),
      }),
    );
    expect(await res.json()).toEqual({
      predictions: [
        [2, 4],
        [6, 8],
      ],
    });
    await handler.payloadLog!.close();
    expect(memory.events.map((e) => e.data)).toMatchObject([
      { endpoint: '/v1/models/double:predict', tensors: [{ name: 'x', datatype: 'FP32', shape: [2, 2] }] },
      {
        status: 200,
        tensors: [{ name: 'y', shape: [2, 2] }],
        outputs: {
          y: [
            [2, 4],
            [6, 8],
          ],
        },
      },
    ]);
    expect(memory.events[0]!.data.inputs).toBeUndefined();
  });

  it("logs a pipeline's records on TF Serving's :predict, hashed and dropped per field", async () => {
    const memory = new MemorySink();
    const pipeline = Pipeline.fit([{ amount: 1, age: 2 }], {
      features: { amount: [], age: [] },
      input: 'x',
      allowExtraFields: true,
    });
    const { url } = await serve(
      {
        mode: 'request',
        sinks: [memory],
        policy: {
          fields: { 'records.*.email': 'hash', 'records.*.amount': 'keep' },
          hashKey: 'test-key-0123456789',
        },
      },
      { pipelines: { double: pipeline } },
    );
    const predict = (instances: unknown[]) =>
      fetch(`${url}/v1/models/double:predict`, { method: 'POST', body: JSON.stringify({ instances }) });
    const r = await predict([{ amount: 10, age: 30, email: 'a@example.com' }]);
    expect(r.status, await r.clone().text()).toBe(200);
    expect(
      (
        await predict([
          { amount: 20, age: 40, email: 'a@example.com' },
          { amount: 5, age: 1, email: 'b@example.com' },
        ])
      ).status,
    ).toBe(200);
    const [first, second] = memory.events.map((e) => e.data);
    expect(first!.endpoint).toBe('/v1/models/double:predict');
    expect(first!.tensors).toEqual([{ name: 'x', datatype: 'FP32', shape: [1, 2] }]);
    const r1 = first!.records as Record<string, unknown>[];
    const r2 = second!.records as Record<string, unknown>[];
    expect(r1[0]!.amount).toBe(10);
    expect(r1[0]!.age).toBeUndefined(); // the default drops what the policy does not name
    expect(first!.inputs).toBeUndefined();
    // A keyed hash: never the address itself, equal for equal addresses so joins still work.
    expect(typeof r1[0]!.email).toBe('string');
    expect(JSON.stringify(memory.events)).not.toContain('example.com');
    expect(r2[0]!.email).toBe(r1[0]!.email);
    expect(r2[1]!.email).not.toBe(r1[0]!.email);
  });

  it('refuses bad settings with typed errors', async () => {
    const deployer = new Deployer();
    const sink = new MemorySink();
    const bad: [unknown, RegExp][] = [
      [{ sinks: [] }, /sinks must be a non-empty list/],
      [{ sinks: [sink], mode: 'everything' }, /mode must be one of none, request, response, all/],
      [{ sinks: [sink], sampleRate: 1.5 }, /sampleRate must be a number from 0 to 1/],
      [{ sinks: [sink], random: 3 }, /random must be a function/],
      [{ sinks: [sink], namespace: '' }, /namespace must be a non-empty string/],
      [{ sinks: [sink], closeTimeoutMs: -1 }, /closeTimeoutMs must be a non-negative number/],
      [{ sinks: [sink], metadataHeaders: 'x-tenant' }, /metadataHeaders must be a list of header names/],
      [{ sinks: [sink], policy: { default: 'hash' } }, /hashKey/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        createServer(deployer, { payloadLog: options as PayloadLogOptions });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    }
    expect(() => new HttpPayloadSink('ftp://collector/')).toThrow(/http or https URL/);
    expect(() => new HttpPayloadSink('http://c/', { maxQueue: 0 })).toThrow(/maxQueue must be an integer/);
    expect(() => new FilePayloadSink('/tmp/payloads.txt')).toThrow(/\.jsonl file/);
    await deployer.close();
  });
});

describe('gRPC', () => {
  it('logs ModelInfer as REST inference, with the ce-id from metadata; unauthorized calls are not logged', async () => {
    const memory = new MemorySink();
    const { server, url } = await serve(
      { sinks: [memory], policy: { fields: { 'outputs.y': 'keep' } } },
      { auth: { tokens: ['tok'] } },
    );
    expect((await infer(url, oneRow)).status).toBe(401);
    const { port } = await server.listenGrpc(0, '127.0.0.1');
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    open.push(async () => client.close());
    const input = cat(
      str(1, 'x'),
      str(2, 'FP32'),
      packedVarints(3, [1, 2]),
      bytesField(5, packedFloats(6, [1, 2])),
    );
    const body = cat(str(1, 'double'), bytesField(5, input));
    await expect(unary(client, 'ModelInfer', body, { 'ce-id': 'g-0' })).rejects.toThrow(/credentials/);
    await unary(client, 'ModelInfer', body, { 'ce-id': 'g-1', authorization: 'Bearer tok' });
    expect(memory.events.map((e) => [e.id, e.type.split('.').at(-1), e.source])).toEqual([
      ['g-1', 'request', '/inference.GRPCInferenceService/ModelInfer'],
      ['g-1', 'response', '/inference.GRPCInferenceService/ModelInfer'],
    ]);
    expect(memory.events[0]!.data).toMatchObject({
      tensors: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }],
    });
    expect(memory.events[1]!.data).toMatchObject({ status: 200, version: '1', outputs: { y: [[2, 4]] } });
  });
});

describe("config.json's payloadLog", () => {
  it('is read, and refused with the file named when it is wrong or holds a hash key', () => {
    const ok = parseModelConfig(
      JSON.stringify({
        payloadLog: { mode: 'request', sampleRate: 0.5, policy: { fields: { 'inputs.x': 'keep' } } },
      }),
      'm/config.json',
    );
    expect(ok.payloadLog).toEqual({
      mode: 'request',
      sampleRate: 0.5,
      policy: { fields: { 'inputs.x': 'keep' } },
    });
    for (const [payloadLog, message] of [
      [{ mode: 'sometimes' }, /m\/config.json: mode must be one of/],
      [{ rate: 1 }, /unknown field 'rate'/],
      [{ policy: { fields: { 'inputs.x': 'hide' } } }, /'keep', 'drop', 'hash'/],
      [{ policy: { default: 'hash', hashKey: 'secret' } }, /hashKey must not be in config.json/],
      ['all', /payloadLog must be an object of mode, sampleRate, policy/],
    ] as [unknown, RegExp][]) {
      let error: unknown;
      try {
        parseModelConfig(JSON.stringify({ payloadLog }), 'm/config.json');
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
      expect(String((error as Error).message)).not.toContain('secret');
    }
  });
});

describe('the file sink', () => {
  it('encrypts at rest as the prediction log does (one JWE line per append)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-payloads-jwe-'));
    const key = new Uint8Array(32).fill(7);
    const sink = new FilePayloadSink(join(dir, 'payloads.jsonl'), { encryption: { key } });
    const { server, url } = await serve({ mode: 'request', sinks: [sink] });
    await infer(url, oneRow, { 'ce-id': 'secret-1' });
    await server.close();
    expect(readdirSync(dir)).toEqual(['payloads.jsonl.jwe']);
    const text = readFileSync(join(dir, 'payloads.jsonl.jwe'), 'utf8');
    expect(text).not.toContain('secret-1');
    const { lines, damaged } = await decryptPredictionLog(text, { key });
    expect(damaged).toEqual([]);
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { id: 'secret-1', type: 'org.kubeflow.serving.inference.request' },
    ]);
  });

  it('writes each event as a CloudEvent JSON line, rotated by the prediction log code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-payloads-'));
    const sink = new FilePayloadSink(join(dir, 'payloads.jsonl'), {
      maxBytes: 1500,
      maxFiles: 50,
      flushMs: 1,
    });
    const { server, url } = await serve({ mode: 'all', sinks: [sink] });
    for (let i = 0; i < 8; i++) {
      await infer(url, oneRow, { 'ce-id': `f${i}` });
      await sink.log.flush();
    }
    await server.close();
    const files = readdirSync(dir).sort();
    expect(files.filter((f) => /^payloads-.+\.jsonl$/.test(f)).length).toBeGreaterThan(0);
    const lines = files.flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    );
    expect(lines).toHaveLength(16);
    expect(sink.stats().sent).toBe(16);
    const last = lines.filter((l) => l.id === 'f7');
    expect(last.map((l) => l.type).sort()).toEqual([
      'org.kubeflow.serving.inference.request',
      'org.kubeflow.serving.inference.response',
    ]);
    expect(last[0]).toMatchObject({
      specversion: '1.0',
      source: '/v2/models/double/infer',
      inferenceservicename: 'double',
      datacontenttype: 'application/json',
      data: { id: 'f7', model: 'double' },
    });
  });
});

async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
}
