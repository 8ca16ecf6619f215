/**
 * Scored rows to files: the text formats of `@modelship/core` (CSV, JSON Lines) written with
 * back-pressure, so a fast model never piles output up in memory behind a slow disk. A file is
 * written as `<path>.partial` and renamed when closed, so a file at `path` is always complete.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import { type CellValue, InputError, invalidArgument } from '@modelship/core';
import {
  type Rejection,
  type RowSink,
  rejectionsText,
  type TextFormat,
  textFormatter,
} from '@modelship/core/batch';

/** A text file written in order with back-pressure; `close` makes it appear at its path, `abort` removes it. */
export interface TextFile {
  /**
   * Text, or bytes already encoded as UTF-8; `written` is called once they are in the file (the
   * stream holds on to bytes until then, so their buffer must not change before).
   */
  write(text: string | Uint8Array, written?: () => void): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** A sink that can also be dropped: a failed run leaves no file at the output path. */
export interface FileSink extends RowSink {
  /** Stops writing and removes the unfinished file. */
  abort(): Promise<void>;
}

/** A file that cannot be written, as a `DATASET_INVALID` error naming it. */
export function cannotWrite(path: string, error: unknown): InputError {
  return new InputError(
    'DATASET_INVALID',
    `cannot write '${path}': ${error instanceof Error ? error.message : String(error)}`,
    { cause: error, details: { path } },
  );
}

/**
 * Text into a writable stream in order: `write` resolves at once while the stream's buffer has
 * room, else when it drains (back-pressure); a stream error rejects the pending and later calls
 * with `failure(error)`.
 */
export function streamText(
  stream: Writable,
  failure: (error: unknown) => Error,
): { write(text: string | Uint8Array, written?: () => void): Promise<void>; end(): Promise<void> } {
  let failed: Error | undefined;
  const broken = new Promise<never>((_, reject) => {
    stream.once('error', (e) => {
      failed = failure(e);
      reject(failed);
    });
  });
  broken.catch(() => {});
  return {
    async write(text, written) {
      if (failed !== undefined) throw failed;
      if (text.length === 0) {
        written?.();
        return;
      }
      const callback = written === undefined ? undefined : (e?: Error | null) => e == null && written();
      if (stream.write(text, callback)) return;
      await Promise.race([once(stream, 'drain'), broken]);
    },
    async end() {
      if (failed !== undefined) throw failed;
      await Promise.race([new Promise<void>((resolve) => stream.end(resolve)), broken]);
    },
  };
}

/** Opens `path` for writing (as `<path>.partial` until closed). */
export function textFile(path: string): TextFile {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('textFile', 'path must be a file path', path);
  const partial = `${path}.partial`;
  const stream = createWriteStream(partial);
  const text = streamText(stream, (e) => cannotWrite(path, e));
  let finished = false;
  return {
    async write(chunk, written) {
      if (finished) throw invalidArgument('textFile', `'${path}' is closed`, chunk);
      await text.write(chunk, written);
    },
    async close() {
      if (finished) return;
      finished = true;
      await text.end();
      try {
        await rename(partial, path);
      } catch (e) {
        throw cannotWrite(path, e);
      }
    },
    async abort() {
      finished = true;
      // A stream that failed (it could not open the file) has closed already: 'close' will not come again.
      if (!stream.closed) {
        const closed = once(stream, 'close').catch(() => {});
        stream.destroy();
        await closed;
      }
      await rm(partial, { force: true }).catch(() => {});
    },
  };
}

/** The text formats by file extension (any case). */
const EXTENSIONS: Readonly<Record<string, TextFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** The text format a file's extension names, or `undefined` for one it does not. */
export function textFormatOf(path: string): TextFormat | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(EXTENSIONS, ext) ? EXTENSIONS[ext] : undefined;
}

/**
 * Writes scored rows to a CSV or JSON Lines file, in the order given; `write` resolves once
 * the rows are handed to the file (waiting while the disk is behind). The format is taken from
 * the extension (`.csv`, `.jsonl`, `.ndjson`) unless given.
 *
 * @example
 * const sink = rowFileSink('scores.csv');
 * for await (const batch of predictBatches(model, readDataset('big.csv'))) await sink.write(batch.rows);
 * await sink.close();
 */
export function rowFileSink(path: string, format: TextFormat | undefined = textFormatOf(path)): FileSink {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('rowFileSink', 'path must be a file path', path);
  if (format !== undefined && format !== 'csv' && format !== 'jsonl')
    throw invalidArgument('rowFileSink', "format must be 'csv' or 'jsonl'", format);
  if (format === undefined)
    throw new InputError(
      'DATASET_INVALID',
      `cannot tell the output format of '${path}' from its extension; use .csv, .jsonl or .ndjson, or give the format`,
      { details: { path } },
    );
  const formatter = textFormatter(format);
  const file = textFile(path);
  return {
    write: (rows: readonly Record<string, CellValue>[]) => file.write(formatter.format(rows)),
    close: () => file.close(),
    abort: () => file.abort(),
  };
}

/** Writes rejected rows to a JSON Lines file: `{ row, code, reason, raw }` a line. */
export function rejectsFile(path: string): {
  write(rejected: readonly Rejection[]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
} {
  const file = textFile(path);
  return {
    write: (rejected) => file.write(rejectionsText(rejected)),
    close: () => file.close(),
    abort: () => file.abort(),
  };
}
