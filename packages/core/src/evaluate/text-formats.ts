/**
 * Streaming readers for data sets as text: CSV (RFC 4180) and JSON Lines. They take text in
 * chunks split anywhere, so a file, a `fetch` body or an upload is read with memory bounded
 * by the longest record; Node and the browser only supply the chunks.
 */
import { AbortError, describe } from '../errors';
import type { AbortSignalLike } from '../model/model';
import { datasetError } from './dataset';

/** A CSV cell: a number, a string, or `null` for a missing value. */
export type CellValue = number | string | null;

export interface CsvOptions {
  /** Field separator, one character (default `','`; `'\t'` for TSV). */
  delimiter?: string;
  /** Read plain decimal numerals as numbers (default `true`); quoted cells stay strings. */
  numbers?: boolean;
  /** Stops reading between chunks: iteration throws `ABORTED`. */
  signal?: AbortSignalLike;
}

const NUMERAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MISSING = /^(nan|na|null)$/i;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function checkAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortError('reading the data set was aborted', { cause: signal.reason });
}

/**
 * Parses CSV text into rows keyed by the header. Empty cells and `NaN`/`NA`/`null` are `null`
 * (missing); unquoted decimal numerals are numbers; fully empty lines are skipped. A row with
 * the wrong number of fields, an unterminated quote, a stray quote, or a bad header is a
 * `DATASET_INVALID` error naming the line.
 *
 * @example
 * for await (const row of parseCsv(chunks)) console.log(row.amount);
 */
export async function* parseCsv(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: CsvOptions = {},
): AsyncGenerator<Record<string, CellValue>> {
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter))
    throw datasetError(
      `parseCsv: delimiter must be one character other than a quote or a line break, received ${describe(delimiter)}`,
    );
  const numbers = options.numbers !== false;
  const signal = options.signal;

  let header: string[] | undefined;
  let fields: CellValue[] = [];
  let field = '';
  let quoted = false; // the current field began with a quote
  let inQuotes = false; // inside the quotes of the current field
  let afterQuote = false; // just read the closing quote (or the first of a doubled pair)
  let line = 1; // physical line being read
  let recordLine = 1; // physical line where the current record began
  let pendingCr = false;
  let started = false; // the current record has content
  let first = true;

  const cell = (): CellValue => {
    if (quoted) return field;
    if (field === '' || MISSING.test(field)) return null;
    return numbers && NUMERAL.test(field) ? Number(field) : field;
  };
  const endField = (): void => {
    fields.push(cell());
    field = '';
    quoted = false;
    afterQuote = false;
  };
  const endRecord = (): Record<string, CellValue> | undefined => {
    if (!started) {
      // A fully empty line.
      fields = [];
      return undefined;
    }
    endField();
    const values = fields;
    fields = [];
    started = false;
    if (header === undefined) {
      header = values.map((v, i) => {
        const name = v === null ? '' : String(v);
        if (name === '')
          throw datasetError(`line ${recordLine}: header field ${i + 1} is empty; every column needs a name`);
        if (FORBIDDEN.has(name)) throw datasetError(`line ${recordLine}: '${name}' cannot be a column name`);
        return name;
      });
      const seen = new Set<string>();
      for (const name of header) {
        if (seen.has(name))
          throw datasetError(`line ${recordLine}: column '${name}' appears twice in the header`);
        seen.add(name);
      }
      return undefined;
    }
    if (values.length !== header.length) {
      throw datasetError(
        `line ${recordLine} has ${values.length} field${values.length === 1 ? '' : 's'}; the header has ${header.length}`,
      );
    }
    const row: Record<string, CellValue> = {};
    for (let i = 0; i < header.length; i++) row[header[i]!] = values[i]!;
    return row;
  };

  for await (const chunk of chunks as AsyncIterable<string>) {
    checkAborted(signal);
    if (typeof chunk !== 'string')
      throw datasetError(`parseCsv: chunks must be strings, received ${describe(chunk)}`);
    let text = chunk;
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const out: Record<string, CellValue>[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      const ch = text[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (ch === '\n') {
          i++;
          continue;
        }
      }
      if (inQuotes) {
        // Copy a run of ordinary characters at once.
        let j = i;
        while (j < n && text[j] !== '"') {
          if (text[j] === '\n' || (text[j] === '\r' && text[j + 1] !== '\n')) line++;
          j++;
        }
        field += text.slice(i, j);
        if (j < n) {
          inQuotes = false;
          afterQuote = true;
          j++;
        }
        i = j;
        continue;
      }
      if (afterQuote) {
        if (ch === '"') {
          // A doubled quote inside a quoted field.
          field += '"';
          inQuotes = true;
          afterQuote = false;
          i++;
          continue;
        }
        if (ch !== delimiter && ch !== '\n' && ch !== '\r')
          throw datasetError(`line ${line}: unexpected ${describe(ch)} after a closing quote`);
      }
      if (ch === delimiter) {
        started = true;
        endField();
        i++;
      } else if (ch === '\n' || ch === '\r') {
        const row = endRecord();
        if (row !== undefined) out.push(row);
        if (ch === '\r') pendingCr = true;
        line++;
        recordLine = line;
        i++;
      } else if (ch === '"') {
        if (field !== '' || quoted)
          throw datasetError(
            `line ${line}: a quote inside an unquoted field; quote the whole field and double inner quotes`,
          );
        started = true;
        quoted = true;
        inQuotes = true;
        i++;
      } else {
        let j = i;
        while (j < n) {
          const c = text[j]!;
          if (c === delimiter || c === '\n' || c === '\r' || c === '"') break;
          j++;
        }
        started = true;
        field += text.slice(i, j);
        i = j;
      }
    }
    yield* out;
  }
  checkAborted(signal);
  if (inQuotes)
    throw datasetError(`line ${recordLine}: a quoted field is not closed before the end of the data`);
  const last = endRecord();
  if (last !== undefined) yield last;
  if (header === undefined) throw datasetError('parseCsv: the CSV has no header');
}

/**
 * Parses JSON Lines: one JSON object per line, blank lines skipped. A line that is not JSON,
 * or not an object, is a `DATASET_INVALID` error naming the line.
 */
export async function* parseJsonl(
  chunks: AsyncIterable<string> | Iterable<string>,
  options: { signal?: AbortSignalLike } = {},
): AsyncGenerator<Record<string, unknown>> {
  let rest = '';
  let line = 0;
  const parse = (text: string): Record<string, unknown> | undefined => {
    line++;
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw datasetError(`line ${line} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw datasetError(`line ${line} is ${describe(value)}; each line must be a JSON object`);
    if (Object.hasOwn(value, '__proto__'))
      throw datasetError(`line ${line}: '__proto__' cannot be a column name`);
    return value as Record<string, unknown>;
  };
  for await (const chunk of chunks as AsyncIterable<string>) {
    checkAborted(options.signal);
    if (typeof chunk !== 'string')
      throw datasetError(`parseJsonl: chunks must be strings, received ${describe(chunk)}`);
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) {
      const row = parse(part);
      if (row !== undefined) yield row;
    }
  }
  checkAborted(options.signal);
  const row = parse(rest);
  if (row !== undefined) yield row;
}
