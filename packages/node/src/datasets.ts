/**
 * Data set files read as streams of rows: the formats are parsed by `@modelship/core`
 * (`parseCsv`, `parseJsonl`); this module only supplies a file's text in chunks.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  type CellValue,
  type CsvColumns,
  type CsvOptions,
  InputError,
  parseCsv,
  parseCsvColumns,
  parseJsonl,
} from '@modelship/core';

/** Options of {@link readCsv} and {@link readDataset}: the CSV options and byte progress. */
export interface ReadOptions extends CsvOptions {
  /**
   * Called as the file is read, with the bytes read so far and the file's size (taken when
   * reading starts); the last call has `read === total` unless the file changed meanwhile.
   */
  onBytes?: (read: number, total: number) => void;
}

/** Options of {@link readJsonl}: a signal, byte progress and what a bad line does. */
export type ReadJsonlOptions = Pick<ReadOptions, 'signal' | 'onBytes' | 'badRecords'>;

/** The extensions {@link readDataset} knows (keep its error message in step), and the format each one means. */
const FORMATS: Readonly<Record<string, 'csv' | 'tsv' | 'jsonl'>> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** The data set format a file's extension names (any case), or `undefined`. */
export function datasetFormatOf(path: string): 'csv' | 'tsv' | 'jsonl' | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(FORMATS, ext) ? FORMATS[ext] : undefined;
}

/** A file that cannot be opened or read, as a `DATASET_INVALID` error naming it. */
export function cannotRead(path: string, error: unknown): InputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InputError('DATASET_INVALID', `cannot read '${path}': ${reason}`, {
    cause: error,
    details: { path },
  });
}

/**
 * A file's text in chunks. The stream decodes UTF-8 itself, holding back a character whose
 * bytes straddle two reads, so no chunk ends inside a character. A file that cannot be opened
 * or read is a `DATASET_INVALID` error on the first `next()`.
 */
function fileText(path: string, onBytes: ReadOptions['onBytes']): AsyncGenerator<string> {
  return fileChunks<string>(path, onBytes, 'utf8');
}

/** Reads of 1 MiB: fewer, larger chunks for the columnar reader (the stream's default is 64 KiB). */
const BYTE_CHUNK = 1 << 20;

/** A file's bytes in chunks, or its text when `encoding` is given; see {@link fileText}. */
async function* fileChunks<T extends string | Uint8Array>(
  path: string,
  onBytes: ReadOptions['onBytes'],
  encoding?: 'utf8',
): AsyncGenerator<T> {
  let total: number;
  try {
    total = (await stat(path)).size;
  } catch (e) {
    throw cannotRead(path, e);
  }
  const stream =
    encoding === undefined
      ? createReadStream(path, { highWaterMark: BYTE_CHUNK })
      : createReadStream(path, { encoding });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<T>;
  let reported = -1;
  try {
    for (;;) {
      let step: IteratorResult<T>;
      // Only the stream's own failures are "cannot read": errors from onBytes, or from the
      // consumer, must pass through as they are.
      try {
        step = await chunks.next();
      } catch (e) {
        throw cannotRead(path, e);
      }
      if (step.done) break;
      if (onBytes !== undefined && stream.bytesRead !== reported) {
        reported = stream.bytesRead;
        onBytes(reported, total);
      }
      yield step.value;
    }
  } finally {
    // Closes the file when the reader stops early or fails.
    stream.destroy();
  }
  // An empty file yields no chunk; report it finished all the same.
  if (onBytes !== undefined && stream.bytesRead !== reported) onBytes(stream.bytesRead, total);
}

/**
 * Reads a CSV file as a stream of rows (see `parseCsv` in `@modelship/core`): the first record
 * names the columns, unquoted numerals become numbers (unless `numbers: false`), empty cells and
 * `NaN`/`NA`/`null` become `null`. The delimiter defaults to `','`.
 *
 * Nothing is read until iteration starts. A missing or unreadable file, and malformed CSV, are
 * `DATASET_INVALID` errors thrown while iterating; breaking out of the loop closes the file.
 *
 * @example
 * const report = await evaluate(model, readCsv('holdout.csv'), { label: 'is_fraud' });
 */
export function readCsv(path: string, options: ReadOptions = {}): AsyncGenerator<Record<string, CellValue>> {
  const { onBytes, ...csv } = options;
  return parseCsv(fileText(path, onBytes), csv);
}

/**
 * Reads a CSV file into typed columns (see `parseCsvColumns` in `@modelship/core`): the same
 * cells and errors as {@link readCsv}, from the file's bytes straight into `Float64Array`
 * blocks for the numeric columns. Hand it to `evaluate`, which fills the model's input tensor
 * from the columns; iterated as rows, it yields the records `readCsv` yields. The delimiter
 * defaults to `','` and must be one ASCII character.
 *
 * @example
 * const report = await evaluate(model, readCsvColumns('holdout.csv'), { label: 'is_fraud' });
 */
export function readCsvColumns(
  path: string,
  options: Pick<ReadOptions, 'delimiter' | 'signal' | 'onBytes'> = {},
): CsvColumns {
  return parseCsvColumns(fileChunks<Uint8Array>(path, options.onBytes), {
    delimiter: options.delimiter,
    signal: options.signal,
  });
}

/**
 * Reads a JSON Lines file (one JSON object per line, blank lines skipped) as a stream of rows;
 * see `parseJsonl` in `@modelship/core`.
 *
 * Nothing is read until iteration starts. A missing or unreadable file, a line that is not
 * JSON or not an object are `DATASET_INVALID` errors thrown while iterating.
 *
 * @example
 * for await (const row of readJsonl('requests.jsonl')) console.log(row.features);
 */
export function readJsonl(
  path: string,
  options: ReadJsonlOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  return parseJsonl(fileText(path, options.onBytes), {
    signal: options.signal,
    badRecords: options.badRecords,
  });
}

/**
 * Reads a data file as a stream of rows, choosing the format by the extension (any case):
 * `.csv` (comma-separated unless `delimiter` says otherwise), `.tsv` (tab-separated unless
 * `delimiter` says otherwise), `.jsonl` or `.ndjson` (JSON Lines; the CSV options are ignored).
 *
 * An unknown extension is a `DATASET_INVALID` error thrown at once, naming the known ones;
 * everything else fails while iterating, as in {@link readCsv} and {@link readJsonl}.
 *
 * @example
 * const report = await evaluate(model, readDataset(process.argv[2]), { label: 'label' });
 */
export function readDataset(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const ext = extname(path).toLowerCase();
  const format = datasetFormatOf(path);
  if (format === 'csv') return readCsv(path, options);
  if (format === 'tsv') return readCsv(path, { ...options, delimiter: options.delimiter ?? '\t' });
  if (format === 'jsonl')
    return readJsonl(path, {
      signal: options.signal,
      onBytes: options.onBytes,
      badRecords: options.badRecords,
    });
  throw new InputError(
    'DATASET_INVALID',
    `cannot tell the format of '${path}' from its extension ${ext === '' ? '(it has none)' : `'${ext}'`}; ` +
      'use .csv, .tsv, .jsonl or .ndjson',
    { details: { path } },
  );
}
