import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CellValue, parseCsv } from '@modelship/core';
import type { RowSource } from '@modelship/core/batch';
import { afterAll, describe, expect, it } from 'vitest';
import { codeOf } from '../../test/codes';
import { fixturesDir } from '../../test/fixtures';
import { parquetRowGroupCount, parquetRowGroupRows, parquetSink, readParquet } from './parquet';

const dir = mkdtempSync(join(tmpdir(), 'modelship-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const typesFile = `${fixturesDir}data/parquet/types.parquet`;
const fraudFile = `${fixturesDir}data/parquet/fraud.parquet`;

async function blocks(source: RowSource): Promise<{ firstRow: number; rows: Record<string, CellValue>[] }[]> {
  const out = [];
  for await (const b of source) out.push(b);
  return out;
}
const rowsOf = async (source: RowSource) => (await blocks(source)).flatMap((b) => b.rows);

describe('readParquet', () => {
  it('reads every type as cells, blocks cut inside row groups with their first row in the file', async () => {
    const got = await blocks(readParquet(typesFile, { blockRows: 3 }));
    // Row groups of 4, 4 and 2 rows.
    expect(got.map((b) => [b.firstRow, b.rows.length])).toEqual([
      [0, 3],
      [3, 1],
      [4, 3],
      [7, 1],
      [8, 2],
    ]);
    const rows = got.flatMap((b) => b.rows);
    expect(rows[0]).toEqual({
      id: 1,
      small: 10,
      flag: 1,
      ratio: 0.5,
      amount: 12.5,
      city: 'Oslo',
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(rows[2]).toEqual({
      id: 3,
      small: null,
      flag: null,
      ratio: 1.5,
      amount: null,
      city: null,
      at: null,
    });
    expect(rows[1]!.flag).toBe(0);
    expect(rows[1]!.at).toBe('1970-01-02T00:00:00.000Z');
    expect(rows[4]!.city).toBe('Oslo, "old town"');
    expect(rows[6]!.city).toBe('');
    expect(rows[7]!.city).toBe('Köln');
    // A 64-bit integer beyond 2^53 keeps its digits rather than rounding.
    expect(rows[9]!.id).toBe('9007199254740993');
    expect(rows.map((r) => r.ratio)).toEqual([0.5, 0.25, 1.5, null, -2, 0, 0.125, 8, 16, 32]);
  });

  it('reads only the row groups asked for, in file order, with the right first rows', async () => {
    const got = await blocks(readParquet(typesFile, { rowGroups: [2, 0] }));
    expect(got.map((b) => b.firstRow)).toEqual([0, 8]);
    expect(got.map((b) => b.rows.map((r) => r.small))).toEqual([
      [10, -20, null, 40],
      [90, 100],
    ]);
    const cols = await rowsOf(readParquet(typesFile, { rowGroups: [1], columns: ['city', 'id'] }));
    expect(cols).toEqual([
      { city: 'Oslo, "old town"', id: 5 },
      { city: 'Lima', id: 6 },
      { city: '', id: 7 },
      { city: 'Köln', id: 8 },
    ]);
  });

  it('reads the same rows as the CSV it was made from (snappy)', async () => {
    const csv = readFileSync(`${fixturesDir}data/fraud.csv`, 'utf8');
    const expected: Record<string, CellValue>[] = [];
    let i = 0;
    for await (const row of parseCsv([csv])) expected.push({ id: ++i, ...row });
    expect(await rowsOf(readParquet(fraudFile))).toEqual(expected);
    expect(await parquetRowGroupRows(fraudFile)).toEqual([128, 128, 128, 116]);
    expect(await parquetRowGroupCount(fraudFile)).toBe(4);
    expect(await parquetRowGroupCount(typesFile)).toBe(3);
  });

  it('refuses what it cannot read with DATASET_INVALID naming the file and the thing', async () => {
    const notParquet = join(dir, 'not.parquet');
    writeFileSync(notParquet, 'id,x\n1,2\n');
    expect(await codeOf(blocks(readParquet(notParquet)))).toMatch(
      /^DATASET_INVALID: cannot read '.*not\.parquet' as Parquet/,
    );
    expect(await codeOf(parquetRowGroupCount(join(dir, 'missing.parquet')))).toMatch(
      /^DATASET_INVALID: cannot read '.*missing\.parquet'/,
    );
    expect(await codeOf(blocks(readParquet(typesFile, { rowGroups: [3] })))).toMatch(
      /has 3 row groups \(0 to 2\); row group 3 does not exist/,
    );
    expect(await codeOf(blocks(readParquet(typesFile, { columns: ['nope'] })))).toMatch(
      /has no column 'nope'/,
    );
    expect(() => readParquet(typesFile, { blockRows: 0 })).toThrow(/blockRows must be a positive integer/);
  });
});

describe('parquetSink', () => {
  const sample = (n: number): Record<string, CellValue>[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `row-${i}`,
      probability: i % 5 === 3 ? null : i / 8,
      label: i % 2,
      note: i % 4 === 0 ? null : `n"${i},\n`,
    }));

  it('round-trips numbers, strings and nulls, a row group per rowGroupSize rows', async () => {
    const path = join(dir, 'round.parquet');
    const rows = sample(10);
    const sink = parquetSink(path, { rowGroupSize: 3 });
    await sink.write(rows.slice(0, 4));
    await sink.write([]);
    await sink.write(rows.slice(4));
    await sink.close();
    expect(await parquetRowGroupRows(path)).toEqual([3, 3, 3, 1]);
    expect(await rowsOf(readParquet(path))).toEqual(rows);
  });

  it('gives the same bytes for the same rows however they are handed to write', async () => {
    const rows = sample(25);
    const a = join(dir, 'a.parquet');
    const b = join(dir, 'b.parquet');
    const sa = parquetSink(a, { rowGroupSize: 7 });
    await sa.write(rows);
    await sa.close();
    const sb = parquetSink(b, { rowGroupSize: 7 });
    for (const row of rows) await sb.write([row]);
    await sb.close();
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('writes a column holding text in its first row group as strings; text after it in a number column is an error', async () => {
    const mixed = join(dir, 'mixed.parquet');
    const sink = parquetSink(mixed, { rowGroupSize: 2 });
    await sink.write([{ zip: 1234 }, { zip: 'A12' }, { zip: 5 }]);
    await sink.close();
    expect(await rowsOf(readParquet(mixed))).toEqual([{ zip: '1234' }, { zip: 'A12' }, { zip: '5' }]);

    const late = parquetSink(join(dir, 'late.parquet'), { rowGroupSize: 2 });
    await late.write([{ zip: 1 }, { zip: 2 }]);
    expect(await codeOf(late.write([{ zip: 3 }, { zip: 'A12' }]))).toMatch(
      /^DATASET_INVALID: cannot write row 3 to '.*late\.parquet': column 'zip' was written as numbers .* "A12"/,
    );
    await late.close().catch(() => {});
  });

  it('writes a valid empty file when no row arrives, and validates its arguments', async () => {
    const empty = join(dir, 'empty.parquet');
    const sink = parquetSink(empty);
    await sink.close();
    expect(await parquetRowGroupCount(empty)).toBe(0);
    expect(await rowsOf(readParquet(empty))).toEqual([]);
    expect(() => parquetSink(empty, { rowGroupSize: 1.5 })).toThrow(
      /rowGroupSize must be a positive integer/,
    );
    expect(await codeOf(sink.write([{ a: 1 }]))).toMatch(/write after close/);
  });
});
