/**
 * The server's operations: CORS, an auth hook, graceful shutdown with requests in flight, and
 * a fuzz test of thousands of mutated requests that must each get a clear 4xx (or a 200),
 * never a 5xx, a hang or a crash.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createInferenceHandler,
  createServer,
  Deployer,
  functionModel,
  loadModel,
  Monitor,
  Profile,
  tensor,
} from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/src/evaluate/bootstrap';
import { modelPath } from './fixtures';

function gated() {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const model = functionModel(
    async ({ x }) => {
      await gate;
      return { y: tensor('float32', x!.data as Float32Array, x!.shape) };
    },
    {
      name: 'slow',
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch'] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
  return { model, release: () => release() };
}

const slowRequest = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] };

describe('CORS and auth hooks', () => {
  it('answers preflights and tags answers for allowed origins only', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const server = createServer(deployer, { cors: { origin: ['https://app.example'] }, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const pre = await fetch(`${url}/v2/models/fraud/infer`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(pre.headers.get('access-control-allow-headers')).toContain('inference-header-content-length');
      const meta = await fetch(`${url}/v2/models/fraud`, { headers: { origin: 'https://app.example' } });
      expect(meta.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(meta.headers.get('access-control-expose-headers')).toBe('inference-header-content-length');
      const other = await fetch(`${url}/v2/models/fraud`, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('asks a verify hook about each request it does not exempt; management scopes never exempt', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const seen: string[] = [];
    const server = createServer(deployer, {
      closeDeployer: true,
      auth: {
        exempt: ['health', 'metrics'],
        verify: ({ token, scope, path }) => {
          seen.push(`${scope} ${path}`);
          return token === 'team-a' && scope !== 'inference';
        },
      },
    });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      expect(
        (await fetch(`${url}/v2/models/fraud`, { headers: { authorization: 'Bearer team-a' } })).status,
      ).toBe(200);
      const denied = await fetch(`${url}/v2/models/fraud/infer`, {
        method: 'POST',
        headers: { authorization: 'Bearer team-a' },
        body: '{}',
      });
      expect(denied.status).toBe(403);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      expect(seen).toEqual(['metadata /v2/models/fraud', 'inference /v2/models/fraud/infer']);
    } finally {
      await server.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('turns readiness off, refuses new work, lets requests in flight finish, then closes', async () => {
    const deployer = new Deployer();
    const slow = gated();
    await deployer.deploy('slow', slow.model, { warmup: false });
    const server = createServer(deployer, { closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const inFlight = fetch(`${url}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify(slowRequest),
    });
    await expect.poll(() => deployer.status('slow').versions[0]!.inFlight).toBe(1);
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    // Draining: the handler reports not ready and refuses new inference at once.
    const ready = await server.handler.handle({
      method: 'GET',
      path: '/v2/health/ready',
      headers: {},
      body: new Uint8Array(),
    });
    expect(ready.status).toBe(400);
    expect(JSON.parse(ready.body as string)).toEqual({ ready: false });
    const refused = await server.handler.handle({
      method: 'POST',
      path: '/v2/models/slow/infer',
      headers: {},
      body: new TextEncoder().encode(JSON.stringify(slowRequest)),
    });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body as string)).toEqual({ error: 'the server is shutting down' });
    // New connections are refused: the listener has stopped.
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
    expect(closed).toBe(false);
    slow.release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([1]);
    await closing;
    expect(closed).toBe(true);
  });

  it('an embedded handler counts its requests in flight and says when the last one is done', async () => {
    const deployer = new Deployer();
    const slow = gated();
    await deployer.deploy('slow', slow.model, { warmup: false });
    const handler = createInferenceHandler(deployer);
    const app = createHttpServer((req, res) => handler.node(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const { port } = app.address() as AddressInfo;
    try {
      expect(handler.inFlight).toBe(0);
      await handler.whenIdle(); // nothing in flight: resolves at once
      const answer = fetch(`http://127.0.0.1:${port}/v2/models/slow/infer`, {
        method: 'POST',
        body: JSON.stringify(slowRequest),
      });
      await expect.poll(() => handler.inFlight).toBe(1);
      // The app's own routes are not counted.
      expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
      expect(handler.inFlight).toBe(1);
      let idle = false;
      const waiting = handler.whenIdle().then(() => {
        idle = true;
      });
      await new Promise((r) => setTimeout(r, 20));
      expect(idle).toBe(false);
      slow.release();
      expect((await answer).status).toBe(200);
      await waiting;
      expect(handler.inFlight).toBe(0);
    } finally {
      await new Promise((resolve) => app.close(resolve));
      await deployer.close();
    }
  });

  it('cuts requests that outlive drainTimeoutMs', async () => {
    const deployer = new Deployer();
    const slow = gated();
    await deployer.deploy('slow', slow.model, { warmup: false });
    const server = createServer(deployer, { drainTimeoutMs: 100 });
    const { url } = await server.listen(0, '127.0.0.1');
    const inFlight = fetch(`${url}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify(slowRequest),
    }).then(
      (r) => r.status,
      () => 'connection cut',
    );
    await expect.poll(() => deployer.status('slow').versions[0]!.inFlight).toBe(1);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(await inFlight).toBe('connection cut');
    slow.release();
    await deployer.close();
  });
});

describe('fuzz: mutated requests', () => {
  it('answers 3,000 mutated requests with 200 or a 4xx and an error message, and keeps serving', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    await deployer.deploy('identity', () => loadModel(modelPath('identity_all_dtypes')), {
      version: '1',
      warmup: false,
    });
    const server = createServer(deployer, { maxBodyBytes: 1 << 18, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const random = seededRandom(2026);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
    const weird: unknown[] = [
      null,
      true,
      -1,
      0,
      1e308,
      -1e308,
      2 ** 53 + 1,
      '',
      'x',
      [],
      {},
      [[[]]],
      { __proto__: { polluted: 1 } },
      'FP32',
      [1e9, 1e9],
      '\u0000',
    ];
    const valid = {
      id: 'f',
      parameters: { binary_data_output: false },
      inputs: [
        {
          name: 'features',
          shape: [2, 12],
          datatype: 'FP32',
          data: Array.from({ length: 24 }, (_, i) => i / 24),
        },
      ],
      outputs: [{ name: 'probability' }, { name: 'label' }],
    };
    /** Replaces a random node of a JSON value with something odd, or deletes it. */
    const mutate = (v: unknown, depth = 0): unknown => {
      if (depth > 0 && random() < 0.25) return pick(weird);
      if (Array.isArray(v)) {
        if (v.length === 0 || random() < 0.1) return [...v, pick(weird)];
        const i = Math.floor(random() * v.length);
        const out = [...v];
        if (random() < 0.15) out.splice(i, 1);
        else out[i] = mutate(v[i], depth + 1);
        return out;
      }
      if (typeof v === 'object' && v !== null) {
        const keys = Object.keys(v);
        const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        const k = pick(keys);
        if (random() < 0.15) delete out[k];
        else if (random() < 0.1) out[pick(['__proto__', 'constructor', 'extra', 'parameters'])] = pick(weird);
        else out[k] = mutate(out[k], depth + 1);
        return out;
      }
      return pick(weird);
    };
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const send = async (i: number): Promise<void> => {
      const kind = i % 5;
      let init: RequestInit;
      let path = pick([
        '/v2/models/fraud/infer',
        '/v2/models/fraud/versions/1/infer',
        '/v2/models/identity/infer',
        '/v1/models/fraud:predict',
        '/v2/models/fraud%zz/infer',
      ]);
      if (kind === 0) {
        // Raw text mutations: byte flips and truncation of valid JSON.
        const text = JSON.stringify(valid).split('');
        for (let n = 0; n < 1 + Math.floor(random() * 4); n++)
          text[Math.floor(random() * text.length)] = String.fromCharCode(Math.floor(random() * 128));
        init = { method: 'POST', body: text.join('').slice(0, Math.floor(random() * text.length) + 1) };
      } else if (kind === 1) {
        // Binary requests whose header length and data sizes lie.
        const header = JSON.stringify(
          mutate({
            inputs: [
              { name: 'features', shape: [1, 12], datatype: 'FP32', parameters: { binary_data_size: 48 } },
            ],
          }),
        );
        const data = Buffer.alloc(Math.floor(random() * 100));
        const claimed = pick([header.length, header.length + 7, header.length - 3, 0, 10 ** 9, -5]);
        init = {
          method: 'POST',
          headers: { 'inference-header-content-length': String(claimed) },
          body: Buffer.concat([Buffer.from(header), data]),
        };
      } else if (kind === 2) {
        path = '/v1/models/fraud:predict';
        init = {
          method: 'POST',
          body: JSON.stringify(mutate({ instances: [Array.from({ length: 12 }, () => 0.5)] })),
        };
      } else {
        init = { method: 'POST', body: JSON.stringify(mutate(valid)) };
      }
      const res = await fetch(url + path, init);
      const body = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 || (res.status !== 200 && (res.status < 400 || res.status >= 500)))
        failures.push(`${res.status} ${body.slice(0, 200)}`);
      if (res.status >= 400) {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        if (Object.keys(parsed).join() !== 'error' || typeof parsed.error !== 'string' || parsed.error === '')
          failures.push(`malformed error body: ${body.slice(0, 200)}`);
      }
    };
    const total = 3000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) await send(next++);
      }),
    );
    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(1000);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Still serving, nothing stuck in a queue.
    const ok = await fetch(`${url}/v2/models/fraud/infer`, { method: 'POST', body: JSON.stringify(valid) });
    expect(ok.status).toBe(200);
    expect(
      deployer.status('fraud').versions[0]!.queued + deployer.status('fraud').versions[0]!.inFlight,
    ).toBe(0);
    await server.close();
    // 3,000 requests take 3 s on an idle machine and near 30 s on a loaded one: the time limit
    // is about hangs, not speed.
  }, 120_000);
});

