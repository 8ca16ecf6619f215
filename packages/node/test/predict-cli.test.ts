/** `modelship predict` on the fraud fixture: formats, kept columns, rejects, exit codes, workers. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline, tensor } from '@modelship/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { predictCommand } from '../src/cli/predict';
import { readCsv } from '../src/datasets';
import { loadModel } from '../src/load-model';
import { interruptingPredictIo, runCli } from './cli-run';
import { fixturesDir, modelPath } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'modelship-predict-'));
const fraudCsv = `${fixturesDir}data/fraud.csv`;
const model = modelPath('fraud');
const file = (name: string) => join(dir, name);
const run = (...argv: string[]) => runCli(argv);

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fraud model's probabilities for the fixture's rows, computed directly. */
async function expectedProbabilities(): Promise<{ probability: number[]; label: number[] }> {
  const rows: Record<string, unknown>[] = [];
  for await (const row of readCsv(fraudCsv)) rows.push(row);
  const m = await loadModel(model);
  try {
    const data = new Float32Array(rows.length * 12);
    rows.forEach((r, i) => {
      for (let j = 0; j < 12; j++) data[i * 12 + j] = r[`f${j}`] as number;
    });
    const out = await m.predict({ features: tensor('float32', data, [rows.length, 12]) });
    return {
      probability: Array.from(out.probability!.data as Float32Array),
      label: Array.from(out.label!.data as BigInt64Array, Number),
    };
  } finally {
    await m.dispose();
  }
}

