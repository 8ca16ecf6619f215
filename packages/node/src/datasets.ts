import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { type CellValue, type CsvOptions, InputError, parseCsv, parseJsonl } from '@modelship/core';

/** Options of the file readers. */
export interface ReadOptions extends CsvOptions {
  /** Called as the file is read, with the bytes read so far and the file's size. */
  onBytes?: (read: number, total: number) => void;
}

/**
 * Streams a file's text as chunks: UTF-8 decoded by the stream (characters split across
 * chunks are joined), with byte progress. A file that cannot be opened is a `DATASET_INVALID`
 * error on the first read.
 */
async function* chunksOf(path: string, onBytes: ReadOptions['onBytes']): AsyncGenerator<string> {
  let total: number;
  try {
    total = (await stat(path)).size;
  } catch (e) {
    throw new InputError('DATASET_INVALID', `cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
  const stream = createReadStream(path);
  const decoder = new TextDecoder('utf-8');
  let read = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      onBytes?.(read, total);
      yield decoder.decode(chunk, { stream: true });
    }
  } catch (e) {
    if ((e as { code?: string }).code !== undefined && !(e instanceof InputError))
      throw new InputError('DATASET_INVALID', `cannot read '${path}': ${(e as Error).message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}

/**
 * Reads a CSV file as a stream of rows (see `parseCsv`): the header names the columns, numerals
 * become numbers, empty cells `null`.
 *
 * @example
 * const report = await evaluate(model, readCsv('holdout.csv'), { label: 'is_fraud' });
 */
export function readCsv(path: string, options: ReadOptions = {}): AsyncGenerator<Record<string, CellValue>> {
  const { onBytes, ...csv } = options;
  return parseCsv(chunksOf(path, onBytes), csv);
}

/** Reads a JSON Lines file (one object per line) as a stream of rows. */
export function readJsonl(
  path: string,
  options: Pick<ReadOptions, 'onBytes' | 'signal'> = {},
): AsyncGenerator<Record<string, unknown>> {
  return parseJsonl(chunksOf(path, options.onBytes), { signal: options.signal });
}

/**
 * Reads a data file by its extension: `.csv`, `.tsv` (tab-separated), `.jsonl` or `.ndjson`.
 * Any other extension is a `DATASET_INVALID` error.
 */
export function readDataset(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return readCsv(path, options);
  if (ext === '.tsv') return readCsv(path, { delimiter: '\t', ...options });
  if (ext === '.jsonl' || ext === '.ndjson') return readJsonl(path, options);
  throw new InputError(
    'DATASET_INVALID',
    `cannot tell the format of '${path}' from its extension; use .csv, .tsv, .jsonl or .ndjson`,
  );
}
