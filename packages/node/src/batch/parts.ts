/**
 * A sharded run on disk: each block's scores in a part file of its own, each shard's progress in
 * a manifest, and the merge that joins the parts in block order into the file one process
 * would have written. A part appears under its name only when complete and the manifest is
 * rewritten whole after each block, so a shard killed at any moment and run again scores only
 * the blocks it had not finished.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError, invalidArgument } from '@modelship/core';
import { type ParquetSinkOptions, parquetSink, readParquet } from './parquet';
import type { Block, BlockPlan, Shard } from './shard';
import { shardBlocks } from './shard';

/** The formats parts are written in. */
export type PartFormat = 'csv' | 'jsonl' | 'parquet';

/** One block's part, as a shard's manifest records it. */
export interface PartEntry {
  block: number;
  firstRow: number;
  /** Input rows in the block. */
  rows: number;
  /** The part's file name in the run's folder. */
  part: string;
  /** The block's rejected rows (JSON Lines), when it had any. */
  rejects: string | null;
  scored: number;
  rejected: number;
  done: boolean;
}

/** What one shard has done: `<dir>/shard-<i>-of-<n>.json`. */
export interface ShardManifest {
  version: 1;
  input: { path: string; format: string; size: number; mtimeMs: number };
  /** What the parts were made with (the model and the options); a rerun with other ones is refused. */
  run: string;
  output: PartFormat;
  shard: number;
  shards: number;
  /** Blocks and rows in the whole input. */
  blocks: number;
  rows: number;
  parts: PartEntry[];
  done: boolean;
}

/** What a block's scoring reports to {@link runShard}. */
export interface BlockResult {
  scored: number;
  rejected: number;
}

/** Options of {@link runShard}. */
export interface RunShardOptions {
  /** The run's folder (created if missing), shared by all the shards. */
  dir: string;
  plan: BlockPlan;
  shard: Shard;
  output: PartFormat;
  /** A fingerprint of the model and the options that shape the output. */
  run: string;
  /**
   * Scores one block: writes its scores to `part` (complete only when it resolves) and its
   * rejected rows, if any, to `rejects`.
   */
  score(block: Block, paths: { part: string; rejects: string }): Promise<BlockResult>;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const EXTENSION: Readonly<Record<PartFormat, string>> = { csv: '.csv', jsonl: '.jsonl', parquet: '.parquet' };

/** The manifest file name of a shard. */
export function manifestName(shard: Shard): string {
  return `shard-${pad(shard.index, 4)}-of-${pad(shard.count, 4)}.json`;
}

function partNames(block: number, output: PartFormat): { part: string; rejects: string } {
  return {
    part: `part-${pad(block, 6)}${EXTENSION[output]}`,
    rejects: `part-${pad(block, 6)}.rejects.jsonl`,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeJson(path: string, value: unknown): Promise<void> {
  // Written aside and renamed: a reader (or a rerun after a kill) never sees half a manifest.
  await writeFile(`${path}.partial`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.partial`, path);
}

function mismatch(dir: string, what: string, was: unknown, now: unknown): InputError {
  return new InputError(
    'DATASET_INVALID',
    `'${dir}' holds parts of another run: its ${what} was ${JSON.stringify(was)}, this run's is ${JSON.stringify(now)}; use a new folder or empty this one`,
    { details: { dir, what } },
  );
}

/**
 * Scores this shard's blocks (every n-th block of the plan, see `shardBlocks`) into part files
 * in `dir`, recording each finished block in the shard's manifest. Blocks the manifest already
 * records as done, whose part is there, are skipped. A manifest from another run (another input
 * file, shard count, output format or `run` fingerprint) is a `DATASET_INVALID` error rather
 * than a mix of two runs' parts.
 */
export async function runShard(
  options: RunShardOptions,
): Promise<{ manifest: ShardManifest; skipped: number; scored: number }> {
  const { dir, plan, shard, output, run } = options;
  if (!Object.hasOwn(EXTENSION, output))
    throw invalidArgument('runShard', "output must be 'csv', 'jsonl' or 'parquet'", output);
  if (typeof options.score !== 'function')
    throw invalidArgument('runShard', 'score must be a function', options.score);
  const mine = shardBlocks(plan, shard);
  await mkdir(dir, { recursive: true });
  const path = join(dir, manifestName(shard));
  const fresh: ShardManifest = {
    version: 1,
    input: { path: plan.path, format: plan.format, size: plan.size, mtimeMs: plan.mtimeMs },
    run,
    output,
    shard: shard.index,
    shards: shard.count,
    blocks: plan.blocks.length,
    rows: plan.rows,
    parts: mine.map((b) => ({
      block: b.index,
      firstRow: b.firstRow,
      rows: b.rows,
      part: partNames(b.index, output).part,
      rejects: null,
      scored: 0,
      rejected: 0,
      done: false,
    })),
    done: false,
  };
  let manifest = fresh;
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) throw mismatch(dir, what, a, b);
  };
  // Every shard's manifest in the folder must be of this run: another shard count would deal
  // the blocks differently and its parts would not join with these.
  for (const other of await manifestsIn(dir)) {
    same(
      'input file (size, modification time)',
      [other.input?.size, other.input?.mtimeMs],
      [plan.size, plan.mtimeMs],
    );
    same('shard count', other.shards, shard.count);
    same('output format', other.output, output);
    same('model and options', other.run, run);
    if (other.shard === shard.index) {
      same(
        'blocks',
        other.parts?.map((p) => [p.block, p.firstRow, p.rows]),
        fresh.parts.map((p) => [p.block, p.firstRow, p.rows]),
      );
      manifest = other;
    }
  }
  let skipped = 0;
  let scored = 0;
  for (const [k, block] of mine.entries()) {
    const entry = manifest.parts[k]!;
    if (entry.done && (await exists(join(dir, entry.part)))) {
      skipped++;
      continue;
    }
    const names = partNames(block.index, output);
    const result = await options.score(block, {
      part: join(dir, names.part),
      rejects: join(dir, names.rejects),
    });
    manifest.parts[k] = {
      ...entry,
      part: names.part,
      rejects: (await exists(join(dir, names.rejects))) ? names.rejects : null,
      scored: result.scored,
      rejected: result.rejected,
      done: true,
    };
    scored++;
    await writeJson(path, manifest);
  }
  manifest.done = true;
  await writeJson(path, manifest);
  return { manifest, skipped, scored };
}

/** What {@link mergeParts} joined. */
export interface MergeSummary {
  shards: number;
  parts: number;
  rows: number;
  scored: number;
  rejected: number;
  output: string;
  rejects: string | null;
}

/** The shard manifests in a run's folder, in file-name order. */
async function manifestsIn(dir: string): Promise<ShardManifest[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^shard-\d+-of-\d+\.json$/.test(n)).sort();
  } catch (e) {
    throw new InputError('DATASET_INVALID', `cannot read the run folder '${dir}': ${(e as Error).message}`, {
      cause: e,
      details: { dir },
    });
  }
  return Promise.all(
    names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as ShardManifest),
  );
}

