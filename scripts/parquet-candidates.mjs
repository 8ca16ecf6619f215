// The comparison behind docs/batch.md "Parquet": pure-JS Parquet writers and readers on a
// 10^6-row table (id int64, amount double with 1% nulls, category string), row groups of 10^5.
// Not part of the build: run it in a scratch folder, where it finds the candidates, with
//   npm install hyparquet@1.31.5 hyparquet-writer@0.17.0 @dsnp/parquetjs@1.8.8 parquetjs-lite@0.8.7
//   cp <repo>/scripts/parquet-candidates.mjs . && node --expose-gc parquet-candidates.mjs 1000000

import { statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const N = Number(process.argv[2] ?? 1_000_000);
const GROUP = 100_000;
const CATS = ['grocery', 'travel', 'online', 'fuel', 'restaurant'];
const row = (i) => ({ id: i, amount: i % 100 === 7 ? null : (i % 997) * 1.25, category: CATS[i % 5] });

function peak() {
  return process.memoryUsage().rss;
}
async function timed(name, f) {
  globalThis.gc?.();
  const before = peak();
  let max = before;
  const t = setInterval(() => {
    max = Math.max(max, peak());
  }, 20);
  const t0 = performance.now();
  const out = await f();
  const ms = performance.now() - t0;
  clearInterval(t);
  max = Math.max(max, peak());
  console.log(
    `${name.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${Math.round(N / (ms / 1000))
      .toLocaleString('en')
      .padStart(10)} rows/s  +RSS ${Math.round((max - before) / 2 ** 20)} MB ${out ?? ''}`,
  );
}

const { ParquetWriter } = await import('hyparquet-writer');
const { fileWriter } = await import('./node_modules/hyparquet-writer/src/node.js');
const { parquetRead, parquetMetadataAsync, asyncBufferFromFile } = await import('hyparquet');

await timed('write hyparquet-writer (snappy, row groups)', async () => {
  const writer = fileWriter('./hy.parquet');
  const pw = new ParquetWriter({
    writer,
    schema: [
      { name: 'root', num_children: 3 },
      { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'amount', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      { name: 'category', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
  });
  for (let s = 0; s < N; s += GROUP) {
    const n = Math.min(GROUP, N - s);
    const id = new BigInt64Array(n),
      amount = new Array(n),
      category = new Array(n);
    for (let k = 0; k < n; k++) {
      const r = row(s + k);
      id[k] = BigInt(r.id);
      amount[k] = r.amount;
      category[k] = r.category;
    }
    pw.write({
      columnData: [
        { name: 'id', data: id },
        { name: 'amount', data: amount },
        { name: 'category', data: category },
      ],
      rowGroupSize: GROUP,
    });
  }
  pw.finish();
  return `${(statSync('./hy.parquet').size / 2 ** 20).toFixed(1)} MB`;
});

for (const pkg of ['@dsnp/parquetjs', 'parquetjs-lite']) {
  const lib = require(pkg);
  const file = `./${pkg.replace(/\W/g, '_')}.parquet`;
  await timed(`write ${pkg} (snappy, appendRow)`, async () => {
    const schema = new lib.ParquetSchema({
      id: { type: 'INT64', compression: 'SNAPPY' },
      amount: { type: 'DOUBLE', optional: true, compression: 'SNAPPY' },
      category: { type: 'UTF8', optional: true, compression: 'SNAPPY' },
    });
    const w = await lib.ParquetWriter.openFile(schema, file, { rowGroupSize: GROUP });
    for (let i = 0; i < N; i++) {
      const r = row(i);
      if (r.amount === null) delete r.amount;
      await w.appendRow(r);
    }
    await w.close();
    return `${(statSync(file).size / 2 ** 20).toFixed(1)} MB`;
  });
}

async function hyRead(path) {
  const file = await asyncBufferFromFile(path);
  const meta = await parquetMetadataAsync(file);
  let count = 0,
    sum = 0,
    start = 0;
  for (const rg of meta.row_groups) {
    const end = start + Number(rg.num_rows);
    await parquetRead({
      file,
      metadata: meta,
      rowStart: start,
      rowEnd: end,
      rowFormat: 'object',
      onComplete: (rows) => {
        for (const r of rows) {
          count++;
          if (r.amount !== null) sum += r.amount;
        }
      },
    });
    start = end;
  }
  return `rows ${count} sum ${sum}`;
}
for (const f of ['hy', '_dsnp_parquetjs', 'parquetjs_lite'])
  await timed(`read hyparquet by row group: ${f}.parquet`, () => hyRead(`./${f}.parquet`));

for (const pkg of ['@dsnp/parquetjs', 'parquetjs-lite']) {
  const lib = require(pkg);
  for (const f of ['hy', pkg.replace(/\W/g, '_')])
    await timed(`read ${pkg} cursor: ${f}.parquet`, async () => {
      let count = 0,
        sum = 0;
      try {
        const reader = await lib.ParquetReader.openFile(`./${f}.parquet`);
        const cursor = reader.getCursor();
        for (;;) {
          const r = await cursor.next();
          if (!r) break;
          count++;
          if (r.amount != null) sum += Number(r.amount);
        }
        await reader.close();
      } catch (e) {
        return `FAILED: ${String(e.message).slice(0, 80)} after ${count}`;
      }
      return `rows ${count} sum ${sum}`;
    });
}
