/**
 * CSV read from bytes straight into typed columns, in blocks of rows: no row object and no
 * string per numeric cell. Same cells, same numbers (bit for bit) and same errors as
 * `parseCsv`; `evaluate` fills a model's input tensor from the blocks' columns, and anything
 * that wants records still gets them (the stream is also an iterable of rows).
 */

import { describe, InputError, invalidArgument } from '../errors';
import { throwIfAborted } from '../model/abort';
import type { AbortSignalLike } from '../model/model';
import { utf8, utf8Decoder } from '../signing/encoding';
import type { CellValue } from './cell';
import { COLUMN_STREAM, type ColumnBlock, isColumnStream, rowAt } from './column-block';
import { decimalAt, POW10 } from './decimal';

/** Options of {@link parseCsvColumns}. */
export interface CsvColumnsOptions {
  /** Field separator: one ASCII character other than a quote or a line break (default `','`). */
  delimiter?: string;
  /** Stops reading between chunks: iteration throws an `AbortError` (`ABORTED`). */
  signal?: AbortSignalLike;
}

/** Rows per block when the reader is iterated as rows. */
const DEFAULT_BLOCK = 65_536;

/**
 * A CSV being read into columns; read it once, either with {@link CsvColumns.blocks} (typed
 * columns) or as an async iterable of rows (the records `parseCsv` yields).
 */
export class CsvColumns implements AsyncIterable<Record<string, CellValue>> {
  private used = false;

  constructor(
    private readonly chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    private readonly delimiter: number,
    private readonly signal: AbortSignalLike | undefined,
  ) {
    Object.defineProperty(this, COLUMN_STREAM, { value: true });
  }

  /** True for a `CsvColumns` (from any copy of the package). */
  static isInstance(value: unknown): value is CsvColumns {
    return isColumnStream(value);
  }

