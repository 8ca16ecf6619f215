import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelshipError } from '@modelship/core';
import { describe, expect, it } from 'vitest';
import { readCsv, readCsvColumns, readDataset, readJsonl } from '../src/datasets';

const IRIS = fileURLToPath(new URL('../../../fixtures/data/iris.csv', import.meta.url));
// fs.createReadStream reads 64 KiB at a time by default.
const READ_SIZE = 64 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'modelship-datasets-'));
let files = 0;

function tempFile(name: string, content: string | Buffer): string {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, content);
  return path;
}

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}

async function failure(gen: AsyncIterable<unknown>): Promise<ModelshipError> {
  const e = await all(gen).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(ModelshipError.isInstance(e), `expected a ModelshipError, got ${String(e)}`).toBe(true);
  return e as ModelshipError;
}

/**
 * Builds text from `make(pad)` with the smallest pad that puts the middle of a multi-byte
 * character at byte `at`, so a read ending there splits the character.
 */
function splitCharacterAt(at: number, make: (pad: string) => string): Buffer {
  for (let pad = 0; pad < 4; pad++) {
    const bytes = Buffer.from(make('p'.repeat(pad)), 'utf8');
    // 0b10xxxxxx: a continuation byte, inside a character.
    if (bytes.length > at && (bytes[at]! & 0xc0) === 0x80) return bytes;
  }
  throw new Error('no padding splits a character at the boundary');
}

describe('readCsv', () => {
  it('reads the iris fixture: 150 rows of numbers', async () => {
    const rows = await all(readCsv(IRIS));
    expect(rows).toHaveLength(150);
    expect(rows[0]).toEqual({
      sepal_length: 5.099999904632568,
      sepal_width: 3.5,
      petal_length: 1.399999976158142,
      petal_width: 0.20000000298023224,
      label: 0,
    });
    expect(new Set(rows.map((r) => r.label))).toEqual(new Set([0, 1, 2]));
    expect(await all(readDataset(IRIS))).toEqual(rows);
  });

  it('reads é split across the stream’s chunk boundary', async () => {
    const cell = 'café é'.repeat(30);
    const count = 1200;
    const bytes = splitCharacterAt(READ_SIZE, (pad) => {
      const lines = [`text${pad},n`];
      for (let i = 0; i < count; i++) lines.push(`${cell},${i}`);
      return `${lines.join('\n')}\n`;
    });
    expect(bytes.length).toBeGreaterThan(3 * READ_SIZE);
    const path = tempFile('accents.csv', bytes);
    const reads: number[] = [];
    const rows = await all(readCsv(path, { onBytes: (read) => reads.push(read) }));
    expect(rows).toHaveLength(count);
    const column = Object.keys(rows[0]!)[0]!;
    rows.forEach((row, i) => {
      expect(row).toEqual({ [column]: cell, n: i });
    });
    // The reads really did end inside a character.
    expect(reads.some((r) => r < bytes.length && (bytes[r]! & 0xc0) === 0x80)).toBe(true);
  });

  it('reports bytes read, rising to the file size', async () => {
    const lines = ['a,b'];
    for (let i = 0; i < 40_000; i++) lines.push(`${i},${i * 2}`);
    const path = tempFile('progress.csv', `${lines.join('\n')}\n`);
    const size = statSync(path).size;
    const calls: [number, number][] = [];
    const rows = await all(readCsv(path, { onBytes: (read, total) => calls.push([read, total]) }));
    expect(rows).toHaveLength(40_000);
    expect(rows[39_999]).toEqual({ a: 39_999, b: 79_998 });
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every(([, total]) => total === size)).toBe(true);
    expect(calls.every(([read], i) => i === 0 || read > calls[i - 1]![0])).toBe(true);
    expect(calls.at(-1)).toEqual([size, size]);
  });

  it('passes the CSV options through', async () => {
    const path = tempFile('semi.csv', 'a;b\n007;x\n');
    expect(await all(readCsv(path, { delimiter: ';', numbers: false }))).toEqual([{ a: '007', b: 'x' }]);
  });

  it('names the line of malformed CSV', async () => {
    const path = tempFile('bad.csv', 'a,b\n1,2\n3\n');
    const e = await failure(readCsv(path));
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.message).toBe('line 3 has 1 field; the header has 2');
  });

  it('stops with ABORTED when the signal fires', async () => {
    const lines = ['a'];
    for (let i = 0; i < 100_000; i++) lines.push(String(i));
    const path = tempFile('long.csv', lines.join('\n'));
    const controller = new AbortController();
    let seen = 0;
    const e = await failure({
      async *[Symbol.asyncIterator]() {
        for await (const row of readCsv(path, { signal: controller.signal })) {
          if (++seen === 10) controller.abort();
          yield row;
        }
      },
    });
    expect(e.code).toBe('ABORTED');
    expect(seen).toBeLessThan(100_000);
  });

  it('passes an error thrown by onBytes through unchanged', async () => {
    const rows = readCsv(IRIS, {
      onBytes: () => {
        throw new Error('progress bar broke');
      },
    });
    await expect(all(rows)).rejects.toThrow(/^progress bar broke$/);
  });

  it('stops reading when the loop breaks early', async () => {
    const calls: number[] = [];
    const lines = ['a'];
    for (let i = 0; i < 200_000; i++) lines.push(String(i));
    const path = tempFile('early.csv', lines.join('\n'));
    for await (const row of readCsv(path, { onBytes: (read) => calls.push(read) })) {
      expect(row).toEqual({ a: 0 });
      break;
    }
    expect(calls.at(-1)!).toBeLessThan(statSync(path).size);
  });
});