function csvLines(path: string): string[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('modelship predict', () => {
  it('scores a CSV into a CSV in input order, with kept columns and chosen outputs', async () => {
    const expected = await expectedProbabilities();
    const r = await run(
      'predict',
      model,
      fraudCsv,
      '-o',
      file('scores.csv'),
      '--keep',
      'f0',
      '--outputs',
      'probability,label',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^scored 500 of 500 rows \(0 rejected\) in [\d.]+ s, [\d.]+k? rows\/s -> .*scores\.csv$/,
    );
    const lines = csvLines(file('scores.csv'));
    expect(lines[0]).toBe('f0,probability,label');
    expect(lines).toHaveLength(501);
    const f0 = [];
    for await (const row of readCsv(fraudCsv)) f0.push(row.f0);
    const written = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(written.map((w) => w[0])).toEqual(f0);
    expect(written.map((w) => w[1])).toEqual(expected.probability);
    expect(written.map((w) => w[2])).toEqual(expected.label);
    expect(existsSync(file('scores.csv.partial'))).toBe(false);
  });

  it('scores JSONL into JSONL, keeping an id column', async () => {
    const expected = await expectedProbabilities();
    const records: string[] = [];
    let i = 0;
    for await (const row of readCsv(fraudCsv)) records.push(JSON.stringify({ id: `t${i++}`, ...row }));
    writeFileSync(file('input.jsonl'), `${records.join('\n')}\n`);
    const r = await run(
      'predict',
      model,
      file('input.jsonl'),
      '-o',
      file('scores.jsonl'),
      '--keep',
      'id',
      '--outputs',
      'probability',
      '--batch-size',
      '64',
    );
    expect(r.code).toBe(0);
    const out = readFileSync(file('scores.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toEqual(expected.probability.map((p, k) => ({ id: `t${k}`, probability: p })));
  });

  /** The fixture's first 6 rows with three bad ones among them (data rows 1, 3 and 4). */
  function badCsv(): string {
    const lines = readFileSync(fraudCsv, 'utf8').split('\n');
    const header = lines[0]!;
    const good = lines.slice(1, 4);
    const wrongType = lines[4]!.replace(/^[^,]+/, 'abc');
    const missing = lines[5]!.replace(/^[^,]+/, '');
    const short = '1,2,3';
    const text = [header, good[0], short, good[1], wrongType, missing, good[2]].join('\n');
    writeFileSync(file('bad.csv'), `${text}\n`);
    return file('bad.csv');
  }

  it('writes rejected rows with their number, reason and raw row, goes on, and exits 3', async () => {
    const input = badCsv();
    const r = await run(
      'predict',
      model,
      input,
      '-o',
      file('good.csv'),
      '--outputs',
      'label',
      '--rejects',
      file('rejects.jsonl'),
      '--json',
    );
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({
      rows: 6,
      scored: 3,
      rejected: 3,
      output: file('good.csv'),
      rejects: file('rejects.jsonl'),
    });
    expect(summary.seconds).toBeGreaterThan(0);
    expect(summary.rowsPerSecond).toBeGreaterThan(0);
    expect(csvLines(file('good.csv'))).toHaveLength(4);
    const rejects = readFileSync(file('rejects.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((x) => [x.row, x.code])).toEqual([
      [1, 'DATASET_INVALID'],
      [3, 'DATASET_INVALID'],
      [4, 'DATASET_INVALID'],
    ]);
    expect(rejects[0]).toEqual({
      row: 1,
      code: 'DATASET_INVALID',
      reason: 'line 3 has 3 fields; the header has 13',
      raw: '1,2,3',
    });
    expect(rejects[1].reason).toBe(
      `predictBatches: row 3, column 'f0' is "abc"; model input 'features' (float32) needs a finite number`,
    );
    expect(rejects[1].raw).toMatchObject({ f0: 'abc', label: expect.any(Number) });
    expect(rejects[2].reason).toMatch(/row 4, column 'f0' is null/);
    // Without a rejects file, the rows are named on stderr.
    const plain = await run('predict', model, input, '-o', file('good2.csv'), '--outputs', 'label');
    expect(plain.code).toBe(3);
    expect(plain.err.split('\n').filter((l) => l.includes('rejected ['))).toEqual([
      'modelship: row 1 rejected [DATASET_INVALID] line 3 has 3 fields; the header has 13',
      `modelship: row 3 rejected [DATASET_INVALID] predictBatches: row 3, column 'f0' is "abc"; model input 'features' (float32) needs a finite number`,
      expect.stringMatching(/^modelship: row 4 rejected \[DATASET_INVALID\] .*'f0' is null/),
    ]);
    expect(readFileSync(file('good2.csv'), 'utf8')).toBe(readFileSync(file('good.csv'), 'utf8'));
  });

  it('--pipeline turns records into the input; a record the pipeline refuses is rejected', async () => {
    const repo = `${fixturesDir}../examples/model-repository/iris`;
    const lines = readFileSync(`${fixturesDir}data/iris.csv`, 'utf8').trimEnd().split('\n').slice(0, 6);
    const records = [
      `id,${lines[0]}`,
      ...lines
        .slice(1)
        .map((l, i) => `${i === 2 ? 'x' : 'ok'}${i},${i === 2 ? l.replace(/^[^,]+/, 'wide') : l}`),
    ];
    writeFileSync(file('records.csv'), `${records.join('\n')}\n`);
    const r = await run(
      'predict',
      `${repo}/1/model.onnx`,
      file('records.csv'),
      '-o',
      file('species.jsonl'),
      '--pipeline',
      `${repo}/pipeline.json`,
      '--keep',
      'id',
      '--outputs',
      'probabilities',
      '--rejects',
      file('iris-rejects.jsonl'),
    );
    expect(r.code).toBe(3);
    const pipeline = Pipeline.fromJSON(JSON.parse(readFileSync(`${repo}/pipeline.json`, 'utf8')));
    const good: Record<string, unknown>[] = [];
    for await (const row of readCsv(file('records.csv'))) if (row.id !== 'x2') good.push(row);
    const m = await loadModel(`${repo}/1/model.onnx`);
    const want = await m.predict(pipeline.transform(good), { outputs: ['probabilities'] });
    await m.dispose();
    const p = Array.from(want.probabilities!.data as Float32Array);
    const written = readFileSync(file('species.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(written).toEqual(
      good.map((row, i) => ({
        id: row.id,
        probabilities_0: p[3 * i],
        probabilities_1: p[3 * i + 1],
        probabilities_2: p[3 * i + 2],
      })),
    );
    const rejected = JSON.parse(readFileSync(file('iris-rejects.jsonl'), 'utf8'));
    expect(rejected).toMatchObject({
      row: 2,
      code: 'INPUT_INVALID',
      raw: { id: 'x2', sepal_length: 'wide' },
    });
    expect(rejected.reason).toMatch(/record 2.*sepal_length/);
  });

  it('--strict stops at the first bad row with exit 2 and leaves no output file', async () => {
    const r = await run('predict', model, badCsv(), '-o', file('strict.csv'), '--strict');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'modelship: [DATASET_INVALID] row 1 rejected: line 3 has 3 fields; the header has 13\n',
    );
    expect(existsSync(file('strict.csv'))).toBe(false);
    expect(existsSync(file('strict.csv.partial'))).toBe(false);
  });

  it('--workers 2 writes the same bytes as --workers 1', async () => {
    const one = await run('predict', model, fraudCsv, '-o', file('w1.csv'), '--batch-size', '37');
    const two = await run(
      'predict',
      model,
      fraudCsv,
      '-o',
      file('w2.csv'),
      '--batch-size',
      '37',
      '--workers',
      '2',
    );
    expect([one.code, two.code]).toEqual([0, 0]);
    const bytes = readFileSync(file('w1.csv'));
    expect(bytes.length).toBeGreaterThan(10_000);
    expect(readFileSync(file('w2.csv')).equals(bytes)).toBe(true);
  });

  it('refuses wrong command lines with exit 2 and one line', async () => {
    const cases: [string[], RegExp][] = [
      [['-o', file('x.txt')], /\[INVALID_OPTION\] cannot tell the format of -o .*x\.txt from its extension/],
      [
        ['-o', file('x.csv'), '--format', 'xml'],
        /\[INVALID_OPTION\] --format must be csv, jsonl or parquet, not 'xml'/,
      ],
      [['-o', file('x.csv'), '--workers', '0'], /\[INVALID_OPTION\] --workers must be from 1 to 64, not 0/],
      [
        ['-o', file('x.csv'), '--batch-size', 'many'],
        /\[INVALID_OPTION\] --batch-size must be a non-negative integer/,
      ],
      [
        ['-o', file('x.csv'), '--outputs', 'score'],
        /\[OUTPUT_UNKNOWN\] predictBatches: 'score' is not an output of model 'fraud'/,
      ],
      [
        ['-o', file('x.csv'), '--keep', 'account'],
        /\[DATASET_INVALID\] predictBatches: kept column 'account' not in the data/,
      ],
      [['-o', fraudCsv], /\[INVALID_OPTION\] -o .* is the input file/],
      [
        ['-o', join(dir, 'no', 'such', 'x.csv')],
        /\[FILE_NOT_FOUND\] the folder of -o '.*no\/such' does not exist/,
      ],
      [['-o', `${dir}/`, '--format', 'csv'], /\[INVALID_OPTION\] -o .* is a folder; name a file/],
      [['-o', file('x.csv'), '--rejects', dir], /\[INVALID_OPTION\] --rejects .* is a folder; name a file/],
    ];
    for (const [args, message] of cases) {
      const r = await run('predict', model, fraudCsv, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    const missing = await run('predict', model, fraudCsv);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/required option '-o, --output <file>' not specified/);
    expect(existsSync(file('x.csv'))).toBe(false);
  });

  it('reports progress: a bar with rows/s on a terminal, plain lines otherwise', async () => {
    let t = 0;
    const now = () => (t += 250);
    const plain: string[] = [];
    const io = { out: () => {}, err: (s: string) => plain.push(s), tty: false, now, everyMs: 1000 };
    await predictCommand(model, fraudCsv, { output: file('p.csv'), batchSize: '100' }, io);
    expect(plain.length).toBeGreaterThanOrEqual(1);
    for (const line of plain)
      expect(line).toMatch(/^predict: [\d,]+ rows, 0 rejected, [\d.]+k? rows\/s, \d+% of the input\n$/);
    const bar: string[] = [];
    t = 0;
    await predictCommand(
      model,
      fraudCsv,
      { output: file('p.csv'), batchSize: '100' },
      { ...io, err: (s) => bar.push(s), tty: true },
    );
    const drawn = bar.filter((s) => s.includes('rows/s'));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.at(-1)).toMatch(/^\rscoring +\[[#.]+\] +\d+% +[\d,]+ rows +[\d.]+k? rows\/s/);
  });

  it('Ctrl-C stops the run with exit 130 and leaves no output or rejects file', async () => {
    const { io, err } = interruptingPredictIo();
    const flags = { output: file('stopped.csv'), rejects: file('stopped.jsonl'), batchSize: '10' };
    const listeners = process.listenerCount('SIGINT');
    const code = await predictCommand(model, fraudCsv, flags, io);
    expect(code).toBe(130);
    expect(err.at(-1)).toBe('modelship: [ABORTED] predict stopped by Ctrl-C (SIGINT); no output was left\n');
    for (const f of ['stopped.csv', 'stopped.csv.partial', 'stopped.jsonl', 'stopped.jsonl.partial'])
      expect(existsSync(file(f)), f).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});
