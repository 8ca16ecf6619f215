/**
 * A record a reader could not parse, kept in its place among the rows (so row numbers stay
 * right and nothing is skipped unseen) when the reader is asked to mark bad records rather
 * than stop at them; `predictBatches` reports it as rejected with the reader's reason.
 */
import type { CellValue } from '../evaluate/cell';

/** The key a marked record carries; a symbol, so no column name can collide with it. */
const UNREADABLE = Symbol.for('modelship.unreadableRecord');

/** Why a record could not be read, where it starts and its text as read. */
export interface UnreadableRecord {
  /** The parser's message, naming the line. */
  reason: string;
  /** The 1-based line of the file where the record starts. */
  line: number;
  /** The record's text (for CSV, its fields as read, joined again). */
  raw: string;
}

/** A row standing for an unreadable record: it has no columns, only the marker. */
export function unreadableRow(record: UnreadableRecord): Record<string, CellValue> {
  return { [UNREADABLE]: record } as unknown as Record<string, CellValue>;
}

/** The unreadable record a row stands for, or `undefined` for an ordinary row. */
export function unreadableOf(row: unknown): UnreadableRecord | undefined {
  return typeof row === 'object' && row !== null
    ? ((row as { [UNREADABLE]?: UnreadableRecord })[UNREADABLE] ?? undefined)
    : undefined;
}