/** Reads every shard manifest of a run's folder and checks they make one finished run. */
async function finishedRun(dir: string): Promise<{ manifests: ShardManifest[]; parts: PartEntry[] }> {
  const manifests = await manifestsIn(dir);
  if (manifests.length === 0)
    throw new InputError(
      'DATASET_INVALID',
      `'${dir}' holds no shard manifest (shard-<i>-of-<n>.json); is it the -o folder of a sharded run?`,
      {
        details: { dir },
      },
    );
  const first = manifests[0]!;
  for (const m of manifests) {
    if (m.shards !== first.shards) throw mismatch(dir, 'shard count', first.shards, m.shards);
    if (m.run !== first.run) throw mismatch(dir, 'model and options', first.run, m.run);
    if (m.output !== first.output) throw mismatch(dir, 'output format', first.output, m.output);
    if (m.input.size !== first.input.size || m.input.mtimeMs !== first.input.mtimeMs)
      throw mismatch(
        dir,
        'input file (size, modification time)',
        [first.input.size, first.input.mtimeMs],
        [m.input.size, m.input.mtimeMs],
      );
  }
  const seen = new Set(manifests.map((m) => m.shard));
  const missing = Array.from({ length: first.shards }, (_, i) => i).filter((i) => !seen.has(i));
  const unfinished = manifests.filter((m) => !m.done).map((m) => m.shard);
  if (missing.length > 0 || unfinished.length > 0)
    throw new InputError(
      'DATASET_INVALID',
      `the run in '${dir}' is not finished: of ${first.shards} shards, ${[
        missing.length > 0 ? `${missing.join(', ')} never ran` : '',
        unfinished.length > 0 ? `${unfinished.join(', ')} did not finish` : '',
      ]
        .filter((s) => s !== '')
        .join('; ')}; run those shards again`,
      { details: { dir, missing, unfinished } },
    );
  const parts = manifests.flatMap((m) => m.parts).sort((a, b) => a.block - b.block);
  if (parts.length !== first.blocks || parts.some((p, i) => p.block !== i || !p.done))
    throw new InputError(
      'DATASET_INVALID',
      `the manifests in '${dir}' do not cover blocks 0 to ${first.blocks - 1} once each`,
      {
        details: { dir },
      },
    );
  return { manifests, parts };
}

