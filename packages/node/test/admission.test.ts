/**
 * Admission over HTTP is decided by counts alone: of a wave of concurrent requests to a model
 * with `maxConcurrency` c and `maxQueue` q, exactly c + q are admitted and the rest get 503
 * MODEL_OVERLOADED at once, the same in every wave (the model is held until the wave is in,
 * so the order of arrival cannot matter).
 */
import { Agent, request } from 'node:http';
import { createServer, Deployer, functionModel, type ModelshipServer, tensor } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const gate: (() => void)[] = [];
const slow = functionModel(
  async ({ x }) => {
    await new Promise<void>((release) => gate.push(release));
    return { y: tensor('float32', [(x!.data as Float32Array)[0]!], [1, 1]) };
  },
  {
    name: 'slow',
    signature: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
    },
  },
);

let deployer: Deployer;
let server: ModelshipServer;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

beforeAll(async () => {
  deployer = new Deployer();
  await deployer.deploy('slow', slow, { warmup: false, maxConcurrency: 2, maxQueue: 16 });
  server = createServer(deployer);
  ({ port } = await server.listen(0, '127.0.0.1'));
});

afterAll(async () => {
  for (const release of gate.splice(0)) release();
  agent.destroy();
  await server.close();
  await deployer.close();
});

function infer(i: number): Promise<{ status: number; error?: string }> {
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [i] }] });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v2/models/slow/infer', method: 'POST', agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString()) as { error?: string };
          resolve({ status: res.statusCode!, ...(json.error === undefined ? {} : { error: json.error }) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('admission over HTTP', () => {
  it('admits exactly maxConcurrency + maxQueue of every wave of 180 and refuses the rest at once', async () => {
    const refusedPerWave: number[] = [];
    for (let wave = 0; wave < 4; wave++) {
      let answered = 0;
      const all = Array.from({ length: 180 }, (_, i) =>
        infer(i).then((r) => {
          answered++;
          return r;
        }),
      );
      // The refusals come back while the admitted requests are still held.
      while (answered < 162) await new Promise((r) => setTimeout(r, 5));
      expect(deployer.status('slow').versions[0]).toMatchObject({ inFlight: 2, queued: 16 });
      expect(answered).toBe(162);
      while (answered < 180) {
        for (const release of gate.splice(0)) release();
        await new Promise((r) => setTimeout(r, 5));
      }
      const results = await Promise.all(all);
      const refused = results.filter((r) => r.status === 503);
      expect(
        refused.every((r) => /is overloaded: 16 requests are queued \(maxQueue 16\)/.test(r.error!)),
      ).toBe(true);
      expect(results.filter((r) => r.status === 200).length).toBe(18);
      refusedPerWave.push(refused.length);
    }
    expect(refusedPerWave).toEqual([162, 162, 162, 162]);
  });
});