describe('readJsonl', () => {
  it('reads 日本 split across the stream’s chunk boundary', async () => {
    const text = '日本語のテキスト';
    const count = 2000;
    const bytes = splitCharacterAt(READ_SIZE, (pad) => {
      const lines: string[] = [];
      for (let i = 0; i < count; i++) lines.push(JSON.stringify({ i, text: `${pad}${text.repeat(4)}` }));
      return lines.join('\r\n');
    });
    const path = tempFile('japanese.ndjson', bytes);
    const reads: number[] = [];
    const rows = await all(readDataset(path, { onBytes: (read) => reads.push(read) }));
    expect(rows).toHaveLength(count);
    const pad = (rows[0]!.text as string).replace(/[^p]/g, '');
    rows.forEach((row, i) => {
      expect(row).toEqual({ i, text: `${pad}${text.repeat(4)}` });
    });
    expect(reads.some((r) => r < bytes.length && (bytes[r]! & 0xc0) === 0x80)).toBe(true);
    expect(reads.at(-1)).toBe(bytes.length);
  });

  it('reads an empty file as no rows, still reporting it finished', async () => {
    const path = tempFile('empty.jsonl', '');
    const calls: [number, number][] = [];
    expect(await all(readJsonl(path, { onBytes: (read, total) => calls.push([read, total]) }))).toEqual([]);
    expect(calls).toEqual([[0, 0]]);
  });

  it('names the line that is not a JSON object', async () => {
    const path = tempFile('bad.jsonl', '{"a":1}\n\n[1]\n');
    const e = await failure(readJsonl(path));
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.message).toMatch(/^line 3 is an array of length 1; each line must be a JSON object$/);
  });
});

