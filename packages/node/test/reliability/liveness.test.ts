/**
 * Inference must not stop the server (issue 17 §1): with the model's session on a worker thread,
 * `/v2/health/live` and overload 503s answer while a long inference runs. Ordering is asserted
 * (every answer arrives before the inference it overlaps finishes), not timing; the health
 * latency p99 is logged as a figure. In-thread, the same requests wait for the inference. The
 * probes and the overload requests come from a process of their own, as a kubelet's do (see
 * prober.ts), and are timed there.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, Deployer, loadModel, type Model } from '@modelship/node';
import { describe, expect, it, vi } from 'vitest';
import { modelPath } from '../fixtures';
import { startServe } from '../serve-process';
import { startProber } from './prober';

// Worker threads start from the TypeScript sources here (tsx in each thread): seconds apiece
// on a loaded machine. No assertion depends on time.
vi.setConfig({ testTimeout: 180_000 });

const infer = { inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [0, 0, 0, 0, 0, 0, 0, 0] }] };

async function serve(model: Model) {
  const deployer = new Deployer();
  // One call at a time, none queued: a second request while one runs is refused at once (503).
  await deployer.deploy('slow', model, { version: '1', maxConcurrency: 1, maxQueue: 0 });
  const server = createServer(deployer, { closeDeployer: true });
  const { url } = await server.listen(0, '127.0.0.1');
  const running = () => deployer.status('slow').versions[0]!.inFlight;
  return { url, running, close: () => server.close() };
}

function post(url: string): Promise<Response> {
  return fetch(`${url}/v2/models/slow/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(infer),
  });
}

/**
 * Sends back-to-back inferences and, meanwhile, health probes one after another from a process
 * of its own (see prober.ts). Returns, per inference, the probes answered while it ran (the
 * model held the call when the probe was sent and still when its answer arrived) and before it
 * finished.
 */
async function probeDuring(url: string, running: () => number, inferences: number) {
  const prober = await startProber();
  try {
    const latencies: number[] = [];
    const perInference: { during: number; after: number }[] = [];
    for (let i = 0; i < inferences; i++) {
      let finished = false;
      const answered: { at: 'during' | 'after' }[] = [];
      const call = post(url).then(async (r) => {
        finished = true;
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      });
      while (!finished) {
        const before = running() === 1;
        const r = await prober.request('GET', `${url}/v2/health/live`);
        const busy = before && running() === 1;
        const done = finished;
        latencies.push(r.ms);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toEqual({ live: true });
        if (!done) answered.push({ at: busy ? 'during' : 'after' });
      }
      await call;
      perInference.push({
        during: answered.filter((a) => a.at === 'during').length,
        after: answered.length,
      });
    }
    return { perInference, p99: p99(latencies), probes: latencies.length };
  } finally {
    prober.close();
  }
}

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

/** The same probes with no inference running: the machine's own p99, to read the other against. */
async function probeIdle(url: string, probes: number): Promise<number> {
  const prober = await startProber();
  try {
    const latencies: number[] = [];
    for (let i = 0; i < probes; i++) {
      const r = await prober.request('GET', `${url}/v2/health/live`);
      expect(r.status).toBe(200);
      latencies.push(r.ms);
    }
    return p99(latencies);
  } finally {
    prober.close();
  }
}

describe('liveness under inference (sessions on worker threads)', () => {
  it('answers /v2/health/live while back-to-back long inferences run', async () => {
    const model = await loadModel(modelPath('slow_loop'), { instances: 1 });
    const s = await serve(model);
    try {
      const { perInference, p99, probes } = await probeDuring(s.url, s.running, 3);
      const idle = await probeIdle(s.url, probes);
      console.log(
        `liveness: ${probes} health probes during 3 back-to-back slow_loop inferences, p99 ${p99.toFixed(1)} ms; as many with the model idle, p99 ${idle.toFixed(1)} ms`,
      );
      // Each inference overlapped health answers that arrived while the model held the call.
      for (const x of perInference) expect(x.during).toBeGreaterThanOrEqual(2);
    } finally {
      await s.close();
    }
  });

  it('answers overload 503s before the running inference finishes', async () => {
    const model = await loadModel(modelPath('slow_loop'), { instances: 1 });
    const s = await serve(model);
    try {
      const order: string[] = [];
      const prober = await startProber();
      // The prober's connection is open before the timing starts (a client's cost, not the server's).
      await prober.request('GET', `${s.url}/v2/health/live`);
      const first = post(s.url).then((r) => order.push(`infer ${r.status}`));
      const times: number[] = [];
      try {
        while (s.running() === 0) await new Promise((r) => setTimeout(r, 1));
        for (let i = 0; i < 3; i++) {
          const r = await prober.request('POST', `${s.url}/v2/models/slow/infer`, JSON.stringify(infer));
          times.push(r.ms);
          order.push(`overload ${r.status}`);
          expect((JSON.parse(r.body) as { error: string }).error).toMatch(/overloaded/);
        }
      } finally {
        prober.close();
      }
      await first;
      expect(order).toEqual(['overload 503', 'overload 503', 'overload 503', 'infer 200']);
      console.log(
        `liveness: 3 overload 503s during a slow_loop inference, slowest ${Math.max(...times).toFixed(1)} ms`,
      );
    } finally {
      await s.close();
    }
  });

  it('in-thread, by contrast, the same probes wait for the inference to finish', async () => {
    const model = await loadModel(modelPath('slow_loop'));
    const s = await serve(model);
    try {
      const { perInference } = await probeDuring(s.url, s.running, 1);
      expect(perInference[0]!.during).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('modelship serve puts a slow model on a worker thread by default, and a fast one in-thread', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-liveness-'));
    for (const name of ['slow_loop', 'fraud']) {
      mkdirSync(join(root, name, '1'), { recursive: true });
      copyFileSync(modelPath(name), join(root, name, '1', 'model.onnx'));
    }
    const serve = startServe([root, '--port', '0', '--host', '127.0.0.1'], {}, 150_000);
    try {
      const url = await serve.url;
      expect(serve.output()).toMatch(/slow_loop +version 1 +x float32 \[batch, 8\] → y +1 worker thread/);
      expect(serve.output()).not.toMatch(/fraud .*worker thread/);
      // The server's own counter is not reachable from here: "during" is every probe answered
      // before the inference's answer arrived, which in-thread would be none once it started.
      let finished = false;
      let answered = 0;
      const call = fetch(`${url}/v2/models/slow_loop/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(infer),
      }).then((r) => {
        finished = true;
        expect(r.status).toBe(200);
      });
      while (!finished) {
        const r = await fetch(`${url}/v2/health/live`);
        expect(r.status).toBe(200);
        if (!finished) answered++;
      }
      await call;
      expect(answered).toBeGreaterThanOrEqual(5);
    } finally {
      serve.child.kill('SIGKILL');
      await serve.exited;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
