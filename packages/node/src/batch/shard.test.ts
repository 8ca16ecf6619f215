import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CellValue } from '@modelship/core';
import { type RowSource, unreadableOf } from '@modelship/core/batch';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../test/codes';
import { fixturesDir } from '../../test/fixtures';
import { readCsv, readJsonl } from '../datasets';
import { parseShard, planBlocks, readBlock, shardBlocks, shardFromEnv } from './shard';

const dir = mkdtempSync(join(tmpdir(), 'modelship-shard-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(source: RowSource) {
  const out: { firstRow: number; rows: Record<string, CellValue>[] }[] = [];
  for await (const b of source) out.push(b);
  return out;
}
/** Rows as comparable values: a marked bad record by its text, its line and its reason (which names the line of the whole file). */
const view = (row: Record<string, CellValue>) => {
  const bad = unreadableOf(row);
  return bad === undefined ? row : { bad: bad.raw, line: bad.line, reason: bad.reason };
};

/** Reads every block of a plan of `path` cut at `blockBytes`, checking each block's first row. */
async function viaBlocks(path: string, blockBytes: number) {
  const plan = await planBlocks(path, { blockBytes });
  const rows: Record<string, CellValue>[] = [];
  for (const block of plan.blocks) {
    expect(block.firstRow).toBe(rows.length);
    const got = await collect(readBlock(plan, block, { badRecords: 'mark', blockRows: 2 }));
    for (const b of got) {
      expect(b.firstRow).toBe(rows.length);
      rows.push(...b.rows);
    }
    expect(rows.length).toBe(block.firstRow + block.rows);
  }
  expect(plan.rows).toBe(rows.length);
  return { plan, rows: rows.map(view) };
}

describe('shard spec', () => {
  it('parses i/n and refuses anything else', async () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShard(' 0/1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['8/8', '1/0', '-1/3', '1', 'a/b', '1/2/3', '1.5/3'])
      expect(await codeOf(() => parseShard(bad))).toMatch(
        /^INVALID_ARGUMENT: --shard: the shard must be 'i\/n'/,
      );
  });

  it('takes the index from JOB_COMPLETION_INDEX when a count is given', async () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3', MODELSHIP_SHARDS: '5' })).toEqual({
      index: 3,
      count: 5,
    });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, '4')).toEqual({ index: 3, count: 4 });
    // An Indexed Job alone does not shard a run: the count says it should.
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '3' })).toBeUndefined();
    expect(await codeOf(() => shardFromEnv({}, '4'))).toMatch(/JOB_COMPLETION_INDEX .* is not set/);
    expect(await codeOf(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4' }, '4'))).toMatch(/0 <= i < n/);
  });
});