  /**
   * The data in blocks of `rows` rows (the last may be shorter). The number arrays are new for
   * each block, so a consumer may keep them.
   */
  async *blocks(rows: number = DEFAULT_BLOCK): AsyncGenerator<ColumnBlock> {
    if (!Number.isInteger(rows) || rows < 1)
      throw invalidArgument('CsvColumns.blocks', 'rows must be a positive integer', rows);
    if (this.used)
      throw invalidArgument('CsvColumns.blocks', 'the CSV was read already; it can be read once', rows);
    this.used = true;
    const parser = new BlockParser(this.delimiter, rows);
    let carry: Uint8Array | undefined;
    for await (const chunk of this.chunks as AsyncIterable<Uint8Array | string>) {
      throwIfAborted(this.signal);
      let bytes: Uint8Array;
      if (typeof chunk === 'string') bytes = utf8(chunk);
      else if (chunk instanceof Uint8Array) bytes = chunk;
      else throw invalidArgument('parseCsvColumns', 'chunks must be Uint8Arrays or strings', chunk);
      if (carry !== undefined && carry.length > 0) {
        const joined = new Uint8Array(carry.length + bytes.length);
        joined.set(carry);
        joined.set(bytes, carry.length);
        bytes = joined;
      }
      const used = parser.feed(bytes, false);
      carry = used < bytes.length ? bytes.slice(used) : undefined;
      yield* parser.take();
    }
    throwIfAborted(this.signal);
    parser.feed(carry ?? new Uint8Array(0), true);
    yield* parser.take();
    const last = parser.finish();
    if (last !== undefined) yield last;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Record<string, CellValue>> {
    for await (const block of this.blocks()) for (let i = 0; i < block.length; i++) yield rowAt(block, i);
  }
}

/**
 * Reads CSV bytes (or text) into typed columns: see {@link CsvColumns}. The text is read as
 * `parseCsv` reads it (RFC 4180 quoting, `\r\n`/`\n`/`\r` line ends, a UTF-8 BOM dropped, empty
 * lines skipped; unquoted finite numerals are numbers, empty cells and `NaN`/`NA`/`null` are
 * missing, other cells and every quoted cell are text) and fails as it fails, with the same
 * `DATASET_INVALID` messages; only `badRecords: 'mark'` is not offered. A delimiter that is
 * not one ASCII character (other than a quote or a line break) is an `INVALID_ARGUMENT` error,
 * thrown at once.
 *
 * @example
 * for await (const block of parseCsvColumns(chunks).blocks(4096)) total += block.length;
 */
export function parseCsvColumns(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: CsvColumnsOptions = {},
): CsvColumns {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('parseCsvColumns', 'options must be an object', options);
  const delimiter = options.delimiter ?? ',';
  if (
    typeof delimiter !== 'string' ||
    delimiter.length !== 1 ||
    delimiter.charCodeAt(0) > 0x7f ||
    /["\r\n]/.test(delimiter)
  )
    throw invalidArgument(
      'parseCsvColumns',
      'delimiter must be one ASCII character other than a quote or a line break',
      delimiter,
    );
  if (
    chunks === null ||
    typeof chunks !== 'object' ||
    (typeof (chunks as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function' &&
      typeof (chunks as Iterable<unknown>)[Symbol.iterator] !== 'function')
  )
    throw invalidArgument('parseCsvColumns', 'chunks must be an iterable of Uint8Arrays or strings', chunks);
  return new CsvColumns(chunks, delimiter.charCodeAt(0), options.signal);
}

const QUOTE = 0x22;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const TWO_53 = 2 ** 53;
/** Field kinds while a record is read. */
const UNQUOTED = 0;
const QUOTED = 1;
const NUMBER = 2;
const LF = 0x0a;
const CR = 0x0d;
// Refused as column names, as parseCsv refuses them.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function invalid(line: number, message: string): InputError {
  return new InputError('DATASET_INVALID', `line ${line}${message}`, { details: { line } });
}

/** `NaN`, `NA` or `null` in any case: a missing value, as `parseCsv` reads it. */
function isMissingWord(b: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n === 2) return (b[s]! | 0x20) === 0x6e && (b[s + 1]! | 0x20) === 0x61;
  if (n === 3) return (b[s]! | 0x20) === 0x6e && (b[s + 1]! | 0x20) === 0x61 && (b[s + 2]! | 0x20) === 0x6e;
  if (n === 4)
    return (
      (b[s]! | 0x20) === 0x6e &&
      (b[s + 1]! | 0x20) === 0x75 &&
      (b[s + 2]! | 0x20) === 0x6c &&
      (b[s + 3]! | 0x20) === 0x6c
    );
  return false;
}

/**
 * The state machine. `feed` parses whole records from a buffer and returns where the first
 * unfinished one starts; the caller hands those bytes back in front of the next chunk, so a
 * record is always parsed from its start (a record spanning chunks is scanned again, which
 * costs little next to chunks of many records).
 */
class BlockParser {
  private header: string[] | undefined;
  private readonly decoder = utf8Decoder();
  private line = 1;
  private afterCr = false;
  private started = false;
  private offset = 0;
  private row = 0;
  private columns: { numbers: Float64Array; others: (string | null | undefined)[] | undefined }[] = [];
  private full: ColumnBlock[] = [];
  // The fields of the record being read: starts, ends and whether quoted (reused arrays).
  private starts: number[] = [];
  private ends: number[] = [];
  private kinds: number[] = [];
  // The value of each field read as a number while scanning (kind NUMBER).
  private values: number[] = [];

  constructor(
    private readonly delimiter: number,
    private readonly size: number,
  ) {}

