/**
 * Splitting one input file among n processes (`--shard i/n`, a Kubernetes Indexed Job's pods):
 * the file is cut into blocks (Parquet row groups; for CSV and JSONL, byte ranges that start
 * and end on record boundaries), block k goes to shard k mod n, and each block is read on its
 * own as a `RowSource` whose rows carry their index in the whole file. Every shard computes the
 * same plan from the file alone, so the shards need not talk to each other.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, invalidArgument } from '@modelship/core';
import type { RowBlock, RowSource } from '@modelship/core/batch';
import { cannotRead, datasetFormatOf } from '../datasets';
import { parquetRowGroupRows, readParquet } from './parquet';
import { cutText, headerText, localFirstLine, rowsOfRange } from './text-blocks';

/** The input formats a plan knows, by extension. */
export type ShardFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet';

/** One block of the input: its place in the file and the rows it holds. */
export interface Block {
  /** 0-based, in file order. */
  index: number;
  /** The 0-based index of its first data row in the whole file. */
  firstRow: number;
  /** Data rows in the block. */
  rows: number;
  /** CSV/JSONL: the byte range `[start, end)`; Parquet: the row group (`start` = `end` = its index). */
  start: number;
  end: number;
  /** CSV/JSONL: the 1-based line of the file where the block starts, so a rejected row's reason names the file's line, not the block's. */
  firstLine?: number;
}

/** How a file is cut into blocks; the same file (size and modification time) gives the same plan. */
export interface BlockPlan {
  path: string;
  format: ShardFormat;
  size: number;
  mtimeMs: number;
  /** CSV: the byte length of the header record (with its line end), read before every block. */
  headerBytes: number;
  rows: number;
  blocks: Block[];
}

/** Options of {@link planBlocks}. */
export interface PlanOptions {
  /** CSV/JSONL: the target size of a block in bytes (default 32 MiB); a block ends at the first record boundary after it. */
  blockBytes?: number;
  /** CSV: the field delimiter (default `','`, `'\t'` for .tsv). */
  delimiter?: string;
}

/** Which shard this process is: `index` of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** The input format of a file by its extension (any case), or `undefined`. */
export function shardFormatOf(path: string): ShardFormat | undefined {
  return extname(path).toLowerCase() === '.parquet' ? 'parquet' : datasetFormatOf(path);
}

/**
 * Parses `i/n` (0 <= i < n): the shard this process scores. Anything else is an
 * `INVALID_ARGUMENT` error naming what was given.
 *
 * @example
 * parseShard('2/8'); // { index: 2, count: 8 }
 */
export function parseShard(spec: string): Shard {
  const m = typeof spec === 'string' ? /^(\d+)\/(\d+)$/.exec(spec.trim()) : null;
  const index = m === null ? Number.NaN : Number(m[1]);
  const count = m === null ? Number.NaN : Number(m[2]);
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(count) && count >= 1 && index < count))
    throw invalidArgument('--shard', "the shard must be 'i/n' with 0 <= i < n, such as 0/4", spec);
  return { index, count };
}

/**
 * The shard from the environment of a Kubernetes Indexed Job: the index is
 * `JOB_COMPLETION_INDEX`, the count is `count` (a `--shards` option) or `MODELSHIP_SHARDS`.
 * Without a count the run is not sharded (`undefined`); with a count but no index, or an index
 * out of range, it is an `INVALID_ARGUMENT` error.
 */
export function shardFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  count: string | undefined = env.MODELSHIP_SHARDS,
): Shard | undefined {
  if (count === undefined || count === '') return undefined;
  const index = env.JOB_COMPLETION_INDEX;
  if (index === undefined || index === '')
    throw invalidArgument(
      '--shards',
      'a shard count needs the shard index: JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) is not set; pass --shard i/n instead',
      count,
    );
  return parseShard(`${index}/${count}`);
}

/** The blocks of shard `index` of `count`: every `count`-th block, starting at `index`. */
export function shardBlocks(plan: BlockPlan, shard: Shard): Block[] {
  if (
    !Number.isSafeInteger(shard.count) ||
    shard.count < 1 ||
    !Number.isSafeInteger(shard.index) ||
    shard.index < 0 ||
    shard.index >= shard.count
  )
    throw invalidArgument('shardBlocks', 'shard must be { index, count } with 0 <= index < count', shard);
  return plan.blocks.filter((b) => b.index % shard.count === shard.index);
}

/**
 * Cuts a file into blocks (see {@link Block}): a Parquet file's row groups, or byte ranges of a
 * CSV or JSONL file that end on record boundaries. Text is read once, from the start, to find
 * the boundaries and count the rows before each block. For CSV the scan follows the quotes as
 * `parseCsv` does (a line break inside a quoted field is not a boundary, and a malformed record
 * ends at its line end, as when bad records are marked), so files with multi-line fields are
 * cut correctly; rows are counted as the readers count them (an empty line, or a JSONL line of
 * ASCII white space, is no row).
 */
