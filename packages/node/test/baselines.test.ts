/**
 * A team's baseline trained in TypeScript, compared with the ONNX model through the Evaluator:
 * logistic regression on half of fraud.csv against fraud.onnx on the other half.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareModels,
  computeIntegrity,
  createServer,
  Deployer,
  FileSystemRepository,
  LogisticRegression,
  loadModel,
  readCsv,
} from '@modelship/node';
import { describe, expect, it } from 'vitest';

const fixtures = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const features = Array.from({ length: 12 }, (_, i) => `f${i}`);

describe('a TypeScript baseline against the ONNX model', () => {
  it('trains, serves the same signature and is compared with paired tests', async () => {
    const rows: Record<string, number>[] = [];
    for await (const r of readCsv(`${fixtures}data/fraud.csv`)) rows.push(r as Record<string, number>);
    const train = rows.slice(0, 250);
    const holdout = rows.slice(250);
    const baseline = LogisticRegression.fit(
      train.map((r) => features.map((f) => r[f]!)),
      train.map((r) => r.label!),
      { name: 'fraud-baseline' },
    );
    expect(baseline.converged).toBe(true);
    const onnx = await loadModel(`${fixtures}models/fraud.onnx`, { name: 'fraud' });
    // Same inputs and outputs as the ONNX model, so either drops into the other's place.
    expect(baseline.signature).toEqual({
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 12] }],
      outputs: [
        { name: 'probability', dtype: 'float32', shape: ['batch'] },
        { name: 'label', dtype: 'int64', shape: ['batch'] },
      ],
    });
    const comparison = await compareModels(baseline, onnx, holdout, {
      bootstrap: { resamples: 300, seed: 2 },
    });
    await onnx.dispose();
    const auc = comparison.tests.find((t) => t.metric === 'rocAuc')!;
    // Both separate the classes well; the ONNX model saw six times the training rows.
    expect(auc.a).toBeGreaterThan(0.9);
    expect(auc.b).toBeGreaterThan(0.9);
    expect(comparison.a.samples).toBe(250);
    expect(comparison.summary.length).toBeGreaterThan(0);
    const acc = comparison.tests.find((t) => t.metric === 'accuracy')!;
    expect(acc.method).toBe('mcnemar');
    expect(acc.a).toBeGreaterThan(0.85);
  });

  it('serves from a repository as model.json, where no ONNX export exists', async () => {
    const X = [
      [0, 1],
      [1, 0],
      [2, 1],
      [3, 0],
      [0.5, 2],
      [2.5, 2],
    ];
    const baseline = LogisticRegression.fit(X, ['no', 'no', 'yes', 'yes', 'no', 'yes'], { name: 'ignored' });
    const root = mkdtempSync(join(tmpdir(), 'modelship-baseline-'));
    const text = JSON.stringify(baseline);
    for (const v of ['1', '2']) {
      mkdirSync(join(root, 'churn', v), { recursive: true });
      writeFileSync(join(root, 'churn', v, 'model.json'), text);
    }
    // Version 2 is pinned to other bytes: it must not load.
    writeFileSync(
      join(root, 'churn', 'config.json'),
      JSON.stringify({
        versionPolicy: { all: true },
        integrity: {
          '1': await computeIntegrity(new TextEncoder().encode(text)),
          '2': 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        },
      }),
    );
    const deployer = new Deployer();
    const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
    const failed: string[] = [];
    repository.on('loadFailed', ({ version, error }) =>
      failed.push(`${version}: ${(error as Error).message}`),
    );
    repository.attach(deployer);
    await repository.start();
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^2: integrity check failed for '.*model.json'/);
    const server = createServer(deployer, { closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const res = await fetch(`${url}/v2/models/churn/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'features', shape: [2, 2], datatype: 'FP32', data: [0, 1, 3, 0] }],
        }),
      });
      const body = (await res.json()) as {
        model_version: string;
        outputs: { name: string; data: unknown[] }[];
      };
      expect(res.status).toBe(200);
      expect(body.model_version).toBe('1');
      expect(body.outputs.find((o) => o.name === 'label')!.data).toEqual(['no', 'yes']);
      const p = baseline.predictProba([
        [0, 1],
        [3, 0],
      ]);
      const served = body.outputs.find((o) => o.name === 'probability')!.data as number[];
      for (const [i, v] of served.entries()) expect(v).toBeCloseTo(p[i]![1]!, 6);
    } finally {
      await server.close();
      await repository.stop();
    }
  });
});