  feed(b: Uint8Array, final: boolean): number {
    let p = 0;
    const n = b.length;
    if (!this.started) {
      if (n < 3 && !final) return 0;
      this.started = true;
      if (n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) p = 3;
    }
    const delimiter = this.delimiter;
    const starts = this.starts;
    const ends = this.ends;
    const kinds = this.kinds;
    const values = this.values;
    while (p < n) {
      const c0 = b[p]!;
      if (c0 === LF || c0 === CR) {
        // An empty line (or the LF of a CRLF whose CR ended the last record).
        if (!(c0 === LF && this.afterCr)) this.line++;
        this.afterCr = c0 === CR;
        p++;
        continue;
      }
      // A record, from its first field to an unquoted line end. Errors name its first line.
      const first = this.line;
      let line = first;
      let fields = 0;
      let i = p;
      for (;;) {
        if (i < n && b[i] === QUOTE) {
          // A quoted field: runs to the closing quote, `""` inside it standing for a quote.
          const s = i + 1;
          let j = s;
          let afterCr = false;
          for (;;) {
            while (j < n && b[j] !== QUOTE) {
              const d = b[j]!;
              if (d === CR || (d === LF && !afterCr)) line++;
              afterCr = d === CR;
              j++;
            }
            afterCr = false;
            if (j + 1 < n && b[j + 1] === QUOTE) j += 2;
            else break;
          }
          if (j + 1 >= n && !final) return p; // the field, or whether a quote follows, is not here yet
          if (j >= n) throw invalid(first, ': a quoted field is not closed before the end of the data');
          starts[fields] = s;
          ends[fields] = j;
          kinds[fields] = QUOTED;
          fields++;
          i = j + 1;
          if (i < n) {
            const c = b[i]!;
            if (c !== delimiter && c !== LF && c !== CR) {
              // The message quotes the character: wait for all of its bytes.
              if (i + sequenceLength(c) > n && !final) return p;
              throw invalid(first, `: unexpected ${describe(charAt(b, i))} after a closing quote`);
            }
          }
        } else {
          // The usual cell first: a plain decimal numeral without exponent, read as it is
          // scanned (the digits as an integer below 2^53 over a power of ten up to 10^22 is
          // Clinger's exact case, as in decimalAt). Anything else is scanned again below.
          let j = i;
          let negative = false;
          if (j < n && (b[j] === MINUS || b[j] === PLUS)) negative = b[j++] === MINUS;
          const digits = j;
          let mantissa = 0;
          let scale = 0;
          for (; j < n; j++) {
            const d = b[j]! - ZERO;
            if (d < 0 || d > 9) break;
            mantissa = mantissa * 10 + d;
          }
          let count = j - digits;
          if (j < n && b[j] === DOT) {
            const dot = ++j;
            for (; j < n; j++) {
              const d = b[j]! - ZERO;
              if (d < 0 || d > 9) break;
              mantissa = mantissa * 10 + d;
            }
            scale = j - dot;
            count += scale;
          }
          const next = j < n ? b[j]! : QUOTE;
          if (
            count > 0 &&
            scale <= 22 &&
            mantissa < TWO_53 &&
            (next === delimiter || next === LF || next === CR)
          ) {
            const v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
            values[fields] = negative ? -v : v;
            kinds[fields] = NUMBER;
            starts[fields] = i;
            ends[fields] = j;
            fields++;
            i = j;
          } else {
            j = i;
            while (j < n) {
              const d = b[j]!;
              if (d === delimiter || d === LF || d === CR) break;
              if (d === QUOTE)
                throw invalid(
                  first,
                  ': a quote inside an unquoted field; quote the whole field and double the quotes inside it',
                );
              j++;
            }
            starts[fields] = i;
            ends[fields] = j;
            kinds[fields] = UNQUOTED;
            fields++;
            i = j;
          }
        }
        if (i >= n) {
          if (!final) return p;
          this.line = line;
          break;
        }
        const c = b[i++]!;
        if (c === delimiter) continue;
        // An unquoted line end closes the record.
        this.line = line + 1;
        this.afterCr = c === CR;
        break;
      }
      this.record(b, fields, first);
      p = i;
    }
    return p;
  }

