/**
 * The contract between the readers and writers of batch scoring (CSV, JSONL, Parquet; whole
 * files or one shard's share) and `predictBatches`: readers give blocks of rows with their
 * place in the file, writers take scored rows in input order.
 */
import type { CellValue } from '../evaluate/text-formats';

/** A run of consecutive data rows of a file; `firstRow` is the 0-based index of its first data row in the whole file. */
export interface RowBlock {
  firstRow: number;
  rows: Record<string, CellValue>[];
}

/** What a reader gives predict: blocks in file order. */
export type RowSource = AsyncIterable<RowBlock>;

/** Where scored rows go, in input order; `write` resolves when the block may be released (back-pressure). */
export interface RowSink {
  write(rows: readonly Record<string, CellValue>[]): Promise<void>;
  close(): Promise<void>;
}
