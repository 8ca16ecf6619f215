/**
 * The sharded side of `modelship predict`: `--shard i/n` (or `--shards n` with the index from
 * JOB_COMPLETION_INDEX) scores every n-th block of the input into a folder of parts, and
 * `modelship predict merge <folder> -o <file>` joins the parts into the file one process would
 * have written.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Rejection, RowSink, RowSource } from '@modelship/core/batch';
import type { Command } from 'commander';
import type { OutputFormat } from '../batch/files';
import { type BlockResult, mergeParts, runShard } from '../batch/parts';
import { parseShard, planBlocks, readBlock, type Shard, shardFormatOf, shardFromEnv } from '../batch/shard';
import { rejectsFile } from '../batch/sink';
import { UsageError } from './errors';
import { integer, toJson } from './eval';
import { mustExist } from './files';

/** The shard this run scores: `--shard i/n`, else `--shards n` / MODELSHIP_SHARDS with JOB_COMPLETION_INDEX, else none. */
export function shardOption(
  values: { shard?: string; shards?: string },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Shard | undefined {
  try {
    if (values.shard !== undefined) return parseShard(values.shard);
    return shardFromEnv(env, values.shards ?? env.MODELSHIP_SHARDS);
  } catch (e) {
    throw new UsageError(
      (e as Error).message.replace(/^--shards?: /, values.shard !== undefined ? '--shard: ' : '--shards: '),
    );
  }
}

/** The parts' format of a sharded run: `--format`, else the input's own (TSV parts are CSV). */
export function shardOutputFormat(format: string | undefined, inputPath: string): OutputFormat {
  if (format !== undefined) {
    if (format !== 'csv' && format !== 'jsonl' && format !== 'parquet')
      throw new UsageError(`--format must be csv, jsonl or parquet, not '${format}'`);
    return format;
  }
  const input = shardFormatOf(inputPath);
  if (input === undefined)
    throw new UsageError(
      `cannot shard ${inputPath}: its extension is not .csv, .tsv, .jsonl, .ndjson or .parquet`,
    );
  return input === 'tsv' ? 'csv' : input;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * What a sharded run's output depends on: the model's and the pipeline's bytes and the options
 * that shape the rows. Shards (and reruns) that disagree on it refuse to share a folder.
 */
export async function runFingerprint(
  modelPath: string,
  pipelinePath: string | undefined,
  options: object,
): Promise<string> {
  return JSON.stringify({
    model: await sha256(modelPath),
    pipeline: pipelinePath === undefined ? null : await sha256(pipelinePath),
    options,
  });
}

/** Scores one source into one sink (and its rejected rows into `rejects`), as a one-process run does. */
export type ScoreInto = (
  source: RowSource,
  sink: RowSink & { abort(): Promise<void> },
  rejects: { write(rejected: readonly Rejection[]): Promise<void> },
) => Promise<BlockResult>;

/** What a sharded run reports at the end. */
export interface ShardSummary {
  shard: string;
  blocks: number;
  skipped: number;
  rows: number;
  scored: number;
  rejected: number;
  seconds: number;
  output: string;
}

/**
 * Scores this shard's blocks of `inputPath` into the folder `dir`, one part per block, skipping
 * the blocks a previous run of this shard finished.
 */
export async function predictShard(options: {
  inputPath: string;
  dir: string;
  shard: Shard;
  format: OutputFormat;
  run: string;
  blockBytes?: number;
  sink: (path: string, format: OutputFormat) => RowSink & { abort(): Promise<void> };
  score: ScoreInto;
}): Promise<Omit<ShardSummary, 'seconds'>> {
  const { inputPath, dir, shard, format } = options;
  if (resolve(dir) === resolve(inputPath))
    throw new UsageError(`-o ${dir} is the input file; a sharded run writes to a folder`);
  const plan = await planBlocks(inputPath, { blockBytes: options.blockBytes });
  const result = await runShard({
    dir,
    plan,
    shard,
    output: format,
    run: options.run,
    score: async (block, paths) => {
      const sink = options.sink(paths.part, format);
      // The block's rejects file is made only when it has a rejected row.
      let file: ReturnType<typeof rejectsFile> | undefined;
      const rejects = {
        write: async (r: readonly Rejection[]) => {
          file ??= rejectsFile(paths.rejects);
          await file.write(r);
        },
      };
      try {
        const done = await options.score(readBlock(plan, block, { badRecords: 'mark' }), sink, rejects);
        await sink.close();
        await file?.close();
        return done;
      } catch (e) {
        // Cleaning up must not hide why the block failed.
        await Promise.allSettled([sink.abort(), file?.abort()]);
        throw e;
      }
    },
  });
  // The shard's totals, from its manifest: the blocks skipped now were counted when they ran.
  const parts = result.manifest.parts;
  return {
    shard: `${shard.index}/${shard.count}`,
    blocks: parts.length,
    skipped: result.skipped,
    rows: parts.reduce((s, p) => s + p.rows, 0),
    scored: parts.reduce((s, p) => s + p.scored, 0),
    rejected: parts.reduce((s, p) => s + p.rejected, 0),
    output: dir,
  };
}

/** Registers `modelship predict merge <folder> -o <file>` under the predict command. */
export function registerMerge(
  predict: Command,
  out: (s: string) => void,
  done: (code: number) => void,
): void {
  predict
    .command('merge')
    .summary('join the parts of a sharded predict run into one file')
    .description(
      'Joins the parts a sharded run (--shard i/n on every shard) wrote into its folder, in input order, ' +
        'into the file one process would have written. Every shard must have finished.',
    )
    .argument('<folder>', 'the -o folder of the sharded run')
    .requiredOption('-o, --output <file>', "the merged file: the parts' format (.csv, .jsonl or .parquet)")
    .option('--rejects <file.jsonl>', 'also join the rejected rows of every part here')
    .option('--json', 'print the summary as JSON')
    .action(async (folder: string, values: { output: string; rejects?: string; json?: boolean }) => {
      await mustExist(folder, 'the run folder', true);
      const started = Date.now();
      const summary = await mergeParts(folder, values.output, { rejects: values.rejects });
      const seconds = (Date.now() - started) / 1000;
      if (values.json === true) out(toJson({ ...summary, seconds }));
      else
        out(
          `merged ${summary.parts} parts of ${summary.shards} shards: ${summary.scored.toLocaleString('en-US')} of ` +
            `${summary.rows.toLocaleString('en-US')} rows scored (${summary.rejected.toLocaleString('en-US')} rejected) -> ${summary.output}`,
        );
      done(0);
    });
}

/** `--block-size`: the bytes of a CSV/JSONL block when sharding. */
export function blockBytesOption(value: string | undefined): number | undefined {
  const n = integer('block-size', value);
  if (n !== undefined && n < 1) throw new UsageError('--block-size must be at least 1 byte');
  return n;
}
