import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseJsonl } from '../evaluate/text-formats';
import { rejectionsText, textFormatter } from './format';
import { unreadableOf } from './unreadable';

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('text formats of scored rows', () => {
  it('writes CSV with a header from the first row, quoting only what would not read back', () => {
    const csv = textFormatter('csv');
    expect(csv.columns).toBeUndefined();
    expect(
      csv.format([
        { id: 'a,b', p: 0.25, label: 1 },
        { id: '12', p: null, label: 'say "hi"' },
      ]),
    ).toBe('id,p,label\n"a,b",0.25,1\n"12",,"say ""hi"""\n');
    expect(csv.format([{ id: 'NA', p: 1e21, label: ' x' }])).toBe('"NA",1e+21," x"\n');
    expect(csv.columns).toEqual(['id', 'p', 'label']);
    expect(csv.format([])).toBe('');
  });

  it('CSV cells read back by parseCsv as the same values', async () => {
    const cell = fc.oneof(
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
      fc.constant(null),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 5 }), async (pairs) => {
        const rows = pairs.map(([a, b]) => ({ a, b }));
        const text = textFormatter('csv').format(rows);
        // A row of two empty cells is the line ',' — read back as two nulls.
        expect(await collect(parseCsv([text]))).toEqual(rows);
      }),
      { numRuns: 200 },
    );
  });

  it('writes JSON Lines, one object a line', async () => {
    const jsonl = textFormatter('jsonl');
    const rows = [
      { id: 1, p: 0.5 },
      { id: 2, p: null },
    ];
    const text = jsonl.format(rows);
    expect(text).toBe('{"id":1,"p":0.5}\n{"id":2,"p":null}\n');
    expect(await collect(parseJsonl([text]))).toEqual(rows);
  });

  it('writes rejections as JSON Lines with row, code, reason and the raw row', () => {
    expect(
      rejectionsText([
        { row: 3, code: 'DATASET_INVALID', reason: 'line 5 has 3 fields; the header has 2', raw: '1,2,3' },
        { row: 9, code: 'INPUT_NOT_FINITE', reason: 'not finite', raw: { id: 7n, x: 'a' } },
      ]),
    ).toBe(
      '{"row":3,"code":"DATASET_INVALID","reason":"line 5 has 3 fields; the header has 2","raw":"1,2,3"}\n' +
        '{"row":9,"code":"INPUT_NOT_FINITE","reason":"not finite","raw":{"id":"7","x":"a"}}\n',
    );
  });

  it('leaves the CSV header out with header: false, giving it as header for the writer to put once', () => {
    const rows = [{ 'a,b': 1, p: 0.5 }];
    const piece = textFormatter('csv', { header: false });
    expect(piece.header).toBe('');
    expect(piece.format(rows)).toBe('1,0.5\n');
    expect(piece.header).toBe('"a,b",p\n');
    expect(piece.header + piece.format(rows)).toBe(textFormatter('csv').format(rows));
    const jsonl = textFormatter('jsonl', { header: false });
    expect(jsonl.format(rows)).toBe('{"a,b":1,"p":0.5}\n');
    expect(jsonl.header).toBe('');
  });

  it('refuses an unknown format', () => {
    expect(() => textFormatter('xml' as never)).toThrow(/format must be 'csv' or 'jsonl'/);
    expect(() => textFormatter('csv', { header: 'no' as never })).toThrow(/header must be true or false/);
  });
});

describe('readers marking bad records', () => {
  it('marks an unclosed quote at the end, keeps the rows before it, and still throws on a bad header', async () => {
    const rows = await collect(parseCsv(['a,b\n1,2\n3,"4\n5,6\n'], { badRecords: 'mark' }));
    expect(rows[0]).toEqual({ a: 1, b: 2 });
    expect(unreadableOf(rows[1])).toEqual({
      reason: 'line 3: a quoted field is not closed before the end of the data',
      line: 3,
      raw: '3,"4\n5,6\n"',
    });
    expect(rows).toHaveLength(2);
    await expect(collect(parseCsv(['a,a\n1,2\n'], { badRecords: 'mark' }))).rejects.toThrow(/appears twice/);
    expect(() => parseCsv([''], { badRecords: 'skip' as never })).toThrow(
      /badRecords must be 'throw' or 'mark'/,
    );
    // Without 'mark', the first bad record stops the reading as before.
    await expect(collect(parseCsv(['a,b\n1\n']))).rejects.toThrow('line 2 has 1 field; the header has 2');
  });

  it('goes on after a marked record split across chunks', async () => {
    const rows = await collect(parseCsv(['a,b\n1,2\n3', '"x', '"y,4\n5,', '6\n'], { badRecords: 'mark' }));
    expect(rows.map((r) => unreadableOf(r)?.raw ?? r)).toEqual([{ a: 1, b: 2 }, '3"x"y,4', { a: 5, b: 6 }]);
  });
});
