/**
 * The shapes a columnar reader hands out (see `parseCsvColumns`): blocks of rows column by
 * column. Kept apart from the parser, so `evaluate` reads blocks without carrying the parser.
 */
import type { CellValue } from './cell';

/**
 * One column of a block. `numbers[i]` is the cell's value when it is a number; otherwise it is
 * `NaN` and `others[i]` holds the cell (`null` for a missing value, or its text).
 */
export interface CsvColumn {
  readonly numbers: Float64Array;
  /** Cells that are not numbers; `undefined` when the block has none in this column. */
  readonly others: (string | null | undefined)[] | undefined;
}

/** Consecutive rows of a CSV, column by column. */
export interface ColumnBlock {
  /** The index of the block's first row in the data (0 is the first record after the header). */
  readonly offset: number;
  /** Rows in the block. */
  readonly length: number;
  /** The column names, as the header gives them. */
  readonly names: readonly string[];
  /** The columns, in the header's order. */
  readonly columns: readonly CsvColumn[];
}

/** The cell at row `i` of a column, as `parseCsv` would give it. */
export function cellAt(column: CsvColumn, i: number): CellValue {
  const other = column.others?.[i];
  return other === undefined ? column.numbers[i]! : other;
}

/** Row `i` of a block as the record `parseCsv` yields. */
export function rowAt(block: ColumnBlock, i: number): Record<string, CellValue> {
  const row: Record<string, CellValue> = {};
  for (let c = 0; c < block.names.length; c++) row[block.names[c]!] = cellAt(block.columns[c]!, i);
  return row;
}

/** Marks a columnar reader (`CsvColumns`), so `evaluate` knows it from any copy of the package. */
export const COLUMN_STREAM = Symbol.for('modelship.CsvColumns');

/** Something read once as blocks of typed columns: a `CsvColumns`. */
export interface ColumnStream {
  blocks(rows: number): AsyncIterable<ColumnBlock>;
}

/** True for a columnar reader (a `CsvColumns`) from any copy of the package. */
export function isColumnStream(value: unknown): value is ColumnStream {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COLUMN_STREAM] === true
  );
}
