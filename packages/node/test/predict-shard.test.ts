/**
 * `modelship predict --shard i/n` as n separate processes, then `predict merge`: the merged
 * file is byte for byte the one-process run's, for CSV, JSONL and Parquet; a shard that died is
 * run again and scores only the blocks it had not finished.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readParquet } from '../src/batch/parquet';
import { runCli } from './cli-run';
import { fixturesDir, modelPath } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'modelship-predict-shard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => join(dir, name);
const model = modelPath('fraud');
const bin = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Runs `modelship …args` in a process of its own; resolves to its exit code and output. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', tsx, '--conditions=@modelship/source', bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

// The fraud rows with an id and a free-text column whose quoted values hold line breaks and
// commas, so CSV blocks must be cut on record boundaries, not at any line end.
const csvInput = file('fraud.csv');
const jsonlInput = file('fraud.jsonl');
{
  const lines = readFileSync(`${fixturesDir}data/fraud.csv`, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const csv = [`id,note,${lines[0]}`];
  const jsonl: string[] = [];
  lines.slice(1).forEach((line, i) => {
    const note = i % 3 === 0 ? `line one\nline "two", ${i}` : `n${i}`;
    csv.push(`${i},"${note.replaceAll('"', '""')}",${line}`);
    const row: Record<string, unknown> = { id: i, note };
    line.split(',').forEach((v, j) => {
      row[header[j]!] = Number(v);
    });
    jsonl.push(JSON.stringify(row));
  });
  writeFileSync(csvInput, `${csv.join('\n')}\n`);
  writeFileSync(jsonlInput, `${jsonl.join('\n')}\n`);
}
const common = ['--keep', 'id,note', '--outputs', 'probability,label'];
// Tests that start CLI processes (a few seconds each to load the sources on a busy machine).
const PROCESSES_MS = 300_000;

describe('modelship predict with Parquet', () => {
  it('scores a Parquet file into Parquet and CSV into Parquet: the same scores as CSV to JSONL', async () => {
    const viaText = file('text-scores.jsonl');
    expect((await runCli(['predict', model, `${fixturesDir}data/fraud.csv`, '-o', viaText])).code).toBe(0);
    const expected = readFileSync(viaText, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(expected).toHaveLength(500);

    const out = file('pq-scores.parquet');
    const r = await runCli([
      'predict',
      model,
      `${fixturesDir}data/parquet/fraud.parquet`,
      '-o',
      out,
      '--keep',
      'id',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^scored 500 of 500 rows \(0 rejected\)/);
    const rows: Record<string, unknown>[] = [];
    for await (const b of readParquet(out)) rows.push(...b.rows);
    expect(rows).toEqual(expected.map((e, i) => ({ id: i + 1, ...e })));

    const fromCsv = file('csv-scores.parquet');
    expect((await runCli(['predict', model, `${fixturesDir}data/fraud.csv`, '-o', fromCsv])).code).toBe(0);
    const rows2: Record<string, unknown>[] = [];
    for await (const b of readParquet(fromCsv)) rows2.push(...b.rows);
    expect(rows2).toEqual(expected);
  });
});

describe('modelship predict --shard', () => {
  for (const [name, input, format] of [
    ['CSV', csvInput, 'csv'],
    ['JSONL', jsonlInput, 'jsonl'],
    ['Parquet', `${fixturesDir}data/parquet/fraud.parquet`, 'parquet'],
  ] as const)
    it(
      `${name}: 3 shards in 3 processes, merged, give the one-process file byte for byte`,
      async () => {
        const keep = format === 'parquet' ? ['--keep', 'id', '--outputs', 'probability,label'] : common;
        const one = file(`one.${format}`);
        const single = await runCli(['predict', model, input, '-o', one, ...keep]);
        expect(single.code, single.err).toBe(0);

        const run = file(`run-${format}`);
        // Shard 2 takes its index from a Kubernetes Indexed Job's environment.
        const shards = await Promise.all([
          cli(['predict', model, input, '-o', run, '--shard', '0/3', '--block-size', '3000', ...keep]),
          cli(['predict', model, input, '-o', run, '--shard', '1/3', '--block-size', '3000', ...keep]),
          cli(['predict', model, input, '-o', run, '--shards', '3', '--block-size', '3000', ...keep], {
            JOB_COMPLETION_INDEX: '2',
          }),
        ]);
        for (const [i, s] of shards.entries()) {
          expect(s.code, s.out).toBe(0);
          expect(s.out).toMatch(
            new RegExp(
              `^shard ${i}/3: \\d+ blocks \\(0 done before\\), scored \\d+ of \\d+ rows \\(0 rejected\\)`,
            ),
          );
        }
        const parts = readdirSync(run).filter((n) => n.startsWith('part-'));
        // Parquet: one part per row group; text: one per block of about 3,000 bytes.
        if (format === 'parquet') expect(parts.length).toBe(4);
        else expect(parts.length).toBeGreaterThan(20);

        const merged = file(`merged.${format}`);
        const m = await runCli(['predict', 'merge', run, '-o', merged]);
        expect(m.code, m.err).toBe(0);
        expect(m.out).toMatch(
          new RegExp(
            `^merged ${parts.length} parts of 3 shards: 500 of 500 rows scored \\(0 rejected\\) -> `,
          ),
        );
        expect(readFileSync(merged).equals(readFileSync(one))).toBe(true);
        if (format === 'parquet') {
          const ids: unknown[] = [];
          for await (const b of readParquet(merged)) ids.push(...b.rows.map((r) => r.id));
          expect(ids).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
        }
      },
      PROCESSES_MS,
    );

  it(
    'a shard that died is run again and scores only the blocks it had not finished',
    async () => {
      const run = file('run-resume');
      const args = (i: number) => [
        'predict',
        model,
        csvInput,
        '-o',
        run,
        '--shard',
        `${i}/2`,
        '--block-size',
        '3000',
        ...common,
      ];
      // Block 2 (shard 0's second) cannot be written: the process fails there, after block 0 is done.
      mkdirSync(join(run, 'part-000002.csv.partial'), { recursive: true });
      const died = await cli(args(0));
      expect(died.code).not.toBe(0);
      expect(died.out).toMatch(/part-000002\.csv/);
      const manifest = JSON.parse(readFileSync(join(run, 'shard-0000-of-0002.json'), 'utf8'));
      expect(manifest.done).toBe(false);
      expect(
        manifest.parts.filter((p: { done: boolean }) => p.done).map((p: { block: number }) => p.block),
      ).toEqual([0]);
      expect((await runCli(['predict', 'merge', run, '-o', file('early.csv')])).err).toMatch(
        /is not finished: of 2 shards, 1 never ran; 0 did not finish/,
      );

      rmSync(join(run, 'part-000002.csv.partial'), { recursive: true });
      const [again, other] = await Promise.all([cli(args(0)), cli(args(1))]);
      expect(again.code, again.out).toBe(0);
      expect(again.out).toMatch(
        /^shard 0\/2: (\d+) blocks \(1 done before\), scored (\d+) of \2 rows \(0 rejected\)/,
      );
      expect(other.code, other.out).toBe(0);
      // Run once more: everything is done, nothing is scored again.
      const third = await runCli(args(0));
      const blocks = /shard 0\/2: (\d+) blocks/.exec(third.out)![1];
      expect(third.out).toMatch(new RegExp(`\\(${blocks} done before\\)`));

      const one = file('one-resume.csv');
      expect((await runCli(['predict', model, csvInput, '-o', one, ...common])).code).toBe(0);
      const merged = file('merged-resume.csv');
      expect((await runCli(['predict', 'merge', run, '-o', merged])).code).toBe(0);
      expect(readFileSync(merged).equals(readFileSync(one))).toBe(true);
      expect(existsSync(`${merged}.partial`)).toBe(false);
    },
    PROCESSES_MS,
  );

  it(
    "rejected rows: the merged rejects file of a sharded run is the one-process run's, naming the lines of the whole file",
    async () => {
      // A row with a field too many (unreadable: its reason names the line of the file) and one
      // whose first feature the model cannot take.
      const lines = readFileSync(csvInput, 'utf8').trimEnd().split('\n');
      const bad = file('bad-rows.csv');
      const extra = lines.findIndex((l) => l.startsWith('496,'));
      const oops = lines.findIndex((l) => l.startsWith('29,'));
      lines[extra] = `${lines[extra]},extra`;
      lines[oops] = lines[oops]!.replace(/^29,"n29",[^,]*/, '29,"n29",oops');
      writeFileSync(bad, `${lines.join('\n')}\n`);
      const one = file('one-bad.csv');
      const oneRejects = file('one-bad.rejects.jsonl');
      const single = await runCli(['predict', model, bad, '-o', one, '--rejects', oneRejects, ...common]);
      expect(single.code, single.err).toBe(3);
      const rejected = readFileSync(oneRejects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rejected.map((r) => [r.row, r.reason])).toEqual([
        [29, expect.stringMatching(/is "oops"/)],
        [496, expect.stringMatching(new RegExp(`^line ${extra + 1} has 16 fields; the header has 15`))],
      ]);
      const run = file('run-bad');
      // A shard exits 3 when it rejected a row, 0 when none of its blocks held one.
      const codes: (number | null)[] = [];
      for (const i of [0, 1, 2])
        codes.push(
          (
            await runCli([
              'predict',
              model,
              bad,
              '-o',
              run,
              '--shard',
              `${i}/3`,
              '--block-size',
              '3000',
              ...common,
            ])
          ).code,
        );
      expect(codes.filter((c) => c === 3).length).toBeGreaterThanOrEqual(1);
      expect(codes.every((c) => c === 0 || c === 3)).toBe(true);
      const merged = file('merged-bad.csv');
      const mergedRejects = file('merged-bad.rejects.jsonl');
      const m = await runCli(['predict', 'merge', run, '-o', merged, '--rejects', mergedRejects]);
      expect(m.code, m.err).toBe(0);
      expect(readFileSync(merged).equals(readFileSync(one))).toBe(true);
      expect(readFileSync(mergedRejects, 'utf8')).toBe(readFileSync(oneRejects, 'utf8'));
    },
    PROCESSES_MS,
  );

  it('deploy/kubernetes/batch-job.yaml: an Indexed Job whose completions, parallelism and --shards agree', () => {
    const yaml = readFileSync(
      fileURLToPath(new URL('../../../deploy/kubernetes/batch-job.yaml', import.meta.url)),
      'utf8',
    );
    const [score, merge] = yaml.split(/^---$/m).filter((d) => /kind: Job/.test(d));
    const args = (doc: string) =>
      [...doc.matchAll(/^ {12}- (.+)$/gm)].map((m) => m[1]!.replace(/^"(.*)"$/, '$1'));
    expect(score).toMatch(/completionMode: Indexed/);
    const completions = Number(/completions: (\d+)/.exec(score!)![1]);
    expect(Number(/parallelism: (\d+)/.exec(score!)![1])).toBe(completions);
    const scoreArgs = args(score!);
    expect(scoreArgs.slice(0, 1)).toEqual(['predict']);
    expect(Number(scoreArgs[scoreArgs.indexOf('--shards') + 1])).toBe(completions);
    const out = scoreArgs[scoreArgs.indexOf('-o') + 1];
    expect(args(merge!).slice(0, 3)).toEqual(['predict', 'merge', out]);
  });

  it('says what is wrong with a shard option', async () => {
    const r = await runCli(['predict', model, csvInput, '-o', file('bad'), '--shard', '3/3']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--shard: the shard must be 'i\/n' with 0 <= i < n, such as 0\/4/);
    const noIndex = await runCli(['predict', model, csvInput, '-o', file('bad'), '--shards', '3']);
    expect(noIndex.code).toBe(2);
    expect(noIndex.err).toMatch(/JOB_COMPLETION_INDEX \(set by a Kubernetes Indexed Job\) is not set/);
    const rejects = await runCli([
      'predict',
      model,
      csvInput,
      '-o',
      file('bad'),
      '--shard',
      '0/2',
      '--rejects',
      file('r.jsonl'),
    ]);
    expect(rejects.code).toBe(2);
    expect(rejects.err).toMatch(/predict merge --rejects/);
  });
});
