/**
 * Parquet files as batch input and output, through hyparquet and hyparquet-writer (pure
 * JavaScript, no native code; docs/batch.md "Parquet" says why these two). A file is read one
 * row group at a time as columns, and handed on as blocks of row objects, so memory holds one
 * row group's columns and one block of rows; the writer encodes and flushes each row group as
 * it fills.
 */
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { type CellValue, InputError, invalidArgument } from '@modelship/core';
import type { RowBlock, RowSink, RowSource } from '@modelship/core/batch';
import { asyncBufferFromFile, type FileMetaData, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { cannotWrite } from './sink';

/** Options of {@link readParquet}. */
export interface ReadParquetOptions {
  /** The row groups to read (0-based, any order; read in file order). Default: all of them. */
  rowGroups?: readonly number[];
  /** The columns to read, in the file's order. Default: all of them. */
  columns?: readonly string[];
  /** Rows per block handed on (default 8192); a row group larger than this becomes several blocks. */
  blockRows?: number;
}

/** Options of {@link parquetSink}. */
export interface ParquetSinkOptions {
  /** Rows per row group (default 65,536): one row group's columns are held before they are written. */
  rowGroupSize?: number;
}

// A row is a plain object: these names would reach or shadow its prototype (as parseCsv refuses them).
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function cannotRead(path: string, error: unknown): InputError {
  const reason = error instanceof Error ? error.message : String(error);
  return new InputError('DATASET_INVALID', `cannot read '${path}' as Parquet: ${reason}`, {
    cause: error,
    details: { path },
  });
}

async function openParquet(path: string) {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('readParquet', 'path must be a file path', path);
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    return { file, metadata };
  } catch (e) {
    throw cannotRead(path, e);
  }
}

/** The top-level column names of a file; nested columns are refused (rows are flat). */
function topColumns(path: string, metadata: FileMetaData): string[] {
  const names: string[] = [];
  const schema = metadata.schema;
  // schema[0] is the root; each top-level field is followed by its descendants.
  for (let i = 1; i < schema.length; ) {
    const element = schema[i]!;
    if (FORBIDDEN.has(element.name))
      throw new InputError('DATASET_INVALID', `'${path}': '${element.name}' cannot be a column name`, {
        details: { path, column: element.name },
      });
    if ((element.num_children ?? 0) > 0)
      throw new InputError(
        'DATASET_INVALID',
        `'${path}': column '${element.name}' is nested (a list, map or struct); batch rows take flat columns of numbers, strings and nulls`,
        { details: { path, column: element.name } },
      );
    names.push(element.name);
    i++;
  }
  return names;
}

/** Row counts of a Parquet file's row groups, in file order (read from its footer). */
export async function parquetRowGroupRows(path: string): Promise<number[]> {
  const { metadata } = await openParquet(path);
  return metadata.row_groups.map((g) => Number(g.num_rows));
}

/**
 * The number of row groups of a Parquet file (read from its footer): the units `--shard`
 * divides a Parquet file into.
 *
 * @example
 * const groups = await parquetRowGroupCount('transactions.parquet');
 */
export async function parquetRowGroupCount(path: string): Promise<number> {
  return (await parquetRowGroupRows(path)).length;
}

/**
 * One Parquet value as a batch cell: numbers and strings as they are (NaN is missing, as in
 * CSV), 64-bit integers as numbers when exact and as their digits otherwise, booleans as 1/0,
 * dates and timestamps as ISO-8601 text. Bytes and nested values have no cell form.
 */
function toCell(value: unknown, column: string, path: string): CellValue {
  switch (typeof value) {
    case 'number':
      return Number.isNaN(value) ? null : value;
    case 'string':
      return value;
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value.toString();
    case 'boolean':
      return value ? 1 : 0;
    case 'undefined':
      return null;
  }
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  throw new InputError(
    'DATASET_INVALID',
    `'${path}': column '${column}' holds ${value instanceof Uint8Array ? 'raw bytes' : 'a nested value'}; batch rows take numbers, strings and nulls`,
    { details: { path, column } },
  );
}

/**
 * Reads a Parquet file as blocks of rows (see `RowSource`): one row group at a time, decoded as
 * columns, handed on as blocks of at most `blockRows` row objects, each with the 0-based index
 * of its first row in the whole file. Every codec Parquet defines is read (snappy, gzip,
 * brotli, zstd, lz4).
 *
 * Cells: numbers and strings as stored, `null` for missing values and NaN, 64-bit integers as
 * numbers when they fit exactly (their digits as a string otherwise), booleans as 1/0, dates
 * and timestamps as ISO-8601 strings. A nested column (list, map, struct), a raw-bytes column,
 * a file that is not Parquet, or an unknown row group or column is a `DATASET_INVALID` error,
 * thrown on the first `next()`.
 *
 * @example
 * for await (const block of readParquet('transactions.parquet', { rowGroups: [0, 2] }))
 *   console.log(block.firstRow, block.rows.length);
 */