/** Copies a file (from byte `start`) to the end of `out`, waiting when `out` is behind. */
async function append(path: string, out: Writable, start = 0): Promise<void> {
  for await (const chunk of createReadStream(path, { start, highWaterMark: 1 << 20 }))
    if (!out.write(chunk)) await once(out, 'drain');
}

async function endStream(out: Writable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

/** The byte length of a CSV part's header record (its first record, with the line end). */
async function csvHeaderBytes(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let quoted = false;
    for (let at = 0; ; ) {
      const buffer = Buffer.alloc(1 << 16);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) return Buffer.concat(chunks);
      for (let i = 0; i < bytesRead; i++) {
        const c = buffer[i]!;
        if (c === 0x22) quoted = !quoted;
        else if (c === 0x0a && !quoted) {
          chunks.push(buffer.subarray(0, i + 1));
          return Buffer.concat(chunks);
        }
      }
      chunks.push(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Joins the parts of a finished sharded run in `dir`, in block order, into `output` (written
 * as `<output>.partial` and renamed when complete), and their rejected rows into `rejects` if
 * given. CSV parts each carry the header; it is written once. Text parts are copied byte for
 * byte; Parquet parts are read and written again as one file with the writer's row groups
 * (`parquet`: the `parquetSink` options, as the one-process run had them), so in every format
 * the result is the file one process scoring the whole input would write.
 *
 * A run that is not finished (a shard missing or unfinished), manifests of different runs, or
 * an output whose extension is not the run's format are `DATASET_INVALID` errors.
 *
 * @example
 * await mergeParts('scores.parts', 'scores.parquet');
 */
export async function mergeParts(
  dir: string,
  output: string,
  options: { rejects?: string; parquet?: ParquetSinkOptions } = {},
): Promise<MergeSummary> {
  if (typeof dir !== 'string' || dir === '')
    throw invalidArgument('mergeParts', 'dir must be a folder path', dir);
  if (typeof output !== 'string' || output === '')
    throw invalidArgument('mergeParts', 'output must be a file path', output);
  const { manifests, parts } = await finishedRun(dir);
  const format = manifests[0]!.output;
  const ext = extname(output).toLowerCase();
  const wanted = format === 'jsonl' ? ['.jsonl', '.ndjson'] : [EXTENSION[format]];
  if (!wanted.includes(ext))
    throw new InputError(
      'DATASET_INVALID',
      `the parts in '${dir}' are ${format}; name the merged file ${wanted.join(' or ')}, not '${output}'`,
      {
        details: { dir, output },
      },
    );
  const partial = `${output}.partial`;
  try {
    if (format === 'parquet') {
      const sink = parquetSink(partial, options.parquet);
      for (const p of parts)
        for await (const block of readParquet(join(dir, p.part))) await sink.write(block.rows);
      await sink.close();
    } else {
      const out = createWriteStream(partial);
      let header: Buffer | undefined;
      for (const p of parts) {
        const path = join(dir, p.part);
        let start = 0;
        if (format === 'csv' && (await stat(path)).size > 0) {
          const own = await csvHeaderBytes(path);
          if (header === undefined) header = own;
          else if (!own.equals(header))
            throw new InputError(
              'DATASET_INVALID',
              `part '${p.part}' of '${dir}' has another header than the parts before it`,
              {
                details: { dir, part: p.part },
              },
            );
          else start = own.length;
        }
        await append(path, out, start);
      }
      await endStream(out);
    }
    if (options.rejects !== undefined) {
      const out = createWriteStream(`${options.rejects}.partial`);
      for (const p of parts) if (p.rejects !== null) await append(join(dir, p.rejects), out);
      await endStream(out);
      await rename(`${options.rejects}.partial`, options.rejects);
    }
    await rename(partial, output);
  } catch (e) {
    await rm(partial, { force: true });
    if (options.rejects !== undefined) await rm(`${options.rejects}.partial`, { force: true });
    throw e;
  }
  return {
    shards: manifests[0]!.shards,
    parts: parts.length,
    rows: manifests[0]!.rows,
    scored: parts.reduce((s, p) => s + p.scored, 0),
    rejected: parts.reduce((s, p) => s + p.rejected, 0),
    output,
    rejects: options.rejects ?? null,
  };
}