  /** Stores a finished record: the header, or a row of the current block. */
  private record(b: Uint8Array, fields: number, line: number): void {
    const header = this.header;
    if (header === undefined) {
      const names: string[] = [];
      const seen = new Set<string>();
      for (let f = 0; f < fields; f++) {
        const name = this.text(b, f);
        if (name === '') throw invalid(line, `: header field ${f + 1} is empty; every column needs a name`);
        if (FORBIDDEN.has(name)) throw invalid(line, `: '${name}' cannot be a column name`);
        if (seen.has(name)) throw invalid(line, `: column '${name}' appears twice in the header`);
        seen.add(name);
        names.push(name);
      }
      this.header = names;
      this.columns = this.newColumns();
      return;
    }
    if (fields !== header.length)
      throw invalid(line, ` has ${fields} field${fields === 1 ? '' : 's'}; the header has ${header.length}`);
    const r = this.row;
    const starts = this.starts;
    const ends = this.ends;
    for (let f = 0; f < fields; f++) {
      const column = this.columns[f]!;
      const kind = this.kinds[f];
      if (kind === NUMBER) {
        column.numbers[r] = this.values[f]!;
        if (column.others !== undefined) column.others[r] = undefined;
        continue;
      }
      const s = starts[f]!;
      const e = ends[f]!;
      if (kind === UNQUOTED) {
        if (s === e || isMissingWord(b, s, e)) {
          this.other(column, r, null);
          continue;
        }
        const v = decimalAt(b, s, e);
        // '1e999' is a numeral but not a finite number: it stays text, as in parseCsv.
        if (v !== undefined && v - v === 0) {
          column.numbers[r] = v;
          if (column.others !== undefined) column.others[r] = undefined;
          continue;
        }
      }
      this.other(column, r, this.text(b, f));
    }
    this.row = r + 1;
    if (this.row === this.size) {
      this.full.push(this.block(this.size));
      this.columns = this.newColumns();
      this.offset += this.size;
      this.row = 0;
    }
  }

  private other(
    column: { numbers: Float64Array; others: (string | null | undefined)[] | undefined },
    r: number,
    value: string | null,
  ): void {
    column.numbers[r] = Number.NaN;
    column.others ??= new Array(this.size);
    column.others[r] = value;
  }

  /** Field `f` of the current record as text (a quoted field unescaped). */
  private text(b: Uint8Array, f: number): string {
    const s = this.starts[f]!;
    const e = this.ends[f]!;
    let ascii = e - s <= 32;
    for (let i = s; ascii && i < e; i++) if (b[i]! > 0x7f) ascii = false;
    const text = ascii
      ? String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[])
      : this.decoder.decode(b.subarray(s, e));
    return this.kinds[f] === QUOTED && text.includes('"') ? text.replaceAll('""', '"') : text;
  }

  private newColumns(): { numbers: Float64Array; others: (string | null | undefined)[] | undefined }[] {
    return this.header!.map(() => ({ numbers: new Float64Array(this.size), others: undefined }));
  }

  private block(length: number): ColumnBlock {
    const columns = this.columns.map((c) =>
      length === this.size
        ? c
        : {
            numbers: c.numbers.subarray(0, length),
            others: c.others?.slice(0, length),
          },
    );
    return { offset: this.offset, length, names: this.header!, columns };
  }

  /** Full blocks ready to hand out. */
  take(): ColumnBlock[] {
    const full = this.full;
    this.full = [];
    return full;
  }

  finish(): ColumnBlock | undefined {
    if (this.header === undefined)
      throw new InputError('DATASET_INVALID', 'the CSV has no header: it holds no records', {
        details: { line: 1 },
      });
    return this.row === 0 ? undefined : this.block(this.row);
  }
}

/** The character at byte `i` (a UTF-8 sequence decoded), for a message. */
function charAt(b: Uint8Array, i: number): string {
  return Array.from(utf8Decoder().decode(b.subarray(i, i + sequenceLength(b[i]!))))[0] ?? '';
}

/** Bytes in the UTF-8 sequence a lead byte starts. */
function sequenceLength(lead: number): number {
  return lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}
