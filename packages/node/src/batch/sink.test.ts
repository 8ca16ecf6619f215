import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectsFile, rowFileSink, streamText } from './sink';

const dir = mkdtempSync(join(tmpdir(), 'modelship-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file sinks', () => {
  it('writes CSV in order, appearing at its path only when closed', async () => {
    const path = join(dir, 'a.csv');
    const sink = rowFileSink(path);
    await sink.write([{ id: 1, p: 0.5 }]);
    await sink.write([]);
    await sink.write([{ id: 2, p: null }]);
    expect(existsSync(path)).toBe(false);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('id,p\n1,0.5\n2,\n');
    expect(existsSync(`${path}.partial`)).toBe(false);
  });

  it('takes JSONL by extension or as told, and aborting leaves nothing', async () => {
    const sink = rowFileSink(join(dir, 'b.out'), 'jsonl');
    await sink.write([{ id: 'x' }]);
    await sink.abort();
    expect(existsSync(join(dir, 'b.out'))).toBe(false);
    expect(existsSync(join(dir, 'b.out.partial'))).toBe(false);
    const rejects = rejectsFile(join(dir, 'r.jsonl'));
    await rejects.write([{ row: 4, code: 'DATASET_INVALID', reason: 'bad', raw: 'a,b' }]);
    await rejects.close();
    expect(readFileSync(join(dir, 'r.jsonl'), 'utf8')).toBe(
      '{"row":4,"code":"DATASET_INVALID","reason":"bad","raw":"a,b"}\n',
    );
  });

  it('refuses an unknown extension, a bad format and an unwritable path with typed errors', async () => {
    expect(() => rowFileSink(join(dir, 'c.parquet'))).toThrow(
      /cannot tell the output format of '.*c\.parquet' from its extension/,
    );
    expect(() => rowFileSink(join(dir, 'c.csv'), 'xml' as never)).toThrow(/format must be 'csv' or 'jsonl'/);
    const sink = rowFileSink(join(dir, 'missing', 'c.csv'));
    const error = await sink
      .write([{ a: 1 }])
      .then(() => sink.close())
      .catch((e) => e);
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toMatch(/^cannot write '.*missing\/c\.csv': ENOENT/);
  });

  it('waits for a slow destination to drain before taking more (back-pressure)', async () => {
    const taken: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 8,
      write(chunk, _enc, done) {
        taken.push(String(chunk));
        release = done;
      },
    });
    const text = streamText(slow, (e) => e as Error);
    let resolved = false;
    const first = text.write('0123456789').then(() => {
      resolved = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    // The buffer is over its mark and the destination has not finished: the write is held.
    expect(resolved).toBe(false);
    release!();
    await first;
    expect(resolved).toBe(true);
    expect(taken).toEqual(['0123456789']);
  });

  it('tells when written bytes have left the stream (their buffer may be reused), and at once for none', async () => {
    let release: (() => void) | undefined;
    const slow = new Writable({
      write(_chunk, _enc, done) {
        release = done;
      },
    });
    const text = streamText(slow, (e) => e as Error);
    const written: string[] = [];
    await text.write(new Uint8Array([1, 2, 3]), () => written.push('bytes'));
    await text.write('', () => written.push('empty'));
    // Taken by the stream but not yet written: the bytes are still the stream's.
    expect(written).toEqual(['empty']);
    release!();
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(['empty', 'bytes']);
  });
});

describe('aborting a sink whose file could not be opened', () => {
  it('returns, leaving nothing', async () => {
    const sink = rowFileSink(join(dir, 'gone', 'd.csv'));
    // Closing fails once the open has failed; the stream has closed by then.
    await expect(sink.write([{ a: 1 }]).then(() => sink.close())).rejects.toThrow(/cannot write/);
    await sink.abort();
    expect(existsSync(join(dir, 'gone'))).toBe(false);
  });
});
