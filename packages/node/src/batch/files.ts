/**
 * Batch input and output files by extension: CSV, TSV, JSON Lines and Parquet in; CSV, JSON
 * Lines and Parquet out.
 */
import { extname } from 'node:path';
import type { BatchInput } from '@modelship/core/batch';
import { readDataset } from '../datasets';
import { parquetSink, readParquet } from './parquet';
import { type FileSink, rowFileSink, textFormatOf } from './sink';

/** The formats scores are written in. */
export type OutputFormat = 'csv' | 'jsonl' | 'parquet';

/** The output format a file's extension names (`.csv`, `.jsonl`, `.ndjson`, `.parquet`), or `undefined`. */
export function outputFormatOf(path: string): OutputFormat | undefined {
  return extname(path).toLowerCase() === '.parquet' ? 'parquet' : textFormatOf(path);
}

/**
 * Reads a batch input by its extension: Parquet as blocks of rows (`readParquet`), CSV, TSV and
 * JSON Lines as rows (`readDataset`, bad records marked so they are reported, not fatal).
 */
export function batchInput(path: string, onBytes?: (read: number, total: number) => void): BatchInput {
  if (extname(path).toLowerCase() === '.parquet') return readParquet(path);
  return readDataset(path, { badRecords: 'mark', onBytes });
}

/** Writes scores to a file in `format`: CSV or JSON Lines (`rowFileSink`), or Parquet (`parquetSink`). */
export function batchSink(path: string, format: OutputFormat): FileSink {
  return format === 'parquet' ? parquetSink(path) : rowFileSink(path, format);
}
