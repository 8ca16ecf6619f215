import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { parseCsv, parseJsonl } from './text-formats';

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

async function fails(gen: AsyncIterable<unknown>, message: RegExp, line?: number): Promise<void> {
  const e = await failure(gen);
  expect(e.code).toBe('DATASET_INVALID');
  expect(e.name).toBe('InputError');
  expect(e.message).toMatch(message);
  if (line !== undefined) expect(e.details.line).toBe(line);
}

/** Splits text into chunks at the given cut points (taken modulo the length; empty chunks kept). */
function cut(text: string, points: readonly number[]): string[] {
  const sorted = points.map((p) => p % (text.length + 1)).sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of sorted) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

/** Every way of cutting the text in two, plus one character per chunk. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], text.split('')];
  for (let i = 0; i <= text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

async function expectAllSplits(text: string, expected: unknown[], options = {}): Promise<void> {
  for (const chunks of splits(text))
    expect(await all(parseCsv(chunks, options)), JSON.stringify(chunks)).toEqual(expected);
}

describe('parseCsv', () => {
  it('reads numbers, strings, missing values and quoted fields', async () => {
    const text =
      '\ufeffid,name,score,note\r\n1,"Smith, J.",0.5,"said ""hi""\nthen left"\r\n2,Ana,-1.5e3,\r\n3,,NaN,"007"\n';
    await expectAllSplits(text, [
      { id: 1, name: 'Smith, J.', score: 0.5, note: 'said "hi"\nthen left' },
      { id: 2, name: 'Ana', score: -1500, note: null },
      { id: 3, name: null, score: null, note: '007' },
    ]);
  });

  it('reads only finite plain decimal numerals as numbers', async () => {
    const cells = ['0', '-0.5', '+3', '.25', '7.', '1e3', '2E-2', '-1.5e+3', '007'];
    const text = `${cells.map((_, i) => `c${i}`).join(',')}\n${cells.join(',')}\n`;
    const [row] = await all(parseCsv([text]));
    expect(Object.values(row!)).toEqual([0, -0.5, 3, 0.25, 7, 1000, 0.02, -1500, 7]);

    const words = [
      '1e999',
      'Infinity',
      '-Infinity',
      '0x10',
      '1_000',
      ' 1',
      '1 ',
      '1,5',
      '1.2.3',
      'e5',
      '.',
      '-',
      '+',
    ];
    const tsv = `${words.map((_, i) => `c${i}`).join('\t')}\n${words.join('\t')}\n`;
    const [strings] = await all(parseCsv([tsv], { delimiter: '\t' }));
    expect(Object.values(strings!)).toEqual(words);
  });

  it('reads NaN, NA, null in any case and empty cells as missing; quoted cells stay strings', async () => {
    const text = 'a,b,c,d,e,f,g\nNaN,nan,NA,na,NULL,Null,\n"NA","","null","1",x,"",""\n';
    expect(await all(parseCsv([text]))).toEqual([
      { a: null, b: null, c: null, d: null, e: null, f: null, g: null },
      { a: 'NA', b: '', c: 'null', d: '1', e: 'x', f: '', g: '' },
    ]);
  });

  it('keeps numerals as strings with numbers: false, but still reads missing values', async () => {
    expect(await all(parseCsv(['a,b,c\n1,2.5,NA\n'], { numbers: false }))).toEqual([
      { a: '1', b: '2.5', c: null },
    ]);
  });

  it('reads other delimiters, with quoted fields holding commas and the delimiter', async () => {
    await expectAllSplits(
      'a\tb;c\n1\t"x\ty"\n"p,q"\t"r""s"\n',
      [
        { a: 1, 'b;c': 'x\ty' },
        { a: 'p,q', 'b;c': 'r"s' },
      ],
      { delimiter: '\t' },
    );
    expect(await all(parseCsv(['a;b\n1,5;x\n'], { delimiter: ';' }))).toEqual([{ a: '1,5', b: 'x' }]);
  });

  it('takes header names as written: numerals, NA and quoted names', async () => {
    expect(await all(parseCsv(['1.0,NA,"x,y",null\n1,2,3,4\n']))).toEqual([
      { '1.0': 1, NA: 2, 'x,y': 3, null: 4 },
    ]);
  });

  it('handles CRLF, LF and lone CR line ends, blank lines and a missing final newline, split anywhere', async () => {
    await expectAllSplits('a,b\r1,2\r\n\n3,"4\r\n5"\n\r\n\r\r6,7', [
      { a: 1, b: 2 },
      { a: 3, b: '4\r\n5' },
      { a: 6, b: 7 },
    ]);
  });

  it('makes no extra row for a trailing newline, and none for blank lines before the header', async () => {
    expect(await all(parseCsv(['a\n1\n']))).toEqual([{ a: 1 }]);
    expect(await all(parseCsv(['a\r\n1\r\n']))).toEqual([{ a: 1 }]);
    expect(await all(parseCsv(['a\r1\r']))).toEqual([{ a: 1 }]);
    expect(await all(parseCsv(['\n\r\n\na\n1']))).toEqual([{ a: 1 }]);
  });

  it('reads a one-column file: an empty line is skipped, a quoted empty field is a row', async () => {
    expect(await all(parseCsv(['a\n1\n\n""\nNA\n']))).toEqual([{ a: 1 }, { a: '' }, { a: null }]);
  });

  it('strips the BOM only at the very start, even when the first chunks are empty', async () => {
    expect(await all(parseCsv(['', '\ufeffa,b\n1,2\n']))).toEqual([{ a: 1, b: 2 }]);
    expect(await all(parseCsv(['\ufeff', 'a\n\ufeffx\n']))).toEqual([{ a: '\ufeffx' }]);
  });

  it('returns header-only input as no rows', async () => {
    expect(await all(parseCsv(['a,b\n']))).toEqual([]);
    expect(await all(parseCsv(['a,b']))).toEqual([]);
  });

  it('makes plain objects whose prototype is untouched', async () => {
    const [row] = await all(parseCsv(['toString,hasOwnProperty\n1,2\n']));
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row).toEqual({ toString: 1, hasOwnProperty: 2 });
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it('refuses a record with the wrong number of fields, naming the line where it starts', async () => {
    await fails(parseCsv(['a,b\n1,2\n3\n']), /^line 3 has 1 field; the header has 2$/, 3);
    await fails(
      parseCsv(['a,b,c,d,e\n1,2,3,4,5\n\n\n"x\ny",2,3,4,5\n1,2,3,4\n']),
      /^line 7 has 4 fields; the header has 5$/,
      7,
    );
    // The record starts on line 2; its quoted field runs on to line 4.
    await fails(parseCsv(['a,b\n1,"x\r\n\ry",3\n']), /^line 2 has 3 fields; the header has 2$/, 2);
    // Line breaks inside quoted fields count too: a lone CR is one, CRLF is one.
    await fails(parseCsv(['a\n"x\ry"\n"p\r\nq"\n1,2\n']), /^line 6 has 2 fields/, 6);
    // Lines are counted the same when '\r\n' is split between chunks.
    await fails(parseCsv(['a\r', '\n"x\r', '\ny"\r', '\n1,2\n']), /^line 4 has 2 fields/, 4);
  });

  it('refuses an unclosed quoted field at the end of the data', async () => {
    await fails(
      parseCsv(['a,b\n1,"2\n']),
      /^line 2: a quoted field is not closed before the end of the data$/,
      2,
    );
    await fails(parseCsv(['a\n"x""']), /^line 2: a quoted field is not closed/, 2);
  });

  it('refuses quotes in the middle of an unquoted field and text after a closing quote', async () => {
    await fails(parseCsv(['a,b\n1,x"y\n']), /^line 2: a quote inside an unquoted field/, 2);
    await fails(parseCsv(['a,b\n1,x', '"\n']), /^line 2: a quote inside an unquoted field/, 2);
    await fails(parseCsv(['a,b\n1,"x"y\n']), /^line 2: unexpected "y" after a closing quote$/, 2);
    await fails(parseCsv(['a,b\n1,"x"', ' \n']), /^line 2: unexpected " " after a closing quote$/, 2);
  });

  it('refuses bad headers: empty, repeated, unsafe names, or none at all', async () => {
    await fails(parseCsv(['a,,c\n']), /^line 1: header field 2 is empty; every column needs a name$/, 1);
    await fails(parseCsv(['\n\na,""\n']), /^line 3: header field 2 is empty/, 3);
    await fails(parseCsv(['a,b,a\n1,2,3\n']), /^line 1: column 'a' appears twice in the header$/, 1);
    for (const name of ['__proto__', 'constructor', 'prototype'])
      await fails(
        parseCsv([`x,${name}\n1,2\n`]),
        new RegExp(`^line 1: '${name}' cannot be a column name$`),
        1,
      );
    await fails(parseCsv(['"__proto__"\n{"polluted":1}\n']), /'__proto__' cannot be a column name/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await fails(parseCsv([]), /^the CSV has no header/);
    await fails(parseCsv(['']), /^the CSV has no header/);
    await fails(parseCsv(['\ufeff\r\n\n']), /^the CSV has no header/);
  });

  it('refuses a bad delimiter at once, and chunks that are not strings', async () => {
    for (const delimiter of ['"', '\n', '\r', ',,', ''])
      expect(() => parseCsv(['a\n'], { delimiter }), JSON.stringify(delimiter)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/delimiter/) }),
      );
    const e = await failure(parseCsv([new Uint8Array(2) as unknown as string]));
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('stops with ABORTED when the signal fires between chunks', async () => {
    const controller = new AbortController();
    const seen: unknown[] = [];
    async function* chunks() {
      yield 'a\n1\n';
      controller.abort(new Error('user cancelled'));
      yield '2\n';
    }
    const rows = parseCsv(chunks(), { signal: controller.signal });
    const e = await failure({
      async *[Symbol.asyncIterator]() {
        for await (const row of rows) {
          seen.push(row);
          yield row;
        }
      },
    });
    expect(seen).toEqual([{ a: 1 }]);
    expect(e.code).toBe('ABORTED');
    expect(e.name).toBe('AbortError');
    expect(e.message).toMatch(/aborted: user cancelled/);
    expect((e.cause as Error).message).toBe('user cancelled');

    const before = new AbortController();
    before.abort();
    expect((await failure(parseCsv(['a\n1\n'], { signal: before.signal }))).code).toBe('ABORTED');
  });

  it('passes on an error thrown by the source, after the rows before it', async () => {
    const seen: unknown[] = [];
    async function* broken() {
      yield 'a\n1\n';
      throw new Error('disk gone');
    }
    await expect(
      (async () => {
        for await (const row of parseCsv(broken())) seen.push(row);
      })(),
    ).rejects.toThrow('disk gone');
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('closes the source when the reader stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        yield 'a\n1\n2\n';
        yield '3\n';
      } finally {
        closed = true;
      }
    }
    for await (const row of parseCsv(source())) {
      expect(row).toEqual({ a: 1 });
      break;
    }
    expect(closed).toBe(true);
  });

  it('reads a long field chunked one character at a time', async () => {
    const long = 'x,"y\n'.repeat(20_000);
    const text = `a\n"${long.replaceAll('"', '""')}"\n`;
    expect(await all(parseCsv(text.split('')))).toEqual([{ a: long }]);
  });

  it('reads back any table a proper writer wrote, however the text is chunked (property)', async () => {
    const cellArb = fc.string({
      unit: fc.constantFrom('a', 'N', 'A', ' ', ',', ';', '"', '\n', '\r', 'é', '日', '1', '\ufeff'),
      maxLength: 8,
    });
    const tableArb = fc.integer({ min: 1, max: 4 }).chain((k) =>
      fc.record({
        header: fc.uniqueArray(
          fc.string({ unit: fc.constantFrom('h', 'x', ',', '"', '\n', '1'), minLength: 1 }),
          {
            minLength: k,
            maxLength: k,
          },
        ),
        rows: fc.array(fc.array(cellArb, { minLength: k, maxLength: k }), { maxLength: 8 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        tableArb,
        fc.constantFrom(',', ';', '\t'),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(), // quote every cell, or only those that need it
        fc.boolean(), // end with a line break
        fc.boolean(), // start with a BOM
        fc.array(fc.nat(), { maxLength: 8 }),
        async ({ header, rows }, delimiter, eol, quoteAll, trailing, bom, points) => {
          // Quotes a cell when leaving it bare would change it: an empty cell, a missing-value
          // word, a quote, the delimiter, a line break, or a leading BOM.
          const needsQuotes = (s: string): boolean =>
            s === '' ||
            /^(nan|na|null)$/i.test(s) ||
            /["\r\n]/.test(s) ||
            s.includes(delimiter) ||
            s.startsWith('\ufeff');
          const write = (s: string): string =>
            quoteAll || needsQuotes(s) ? `"${s.replaceAll('"', '""')}"` : s;
          const text =
            (bom ? '\ufeff' : '') +
            [header, ...rows].map((r) => r.map(write).join(delimiter)).join(eol) +
            (trailing ? eol : '');
          const parsed = await all(parseCsv(cut(text, points), { delimiter, numbers: false }));
          expect(parsed).toEqual(rows.map((r) => Object.fromEntries(r.map((v, i) => [header[i], v]))));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseJsonl', () => {
  it('reads one object per line across chunks, skipping blank lines', async () => {
    const text = '\ufeff{"a":1,"b":"x"}\r\n\n  \n{"a":2,"b":null}\n{"a":3,"c":{"d":[1,2]}}';
    const expected = [
      { a: 1, b: 'x' },
      { a: 2, b: null },
      { a: 3, c: { d: [1, 2] } },
    ];
    for (const chunks of splits(text))
      expect(await all(parseJsonl(chunks)), JSON.stringify(chunks)).toEqual(expected);
    expect(await all(parseJsonl([`${text}\n`]))).toEqual(expected);
    expect(await all(parseJsonl([]))).toEqual([]);
    expect(await all(parseJsonl(['\n\n']))).toEqual([]);
  });

  it('keeps a line that contains escaped newlines and a line break inside a string as one value', async () => {
    expect(await all(parseJsonl(['{"t":"a\\nb\\r"}\n']))).toEqual([{ t: 'a\nb\r' }]);
  });

  it('reads a long line chunked one character at a time', async () => {
    const value = { s: 'x'.repeat(50_000) };
    expect(await all(parseJsonl(`${JSON.stringify(value)}\n`.split('')))).toEqual([value]);
  });

  it('refuses invalid JSON, naming the line and quoting the parser', async () => {
    const e = await failure(parseJsonl(['{"a":1}\n\n{"a":\n']));
    expect(e.code).toBe('DATASET_INVALID');
    expect(e.details.line).toBe(3);
    let parserMessage = '';
    try {
      JSON.parse('{"a":');
    } catch (err) {
      parserMessage = (err as Error).message;
    }
    expect(e.message).toBe(`line 3 is not valid JSON: ${parserMessage}`);
  });

  it('refuses values that are not objects, naming the line', async () => {
    await fails(
      parseJsonl(['{"a":1}\n\n[1,2]\n']),
      /^line 3 is an array of length 2; each line must be a JSON object$/,
      3,
    );
    await fails(parseJsonl(['null\n']), /^line 1 is null; each line must be a JSON object$/, 1);
    await fails(parseJsonl(['{}\n42']), /^line 2 is 42; each line/, 2);
    await fails(parseJsonl(['"row"']), /^line 1 is "row"; each line/, 1);
  });

  it('refuses an own __proto__ key, so nothing is polluted', async () => {
    await fails(
      parseJsonl(['{"a":1}\n{"__proto__":{"polluted":1}}\n']),
      /^line 2: '__proto__' cannot be a column name$/,
      2,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A nested own '__proto__' is an ordinary key of that nested value.
    const [row] = await all(parseJsonl(['{"a":{"__proto__":{"polluted":1}}}']));
    expect(Object.hasOwn(row!.a as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stops with ABORTED between chunks and passes on errors from the source', async () => {
    const controller = new AbortController();
    async function* chunks() {
      yield '{"a":1}\n';
      controller.abort();
      yield '{"a":2}\n';
    }
    expect((await failure(parseJsonl(chunks(), { signal: controller.signal }))).code).toBe('ABORTED');
    async function* broken() {
      yield '{"a":1}\n';
      throw new Error('network down');
    }
    await expect(all(parseJsonl(broken()))).rejects.toThrow('network down');
  });

  it('reads back any list of objects, however the text is chunked (property)', async () => {
    const objectArb = fc.dictionary(
      fc.string({ unit: fc.constantFrom('k', 'é', '\n', '"', ' ') }).filter((k) => k !== '__proto__'),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 4, noNullPrototype: true },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(objectArb, { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (objects, eol, points) => {
          const text = objects.map((o) => JSON.stringify(o)).join(eol);
          expect(await all(parseJsonl(cut(text, points)))).toEqual(objects);
        },
      ),
      { numRuns: 300 },
    );
  });
});
