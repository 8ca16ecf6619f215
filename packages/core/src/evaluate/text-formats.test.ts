import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { parseCsv, parseJsonl } from './text-formats';

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}

async function fails(gen: AsyncIterable<unknown>, code: string, message: RegExp): Promise<void> {
  const e = await all(gen).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(ModelshipError.isInstance(e), String(e)).toBe(true);
  expect((e as ModelshipError).code).toBe(code);
  expect((e as Error).message).toMatch(message);
}

/** Splits text into chunks at the given cut points. */
function cut(text: string, points: number[]): string[] {
  const sorted = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of sorted) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

describe('parseCsv', () => {
  it('reads numbers, strings, missing values and quoted fields', async () => {
    const text =
      '\ufeffid,name,score,note\r\n1,"Smith, J.",0.5,"said ""hi""\nthen left"\r\n2,Ana,-1.5e3,\r\n3,,NaN,"007"\n';
    expect(await all(parseCsv([text]))).toEqual([
      { id: 1, name: 'Smith, J.', score: 0.5, note: 'said "hi"\nthen left' },
      { id: 2, name: 'Ana', score: -1500, note: null },
      { id: 3, name: null, score: null, note: '007' },
    ]);
  });

  it('keeps numerals as strings with numbers: false and reads other delimiters', async () => {
    expect(await all(parseCsv(['a\tb\n1\tx y\n'], { delimiter: '\t', numbers: false }))).toEqual([
      { a: '1', b: 'x y' },
    ]);
  });

  it('handles lone CR line ends, blank lines, a missing final newline and chunks split anywhere', async () => {
    const text = 'a,b\r1,2\r\n\n3,"4\r\n5"\n\n6,7';
    const expected = [
      { a: 1, b: 2 },
      { a: 3, b: '4\r\n5' },
      { a: 6, b: 7 },
    ];
    expect(await all(parseCsv([text]))).toEqual(expected);
    for (let i = 0; i <= text.length; i++) {
      expect(await all(parseCsv([text.slice(0, i), text.slice(i)])), `split at ${i}`).toEqual(expected);
    }
    expect(await all(parseCsv(text.split('')))).toEqual(expected);
  });

  it('refuses malformed CSV, naming the line', async () => {
    await fails(parseCsv(['a,b\n1,2\n3\n']), 'DATASET_INVALID', /line 3 has 1 field; the header has 2/);
    await fails(parseCsv(['a,b\n1,"2\n']), 'DATASET_INVALID', /line 2: a quoted field is not closed/);
    await fails(parseCsv(['a,b\n1,x"y\n']), 'DATASET_INVALID', /line 2: a quote inside an unquoted field/);
    await fails(
      parseCsv(['a,b\n1,"x"y\n']),
      'DATASET_INVALID',
      /line 2: unexpected "y" after a closing quote/,
    );
    await fails(parseCsv(['a,a\n1,2\n']), 'DATASET_INVALID', /column 'a' appears twice/);
    await fails(parseCsv(['a,,c\n']), 'DATASET_INVALID', /header field 2 is empty/);
    await fails(parseCsv(['__proto__,b\n1,2\n']), 'DATASET_INVALID', /'__proto__' cannot be a column name/);
    await fails(parseCsv(['']), 'DATASET_INVALID', /no header/);
    await fails(parseCsv(['a\n'], { delimiter: '"' }), 'DATASET_INVALID', /delimiter must be one character/);
    expect(await all(parseCsv(['a,b\n']))).toEqual([]);
  });

  it('stops when the signal fires and passes on a failing source', async () => {
    const controller = new AbortController();
    async function* chunks() {
      yield 'a\n1\n';
      controller.abort();
      yield '2\n';
    }
    await fails(parseCsv(chunks(), { signal: controller.signal }), 'ABORTED', /aborted/);
    async function* broken() {
      yield 'a\n1\n';
      throw new Error('disk gone');
    }
    await expect(all(parseCsv(broken()))).rejects.toThrow('disk gone');
  });

  it('reads back any table a proper writer wrote, however the text is chunked (property)', async () => {
    const cellArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '1') });
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((k) =>
            fc.tuple(
              fc.constant(k),
              fc.array(fc.array(cellArb, { minLength: k, maxLength: k }), { maxLength: 8 }),
            ),
          ),
        fc.array(fc.nat(), { maxLength: 6 }),
        async ([k, rows], points) => {
          const header = Array.from({ length: k }, (_, i) => `c${i}`);
          const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
          const text = [header, ...rows].map((r) => r.map(quote).join(',')).join('\r\n');
          const parsed = await all(parseCsv(cut(text, points), { numbers: false }));
          expect(parsed).toEqual(rows.map((r) => Object.fromEntries(r.map((v, i) => [`c${i}`, v]))));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseJsonl', () => {
  it('reads one object per line across chunks, skipping blank lines', async () => {
    const text = '{"a":1,"b":"x"}\r\n\n{"a":2,"b":null}\n{"a":3}';
    const expected = [{ a: 1, b: 'x' }, { a: 2, b: null }, { a: 3 }];
    for (let i = 0; i <= text.length; i++)
      expect(await all(parseJsonl([text.slice(0, i), text.slice(i)]))).toEqual(expected);
  });

  it('refuses lines that are not JSON objects, naming the line', async () => {
    await fails(parseJsonl(['{"a":1}\n{"a":\n']), 'DATASET_INVALID', /line 2 is not valid JSON/);
    await fails(
      parseJsonl(['{"a":1}\n\n[1,2]\n']),
      'DATASET_INVALID',
      /line 3 is an array of length 2; each line must be a JSON object/,
    );
    await fails(
      parseJsonl(['{"__proto__":{"x":1}}\n']),
      'DATASET_INVALID',
      /line 1: '__proto__' cannot be a column name/,
    );
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
