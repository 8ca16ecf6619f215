/**
 * CSV and JSON Lines files cut into blocks of bytes that start and end on record boundaries,
 * found in one pass over the bytes, and one block read back as rows. Shared by `--shard` (every
 * n-th block to a process) and `--workers` (blocks handed to worker threads in turn).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { type CellValue, InputError, parseCsv, parseJsonl } from '@modelship/core';
import { type RowBlock, unreadableOf, unreadableRow } from '@modelship/core/batch';
import { cannotRead } from '../datasets';

/** A block of a text file: its byte range `[start, end)`, its rows and where they are in the whole file. */
export interface TextBlock {
  /** 0-based, in file order. */
  index: number;
  /** The 0-based index of its first data row in the whole file. */
  firstRow: number;
  /** Data rows in the block. */
  rows: number;
  start: number;
  end: number;
  /** The 1-based line of the file where the block starts, as the readers count lines. */
  firstLine: number;
}

/** Options of {@link cutText}. */
export interface CutOptions {
  format: 'csv' | 'jsonl';
  /** CSV: the delimiter's character code. */
  delimiter: number;
  /** The target size of a block in bytes; a block ends at the first record boundary after it. */
  blockBytes: number;
  /**
   * Blocks other than the last hold a multiple of this many rows (default 1), so batches of this
   * size cut from each block are the batches a reader of the whole file would make.
   */
  rowMultiple?: number;
  /**
   * Cut only after a `\n`, never between the `\r` and `\n` of a CRLF line end (default false:
   * after any line end), so that a block read after the header counts its lines as the whole
   * file does.
   */
  afterLf?: boolean;
}

/** What {@link cutText} found of the CSV header: its bytes (with its line end); 0 for JSON Lines. */
export interface CutHeader {
  bytes: number;
}

/** Bytes read at a time by {@link cutText}. */
const CUT_CHUNK = 1 << 20;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a CSV or JSON Lines file into blocks (see {@link TextBlock}), yielding each as soon as
 * the scan passes its end, so blocks can be read while the rest of the file is scanned. For CSV
 * the scan follows the quotes as `parseCsv` does (a line break inside a quoted field is not a
 * boundary, and a malformed record ends at its line end, as when bad records are marked); rows
 * are counted as the readers count them (an empty line, or a JSONL line of ASCII white space, is
 * no row). `header.bytes` is set once the header has been read (before the first block).
 */
export async function* cutText(
  path: string,
  options: CutOptions,
  header: CutHeader,
): AsyncGenerator<TextBlock> {
  const { format, blockBytes } = options;
  const multiple = options.rowMultiple ?? 1;
  const scan = format === 'jsonl' ? jsonlScanner() : csvScanner(options.delimiter);
  const lines = lineCounter(format);
  let index = 0;
  let start = format === 'jsonl' ? 0 : -1; // where the current block starts (-1: in the CSV header)
  let firstRow = 0;
  let firstLine = 1;
  let rows = 0;
  let headerCr = false;
  let ready: TextBlock[] = [];
  let chunk: Buffer = Buffer.alloc(0);
  let offset = 0;
  const cut = (end: number): void => {
    if (end > start) ready.push({ index: index++, firstRow, rows, start, end, firstLine });
    firstRow += rows;
    rows = 0;
    start = end;
    firstLine = lines.to(chunk, offset, end);
  };
  header.bytes = 0;
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    // One buffer for every read: a fresh 1 MiB chunk a read (as a read stream gives) is an mmap
    // of its own, and the kernel faults in each of its pages again (measured: ~23,000 page faults
    // and ~0.3 s of system time on a 94 MB file). The scan is done with a chunk before the next read.
    const buffer = Buffer.allocUnsafeSlow(CUT_CHUNK);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CUT_CHUNK, null);
      if (bytesRead === 0) break;
      chunk = buffer.subarray(0, bytesRead);
      scan(chunk, (at, isRow) => {
        // A record ended just before byte `offset + at` (the byte after its line end).
        const crlf = options.afterLf === true && chunk[at - 1] === CR;
        if (start === -1) {
          if (!isRow) return;
          header.bytes = offset + at;
          start = header.bytes;
          headerCr = crlf;
          firstLine = lines.to(chunk, offset, start);
          return;
        }
        if (headerCr) {
          headerCr = false;
          // The `\n` of the header's CRLF belongs to the header.
          if (!isRow && offset + at === start + 1 && chunk[at - 1] === LF) {
            header.bytes = start = offset + at;
            firstLine = lines.to(chunk, offset, start);
            return;
          }
        }
        if (isRow) rows++;
        if (offset + at - start >= blockBytes && rows % multiple === 0 && !crlf) cut(offset + at);
      });
      offset += chunk.length;
      lines.to(chunk, offset - chunk.length, offset);
      if (ready.length > 0) {
        const out = ready;
        ready = [];
        yield* out;
      }
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw cannotRead(path, e);
  } finally {
    await file?.close();
  }
  // The last record may have no line end.
  if (scan.pending()) {
    if (start === -1) header.bytes = offset;
    else rows++;
  }
  if (start === -1) start = offset;
  chunk = Buffer.alloc(0);
  cut(offset);
  yield* ready;
}

