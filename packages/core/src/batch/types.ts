/**
 * The contract between the readers and writers of batch scoring (CSV, JSONL, Parquet; whole
 * files or one shard's share) and `predictBatches`: readers give blocks of rows with their
 * place in the file, writers take scored rows in input order.
 */
import type { CellValue } from '../evaluate/cell';

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

/** A row that was not scored: which one, why, and the row as read. */
export interface Rejection {
  /** The row's 0-based index among the data rows of the whole input (as `RowBlock.firstRow`). */
  row: number;
  /** The error code: `DATASET_INVALID` for a record that could not be read, else the input check's (`INPUT_NOT_FINITE`, …). */
  code: string;
  /** The message, naming the column or field and what was wrong. */
  reason: string;
  /** The row: its columns as read, or for a record that could not be parsed, its text. */
  raw: unknown;
}

/** One batch of `predictBatches`' answer, in input order. */
export interface ScoredBatch {
  /** The 0-based index of the batch's first input row in the whole input. */
  firstRow: number;
  /** Input rows the batch covers: `rows.length + rejected.length`. */
  count: number;
  /** One row per scored input row, in input order: the kept columns, then the output columns. */
  rows: Record<string, CellValue>[];
  /** The batch's rows that were not scored, in input order. */
  rejected: Rejection[];
}
