import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { type ColumnBlock, cellAt } from './column-block';
import { parseCsvColumns } from './csv-columns';
import { decimalAt } from './decimal';
import { parseCsv } from './text-formats';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Splits bytes at the given cut points (modulo the length, so inside UTF-8 sequences too). */
function cutBytes(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  const sorted = points.map((p) => p % (data.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of sorted) {
    out.push(data.slice(last, p));
    last = p;
  }
  out.push(data.slice(last));
  return out;
}

type Outcome = { rows: unknown[] } | { error: string; code: string; line: unknown };

async function outcome(rows: AsyncIterable<unknown>): Promise<Outcome> {
  const out: unknown[] = [];
  try {
    for await (const row of rows) out.push(row);
    return { rows: out };
  } catch (e) {
    if (!ModelshipError.isInstance(e)) throw e;
    return { error: e.message, code: e.code, line: e.details.line };
  }
}

/** The rows the columnar reader's blocks hold, cell by cell (blocks of `size` rows). */
async function* blockRows(chunks: Uint8Array[], size: number): AsyncGenerator<Record<string, unknown>> {
  let expected = 0;
  for await (const block of parseCsvColumns(chunks).blocks(size)) {
    expect(block.offset).toBe(expected);
    expected += block.length;
    for (let i = 0; i < block.length; i++) {
      const row: Record<string, unknown> = {};
      block.names.forEach((name, c) => {
        row[name] = cellAt(block.columns[c]!, i);
      });
      yield row;
    }
  }
}

/** Today's parser and the columnar one agree: same rows (numbers bit for bit), or the same error. */
async function agree(text: string, cuts: readonly number[] = [], size = 2): Promise<void> {
  const expected = await outcome(parseCsv([text]));
  const chunks = cutBytes(bytes(text), cuts);
  expect(await outcome(blockRows(chunks, size)), JSON.stringify(text)).toEqual(expected);
  expect(await outcome(parseCsvColumns(chunks)), JSON.stringify(text)).toEqual(expected);
}

const AWKWARD = [
  'a,b,c\n1,-0,.5\n1.,+2,1e5\n1E-3,1e999,-1e-400\n',
  'x,y\r\n"1.5",NaN\r\nNA,null\r\nnAn,NULL\r\n,\r\n',
  'x,y\r1,2\r\r3,4\r',
  'x\n\n\n1\n\n',
  '\ufeffx,y\n"a,b","q""q"\n"line\r\nbreak",é\n',
  'x,y\n 1,1 \n0x10,Infinity\n-,.\ne5,1e\n',
  'x,y\n12345678901234567890,9007199254740993\n123456789012345.6,0.000000000000000000000001234\n',
  'x,y\n4.35,0.1\n1.7976931348623157e308,5e-324\n2.2250738585072014e-308,1e23\n',
  'x\n""\n',
  'x,y\n1,2,3\n',
  'x,y\n1\n',
  'x,y\n1,"2\n',
  'x,y\n1,2"3\n',
  'x,y\n1,"2"3\n',
  'x,y\n1,"2"é\n',
  'x,x\n1,2\n',
  ',y\n1,2\n',
  '__proto__\n1\n',
  '',
  '\n\n',
  'x,y',
  'x,y\n1,2',
  'x,y\n"a\n\nb",2\n3,4,5\n',
  'h\n"a"\n"b""c"\n"d"',
];

describe('parseCsvColumns', () => {
  it('reads awkward inputs exactly as parseCsv does: cells, numbers bit for bit, errors and their lines', async () => {
    for (const text of AWKWARD) {
      await agree(text);
      await agree(text, [1, 2, 3, 5, 8, 13, 21], 1);
      await agree(
        text,
        Array.from({ length: text.length * 2 }, (_, i) => i),
      );
    }
  });

  it('gives numbers as Float64Array cells and other cells as text or null', async () => {
    const [block] = (await all(parseCsvColumns([bytes('x,y\n1.5,a\n,2\n')]).blocks())) as ColumnBlock[];
    expect(block!.length).toBe(2);
    expect(Array.from(block!.columns[0]!.numbers)).toEqual([1.5, Number.NaN]);
    expect(block!.columns[0]!.others).toEqual([undefined, null]);
    expect(Array.from(block!.columns[1]!.numbers)).toEqual([Number.NaN, 2]);
    expect(block!.columns[1]!.others).toEqual(['a', undefined]);
  });

  it('cuts the rows into blocks of the size asked, the last one shorter', async () => {
    const text = `v\n${Array.from({ length: 10 }, (_, i) => i).join('\n')}\n`;
    const blocks = (await all(parseCsvColumns([bytes(text)]).blocks(4))) as ColumnBlock[];
    expect(blocks.map((b) => [b.offset, b.length])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
    expect(Array.from(blocks[2]!.columns[0]!.numbers)).toEqual([8, 9]);
  });

  it('agrees with parseCsv on any table of awkward cells, however the bytes are cut (property)', async () => {
    const cell = fc.constantFrom(
      '1',
      '-0',
      '.5',
      '1.',
      '1e5',
      '+2',
      '1e999',
      '12345678901234567890',
      '0.1',
      'NaN',
      'na',
      '',
      '"x"',
      '"a,b"',
      '"q""q"',
      '"l\r\nm"',
      'é',
      'abc',
      ' 1',
      '"',
      'a"b',
      '"a"b',
      '-',
      '4.35',
    );
    const sep = fc.constantFrom(',', ',', ',', '\n', '\r\n', '\r', '\n\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(cell, sep), { maxLength: 30 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.integer({ min: 1, max: 5 }),
        async (tokens, cuts, size) => {
          const text = `a,b,c\n${tokens.map(([c, s]) => c + s).join('')}`;
          await agree(text, cuts, size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads numerals to the double Number gives, bit for bit (property)', () => {
    const digits = fc.stringMatching(/^[0-9]{0,25}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('', '+', '-'),
        digits,
        fc.option(digits),
        fc.option(
          fc.tuple(
            fc.constantFrom('e', 'E'),
            fc.constantFrom('', '+', '-'),
            fc.integer({ min: 0, max: 400 }),
          ),
        ),
        (sign, whole, fraction, exp) => {
          const text = `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`;
          const numeral = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text);
          const got = decimalAt(bytes(text), 0, text.length);
          if (!numeral) expect(got, text).toBeUndefined();
          else expect(Object.is(got, Number(text)), `${text}: ${got} vs ${Number(text)}`).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('reads numerals in cells (the scan-time fast path and the fallback) to the double Number gives, bit for bit (property)', async () => {
    const digits = fc.stringMatching(/^[0-9]{0,24}$/);
    const numeral = fc
      .tuple(
        fc.constantFrom('', '+', '-'),
        digits,
        fc.option(digits),
        fc.option(fc.integer({ min: -30, max: 30 })),
      )
      .map(
        ([sign, whole, fraction, exp]) =>
          `${sign}${whole}${fraction === null ? '' : `.${fraction}`}${exp === null ? '' : `e${exp}`}`,
      );
    await fc.assert(
      fc.asyncProperty(fc.array(numeral, { minLength: 1, maxLength: 20 }), async (cells) => {
        const text = `v\n${cells.join('\n')}\n`;
        expect(await outcome(parseCsvColumns([bytes(text)]))).toEqual(await outcome(parseCsv([text])));
        const rows = (await all(parseCsvColumns([bytes(text)]))) as { v: unknown }[];
        const expected = (await all(parseCsv([text]))) as { v: unknown }[];
        for (const [i, row] of rows.entries())
          expect(Object.is(row.v, expected[i]!.v), `${cells[i]}`).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a bad delimiter, bad options and bad chunks with INVALID_ARGUMENT', async () => {
    for (const delimiter of ['', ';;', '"', '\n', '§'])
      expect(() => parseCsvColumns([], { delimiter }), delimiter).toThrow(/delimiter must be one ASCII/);
    expect(() => parseCsvColumns(42 as never)).toThrow(/chunks must be an iterable/);
    const e = await outcome(parseCsvColumns([42 as never]));
    expect(e).toMatchObject({
      code: 'INVALID_ARGUMENT',
      error: expect.stringMatching(/Uint8Arrays or strings/),
    });
  });

  it('is read once: a second read is an INVALID_ARGUMENT error, not an empty table', async () => {
    const csv = parseCsvColumns([bytes('x\n1\n')]);
    expect(await all(csv)).toEqual([{ x: 1 }]);
    await expect(all(csv)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reads tab-separated bytes and stops with ABORTED when the signal fires between chunks', async () => {
    expect(await all(parseCsvColumns([bytes('a\tb\n1\t"x\ty"\n')], { delimiter: '\t' }))).toEqual([
      { a: 1, b: 'x\ty' },
    ]);
    const controller = new AbortController();
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield bytes('x\n1\n');
      controller.abort();
      yield bytes('2\n');
    }
    await expect(all(parseCsvColumns(chunks(), { signal: controller.signal }))).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}