/**
 * Counts line breaks as the readers number lines: for CSV a `\r`, or a `\n` not right after a
 * `\r`; for JSON Lines a `\n`. `to(chunk, at, end)` counts up to file position `end` (within the
 * chunk that starts at file position `at`) and returns the line number there.
 */
function lineCounter(format: 'csv' | 'jsonl') {
  let counted = 0; // file position counted up to
  let breaks = 0;
  let lastCr = false; // the byte before `counted` is `\r`
  return {
    to(chunk: Buffer, at: number, end: number): number {
      const from = counted - at;
      const to = end - at;
      if (to > from && from >= 0) {
        for (let i = chunk.indexOf(LF, from); i !== -1 && i < to; i = chunk.indexOf(LF, i + 1))
          if (format === 'jsonl' || !(i === from ? lastCr : chunk[i - 1] === CR)) breaks++;
        if (format === 'csv')
          for (let i = chunk.indexOf(CR, from); i !== -1 && i < to; i = chunk.indexOf(CR, i + 1)) breaks++;
        lastCr = chunk[to - 1] === CR;
        counted = end;
      }
      return breaks + 1;
    },
  };
}

type Scanner = ((chunk: Buffer, onRecordEnd: (at: number, isRow: boolean) => void) => void) & {
  /** A record has started and not ended (a last line without a line end). */
  pending(): boolean;
};

/**
 * Finds the record ends of CSV bytes as `parseCsv` reads them: states as there (field start,
 * unquoted, quoted, quote seen, and the rest of a malformed line). Quotes, delimiters and line
 * breaks are ASCII, so bytes can be scanned without decoding; the scan jumps from one quote or
 * line break to the next with `indexOf` (memchr) rather than looking at every byte, since only
 * they change the state (the byte before a quote says whether it opens a field).
 */
function csvScanner(delimiter: number): Scanner {
  const START = 0;
  const UNQUOTED = 1;
  const QUOTED = 2;
  const QUOTE_SEEN = 3;
  const SKIP = 4;
  let state = START;
  let inRecord = false;
  const scan = (chunk: Buffer, onRecordEnd: (at: number, isRow: boolean) => void): void => {
    const n = chunk.length;
    const next = (byte: number, from: number): number => {
      const k = chunk.indexOf(byte, from);
      return k === -1 ? n : k;
    };
    // The next quote, `\n` and `\r` at or after i (n: none in this chunk).
    let quote = -1;
    let lf = -1;
    let cr = -1;
    let i = 0;
    while (i < n) {
      if (state === QUOTED) {
        const k = chunk.indexOf(QUOTE, i);
        if (k === -1) return;
        state = QUOTE_SEEN;
        i = k + 1;
        continue;
      }
      if (state === QUOTE_SEEN) {
        const c = chunk[i]!;
        if (c !== LF && c !== CR) {
          // A doubled quote, the end of the field, or text after a closing quote (malformed).
          state = c === QUOTE ? QUOTED : c === delimiter ? START : SKIP;
          i++;
          continue;
        }
      }
      if (lf < i) lf = next(LF, i);
      if (cr < i) cr = next(CR, i);
      const end = Math.min(lf, cr);
      if (state !== SKIP) {
        if (quote < i) quote = next(QUOTE, i);
        if (quote < end) {
          // A quote opens a field at its start; inside an unquoted field the line is malformed.
          const before = quote > i ? (chunk[quote - 1] === delimiter ? START : UNQUOTED) : state;
          state = before === START ? QUOTED : SKIP;
          inRecord = true;
          i = quote + 1;
          continue;
        }
      }
      if (end > i) {
        inRecord = true;
        if (state !== SKIP) state = chunk[end - 1] === delimiter ? START : UNQUOTED;
      }
      if (end === n) return;
      onRecordEnd(end + 1, inRecord);
      inRecord = false;
      state = START;
      i = end + 1;
    }
  };
  return Object.assign(scan, { pending: () => inRecord });
}

const isAsciiSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === CR || c === 0x0b || c === 0x0c;

/** Finds the line ends of JSON Lines bytes; a line is a row unless it is blank. */
function jsonlScanner(): Scanner {
  let content = false;
  let first = true;
  const scan = (chunk: Buffer, onRecordEnd: (at: number, isRow: boolean) => void): void => {
    let i = 0;
    // A leading BOM is no content (parseJsonl drops it).
    if (first && chunk.length > 0) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }
    for (;;) {
      const lf = chunk.indexOf(LF, i);
      const end = lf === -1 ? chunk.length : lf;
      for (let j = i; j < end && !content; j++) if (!isAsciiSpace(chunk[j]!)) content = true;
      if (lf === -1) return;
      onRecordEnd(lf + 1, content);
      content = false;
      i = lf + 1;
    }
  };
  return Object.assign(scan, { pending: () => content });
}

