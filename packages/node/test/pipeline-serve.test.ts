/**
 * End to end: fit a pipeline on a CSV, put it beside the fixture model in a repository, serve
 * it, send records over REST and get labels back, equal to the model's own answers.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createServer,
  Deployer,
  FileSystemRepository,
  impute,
  loadModel,
  Monitor,
  Pipeline,
  Profile,
  readCsv,
  threshold,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitIrisPipeline, profileIris } from '../../../examples/model-repository/fit-iris-pipeline';

const fixtures = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const features = Array.from({ length: 12 }, (_, i) => `f${i}`);

async function csvRows(file: string): Promise<Record<string, number>[]> {
  const rows: Record<string, number>[] = [];
  for await (const row of readCsv(file)) rows.push(row as Record<string, number>);
  return rows;
}

describe('a pipeline served from the repository', () => {
  let url: string;
  let rows: Record<string, number>[];
  let pipeline: Pipeline;
  let close: () => Promise<void>;
  const monitor = new Monitor();

  beforeAll(async () => {
    rows = await csvRows(join(fixtures, 'data/fraud.csv'));
    pipeline = Pipeline.fit(rows, {
      features: Object.fromEntries(features.map((f) => [f, impute('median')])),
      input: 'features',
      output: { probability: 'probability', label: threshold(0.5, ['legit', 'fraud']) },
    });
    const root = mkdtempSync(join(tmpdir(), 'modelship-pipeline-'));
    mkdirSync(join(root, 'fraud/1'), { recursive: true });
    copyFileSync(join(fixtures, 'models/fraud.onnx'), join(root, 'fraud/1/model.onnx'));
    writeFileSync(join(root, 'fraud/pipeline.json'), JSON.stringify(pipeline));
    // A pipeline that makes 3 columns cannot feed digits' 64: that version must not serve.
    mkdirSync(join(root, 'digits/1'), { recursive: true });
    copyFileSync(join(fixtures, 'models/digits.onnx'), join(root, 'digits/1/model.onnx'));
    writeFileSync(
      join(root, 'digits/pipeline.json'),
      JSON.stringify(
        Pipeline.fit([{ a: 1, b: 2, c: 3 }], { features: { a: [], b: [], c: [] }, input: 'pixels' }),
      ),
    );
    const deployer = new Deployer();
    const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
    const failures: string[] = [];
    repository.on('loadFailed', ({ model, error }) => failures.push(`${model}: ${(error as Error).message}`));
    repository.attach(deployer);
    await repository.start();
    expect(failures).toEqual([
      "digits: pipeline.json does not fit version 1: Pipeline.wrap: the pipeline makes 3 columns (a, b, c); model input 'pixels' takes 64",
    ]);
    monitor.watchDrift('fraud', Profile.fromDataset(rows.slice(0, 250), { exclude: ['label'] }), {
      records: true,
    });
    const server = createServer(deployer, { pipelines: repository, monitor, closeDeployer: true });
    ({ url } = await server.listen(0, '127.0.0.1'));
    close = async () => {
      await server.close();
      await repository.stop();
    };
  });
  afterAll(() => close());

  const post = (body: unknown) =>
    fetch(`${url}/v1/models/fraud:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));

  it('answers records with labels, equal to the model on the same features', async () => {
    const records = rows.slice(0, 40).map(({ label: _label, ...fields }) => fields);
    delete (records[3] as Record<string, number>).f5; // imputed with the training median
    const { status, json } = await post({ instances: records });
    expect(status).toBe(200);
    const predictions = json.predictions as { probability: number; label: string }[];
    expect(predictions).toHaveLength(40);

    const model = await loadModel(join(fixtures, 'models/fraud.onnx'));
    const median = pipeline.toJSON().columns[5]!.transforms[0]!.state.fill as number;
    const x = new Float32Array(40 * 12);
    records.forEach((r, i) => {
      features.forEach((f, j) => {
        x[i * 12 + j] = Object.hasOwn(r, f) ? r[f]! : median;
      });
    });
    const out = await model.predict({ features: { dtype: 'float32', shape: [40, 12], data: x } });
    await model.dispose();
    const p = out.probability!.data as Float32Array;
    predictions.forEach((answer, i) => {
      expect(answer.probability).toBe(p[i]);
      expect(answer.label).toBe(p[i]! >= 0.5 ? 'fraud' : 'legit');
    });
    // The labels agree with the data about as often as the model does (0.944 on all 500 rows).
    const right = predictions.filter((a, i) => (a.label === 'fraud' ? 1 : 0) === rows[i]!.label).length;
    expect(right).toBeGreaterThanOrEqual(36);
    // The columnar format gives the same answers.
    const columns = Object.fromEntries(features.map((f) => [f, rows.slice(0, 2).map((r) => r[f])]));
    expect((await post({ inputs: columns })).json.predictions).toEqual(
      (await post({ instances: records.slice(0, 2) })).json.predictions,
    );
  });

  it('refuses bad records with the record and field named, and keeps serving', async () => {
    const good = { ...rows[0], label: undefined };
    expect(await post({ instances: [good, { ...good, f2: 'high' }] })).toEqual({
      status: 400,
      json: { error: `record 1, field 'f2' is "high"; a finite number is required` },
    });
    expect(await post({ instances: [[1, 2, 3]] })).toMatchObject({ status: 400 });
    expect((await post({ instances: [[1, 2, 3]] })).json.error).toMatch(
      /^instance 0 is an array of length 3; model 'fraud' takes records \(objects of fields: f0, f1, /,
    );
    expect(await post({ instances: [] })).toMatchObject({ status: 400 });
    expect(await post({ inputs: { f0: [1, 2], f1: [1] } })).toMatchObject({ status: 400 });
    expect(await post({ instances: [good], inputs: {} })).toMatchObject({ status: 400 });
    expect((await post({ instances: [good] })).status).toBe(200);
  });

  it('feeds the records, not tensors, to a records drift watch', async () => {
    // Shifted records: f0 far from its training values.
    // Records as a client sends them: the label column is not a field the pipeline reads.
    const shifted = rows.slice(0, 100).map(({ label: _label, ...r }) => ({ ...r, f0: r.f0! + 8 }));
    expect((await post({ instances: shifted })).status).toBe(200);
    const report = monitor.drift('fraud');
    expect(report.features.find((f) => f.feature === 'f0')!.drifted).toBe(true);
    expect(report.features.find((f) => f.feature === 'f7')!.drifted).toBe(false);
  });
});

describe('the example repository', () => {
  it('ships the iris pipeline that fit-iris-pipeline.ts makes', async () => {
    const committed = readFileSync(
      fileURLToPath(new URL('../../../examples/model-repository/iris/pipeline.json', import.meta.url)),
      'utf8',
    );
    expect(committed).toBe(`${JSON.stringify(await fitIrisPipeline(), null, 2)}\n`);
    const profile = readFileSync(
      fileURLToPath(new URL('../../../examples/model-repository/iris/profile.json', import.meta.url)),
      'utf8',
    );
    // The file is formatted as the linter wants it; its values are the profile's, bit for bit.
    expect(JSON.parse(profile)).toEqual(JSON.parse(JSON.stringify(await profileIris())));
  });
});
