/**
 * `modelship predict --workers 2` on CSV and JSON Lines, where each worker thread reads, scores
 * and formats its own blocks of the input: byte for byte what one worker writes, rejects and all.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { predictInWorkers } from '../src/batch/parallel';
import { predictCommand } from '../src/cli/predict';
import { interruptingPredictIo, runCli } from './cli-run';
import { fixturesDir, modelPath } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'modelship-predict-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => join(dir, name);
const fraud = modelPath('fraud');
const LONG = 120_000;

/** Runs predict with one worker and with two (small blocks, so there are many), returning both. */
async function both(input: string, out: string, args: string[], model = fraud) {
  const runs = [];
  for (const [w, extra] of [
    ['1', []],
    ['2', ['--block-size', '700']],
  ] as const) {
    const output = file(`w${w}-${out}`);
    const rejects = file(`w${w}-${out}.rejects.jsonl`);
    const r = await runCli([
      'predict',
      model,
      input,
      '-o',
      output,
      '--rejects',
      rejects,
      ...args,
      '--workers',
      w,
      ...extra,
    ]);
    runs.push({
      ...r,
      output: existsSync(output) ? readFileSync(output, 'utf8') : undefined,
      rejects: existsSync(rejects) ? readFileSync(rejects, 'utf8') : undefined,
    });
  }
  return runs as [(typeof runs)[0], (typeof runs)[0]];
}

type Run = { code: number; output?: string; rejects?: string };

