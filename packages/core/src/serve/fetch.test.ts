/**
 * `createFetchHandler` under Node's own `Request`/`Response`: the same routes, limits and
 * credentials as the Node server, with the body limit held while the stream is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { gatedModel, sumModel } from '../deploy/fakes.case';
import { createFetchHandler, type ServeMetrics } from './index';

const deployers: Deployer[] = [];
afterEach(async () => {
  for (const d of deployers.splice(0)) await d.close();
});

async function sumDeployer(): Promise<{ deployer: Deployer; calls: number[] }> {
  const deployer = new Deployer();
  deployers.push(deployer);
  const sum = sumModel('1', 100);
  await deployer.deploy('sum', sum.model, { warmup: false });
  return { deployer, calls: sum.calls };
}

const INFER = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
};

function post(path: string, body: unknown, init: RequestInit = {}): Request {
  return new Request(`http://localhost${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...init,
  });
}

/** A request body that never ends, 1 KiB a chunk, counting what was pulled from it. */
function endlessBody() {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls++;
      controller.enqueue(new Uint8Array(1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe('createFetchHandler', () => {
  it('answers Open Inference Protocol and TF Serving requests with the values the model computes', async () => {
    const { deployer } = await sumDeployer();
    const fetch = createFetchHandler(deployer);
    const res = await fetch(post('/v2/models/sum/infer', INFER));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      model_name: 'sum',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 1], data: [103, 107] }],
    });
    const tf = await fetch(post('/v1/models/sum:predict', { instances: [[1, 1]] }));
    expect(await tf.json()).toEqual({ predictions: [[102]] });
    const ready = await fetch(new Request('http://localhost/v2/models/sum/ready'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ name: 'sum', ready: true });
  });

  it('refuses bad input with 400 naming the input, and unknown models with 404', async () => {
    const { deployer, calls } = await sumDeployer();
    const fetch = createFetchHandler(deployer);
    const bad = await fetch(
      post('/v2/models/sum/infer', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
      }),
    );
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/'x'/);
    const missing = await fetch(post('/v2/models/nope/infer', INFER));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/nope/);
    expect(calls).toEqual([]);
  });

  it('cancels a streamed body at the first chunk past maxBodyBytes, without reading the rest', async () => {
    const { deployer, calls } = await sumDeployer();
    const fetch = createFetchHandler(deployer, { maxBodyBytes: 4096 });
    const { stream, state } = endlessBody();
    const res = await fetch(
      new Request('http://localhost/v2/models/sum/infer', {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    expect((await res.json()).error).toBe('the body is over 4096 bytes, the most this server takes');
    // Five 1 KiB chunks take the body over 4096 bytes; the stream may have one more queued ahead.
    expect(state.pulls).toBeGreaterThanOrEqual(5);
    expect(state.pulls).toBeLessThanOrEqual(7);
    expect(state.cancelled).toBe(true);
    expect(calls).toEqual([]);
  });

  it('refuses a declared length over the limit before reading any of the body', async () => {
    const { deployer } = await sumDeployer();
    const fetch = createFetchHandler(deployer, { maxBodyBytes: 4096 });
    const { stream, state } = endlessBody();
    const request = new Request('http://localhost/v2/models/sum/infer', {
      method: 'POST',
      body: stream,
      headers: { 'content-length': '5000' },
      duplex: 'half',
    } as RequestInit);
    const res = await fetch(request);
    expect(res.status).toBe(413);
    expect(state.pulls).toBeLessThanOrEqual(1); // the stream's own first pull, at most
  });

  it('bounds what a gzip body inflates to, and reads an honest one', async () => {
    const { deployer } = await sumDeployer();
    const fetch = createFetchHandler(deployer, { maxBodyBytes: 2048 });
    const gzip = async (text: string) =>
      new Uint8Array(
        await new Response(
          new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')),
        ).arrayBuffer(),
      );
    const ok = await fetch(
      new Request('http://localhost/v2/models/sum/infer', {
        method: 'POST',
        headers: { 'content-encoding': 'gzip' },
        body: await gzip(JSON.stringify(INFER)),
      }),
    );
    expect(ok.status).toBe(200);
    expect((await ok.json()).outputs[0].data).toEqual([103, 107]);
    // 100 KB of spaces compresses to a few hundred bytes, under the limit on the wire.
    const bomb = await gzip(' '.repeat(100_000));
    expect(bomb.byteLength).toBeLessThan(2048);
    const big = await fetch(
      new Request('http://localhost/v2/models/sum/infer', {
        method: 'POST',
        headers: { 'content-encoding': 'gzip' },
        body: bomb,
      }),
    );
    expect(big.status).toBe(413);
    const br = await fetch(
      new Request('http://localhost/v2/models/sum/infer', {
        method: 'POST',
        headers: { 'content-encoding': 'br' },
        body: 'x',
      }),
    );
    expect(br.status).toBe(415);
    expect(br.headers.get('accept-encoding')).toBe('gzip, deflate');
  });

  it("drops a request from the model's queue when request.signal aborts", async () => {
    const deployer = new Deployer();
    deployers.push(deployer);
    const gated = gatedModel('1');
    await deployer.deploy('g', gated.model, { warmup: false, maxConcurrency: 1 });
    const fetch = createFetchHandler(deployer);
    const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] };
    const first = fetch(post('/v2/models/g/infer', body));
    await until(() => gated.calls.length === 1);
    const controller = new AbortController();
    const second = fetch(post('/v2/models/g/infer', body, { signal: controller.signal }));
    await until(() => deployer.status()[0]!.versions[0]!.queued === 1);
    controller.abort();
    const gone = await second;
    expect(gone.status).toBe(499);
    gated.releaseAll();
    expect((await first).status).toBe(200);
    // The aborted request never reached the model: one call, the first request's.
    expect(gated.calls).toEqual([1]);
  });

  it('checks bearer tokens: 401 without, 403 for a wrong or partial token, the answer with the right one', async () => {
    const { deployer } = await sumDeployer();
    const fetch = createFetchHandler(deployer, { auth: { tokens: ['s3cret-token'] } });
    const withToken = (token?: string) =>
      fetch(
        post('/v2/models/sum/infer', INFER, {
          headers: {
            'content-type': 'application/json',
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
        }),
      );
    const none = await withToken();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await withToken('s3cret')).status).toBe(403);
    expect((await withToken('s3cret-tokeN')).status).toBe(403);
    expect((await withToken('s3cret-token')).status).toBe(200);
    // Health needs no credentials by default.
    expect((await fetch(new Request('http://localhost/v2/health/live'))).status).toBe(200);
  });

  it('serves /metrics only with a metrics hook, which sees every request', async () => {
    const { deployer } = await sumDeployer();
    expect((await createFetchHandler(deployer)(new Request('http://localhost/metrics'))).status).toBe(404);
    const seen: [string, number][] = [];
    const metrics: ServeMetrics = {
      observeHttp: (route, code) => seen.push([route, code]),
      observeExplain: () => {},
      response: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'requests 2\n' }),
    };
    const fetch = createFetchHandler(deployer, { metrics });
    await fetch(post('/v2/models/sum/infer', INFER));
    await fetch(new Request('http://localhost/nowhere'));
    const page = await fetch(new Request('http://localhost/metrics'));
    expect(await page.text()).toBe('requests 2\n');
    expect(seen).toEqual([
      ['inference', 200],
      ['unmatched', 404],
      ['metrics', 200],
    ]);
    expect(() => createFetchHandler(deployer, { metrics: {} as ServeMetrics })).toThrow(
      /metrics must be true, false or an object with observeHttp, observeExplain and response/,
    );
  });

  it('answers CORS preflights for an allowed origin', async () => {
    const { deployer } = await sumDeployer();
    const fetch = createFetchHandler(deployer, { cors: { origin: 'https://app.example' } });
    const pre = await fetch(
      new Request('http://localhost/v2/models/sum/infer', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example' },
      }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
});

describe('@modelship/core/serve stays pure', () => {
  it('imports nothing but its own relative modules, transitively (no node:*, no packages)', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const outside: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Type-only imports leave nothing at run time.
      for (const m of text.matchAll(/^(?:import|export) (?!type )[^;]*?from '([^']+)';/gms)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) {
          outside.push(`${file}: ${spec}`);
          continue;
        }
        const path = resolve(dirname(file), spec);
        visit(existsSync(`${path}.ts`) ? `${path}.ts` : join(path, 'index.ts'));
      }
    };
    visit(join(here, 'index.ts'));
    // ml-matrix and eventemitter3 are core's only dependencies; the serving graph needs neither.
    expect(outside).toEqual([]);
    expect(seen.size).toBeGreaterThan(15);
  });
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(ok()).toBe(true);
}
