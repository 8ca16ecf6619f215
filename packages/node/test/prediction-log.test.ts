import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployer, loadModel, PredictionLog } from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';

describe('PredictionLog', () => {
  it('writes one JSON line per prediction, rotates past maxBytes and keeps maxFiles', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-log-'));
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '2' });
    const log = new PredictionLog(dir, { maxBytes: 2000, maxFiles: 2, flushMs: 5, tensors: true });
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