/** Checks both runs exited with `code` and wrote the same output and rejects; returns the rejects. */
function sameBytes(one: Run, two: Run, code: number) {
  expect([one.code, two.code]).toEqual([code, code]);
  expect(two.output).toBe(one.output);
  expect(two.rejects).toBe(one.rejects);
  return one
    .rejects!.trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** The fraud fixture's first `n` rows with an id column (quoted, some with a line break) and bad rows at `bad`. */
function fraudCsv(name: string, n: number, bad: Set<number>, lineEnd = '\n'): string {
  const lines = readFileSync(`${fixturesDir}data/fraud.csv`, 'utf8').trimEnd().split('\n');
  const out = [`id,${lines[0]}`];
  for (let i = 0; i < n; i++) {
    const id = i % 5 === 0 ? `"tx ${i}\nsecond line, ""quoted"""` : `tx${i}`;
    const row = lines[1 + i]!;
    if (bad.has(i)) out.push(i % 2 === 0 ? `${id},1,2` : `${id},${row.replace(/^[^,]+/, 'abc')}`);
    else out.push(`${id},${row}`);
  }
  const path = file(name);
  writeFileSync(path, `${out.join(lineEnd)}${lineEnd}`);
  return path;
}

describe('predict --workers 2: blocks read, scored and written on the worker threads', () => {
  it('CSV with quoted line breaks, CRLF, kept columns and bad rows in several blocks: the same bytes as one worker', {
    timeout: LONG,
  }, async () => {
    const bad = new Set([3, 40, 41, 97, 150, 151, 199]);
    for (const lineEnd of ['\n', '\r\n']) {
      const input = fraudCsv(`tricky${lineEnd.length}.csv`, 200, bad, lineEnd);
      const [one, two] = await both(input, `tricky${lineEnd.length}.csv`, [
        '--keep',
        'id',
        '--batch-size',
        '4',
      ]);
      expect(one.output!.length).toBeGreaterThan(5_000);
      const rejected = sameBytes(one, two, 3);
      expect(rejected.map((r) => r.row)).toEqual([...bad]);
      // Line numbers of the whole file (ids 0, 5, 10, ... take two lines), not of a block.
      expect(rejected[1].reason).toBe('line 50 has 3 fields; the header has 14');
      expect(rejected[1].raw).toBe('"tx 40\nsecond line, ""quoted""",1,2');
      expect(rejected[2].reason).toMatch(/^predictBatches: row 41, column 'f0' is "abc"/);
      expect(
        JSON.parse(
          two.out
            .split('\n')
            .at(-1)!
            .replace(/^scored.*$/, '{}'),
        ),
      ).toEqual({});
    }
  });

  it('JSON Lines whose blocks start with other fields, bad lines and chosen outputs: the same bytes', {
    timeout: LONG,
  }, async () => {
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) {
      const x = Array.from({ length: 12 }, (_, j) => ((i * 7 + j * 3) % 11) / 5 - 1);
      const row: Record<string, unknown> = { id: i };
      for (let j = 0; j < 12; j++) row[`f${j}`] = x[j];
      if (i % 9 === 4) delete row.id; // a kept column some rows lack
      if (i === 66) row.f3 = 'NaN?';
      lines.push(i === 30 || i === 101 ? '{"id": 30, broken' : JSON.stringify(row));
      if (i % 25 === 0) lines.push('');
    }
    const input = file('rows.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const [one, two] = await both(input, 'rows.jsonl', [
      '--keep',
      'id',
      '--outputs',
      'probability',
      '--batch-size',
      '5',
    ]);
    const rejected = sameBytes(one, two, 3);
    expect(rejected.map((r) => r.row)).toEqual([30, 66, 101]);
    expect(rejected[2].reason).toMatch(/^line 107 is not valid JSON/);
    expect(one.output!.split('\n')[4]).toMatch(/^\{"id":null,"probability":[\d.e-]+\}$/);
  });

  it('--strict reports the earliest bad row of the file, as one worker does', { timeout: LONG }, async () => {
    const input = fraudCsv('strict.csv', 200, new Set([41, 150, 151]));
    const [one, two] = await both(input, 'strict.csv', ['--strict', '--keep', 'id', '--batch-size', '4']);
    expect([one.code, two.code]).toEqual([2, 2]);
    // Progress lines aside (every 10 s on a slow machine), stderr is the one error line.
    const errors = (s: string) => s.split('\n').filter((l) => l.startsWith('modelship:'));
    expect(errors(one.err)).toEqual([
      expect.stringMatching(
        /^modelship: \[DATASET_INVALID\] row 41 rejected: predictBatches: row 41, column 'f0' is "abc"/,
      ),
    ]);
    expect(errors(two.err)).toEqual(errors(one.err));
    expect([one.output, two.output, one.rejects, two.rejects]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('a header-only file writes empty files; a pipeline model writes the same bytes', {
    timeout: LONG,
  }, async () => {
    const empty = file('empty.csv');
    writeFileSync(empty, 'id,f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11\n');
    const [one, two] = await both(empty, 'empty.jsonl', ['--json', '--keep', 'id']);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect([one.output, two.output, two.rejects]).toEqual(['', '', '']);
    expect(JSON.parse(two.out)).toMatchObject({ rows: 0, scored: 0, rejected: 0 });

    const repo = `${fixturesDir}../examples/model-repository/iris`;
    const lines = readFileSync(`${fixturesDir}data/iris.csv`, 'utf8').trimEnd().split('\n');
    const records = [
      `id,${lines[0]}`,
      ...lines
        .slice(1)
        .map((l, i) => `${i % 13 === 2 ? 'x' : 'ok'}${i},${i % 13 === 2 ? l.replace(/^[^,]+/, 'wide') : l}`),
    ];
    writeFileSync(file('records.csv'), `${records.join('\n')}\n`);
    const [p1, p2] = await both(
      file('records.csv'),
      'species.csv',
      ['--pipeline', `${repo}/pipeline.json`, '--keep', 'id', '--batch-size', '8'],
      `${repo}/1/model.onnx`,
    );
    expect([p1.code, p2.code]).toEqual([3, 3]);
    expect(p1.output!.split('\n').length).toBeGreaterThan(100);
    expect(p2.output).toBe(p1.output);
    expect(p2.rejects).toBe(p1.rejects);
    expect(p1.rejects!.match(/"code":"INPUT_INVALID"/g)!.length).toBeGreaterThan(5);
  });

  it('hands out blocks of whole batches to the threads and writes them in input order', {
    timeout: LONG,
  }, async () => {
    const input = fraudCsv('order.csv', 300, new Set());
    const blocks: { rows: number; end: number }[] = [];
    const written: (string | Uint8Array)[] = [];
    const totals = await predictInWorkers({
      modelPath: fraud,
      name: 'fraud',
      inputPath: input,
      inputFormat: 'csv',
      format: 'jsonl',
      workers: 2,
      cores: 2,
      pipeline: undefined,
      options: { keep: ['id'], outputs: ['label'], batchSize: 16 },
      blockBytes: 4000,
      signal: new AbortController().signal,
      write: async (bytes) => {
        written.push(bytes);
      },
      rejected: async () => {},
      progress: (b) => blocks.push(b),
    });
    expect(totals).toEqual({ rows: 300, scored: 300, rejected: 0 });
    expect(blocks.length).toBeGreaterThan(4);
    for (const b of blocks.slice(0, -1)) expect(b.rows % 16).toBe(0);
    expect(blocks.map((b) => b.end)).toEqual([...blocks.map((b) => b.end)].sort((a, b) => a - b));
    const ids = Buffer.concat(written.map((w) => Buffer.from(w)))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids).toEqual(
      Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? `tx ${i}\nsecond line, "quoted"` : `tx${i}`)),
    );
  });

  it('Ctrl-C stops the threads with exit 130 and leaves no output or rejects file', {
    timeout: LONG,
  }, async () => {
    const input = fraudCsv('stop.csv', 500, new Set([7]));
    const { io, err, state } = interruptingPredictIo();
    const flags = {
      output: file('stopped.csv'),
      rejects: file('stopped.jsonl'),
      batchSize: '10',
      workers: '2',
      blockSize: '2000',
      keep: 'id',
    };
    const listeners = process.listenerCount('SIGINT');
    const code = await predictCommand(fraud, input, flags, io);
    expect(state.interrupted).toBe(true);
    expect(code).toBe(130);
    expect(err.at(-1)).toBe('modelship: [ABORTED] predict stopped by Ctrl-C (SIGINT); no output was left\n');
    for (const f of ['stopped.csv', 'stopped.csv.partial', 'stopped.jsonl', 'stopped.jsonl.partial'])
      expect(existsSync(file(f)), f).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });
});
