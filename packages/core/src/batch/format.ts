/**
 * Scored rows as text: CSV (RFC 4180, read back by `parseCsv` as the same values) and JSON
 * Lines. Pure string work; the node package writes the text to files with back-pressure.
 */
import { invalidArgument } from '../errors';
import type { CellValue } from '../evaluate/cell';
import type { Rejection } from './types';

/** The output formats the text writers know. */
export type TextFormat = 'csv' | 'jsonl';

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;
// Text that `parseCsv` would read as a number or a missing value unless quoted.
const LOOKS_SPECIAL = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|nan|na|null)$/i;

/** One CSV cell: null empty, numbers as JavaScript prints them, strings quoted when needed to read back the same. */
export function csvCell(value: CellValue, delimiter = ','): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (value === '' || LOOKS_SPECIAL.test(value) || NEEDS_QUOTES.test(value) || value.includes(delimiter))
    return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** Options of {@link textFormatter}. */
export interface TextFormatterOptions {
  /**
   * CSV: write the header line before the first row (default true). Pieces of one file
   * formatted apart (on worker threads) leave it out, and the writer puts `header` once at the top.
   */
  header?: boolean;
}

/**
 * Formats rows as text: JSON Lines one object a line; CSV with the columns of the first row it
 * formats, written as the header before that row (a later row lacking one gets an empty cell).
 *
 * @example
 * const csv = textFormatter('csv');
 * csv.format([{ id: 7, probability: 0.93 }]); // 'id,probability\n7,0.93\n'
 */
export function textFormatter(
  format: TextFormat,
  options: TextFormatterOptions = {},
): {
  format(rows: readonly Record<string, CellValue>[]): string;
  readonly columns: readonly string[] | undefined;
  /** CSV: the header line (with its line end) of the columns, once a row has been formatted; else ''. */
  readonly header: string;
} {
  if (format !== 'csv' && format !== 'jsonl')
    throw invalidArgument('textFormatter', "format must be 'csv' or 'jsonl'", format);
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('textFormatter', 'options must be an object', options);
  if (options.header !== undefined && typeof options.header !== 'boolean')
    throw invalidArgument('textFormatter', 'header must be true or false', options.header);
  const withHeader = options.header !== false;
  let columns: string[] | undefined;
  let header = '';
  return {
    get columns() {
      return columns;
    },
    get header() {
      return header;
    },
    format(rows) {
      if (rows.length === 0) return '';
      let text = '';
      if (columns === undefined) {
        columns = Object.keys(rows[0]!);
        if (format === 'csv') header = `${columns.map((c) => csvCell(c)).join(',')}\n`;
        if (withHeader) text += header;
      }
      const cols = columns;
      // One join makes the whole text flat: the last empty part gives the final line end, and
      // the header goes in front of the first line. (`${parts.join('\n')}\n` is a cons string,
      // copied once more when written: a batch of 1,024 MLP rows is ~256 KB, large-object space.)
      const parts: string[] = new Array(rows.length + 1);
      parts[rows.length] = '';
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        if (format === 'csv') {
          let line = csvCell(row[cols[0]!] ?? null);
          for (let c = 1; c < cols.length; c++) line += `,${csvCell(row[cols[c]!] ?? null)}`;
          parts[r] = line;
        } else {
          // Each line names its own fields, so the row is written as it is.
          parts[r] = JSON.stringify(row);
        }
      }
      if (text !== '') parts[0] = text + parts[0];
      return parts.join('\n');
    },
  };
}

/**
 * Rejected rows as JSON Lines, one `{ row, code, reason, raw }` object a line (`raw`: the row
 * as read, or the text of a record that could not be parsed; bigints as their digits).
 */
export function rejectionsText(rejected: readonly Rejection[]): string {
  let text = '';
  for (const r of rejected)
    text += `${JSON.stringify({ row: r.row, code: r.code, reason: r.reason, raw: r.raw }, (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    )}\n`;
  return text;
}