describe('planBlocks and readBlock', () => {
  const csv = join(dir, 'tricky.csv');
  // Quoted fields with line breaks (LF and CRLF), doubled quotes, CRLF and lone CR line ends,
  // empty lines, a malformed record (a quote inside an unquoted field), no final line end.
  writeFileSync(
    csv,
    'id,text,x\r\n1,"a\nb",1.5\r\n2,plain,2\n\n3,"say ""hi""\r\nthere",3\r4,bro"ken,4\n5,"",\n6,"x,\n\n,y",6\n\r\n7,last,7',
  );

  it('cuts CSV on record boundaries only: every block size gives the rows of the whole file, in order', async () => {
    const whole: Record<string, CellValue>[] = [];
    for await (const row of readCsv(csv, { badRecords: 'mark' })) whole.push(view(row));
    expect(whole.map((r) => r.id ?? r.bad)).toEqual([1, 2, 3, '4,bro"ken,4', 5, 6, 7]);
    expect(whole[3]).toMatchObject({ line: 8, reason: expect.stringMatching(/^line 8: /) });
    expect(whole[0]!.text).toBe('a\nb');
    expect(whole[2]!.text).toBe('say "hi"\r\nthere');
    expect(whole[5]!.text).toBe('x,\n\n,y');
    const size = Buffer.byteLength(
      'id,text,x\r\n1,"a\nb",1.5\r\n2,plain,2\n\n3,"say ""hi""\r\nthere",3\r4,bro"ken,4\n5,"",\n6,"x,\n\n,y",6\n\r\n7,last,7',
    );
    for (let blockBytes = 1; blockBytes <= size + 1; blockBytes++) {
      const { plan, rows } = await viaBlocks(csv, blockBytes);
      expect(rows, `blockBytes ${blockBytes}`).toEqual(whole);
      if (blockBytes === 1) expect(plan.blocks.length).toBeGreaterThanOrEqual(7);
    }
  });

  it('cuts JSONL at line ends; blank lines, a BOM and CRLF count as the reader counts them', async () => {
    const jsonl = join(dir, 'rows.jsonl');
    writeFileSync(jsonl, '\uFEFF{"a":1}\r\n\n  \t\n{"a":"x\\ny"}\n{not json}\n{"a":null}\n{"a":3}');
    const whole: Record<string, CellValue>[] = [];
    for await (const row of readJsonl(jsonl, { badRecords: 'mark' }))
      whole.push(view(row as Record<string, CellValue>));
    expect(whole).toEqual([
      { a: 1 },
      { a: 'x\ny' },
      { bad: '{not json}', line: 5, reason: expect.stringMatching(/^line 5 /) },
      { a: null },
      { a: 3 },
    ]);
    for (let blockBytes = 1; blockBytes <= 60; blockBytes++)
      expect((await viaBlocks(jsonl, blockBytes)).rows).toEqual(whole);
  });

  it('makes Parquet row groups the blocks, and deals every n-th block to a shard', async () => {
    const plan = await planBlocks(`${fixturesDir}data/parquet/fraud.parquet`);
    expect(plan.blocks.map((b) => [b.index, b.firstRow, b.rows])).toEqual([
      [0, 0, 128],
      [1, 128, 128],
      [2, 256, 128],
      [3, 384, 116],
    ]);
    expect(plan.rows).toBe(500);
    const third = await collect(readBlock(plan, plan.blocks[2]!, { blockRows: 100 }));
    expect(third.map((b) => [b.firstRow, b.rows.length])).toEqual([
      [256, 100],
      [356, 28],
    ]);
    expect(third[0]!.rows[0]!.id).toBe(257);
    expect(shardBlocks(plan, { index: 1, count: 3 }).map((b) => b.index)).toEqual([1]);
    expect(shardBlocks(plan, { index: 0, count: 3 }).map((b) => b.index)).toEqual([0, 3]);
    expect(shardBlocks(plan, { index: 0, count: 1 }).map((b) => b.index)).toEqual([0, 1, 2, 3]);
  });

  it('refuses a file that changed after planning, and what it cannot shard', async () => {
    const path = join(dir, 'changing.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":2}\n');
    const plan = await planBlocks(path, { blockBytes: 4 });
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":3}\n');
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(await codeOf(collect(readBlock(plan, plan.blocks[0]!)))).toMatch(
      /changed since its blocks were planned/,
    );
    expect(await codeOf(planBlocks(join(dir, 'x.txt')))).toMatch(
      /^DATASET_INVALID: cannot shard '.*x\.txt': its extension/,
    );
    expect(await codeOf(planBlocks(join(dir, 'missing.csv')))).toMatch(
      /^DATASET_INVALID: cannot read '.*missing\.csv'/,
    );
    expect(await codeOf(planBlocks(path, { blockBytes: 0 }))).toMatch(
      /blockBytes must be a positive integer/,
    );
  });

  it('plans a CSV with only a header as no rows', async () => {
    const path = join(dir, 'header.csv');
    writeFileSync(path, 'a,b');
    const plan = await planBlocks(path);
    expect(plan.rows).toBe(0);
    expect(plan.headerBytes).toBe(3);
    expect(plan.blocks).toEqual([]);
  });
});
