import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CellValue } from '@modelship/core';
import { type RowSink, textFormatter } from '@modelship/core/batch';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../test/codes';
import { fixturesDir } from '../../test/fixtures';
import { parquetSink } from './parquet';
import { mergeParts, type PartFormat, runShard } from './parts';
import { type Block, type BlockPlan, planBlocks, readBlock } from './shard';

const dir = mkdtempSync(join(tmpdir(), 'modelship-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A text file sink as the CLI's: the formatted rows, the file appearing when closed. */
function textSink(path: string, format: 'csv' | 'jsonl'): RowSink {
  const f = textFormatter(format);
  let text = '';
  return {
    write: async (rows) => {
      text += f.format(rows);
    },
    close: () => writeFile(path, text),
  };
}
const sinkFor = (path: string, format: PartFormat): RowSink =>
  format === 'parquet' ? parquetSink(path, { rowGroupSize: 50 }) : textSink(path, format);

/** A stand-in for a model: keeps `id`, scores `f0 * 2`; rows whose id is a multiple of 7 are rejected. */
async function score(plan: BlockPlan, blocks: readonly Block[], sink: RowSink, rejects?: string) {
  let scored = 0;
  let rejected = '';
  for (const block of blocks)
    for await (const b of readBlock(plan, block)) {
      const out: Record<string, CellValue>[] = [];
      b.rows.forEach((row, k) => {
        if (Number(row.id) % 7 === 0) rejected += `${JSON.stringify({ row: b.firstRow + k })}\n`;
        else out.push({ id: row.id!, score: Number(row.f0) * 2 });
      });
      await sink.write(out);
      scored += out.length;
    }
  await sink.close();
  if (rejects !== undefined && rejected !== '') writeFileSync(rejects, rejected);
  return { scored, rejected: rejected === '' ? 0 : rejected.trim().split('\n').length };
}

const csvInput = join(dir, 'fraud-ids.csv');
writeFileSync(
  csvInput,
  readFileSync(`${fixturesDir}data/fraud.csv`, 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => `${i === 0 ? 'id' : i},${line}`)
    .join('\n'),
);

describe('runShard and mergeParts', () => {
  for (const [input, output] of [
    [csvInput, 'csv'],
    [csvInput, 'jsonl'],
    [`${fixturesDir}data/parquet/fraud.parquet`, 'parquet'],
  ] as const)
    it(`${input.split('.').pop()} -> ${output}: 3 shards merged give the bytes of one run; a rerun skips finished parts`, async () => {
      const plan = await planBlocks(input, { blockBytes: 5000 });
      expect(plan.blocks.length).toBeGreaterThan(3);
      const one = join(dir, `one.${output}`);
      await score(plan, plan.blocks, sinkFor(one, output));

      const run = join(dir, `run-${output}`);
      const calls: number[] = [];
      const shardRun = (index: number) =>
        runShard({
          dir: run,
          plan,
          shard: { index, count: 3 },
          output,
          run: 'fingerprint-1',
          score: (block, paths) => {
            calls.push(block.index);
            return score(plan, [block], sinkFor(paths.part, output), paths.rejects);
          },
        });
      // Shard 1 finishes, shard 0 dies at its second block, shard 2 has not run.
      await shardRun(1);
      const dying = runShard({
        dir: run,
        plan,
        shard: { index: 0, count: 3 },
        output,
        run: 'fingerprint-1',
        score: (block, paths) => {
          if (block.index === 3) throw new Error('killed');
          calls.push(block.index);
          return score(plan, [block], sinkFor(paths.part, output), paths.rejects);
        },
      });
      await expect(dying).rejects.toThrow('killed');
      expect(await codeOf(mergeParts(run, join(dir, `merged.${output}`)))).toMatch(
        /is not finished: of 3 shards, 2 never ran; 0 did not finish; run those shards again/,
      );

      calls.length = 0;
      const again = await shardRun(0);
      expect(again.skipped).toBe(1); // block 0
      expect(calls).toEqual(shardBlocksOf(plan, 0).slice(1));
      await shardRun(2);
      calls.length = 0;
      const rerun = await shardRun(2);
      expect(calls).toEqual([]);
      expect(rerun.skipped).toBe(shardBlocksOf(plan, 2).length);

      const merged = join(dir, `merged.${output}`);
      const rejects = join(dir, `merged-${output}.rejects.jsonl`);
      const summary = await mergeParts(run, merged, { rejects, parquet: { rowGroupSize: 50 } });
      expect(readFileSync(merged).equals(readFileSync(one))).toBe(true);
      expect(summary).toMatchObject({
        shards: 3,
        parts: plan.blocks.length,
        rows: 500,
        scored: 429,
        rejected: 71,
      });
      const rejectedRows = readFileSync(rejects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).row);
      expect(rejectedRows).toEqual(Array.from({ length: 71 }, (_, k) => 7 * (k + 1) - 1));
      expect(existsSync(`${merged}.partial`)).toBe(false);
    });

  it('refuses to mix two runs in one folder, and a merged name of another format', async () => {
    const plan = await planBlocks(csvInput, { blockBytes: 20000 });
    const run = join(dir, 'mixed');
    const options = {
      dir: run,
      plan,
      shard: { index: 0, count: 2 },
      output: 'jsonl' as const,
      score: (block: Block, paths: { part: string }) => score(plan, [block], sinkFor(paths.part, 'jsonl')),
    };
    await runShard({ ...options, run: 'model-a' });
    expect(await codeOf(runShard({ ...options, run: 'model-b' }))).toMatch(
      /^DATASET_INVALID: '.*mixed' holds parts of another run: its model and options was "model-a", this run's is "model-b"/,
    );
    expect(await codeOf(runShard({ ...options, run: 'model-a', shard: { index: 1, count: 3 } }))).toMatch(
      /its shard count was 2/,
    );
    await runShard({ ...options, run: 'model-a', shard: { index: 1, count: 2 } });
    expect(await codeOf(mergeParts(run, join(dir, 'out.csv')))).toMatch(
      /the parts in '.*mixed' are jsonl; name the merged file .jsonl or .ndjson/,
    );
    expect(await codeOf(mergeParts(join(dir, 'nothing-here'), join(dir, 'out.jsonl')))).toMatch(
      /cannot read the run folder/,
    );
    expect((await mergeParts(run, join(dir, 'out.jsonl'))).parts).toBe(plan.blocks.length);
  });
});

function shardBlocksOf(plan: BlockPlan, index: number): number[] {
  return plan.blocks.filter((b) => b.index % 3 === index).map((b) => b.index);
}