export async function planBlocks(path: string, options: PlanOptions = {}): Promise<BlockPlan> {
  if (typeof path !== 'string' || path === '')
    throw invalidArgument('planBlocks', 'path must be a file path', path);
  const format = shardFormatOf(path);
  if (format === undefined)
    throw new InputError(
      'DATASET_INVALID',
      `cannot shard '${path}': its extension is not .csv, .tsv, .jsonl, .ndjson or .parquet`,
      { details: { path } },
    );
  const blockBytes = options.blockBytes ?? 32 * 2 ** 20;
  if (!Number.isSafeInteger(blockBytes) || blockBytes < 1)
    throw invalidArgument('planBlocks', 'blockBytes must be a positive integer', blockBytes);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    throw cannotRead(path, e);
  }
  const base = { path, format, size: info.size, mtimeMs: info.mtimeMs };
  if (format === 'parquet') {
    const counts = await parquetRowGroupRows(path);
    const blocks: Block[] = [];
    let firstRow = 0;
    counts.forEach((rows, index) => {
      blocks.push({ index, firstRow, rows, start: index, end: index });
      firstRow += rows;
    });
    return { ...base, headerBytes: 0, rows: firstRow, blocks };
  }
  const delimiter = options.delimiter ?? (format === 'tsv' ? '\t' : ',');
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || /["\r\n]/.test(delimiter))
    throw invalidArgument(
      'planBlocks',
      'delimiter must be one character other than a quote or a line break',
      delimiter,
    );
  const header = { bytes: 0 };
  const blocks: Block[] = [];
  let rows = 0;
  const cutting = cutText(
    path,
    { format: format === 'jsonl' ? 'jsonl' : 'csv', delimiter: delimiter.charCodeAt(0), blockBytes },
    header,
  );
  for await (const block of cutting) {
    blocks.push(block);
    rows += block.rows;
  }
  const headerBytes = header.bytes;
  const firstRow = rows;
  return { ...base, headerBytes, rows: firstRow, blocks };
}

/** Options of {@link readBlock}: as the CSV and JSONL readers take them. */
export interface ReadBlockOptions {
  /** CSV: the field delimiter (default as in the plan's format). */
  delimiter?: string;
  /** CSV: read unquoted numerals as numbers (default true). */
  numbers?: boolean;
  /** What a malformed record does (default `'throw'`); see `CsvOptions.badRecords`. */
  badRecords?: 'throw' | 'mark';
  /** Rows per block handed on (default 8192). */
  blockRows?: number;
}

/**
 * Reads one block of a plan as a `RowSource`: its rows in file order, in blocks of at most
 * `blockRows`, each with its first row's index in the whole file. A CSV block is read with the
 * file's header before it. A file that changed since the plan was made (size or modification
 * time) is a `DATASET_INVALID` error: its blocks would no longer fall on record boundaries.
 */
export function readBlock(plan: BlockPlan, block: Block, options: ReadBlockOptions = {}): RowSource {
  const blockRows = options.blockRows ?? 8192;
  if (!Number.isSafeInteger(blockRows) || blockRows < 1)
    throw invalidArgument('readBlock', 'blockRows must be a positive integer', blockRows);
  if (
    plan.blocks[block.index] !== block &&
    JSON.stringify(plan.blocks[block.index]) !== JSON.stringify(block)
  )
    throw invalidArgument('readBlock', 'block must be one of the plan', block);
  return blockRowsOf(plan, block, options, blockRows);
}

async function* blockRowsOf(
  plan: BlockPlan,
  block: Block,
  options: ReadBlockOptions,
  blockRows: number,
): AsyncGenerator<RowBlock> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(plan.path);
  } catch (e) {
    throw cannotRead(plan.path, e);
  }
  if (info.size !== plan.size || info.mtimeMs !== plan.mtimeMs)
    throw new InputError(
      'DATASET_INVALID',
      `'${plan.path}' changed since its blocks were planned (size ${plan.size} -> ${info.size}); plan again`,
      { details: { path: plan.path } },
    );
  if (plan.format === 'parquet') {
    yield* readParquet(plan.path, { rowGroups: [block.start], blockRows });
    return;
  }
  const header = plan.format === 'jsonl' ? '' : await headerText(plan.path, plan.headerBytes);
  const localLine = plan.format === 'jsonl' ? 1 : localFirstLine(header);
  yield* rowsOfRange(plan.path, block, {
    format: plan.format,
    header,
    delimiter: options.delimiter,
    numbers: options.numbers,
    badRecords: options.badRecords,
    blockRows,
    lineOffset: block.firstLine === undefined ? 0 : block.firstLine - localLine,
  });
}