export function readParquet(path: string, options: ReadParquetOptions = {}): RowSource {
  const blockRows = options.blockRows ?? 8192;
  if (!Number.isSafeInteger(blockRows) || blockRows < 1)
    throw invalidArgument('readParquet', 'blockRows must be a positive integer', blockRows);
  if (options.rowGroups !== undefined && !Array.isArray(options.rowGroups))
    throw invalidArgument(
      'readParquet',
      'rowGroups must be an array of row group indices',
      options.rowGroups,
    );
  if (options.columns !== undefined && !Array.isArray(options.columns))
    throw invalidArgument('readParquet', 'columns must be an array of column names', options.columns);
  return parquetBlocks(path, options.rowGroups, options.columns, blockRows);
}

async function* parquetBlocks(
  path: string,
  rowGroups: readonly number[] | undefined,
  wanted: readonly string[] | undefined,
  blockRows: number,
): AsyncGenerator<RowBlock> {
  const { file, metadata } = await openParquet(path);
  const all = topColumns(path, metadata);
  const columns = wanted === undefined ? all : [...wanted];
  for (const c of columns)
    if (!all.includes(c))
      throw new InputError(
        'DATASET_INVALID',
        `'${path}' has no column '${c}'; its columns: ${all.join(', ')}`,
        {
          details: { path, column: c },
        },
      );
  const groups = metadata.row_groups;
  const starts: number[] = [];
  let total = 0;
  for (const g of groups) {
    starts.push(total);
    total += Number(g.num_rows);
  }
  const chosen =
    rowGroups === undefined ? groups.map((_, i) => i) : [...new Set(rowGroups)].sort((a, b) => a - b);
  for (const g of chosen)
    if (!Number.isInteger(g) || g < 0 || g >= groups.length)
      throw new InputError(
        'DATASET_INVALID',
        `'${path}' has ${groups.length} row group${groups.length === 1 ? '' : 's'} (0 to ${groups.length - 1}); row group ${g} does not exist`,
        { details: { path, rowGroup: g } },
      );

  for (const g of chosen) {
    const groupStart = starts[g]!;
    const groupEnd = groupStart + Number(groups[g]!.num_rows);
    // The group's columns as decoded (typed arrays or arrays); a column may arrive in pieces.
    const pieces = new Map<string, { start: number; data: ArrayLike<unknown> }[]>();
    try {
      await parquetRead({
        file,
        metadata,
        columns,
        rowStart: groupStart,
        rowEnd: groupEnd,
        compressors,
        onChunk: (chunk) => {
          const list = pieces.get(chunk.columnName) ?? [];
          list.push({ start: chunk.rowStart, data: chunk.columnData });
          pieces.set(chunk.columnName, list);
        },
      });
    } catch (e) {
      throw cannotRead(path, e);
    }
    const data = columns.map((c) => columnReader(pieces.get(c) ?? [], c, path));
    for (let from = groupStart; from < groupEnd; from += blockRows) {
      const to = Math.min(from + blockRows, groupEnd);
      const rows: Record<string, CellValue>[] = new Array(to - from);
      for (let r = from; r < to; r++) {
        // Safe as a plain object: topColumns refused every name that could reach the prototype.
        const row: Record<string, CellValue> = {};
        for (let c = 0; c < columns.length; c++) row[columns[c]!] = toCell(data[c]!(r), columns[c]!, path);
        rows[r - from] = row;
      }
      yield { firstRow: from, rows };
    }
  }
}

/** Reads row `r` (absolute) of a column from its decoded pieces. */
function columnReader(
  pieces: { start: number; data: ArrayLike<unknown> }[],
  column: string,
  path: string,
): (r: number) => unknown {
  if (pieces.length === 1) {
    const { start, data } = pieces[0]!;
    return (r) => data[r - start];
  }
  pieces.sort((a, b) => a.start - b.start);
  return (r) => {
    for (let i = pieces.length - 1; i >= 0; i--) {
      const p = pieces[i]!;
      if (r >= p.start && r < p.start + p.data.length) return p.data[r - p.start];
    }
    throw cannotRead(path, new Error(`row ${r} of column '${column}' was not decoded`));
  };
}

/** A column's Parquet type, chosen from the first row group's values. */
type ColumnKind = 'number' | 'string';

