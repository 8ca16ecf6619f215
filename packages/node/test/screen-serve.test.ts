/**
 * `modelship serve` screening requests with the files beside a model: monitor/quality.json
 * (data-quality checks against profile.json) and monitor/outliers.json (a fitted detector),
 * as a user ships them. Flags come back in the answer and a header, rejections are 400s naming
 * record, field and rule, and /metrics counts findings by feature and rule.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IsolationForest } from '@modelship/core/anomaly';
import { type Row, readCsv } from '@modelship/node';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir } from './fixtures';
import { startServe } from './serve-process';

const iris = fileURLToPath(new URL('../../../examples/model-repository/iris/', import.meta.url));
const running: ChildProcess[] = [];
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
});

const FIELDS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

async function irisRows(): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of readCsv(`${fixturesDir}data/iris.csv`)) rows.push(r);
  return rows;
}

describe('modelship serve with an input screen', () => {
  it('flags, rejects and counts as monitor/quality.json and monitor/outliers.json say, and follows their changes', async () => {
    const rows = await irisRows();
    const forest = IsolationForest.fit(rows, { features: FIELDS, seed: 1 });
    forest.inferThreshold(rows, { fpr: 0.02 });
    const root = mkdtempSync(join(tmpdir(), 'modelship-screen-'));
    cpSync(iris, join(root, 'iris'), { recursive: true });
    mkdirSync(join(root, 'iris', 'monitor'));
    writeFileSync(
      join(root, 'iris', 'monitor', 'quality.json'),
      JSON.stringify({ mode: 'flag', rangeTolerance: 0, features: { petal_width: { mode: 'reject' } } }),
    );
    const outliersFile = join(root, 'iris', 'monitor', 'outliers.json');
    writeFileSync(outliersFile, JSON.stringify({ mode: 'flag', detector: forest }));
    const serve = startServe([root, '--port', '0', '--poll-ms', '100'], {}, 90_000);
    running.push(serve.child);
    const url = await serve.url;
    const predict = async (instances: Row[]) => {
      const r = await fetch(`${url}/v1/models/iris:predict`, {
        method: 'POST',
        body: JSON.stringify({ instances }),
      });
      return {
        status: r.status,
        header: r.headers.get('modelship-screen'),
        body: (await r.json()) as Record<string, unknown>,
      };
    };
    const usual = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

    const clean = await predict([usual]);
    expect(clean.status).toBe(200);
    expect(clean.header).toBeNull();
    expect(clean.body).not.toHaveProperty('screen');

    const far = { sepal_length: 30, sepal_width: 3.5, petal_length: 20, petal_width: 0.2 };
    const flagged = await predict([usual, far]);
    expect(flagged.status).toBe(200);
    expect((flagged.body.predictions as unknown[]).length).toBe(2);
    expect(flagged.header).toBe('findings=2, outliers=1');
    const screen = flagged.body.screen as {
      findings: Record<string, unknown>[];
      outliers: { record: number; score: number }[];
    };
    expect(screen.findings).toEqual([
      {
        record: 1,
        feature: 'sepal_length',
        rule: 'out_of_range',
        value: 30,
        expected: 'a finite number in [4.3, 7.9]',
      },
      {
        record: 1,
        feature: 'petal_length',
        rule: 'out_of_range',
        value: 20,
        expected: 'a finite number in [1, 6.9]',
      },
    ]);
    expect(screen.outliers.map((o) => o.record)).toEqual([1]);
    expect(screen.outliers[0]!.score).toBeCloseTo(forest.score(far), 12);

    // (a wrong type never reaches the screen here: the pipeline refuses it first)
    const rejected = await predict([usual, { ...usual, petal_width: 9 }]);
    expect(rejected.status).toBe(400);
    expect(rejected.body).toEqual({
      error:
        "record 1, field 'petal_width': out of range (received 9, expected a finite number in [0.1, 2.5])",
    });

    // With a pipeline the screen checks records: a tensor sent to the Open Inference Protocol
    // route (already encoded) is not screened.
    const oip = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [30, 3.5, 20, 0.2] }],
      }),
    });
    expect(oip.status).toBe(200);
    expect(oip.headers.get('modelship-screen')).toBeNull();
    expect(await oip.json()).not.toHaveProperty('parameters');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/modelship_screened_records_total\{model="iris",version="1"\} 5\n/);
    expect(metrics).toMatch(/modelship_outlier_records_total\{model="iris",version="1"\} 1\n/);
    expect(metrics).toMatch(
      /modelship_quality_findings_total\{model="iris",version="1",feature="sepal_length",rule="out_of_range"\} 1\n/,
    );
    expect(metrics).toMatch(
      /modelship_quality_findings_total\{model="iris",version="1",feature="petal_width",rule="out_of_range"\} 1\n/,
    );

    // Outliers now refused: the server picks the changed file up on its next scan.
    writeFileSync(outliersFile, JSON.stringify({ mode: 'reject', detector: forest }));
    await expect
      .poll(async () => (await predict([{ ...far, petal_length: 1.4, sepal_length: 5 }, far])).status, {
        timeout: 60_000,
        interval: 100,
      })
      .toBe(400);
    const refused = await predict([far]);
    expect(JSON.stringify(refused.body)).toMatch(
      /record 0 is an outlier: isolation-forest score 0\.\d+ reaches the threshold/,
    );
    expect(serve.output()).toMatch(/iris: input screen loaded/);

    // A broken file is reported; the model keeps serving without the screen it described.
    writeFileSync(outliersFile, '{"mode": "reject", "detector": {"kind": "isolation-forest"}}');
    await expect
      .poll(() => serve.output(), { timeout: 60_000, interval: 100 })
      .toMatch(/monitor\/outliers\.json: /);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  }, 180_000);
});
