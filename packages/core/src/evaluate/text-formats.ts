/**
 * Streaming readers for data sets as text: CSV (RFC 4180) and JSON Lines. They take text in
 * chunks split anywhere, so a file, a `fetch` body or an upload is read with memory bounded
 * by the longest record; Node and the browser only supply the chunks.
 */

import { unreadableRow } from '../batch/unreadable';
import { describe, InputError, invalidArgument } from '../errors';
import { throwIfAborted } from '../model/abort';
import type { AbortSignalLike } from '../model/model';
import type { CellValue } from './cell';

// The one definition of a row lives with the data set types; re-exported so readers of this
// module name the rows they get without a second, drifting copy.
export type { Row } from './types';

export type { CellValue };

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /** Field separator: one character other than a quote or a line break (default `','`; `'\t'` for TSV). */
  delimiter?: string;
  /** Read unquoted plain decimal numerals as numbers (default `true`); quoted cells always stay strings. */
  numbers?: boolean;
  /** Stops reading between chunks: iteration throws an `AbortError` (`ABORTED`). */
  signal?: AbortSignalLike;
  /**
   * What a malformed data record does (default `'throw'`): stop the reading with its error, or
   * (`'mark'`) stand in its place as a row `predictBatches` reports as rejected, with the
   * reason and the record's text, while reading goes on. A bad header always throws.
   */
  badRecords?: 'throw' | 'mark';
}

/** Options of {@link parseJsonl}. */
export interface JsonlOptions {
  /** Stops reading between chunks: iteration throws an `AbortError` (`ABORTED`). */
  signal?: AbortSignalLike;
  /** What a line that is not a JSON object does: as in {@link CsvOptions.badRecords}. */
  badRecords?: 'throw' | 'mark';
}

function checkBadRecords(where: string, value: unknown): boolean {
  if (value !== undefined && value !== 'throw' && value !== 'mark')
    throw invalidArgument(where, "badRecords must be 'throw' or 'mark'", value);
  return value === 'mark';
}

const NUMERAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = /^(?:nan|na|null)$/i;
// Refused as column names: a row is a plain object, and these keys would reach or shadow its prototype.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const BOM = 0xfeff;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

function invalid(line: number, message: string): InputError {
  return new InputError('DATASET_INVALID', `line ${line}${message}`, { details: { line } });
}

function unquotedCell(text: string, numbers: boolean): CellValue {
  if (text === '' || MISSING.test(text)) return null;
  if (numbers && NUMERAL.test(text)) {
    const value = Number(text);
    // '1e999' is a numeral but not a finite number; keeping the text loses nothing.
    if (Number.isFinite(value)) return value;
  }
  return text;
}

/** At the start of a field (nothing read yet). */
const START = 0;
/** Inside an unquoted field. */
const UNQUOTED = 1;
/** Inside the quotes of a quoted field. */
const QUOTED = 2;
/** Just read a quote inside a quoted field: either the closing quote or the first of `""`. */
const QUOTE_SEEN = 3;
/** In a malformed record being marked: everything up to the line end is its text. */
const SKIP = 4;

/**
 * Parses CSV text (RFC 4180) into rows keyed by the header, the first record. Text may arrive
 * in chunks split anywhere (inside a quoted field, between `\r` and `\n`); memory stays bounded
 * by the longest record.
 *
 * - Line ends: `\r\n`, `\n` or a lone `\r`; a leading UTF-8 BOM is dropped; fully empty lines
 *   (and a final newline) make no row.
 * - Quoted fields may hold the delimiter, line breaks and doubled quotes `""`.
 * - Cells: empty, `NaN`, `NA` or `null` (any case) → `null`; an unquoted finite decimal
 *   numeral (`-1.5`, `.5`, `2e-3`) → number unless `numbers: false`; anything else, and every
 *   quoted cell (`""` → `''`), stays a string.
 *
 * Errors: an invalid `delimiter` is an `INVALID_ARGUMENT` error, thrown at once. A record
 * with a different number of fields from the header, an unclosed quote, a quote inside an
 * unquoted field, text after a closing quote, an empty, repeated or unsafe (`__proto__`,
 * `constructor`, `prototype`) column name, or no header at all are `DATASET_INVALID` errors
 * thrown while iterating; the message names the physical line (1-based) where the record
 * starts. An error from `chunks` itself passes through unchanged.
 *
 * @example
 * for await (const row of parseCsv(chunks)) console.log(row.amount);
 */