async function* byteRange(path: string, start: number, end: number): AsyncGenerator<string> {
  if (end <= start) return;
  // Blocks start and end at ASCII line breaks, so no character straddles two of them.
  // Chunks of 64 KiB (the stream's default): the parser's cells are slices of a chunk, and
  // smaller chunks die young with the rows made from them (1 MiB chunks cost ~15% more CPU a row).
  const stream = createReadStream(path, { start, end: end - 1, encoding: 'utf8' });
  try {
    for await (const chunk of stream as AsyncIterable<string>) yield chunk;
  } catch (e) {
    throw cannotRead(path, e);
  } finally {
    stream.destroy();
  }
}

/** The CSV header record's text, `bytes` long, ending in a line end (one is added when the header is the whole file). */
export async function headerText(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r').catch((e) => {
    throw cannotRead(path, e);
  });
  try {
    const buffer = Buffer.alloc(bytes);
    await handle.read(buffer, 0, bytes, 0);
    const text = buffer.toString('utf8');
    // A header that is the whole file (no line end) needs one for the block's rows to follow.
    return /[\r\n]$/.test(text) ? text : `${text}\n`;
  } finally {
    await handle.close();
  }
}

/** The line a block read after `header` starts on, as the reader numbers them (CSV: 1 + the header's line breaks). */
export function localFirstLine(header: string): number {
  let breaks = 0;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (c === CR || (c === LF && header.charCodeAt(i - 1) !== CR)) breaks++;
  }
  return breaks + 1;
}

/** Options of {@link rowsOfRange}. */
export interface RangeOptions {
  format: 'csv' | 'tsv' | 'jsonl';
  /** CSV: the header's text, read before the block's bytes. */
  header: string;
  /** CSV: the field delimiter (default `','`, `'\t'` for TSV). */
  delimiter?: string;
  /** CSV: read unquoted numerals as numbers (default true). */
  numbers?: boolean;
  /** What a malformed record does (default `'throw'`); see `CsvOptions.badRecords`. */
  badRecords?: 'throw' | 'mark';
  /** Rows per block handed on. */
  blockRows: number;
  /** Added to the line numbers of marked records, so they name lines of the whole file (default 0). */
  lineOffset?: number;
}

/**
 * Reads one block's bytes as rows, in blocks of at most `blockRows` with their index in the
 * whole file; a block that holds another number of rows than `block.rows` is `DATASET_INVALID`
 * (the file changed under the plan).
 */
export async function* rowsOfRange(
  path: string,
  block: Pick<TextBlock, 'index' | 'firstRow' | 'rows' | 'start' | 'end'>,
  options: RangeOptions,
): AsyncGenerator<RowBlock> {
  let rows: AsyncIterable<Record<string, unknown>>;
  if (options.format === 'jsonl')
    rows = parseJsonl(byteRange(path, block.start, block.end), { badRecords: options.badRecords });
  else {
    async function* withHeader(): AsyncGenerator<string> {
      yield options.header;
      yield* byteRange(path, block.start, block.end);
    }
    rows = parseCsv(withHeader(), {
      delimiter: options.delimiter ?? (options.format === 'tsv' ? '\t' : ','),
      numbers: options.numbers,
      badRecords: options.badRecords,
    });
  }
  const shift = options.lineOffset ?? 0;
  let firstRow = block.firstRow;
  let batch: Record<string, CellValue>[] = [];
  for await (const read of rows) {
    let row = read as Record<string, CellValue>;
    if (shift !== 0) {
      const bad = unreadableOf(row);
      if (bad !== undefined) row = unreadableRow(relined(bad, shift));
    }
    batch.push(row);
    if (batch.length === options.blockRows) {
      yield { firstRow, rows: batch };
      firstRow += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) yield { firstRow, rows: batch };
  if (firstRow + batch.length !== block.firstRow + block.rows)
    throw new InputError(
      'DATASET_INVALID',
      `block ${block.index} of '${path}' held ${firstRow + batch.length - block.firstRow} rows where its plan counted ${block.rows}`,
      { details: { path, block: block.index } },
    );
}

/** A marked record read on its own, renumbered to its line in the whole file (the readers' reasons start "line N"). */
function relined(
  bad: { reason: string; line: number; raw: string },
  shift: number,
): { reason: string; line: number; raw: string } {
  const line = bad.line + shift;
  const reason = bad.reason.replace(new RegExp(`^line ${bad.line}(?!\\d)`), `line ${line}`);
  return { reason, line, raw: bad.raw };
}