describe('readDataset', () => {
  it('picks the format by extension, in any case', async () => {
    const csv = tempFile('t.CSV', 'a,b\n1,x\n');
    const tsv = tempFile('t.tsv', 'a\tb\n1\tx,y\n');
    const jsonl = tempFile('t.jsonl', '{"a":1,"b":"x"}\n');
    const ndjson = tempFile('t.NDJSON', '{"a":1,"b":"x"}\n');
    expect(await all(readDataset(csv))).toEqual([{ a: 1, b: 'x' }]);
    expect(await all(readDataset(tsv))).toEqual([{ a: 1, b: 'x,y' }]);
    expect(await all(readDataset(tsv, { delimiter: undefined }))).toEqual([{ a: 1, b: 'x,y' }]);
    expect(await all(readDataset(jsonl))).toEqual([{ a: 1, b: 'x' }]);
    expect(await all(readDataset(ndjson))).toEqual([{ a: 1, b: 'x' }]);
    // An explicit delimiter wins over the extension.
    const semicolons = tempFile('semi.tsv', 'a;b\n1;2\n');
    expect(await all(readDataset(semicolons, { delimiter: ';' }))).toEqual([{ a: 1, b: 2 }]);
  });

  it('refuses an unknown extension at once, naming the known ones', () => {
    for (const path of ['data.parquet', 'data', 'data.csv.gz']) {
      let error: unknown;
      try {
        readDataset(path);
      } catch (e) {
        error = e;
      }
      expect(ModelshipError.isInstance(error), path).toBe(true);
      expect((error as ModelshipError).code).toBe('DATASET_INVALID');
      expect((error as Error).message).toMatch(/; use \.csv, \.tsv, \.jsonl or \.ndjson$/);
      expect((error as Error).message).toContain(`'${path}'`);
    }
  });

  it('reports a missing file on the first read, not before', async () => {
    const path = join(dir, 'missing.csv');
    const rows = readDataset(path);
    const e = await failure(rows);
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.message).toMatch(/^cannot read '.*missing\.csv': ENOENT/);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((await failure(readJsonl(join(dir, 'missing.jsonl')))).code).toBe('DATASET_INVALID');
  });

  it('reports a path that cannot be read as a file', async () => {
    const folder = join(dir, 'folder.csv');
    mkdirSync(folder);
    const e = await failure(readDataset(folder));
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.message).toMatch(/^cannot read '.*folder\.csv': EISDIR/);
  });
});

describe('readCsvColumns', () => {
  it('reads the rows readCsv reads, é split across 1 MiB reads, with byte progress to the file size', async () => {
    const cell = 'café é'.repeat(30);
    const count = 10_000;
    const bytes = splitCharacterAt(1 << 20, (pad) => {
      const lines = [`text${pad},n,x`];
      for (let i = 0; i < count; i++) lines.push(`${cell},${i},${i % 7 === 0 ? 'NA' : `${i}.25e-3`}`);
      return `${lines.join('\r\n')}\r\n`;
    });
    expect(bytes.length).toBeGreaterThan(2 << 20);
    const path = tempFile('columns.csv', bytes);
    const calls: [number, number][] = [];
    const rows = await all(readCsvColumns(path, { onBytes: (read, total) => calls.push([read, total]) }));
    expect(rows).toEqual(await all(readCsv(path)));
    expect(rows[1]).toEqual({ [`text${Object.keys(rows[0]!)[0]!.slice(4)}`]: cell, n: 1, x: 0.00125 });
    // The reads ended inside a character, and progress rose to the size.
    expect(calls.some(([r]) => r < bytes.length && (bytes[r]! & 0xc0) === 0x80)).toBe(true);
    expect(calls.at(-1)).toEqual([bytes.length, bytes.length]);
  });

  it('reads tab-separated files and names the line of malformed CSV as readCsv does', async () => {
    const tsv = tempFile('cols.tsv', 'a\tb\n1\tx y\n');
    expect(await all(readCsvColumns(tsv, { delimiter: '\t' }))).toEqual([{ a: 1, b: 'x y' }]);
    const bad = tempFile('cols-bad.csv', 'a,b\n1,2\n3\n');
    expect((await failure(readCsvColumns(bad))).message).toBe('line 3 has 1 field; the header has 2');
  });

  it('reports a missing file on the first read as DATASET_INVALID', async () => {
    const e = await failure(readCsvColumns(join(dir, 'missing-columns.csv')));
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.message).toMatch(/^cannot read '.*missing-columns\.csv': ENOENT/);
  });
});