describe('Monitor metrics', () => {
  it("exposes a Monitor's windows, live accuracy and alerts on /metrics", async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const monitor = new Monitor();
    monitor.attach(deployer);
    monitor.addAlert({ name: 'traffic', metric: 'requests', above: 2, minRequests: 1 });
    const server = createServer(deployer, { monitor, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${url}/v2/models/fraud/infer`, {
          method: 'POST',
          body: JSON.stringify({
            id: `r${i}`,
            inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: new Array(12).fill(i / 5) }],
          }),
        });
        const body = (await res.json()) as { id: string; outputs: { name: string; data: number[] }[] };
        monitor.recordPrediction(body.id, {
          model: 'fraud',
          version: '1',
          predicted: body.outputs[1]!.data[0]!,
        });
      }
      for (let i = 0; i < 5; i++) monitor.recordOutcome(`r${i}`, i < 4 ? 0 : 1);
      monitor.check();
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(text).toMatch(
        /^modelship_monitor_latency_seconds\{model="fraud",version="1",quantile="0\.99"\} \d/m,
      );
      expect(text).toMatch(/^modelship_monitor_error_ratio\{model="fraud",version="1"\} 0$/m);
      expect(text).toMatch(/^modelship_monitor_requests_per_second\{model="fraud",version="1"\} 0\.08333/m);
      expect(text).toMatch(/^modelship_monitor_live_accuracy\{model="fraud",version="1"\} 0\.\d+$/m);
      expect(text).toMatch(
        /^modelship_monitor_alerts_active\{rule="traffic",model="fraud",version="1"\} 1$/m,
      );
    } finally {
      await server.close();
    }
  });
});

describe('Monitor routes', () => {
  it('takes telemetry only for deployed and allowed models, so 2,000 made-up names make no series', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const monitor = new Monitor({ maxSeries: 50 });
    const server = createServer(deployer, { monitor, closeDeployer: true, ingestModels: ['page-model'] });
    const { url } = await server.listen(0, '127.0.0.1');
    const ingest = (body: unknown) =>
      fetch(`${url}/v2/monitor/ingest`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as Record<string, unknown>,
      }));
    // The Monitor's part of /metrics: its series, not the request counters.
    const metrics = async () =>
      (await (await fetch(`${url}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('modelship_monitor_'));
    try {
      expect(await ingest({ records: [{ model: 'fraud', version: '1', latencyMs: 3 }] })).toEqual({
        status: 200,
        json: { accepted: 1, rows: 0 },
      });
      const before = await metrics();
      for (let i = 0; i < 2000; i += 500) {
        const records = Array.from({ length: 500 }, (_, j) => ({
          model: `made-up-${i + j}`,
          version: `v${i + j}`,
          latencyMs: 1,
        }));
        const res = await ingest({ records });
        expect(res.status).toBe(400);
        expect(res.json.error).toBe(
          `records[0]: model "made-up-${i}" is not deployed here (telemetry is taken for deployed models and the server's ingestModels)`,
        );
      }
      expect((await ingest({ inputs: [{ model: 'ghost', rows: [[1]] }] })).json.error).toMatch(
        /^inputs\[0\]: model "ghost" is not deployed here/,
      );
      expect(monitor.snapshot().map((s) => `${s.model}/${s.version}`)).toEqual(['fraud/1']);
      expect(await metrics()).toEqual(before);
      expect(before.length).toBeGreaterThan(0);
      // An allowed name takes any version, up to the Monitor's maxSeries.
      const records = Array.from({ length: 2000 }, (_, i) => ({
        model: 'page-model',
        version: `v${i}`,
        latencyMs: 1,
      }));
      expect((await ingest({ records })).json).toEqual({ accepted: 2000, rows: 0 });
      expect(monitor.snapshot().length).toBe(50);
      expect(monitor.droppedRecords).toBe(1951);
    } finally {
      await server.close();
    }
  });

  it('answers the Monitor state as JSON and takes telemetry from other processes and pages', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const monitor = new Monitor();
    monitor.attach(deployer);
    const profile = Profile.fromDataset(
      Array.from({ length: 300 }, (_, i) => ({ a: i % 10, b: (i * 7) % 13 })),
    );
    monitor.watchDrift('fraud', profile, { features: ['a', 'b'], windowRows: 100 });
    const server = createServer(deployer, { monitor, closeDeployer: true, auth: { tokens: ['t'] } });
    const { url } = await server.listen(0, '127.0.0.1');
    const auth = { authorization: 'Bearer t' };
    try {
      const ingest = (body: unknown) =>
        fetch(`${url}/v2/monitor/ingest`, { method: 'POST', headers: auth, body: JSON.stringify(body) }).then(
          async (r) => ({
            status: r.status,
            json: (await r.json()) as Record<string, unknown>,
          }),
        );
      const records = Array.from({ length: 30 }, (_, i) => ({
        model: 'fraud',
        version: 'browser',
        latencyMs: 2 + i,
        ...(i < 3 ? { error: 'INFERENCE_FAILED' } : {}),
      }));
      const rows = Array.from({ length: 100 }, (_, i) => [9, (i * 7) % 13]); // feature a stuck at 9
      expect(await ingest({ records, inputs: [{ model: 'fraud', rows }] })).toEqual({
        status: 200,
        json: { accepted: 30, rows: 100 },
      });
      expect(await ingest({ records: [{ model: 'fraud', version: '1', latencyMs: -1 }] })).toEqual({
        status: 400,
        json: { error: 'records[0].latencyMs must be a non-negative number, received -1' },
      });
      expect((await fetch(`${url}/v2/monitor/ingest`, { method: 'POST', body: '{}' })).status).toBe(401);
      const state = (await (await fetch(`${url}/v2/monitor`, { headers: auth })).json()) as {
        series: { version: string; requests: number; errors: number }[];
        drift: Record<string, { features: { feature: string; drifted: boolean }[] }>;
      };
      expect(state.series).toEqual([
        expect.objectContaining({ version: 'browser', requests: 30, errors: 3 }),
      ]);
      expect(state.drift.fraud!.features.map((f) => [f.feature, f.drifted])).toEqual([
        ['a', true],
        ['b', false],
      ]);
    } finally {
      await server.close();
    }
    const bare = createServer(new Deployer(), { closeDeployer: true });
    const { url: bareUrl } = await bare.listen(0, '127.0.0.1');
    expect((await fetch(`${bareUrl}/v2/monitor`)).status).toBe(501);
    await bare.close();
  });
});