export function parseCsv(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: CsvOptions = {},
): AsyncGenerator<Record<string, CellValue>> {
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter))
    throw invalidArgument(
      'parseCsv',
      'delimiter must be one character other than a quote or a line break',
      delimiter,
    );
  const mark = checkBadRecords('parseCsv', options.badRecords);
  return csvRows(chunks, delimiter.charCodeAt(0), options.numbers !== false, options.signal, mark);
}

async function* csvRows(
  chunks: AsyncIterable<string> | Iterable<string>,
  delimiter: number,
  numbers: boolean,
  signal: AbortSignalLike | undefined,
  mark: boolean,
): AsyncGenerator<Record<string, CellValue>> {
  let header: string[] | undefined;
  // Why the current record is malformed, when bad records are marked rather than thrown.
  let bad: InputError | undefined;
  // The current record: raw field texts, and which of them were quoted.
  let texts: string[] = [];
  let quotedFields: boolean[] = [];
  let field = '';
  let state: number = START;
  let quoted = false;
  let inRecord = false; // the current record has content (so a line end emits it)
  let line = 1; // physical line of the next character
  let recordLine = 1; // physical line where the current record starts
  let afterCr = false; // the previous character was '\r', so a '\n' now ends the same line
  let first = true;

  const endField = (): void => {
    texts.push(field);
    quotedFields.push(quoted);
    field = '';
    quoted = false;
    state = START;
  };

  // Returns the finished record as a row, or undefined for the header or an empty line.
  const endRecord = (): Record<string, CellValue> | undefined => {
    if (!inRecord) return undefined;
    endField();
    const values = texts;
    const wasQuoted = quotedFields;
    texts = [];
    quotedFields = [];
    inRecord = false;
    if (header === undefined) {
      // Header names are taken as written: no numbers, no missing values.
      const seen = new Set<string>();
      for (let i = 0; i < values.length; i++) {
        const name = values[i]!;
        if (name === '')
          throw invalid(recordLine, `: header field ${i + 1} is empty; every column needs a name`);
        if (FORBIDDEN.has(name)) throw invalid(recordLine, `: '${name}' cannot be a column name`);
        if (seen.has(name)) throw invalid(recordLine, `: column '${name}' appears twice in the header`);
        seen.add(name);
      }
      header = values;
      return undefined;
    }
    if (bad !== undefined || values.length !== header.length) {
      const error =
        bad ??
        invalid(
          recordLine,
          ` has ${values.length} field${values.length === 1 ? '' : 's'}; the header has ${header.length}`,
        );
      bad = undefined;
      if (!mark) throw error;
      const raw = values
        .map((v, i) => (wasQuoted[i] ? `"${v.replaceAll('"', '""')}"` : v))
        .join(String.fromCharCode(delimiter));
      return unreadableRow({ reason: error.message, line: recordLine, raw });
    }
    // Safe as a plain object: the header check refused every name that could reach the prototype.
    const row: Record<string, CellValue> = {};
    for (let i = 0; i < header.length; i++)
      row[header[i]!] = wasQuoted[i] ? values[i]! : unquotedCell(values[i]!, numbers);
    return row;
  };

  // A malformed record being marked: the rest of its line is read as text into the field.
  const skip = (error: InputError): void => {
    bad = error;
    // The field's text as written, quotes and all, for the record's raw text.
    if (quoted) field = `"${field.replaceAll('"', '""')}"`;
    quoted = false;
    state = SKIP;
  };

  const startRecord = (): void => {
    if (!inRecord) {
      inRecord = true;
      recordLine = line;
    }
  };

  for await (const chunk of chunks as AsyncIterable<string>) {
    throwIfAborted(signal);
    if (typeof chunk !== 'string') throw invalidArgument('parseCsv', 'chunks must be strings', chunk);
    let i = 0;
    const n = chunk.length;
    if (first && n > 0) {
      first = false;
      if (chunk.charCodeAt(0) === BOM) i = 1;
    }
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (state === SKIP) {
        let j = i;
        for (; j < n; j++) {
          const d = chunk.charCodeAt(j);
          if (d === LF || d === CR) break;
        }
        field += chunk.slice(i, j);
        i = j;
        if (j < n) state = UNQUOTED; // the line end below ends the record
        continue;
      }
      if (state === QUOTED) {
        // Copy the run up to the next quote at once, counting the line breaks inside it.
        let j = i;
        for (; j < n; j++) {
          const d = chunk.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === CR || (d === LF && !afterCr)) line++;
          afterCr = d === CR;
        }
        field += chunk.slice(i, j);
        if (j < n) {
          state = QUOTE_SEEN;
          afterCr = false;
          j++;
        }
        i = j;
        continue;
      }
      if (state === QUOTE_SEEN) {
        if (c === QUOTE) {
          field += '"';
          state = QUOTED;
          i++;
          continue;
        }
        if (c !== delimiter && c !== LF && c !== CR) {
          const error = invalid(recordLine, `: unexpected ${describe(chunk[i])} after a closing quote`);
          if (!mark || header === undefined) throw error;
          skip(error);
          continue;
        }
        // The field is closed: the delimiter or line end is handled below.
      }
      if (c === delimiter) {
        startRecord();
        endField();
        i++;
      } else if (c === LF || c === CR) {
        const row = endRecord();
        if (!(c === LF && afterCr)) line++;
        afterCr = c === CR;
        i++;
        if (row !== undefined) yield row;
        continue;
      } else if (c === QUOTE) {
        if (state !== START) {
          const error = invalid(
            recordLine,
            ': a quote inside an unquoted field; quote the whole field and double the quotes inside it',
          );
          if (!mark || header === undefined) throw error;
          skip(error);
          continue;
        }
        startRecord();
        quoted = true;
        state = QUOTED;
        i++;
      } else {
        let j = i + 1;
        for (; j < n; j++) {
          const d = chunk.charCodeAt(j);
          if (d === delimiter || d === LF || d === CR || d === QUOTE) break;
        }
        startRecord();
        field += chunk.slice(i, j);
        state = UNQUOTED;
        i = j;
      }
      afterCr = false;
    }
  }
  throwIfAborted(signal);
  if (state === QUOTED) {
    const error = invalid(recordLine, ': a quoted field is not closed before the end of the data');
    if (!mark || header === undefined) throw error;
    bad = error;
  }
  const last = endRecord();
  if (header === undefined)
    throw new InputError('DATASET_INVALID', 'the CSV has no header: it holds no records', {
      details: { line: 1 },
    });
  if (last !== undefined) yield last;
}

