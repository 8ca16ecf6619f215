/**
 * A version's Prometheus series go with the version: a server that hot-swaps a model every few
 * minutes must not keep (and export) the series of every version it ever served.
 */
import { createServer, Deployer, loadModel } from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';

const row = (n: number) => ({
  inputs: [{ name: 'features', shape: [1, n], datatype: 'FP32', data: Array(n).fill(0.5) }],
});

describe('metrics of retired versions', () => {
  it('drops an unloaded version’s series, success and failure alike, and keeps the serving one’s', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
    const server = createServer(deployer, { metrics: true, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const infer = (n: number) =>
        fetch(`${url}/v2/models/fraud/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(row(n)),
        }).then((r) => r.status);
      const series = async (version: string) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return text
          .split('\n')
          .filter((l) => l.startsWith('modelship_inference_') && l.includes(`version="${version}"`))
          .map((l) => l.slice(0, l.indexOf('{')));
      };
      expect([await infer(12), await infer(3)]).toEqual([200, 400]);
      const v1 = await series('1');
      expect(v1).toContain('modelship_inference_request_success_total');
      expect(v1).toContain('modelship_inference_request_failure_total');
      expect(v1).toContain('modelship_inference_request_duration_seconds_count');
      // Version 2 replaces version 1, which is unloaded once it has drained.
      const unloaded = new Promise((resolve) => deployer.once('unloaded', resolve));
      await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '2' });
      expect(await unloaded).toEqual({ name: 'fraud', version: '1' });
      expect(await infer(12)).toBe(200);
      expect(await series('1')).toEqual([]);
      expect(await series('2')).toContain('modelship_inference_request_success_total');
    } finally {
      await server.close();
    }
  });
});
