/**
 * Makes the small Parquet fixtures in fixtures/data/parquet/ (committed). Debian's python3 here
 * has no pyarrow, so they are written with hyparquet-writer, the writer @modelship/node uses,
 * but through its low-level schema so they hold what other writers emit: INT32, INT64, BOOLEAN,
 * FLOAT, DOUBLE with NaN, STRING with dictionary encoding, TIMESTAMP, nulls, several row groups,
 * and the gzip and zstd codecs as well as snappy.
 *
 *   cd packages/node && pnpm exec tsx --conditions @modelship/source test/make-parquet.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseCsv } from '@modelship/core';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';

const out = fileURLToPath(new URL('../../../fixtures/data/parquet/', import.meta.url));

type Schema = ConstructorParameters<typeof ParquetWriter>[0]['schema'];

function write(
  name: string,
  schema: Schema,
  columns: Record<string, unknown[]>,
  groups: number[],
  codec: 'SNAPPY' | 'GZIP',
) {
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({
    writer: bytes,
    schema,
    codec,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input, { level: 9 })) },
    createdBy: 'modelship fixtures',
  });
  let at = 0;
  for (const size of groups) {
    writer.write({
      columnData: Object.entries(columns).map(([n, data]) => ({
        name: n,
        data: data.slice(at, at + size) as never,
      })),
      rowGroupSize: size,
    });
    at += size;
  }
  writer.finish();
  writeFileSync(`${out}${name}`, bytes.getBytes());
}

// types.parquet: 10 rows in row groups of 4, 4 and 2, gzip.
write(
  'types.parquet',
  [
    { name: 'root', num_children: 7 },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 'small', type: 'INT32', repetition_type: 'OPTIONAL' },
    { name: 'flag', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
    { name: 'ratio', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'amount', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'city', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'at', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
  ],
  {
    id: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 9007199254740993n],
    small: [10, -20, null, 40, 50, 60, 70, 80, 90, 100],
    flag: [true, false, null, true, true, false, false, true, null, false],
    ratio: [0.5, 0.25, 1.5, null, -2, 0, 0.125, 8, 16, 32],
    amount: [12.5, null, Number.NaN, 1e-3, -7.25, 1e12, 3, 4, 5, 6],
    city: ['Oslo', 'Lima', null, 'Oslo', 'Oslo, "old town"', 'Lima', '', 'Köln', 'Oslo', 'Lima'],
    at: [0, 86_400_000, null, 1_700_000_000_000, 1, 2, 3, 4, 5, 6].map((v) =>
      v === null ? null : new Date(v),
    ),
  },
  [4, 4, 2],
  'GZIP',
);

// fraud.parquet: fixtures/data/fraud.csv (500 rows) in row groups of 128, snappy; an `id` column first.
const csv = readFileSync(fileURLToPath(new URL('../../../fixtures/data/fraud.csv', import.meta.url)), 'utf8');
const rows: Record<string, unknown>[] = [];
for await (const row of parseCsv([csv])) rows.push(row);
const names = Object.keys(rows[0]!);
const fraudColumns: Record<string, unknown[]> = { id: rows.map((_, i) => i + 1) };
for (const n of names) fraudColumns[n] = rows.map((r) => r[n]);
write(
  'fraud.parquet',
  [
    { name: 'root', num_children: names.length + 1 },
    { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
    ...names.map((n) =>
      n === 'label'
        ? { name: n, type: 'INT32' as const, repetition_type: 'REQUIRED' as const }
        : { name: n, type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const },
    ),
  ],
  fraudColumns,
  [128, 128, 128, 116],
  'SNAPPY',
);
console.log('wrote', out);