/**
 * Parses JSON Lines: one JSON object per line (`\n` or `\r\n`), as rows. Text may arrive in
 * chunks split anywhere; memory stays bounded by the longest line. Blank lines are skipped and
 * a leading UTF-8 BOM is dropped.
 *
 * A line that is not valid JSON (the message includes the parser's), that holds something
 * other than an object (an array, `null`, a number...), or whose object has its own
 * `__proto__` key is a `DATASET_INVALID` error naming the line (1-based), thrown while
 * iterating. An error from `chunks` itself passes through unchanged.
 *
 * @example
 * for await (const row of parseJsonl(response.body.pipeThrough(new TextDecoderStream()))) use(row);
 */
export async function* parseJsonl(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: JsonlOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const signal = options.signal;
  const mark = checkBadRecords('parseJsonl', options.badRecords);
  // The unfinished last line, as pieces: joining only once the line ends keeps the work linear
  // however finely a long line is chunked.
  let pieces: string[] = [];
  let line = 0;
  let first = true;

  const parse = (text: string): Record<string, unknown> | undefined => {
    line++;
    const body = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (body.trim() === '') return undefined;
    if (!mark) return parseLine(body);
    try {
      return parseLine(body);
    } catch (e) {
      return unreadableRow({ reason: (e as Error).message, line, raw: body });
    }
  };

  const parseLine = (body: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw invalid(line, ` is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw invalid(line, ` is ${describe(value)}; each line must be a JSON object`);
    // JSON.parse makes '__proto__' an own key; code copying the row with assignment would
    // then replace the copy's prototype.
    if (Object.hasOwn(value, '__proto__')) throw invalid(line, `: '__proto__' cannot be a column name`);
    return value as Record<string, unknown>;
  };

  for await (const chunk of chunks as AsyncIterable<string>) {
    throwIfAborted(signal);
    if (typeof chunk !== 'string') throw invalidArgument('parseJsonl', 'chunks must be strings', chunk);
    let start = 0;
    if (first && chunk.length > 0) {
      first = false;
      if (chunk.charCodeAt(0) === BOM) start = 1;
    }
    for (;;) {
      const end = chunk.indexOf('\n', start);
      if (end === -1) {
        if (start < chunk.length) pieces.push(chunk.slice(start));
        break;
      }
      const piece = chunk.slice(start, end);
      const text = pieces.length === 0 ? piece : pieces.join('') + piece;
      pieces = [];
      start = end + 1;
      const row = parse(text);
      if (row !== undefined) yield row;
    }
  }
  throwIfAborted(signal);
  const row = parse(pieces.join(''));
  if (row !== undefined) yield row;
}