/**
 * Writes scored rows to a Parquet file (a `RowSink`): the columns are those of the first row
 * written, in its order; rows are held as columns until `rowGroupSize` of them have arrived,
 * then encoded (snappy) and written as one row group, so memory holds one row group whatever the
 * file's length. A column is DOUBLE when the first row group holds only numbers (and nulls) in
 * it, STRING when it holds any string (numbers in a string column are written as their text);
 * a string arriving later in a DOUBLE column is a `DATASET_INVALID` error naming the column.
 * Every column is nullable. The output depends only on the rows written, so writing the same
 * rows gives the same bytes.
 *
 * `write` resolves once the row group it completed (if any) is on disk; `close` writes the last
 * row group and the footer. The file is written as `<path>.partial` and renamed to `path` by
 * `close`, so a file at `path` is always complete; `abort` stops and removes the partial file.
 *
 * @example
 * const sink = parquetSink('scores.parquet');
 * await sink.write([{ id: 7, probability: 0.93 }]);
 * await sink.close();
 */
export function parquetSink(
  path: string,
  options: ParquetSinkOptions = {},
): RowSink & { abort(): Promise<void> } {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('parquetSink', 'path must be a file path', path);
  const rowGroupSize = options.rowGroupSize ?? 65536;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1)
    throw invalidArgument('parquetSink', 'rowGroupSize must be a positive integer', rowGroupSize);

  let handle: FileHandle | undefined;
  let writer: ParquetWriter | undefined;
  let bytes: ByteWriter | undefined;
  let names: string[] | undefined;
  let kinds: ColumnKind[] | undefined;
  let buffer: CellValue[][] = [];
  let held = 0;
  let closed = false;
  let written = 0; // rows written to disk, for error messages

  const start = async (): Promise<void> => {
    if (handle !== undefined) return;
    try {
      handle = await open(`${path}.partial`, 'w');
    } catch (e) {
      throw cannotWrite(path, e);
    }
  };

  const flushBytes = async (): Promise<void> => {
    const b = bytes!;
    const chunk = new Uint8Array(b.buffer, 0, b.index);
    // The writer waits for this promise before it encodes the next row group into the buffer.
    await handle!.write(chunk);
    b.index = 0;
  };

  const flushGroup = async (): Promise<void> => {
    if (held === 0) return;
    const cols = names!;
    if (kinds === undefined) {
      kinds = buffer.map((values) => (values.some((v) => typeof v === 'string') ? 'string' : 'number'));
      bytes = new ByteWriter(1 << 20);
      (bytes as unknown as { flush: () => Promise<void> }).flush = flushBytes;
      (bytes as unknown as { finish: () => Promise<void> }).finish = flushBytes;
      writer = new ParquetWriter({
        writer: bytes,
        schema: [
          { name: 'root', num_children: cols.length },
          ...cols.map((name, c) =>
            kinds![c] === 'string'
              ? {
                  name,
                  type: 'BYTE_ARRAY' as const,
                  converted_type: 'UTF8' as const,
                  repetition_type: 'OPTIONAL' as const,
                }
              : { name, type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const },
          ),
        ],
        createdBy: 'modelship',
      });
    }
    const columnData = cols.map((name, c) => {
      const values = buffer[c]!;
      if (kinds![c] === 'string') {
        for (let r = 0; r < values.length; r++)
          if (typeof values[r] === 'number') values[r] = String(values[r]);
      } else {
        for (let r = 0; r < values.length; r++)
          if (typeof values[r] === 'string')
            throw new InputError(
              'DATASET_INVALID',
              `cannot write row ${written + r} to '${path}': column '${name}' was written as numbers (its first ${rowGroupSize} rows held no text) and now holds the string ${JSON.stringify(values[r])}`,
              { details: { path, column: name } },
            );
      }
      return { name, data: values };
    });
    buffer = cols.map(() => []);
    const rows = held;
    held = 0;
    await start();
    await writer!.write({ columnData, rowGroupSize: rows });
    written += rows;
  };

  return {
    async write(rows) {
      if (closed) throw invalidArgument('parquetSink', 'write after close', path);
      if (!Array.isArray(rows)) throw invalidArgument('parquetSink', 'rows must be an array', rows);
      for (const row of rows) {
        if (names === undefined) {
          names = Object.keys(row);
          buffer = names.map(() => []);
        }
        for (let c = 0; c < names.length; c++) {
          const v = row[names[c]!];
          buffer[c]!.push(v === undefined ? null : v);
        }
        held++;
        if (held === rowGroupSize) await flushGroup();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await flushGroup();
        await start();
        if (writer === undefined) {
          // No row at all: a valid file with no columns and no row groups.
          bytes = new ByteWriter(1024);
          (bytes as unknown as { finish: () => Promise<void> }).finish = flushBytes;
          writer = new ParquetWriter({
            writer: bytes,
            schema: [{ name: 'root', num_children: 0 }],
            createdBy: 'modelship',
          });
        }
        await writer.finish();
      } finally {
        await handle?.close();
      }
      await rename(`${path}.partial`, path);
    },
    async abort() {
      closed = true;
      await handle?.close().catch(() => {});
      await rm(`${path}.partial`, { force: true });
    },
  };
}
