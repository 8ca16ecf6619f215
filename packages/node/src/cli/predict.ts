/**
 * `modelship predict`: scores a CSV or JSONL file with a model and writes the scores, in input
 * order, to a CSV or JSONL file; rows that cannot be scored go to a rejects file (or stderr)
 * with their row number and the reason, and the run goes on unless `--strict`.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Model } from '@modelship/core';
import {
  type BatchInput,
  type PredictBatchesOptions,
  predictBatches,
  type Rejection,
  type RowSink,
} from '@modelship/core/batch';
import type { Command } from 'commander';
import { batchInput, batchSink, type OutputFormat, outputFormatOf } from '../batch/files';
import { predictInWorkers } from '../batch/parallel';
import { rejectsFile, textFile } from '../batch/sink';
import { datasetFormatOf } from '../datasets';
import { loadModel } from '../load-model';
import { EXIT_INTERRUPTED, EXIT_REJECTED, UsageError } from './errors';
import { integer, list, modelName, readPipeline, toJson } from './eval';
import { mustExist } from './files';
import {
  blockBytesOption,
  predictShard,
  registerMerge,
  runFingerprint,
  shardOption,
  shardOutputFormat,
} from './predict-shard';
import { perSecond, progressLine } from './progress';

/** The options of `modelship predict`, as commander parses them. */
export interface PredictFlags {
  output: string;
  format?: string;
  pipeline?: string;
  features?: string;
  keep?: string;
  outputs?: string;
  workers?: string;
  batchSize?: string;
  strict?: boolean;
  rejects?: string;
  json?: boolean;
  shard?: string;
  shards?: string;
  blockSize?: string;
}

/** What `predict` reports at the end (`--json` prints it as it is). */
export interface PredictSummary {
  /** Data rows read from the input. */
  rows: number;
  scored: number;
  rejected: number;
  seconds: number;
  rowsPerSecond: number;
  output: string;
  rejects: string | null;
}

/** Where `predict` talks: results, stderr, whether stderr is a terminal, the clock. */
export interface PredictIo {
  out: (s: string) => void;
  err: (s: string) => void;
  tty: boolean;
  now?: () => number;
  /** Milliseconds between the plain progress lines when stderr is not a terminal (default 10 s). */
  everyMs?: number;
}

/** Input bytes per block handed to a worker thread with `--workers n` (a block is read, scored and written whole). */
const WORKER_BLOCK_BYTES = 2 * 2 ** 20;

/** Rejected rows shown on stderr when there is no `--rejects` file. */
const SHOWN_REJECTS = 10;

export function registerPredict(
  program: Command,
  out: (s: string) => void,
  done: (code: number) => void,
): void {
  const predict = program
    .command('predict')
    .summary('score a CSV/JSONL/Parquet file with a model, writing CSV/JSONL/Parquet')
    .description(
      'Scores every row of a CSV, TSV, JSONL or Parquet file in batches and writes the chosen outputs, with the kept ' +
        'columns, to a CSV, JSONL or Parquet file in input order. Rows that cannot be scored are reported with their ' +
        'row number (0-based among the data rows) and the reason, and the run goes on (--strict stops at the first).',
    )
    .argument('<model>', 'an .onnx or .ort file')
    .argument('<input>', 'a .csv, .tsv, .jsonl, .ndjson or .parquet file')
    // Checked by predictCommand, not commander: commander would also require it of `predict merge`.
    .option(
      '-o, --output <file>',
      'where the scores go: .csv, .jsonl, .ndjson or .parquet (or see --format); a folder with --shard',
    )
    .option(
      '--format <csv|jsonl|parquet>',
      "output format (default: from the output file extension; with --shard, the input's)",
    )
    .option(
      '--pipeline <file.json>',
      "a fitted pipeline.json: rows are records it turns into the model's input",
    )
    .option(
      '--features <a,b,...>',
      "feature columns, in the model's order (default: all but the kept ones and 'label')",
    )
    .option('--keep <a,b,...>', 'input columns copied into the output ahead of the scores (ids, amounts)')
    .option('--outputs <a,b,...>', 'model outputs written (default: all)')
    .option(
      '--workers <n>',
      'worker threads, each with its own onnxruntime session (the cores divided among them) reading, scoring and writing blocks of a CSV/JSONL input (default: 1)',
    )
    .option('--batch-size <n>', 'rows per model call (default: 1024)')
    .option('--strict', 'stop at the first row that cannot be scored (exit 2)')
    .option('--rejects <file.jsonl>', 'write rejected rows here: {"row", "code", "reason", "raw"} a line')
    .option('--json', 'print the summary as JSON')
    .option(
      '--shard <i/n>',
      'score only shard i of n (every n-th block: Parquet row groups, CSV/JSONL byte ranges) into the folder -o; ' +
        '`predict merge` joins the parts',
    )
    .option(
      '--shards <n>',
      'shard count, the index coming from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)',
    )
    .option(
      '--block-size <bytes>',
      'CSV/JSONL bytes per shard block (default: 32 MiB), or per block a worker thread reads and scores with --workers n (default: 2 MiB)',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 every row scored; 3 the run finished but some rows were rejected; 2 the command ' +
        'line or data is wrong (or --strict met a bad row); 1 the model failed; 130 stopped by Ctrl-C.\n' +
        'Progress goes to stderr: a bar on a terminal, a line every 10 s otherwise.',
    )
    .action(async (model: string, input: string, values: PredictFlags) =>
      done(
        await predictCommand(model, input, values, {
          out,
          err: (s) => process.stderr.write(s),
          tty: process.stderr.isTTY === true,
        }),
      ),
    );
  predict.enablePositionalOptions();
  registerMerge(predict, out, done);
}

function formatOf(values: PredictFlags): OutputFormat {
  if (values.format !== undefined) {
    if (values.format !== 'csv' && values.format !== 'jsonl' && values.format !== 'parquet')
      throw new UsageError(`--format must be csv, jsonl or parquet, not '${values.format}'`);
    return values.format;
  }
  const format = outputFormatOf(values.output);
  if (format === undefined)
    throw new UsageError(
      `cannot tell the format of -o ${values.output} from its extension; use .csv, .jsonl, .ndjson or .parquet, or --format`,
    );
  return format;
}

/** Runs `predict` and resolves to its exit code (failures throw, as in every command). */
export async function predictCommand(
  modelPath: string,
  inputPath: string,
  values: PredictFlags,
  io: PredictIo,
): Promise<number> {
  const now = io.now ?? Date.now;
  if (values.output === undefined)
    throw new UsageError("required option '-o, --output <file>' not specified");
  // Sharded, -o is a folder of parts, in --format or the input's own.
  const shard = shardOption(values);
  const blockBytes = blockBytesOption(values.blockSize);
  const format = shard === undefined ? formatOf(values) : shardOutputFormat(values.format, inputPath);
  if (shard !== undefined && values.rejects !== undefined)
    throw new UsageError(
      '--rejects takes the rejected rows of a one-process run; a sharded run keeps them in its folder, and `predict merge --rejects <file>` joins them',
    );
  const workers = integer('workers', values.workers) ?? 1;
  if (workers < 1 || workers > 64) throw new UsageError(`--workers must be from 1 to 64, not ${workers}`);
  const batchSize = integer('batch-size', values.batchSize);
  if (batchSize === 0) throw new UsageError('--batch-size must be at least 1');
  for (const [flag, path] of [
    ['-o', values.output],
    ['--rejects', values.rejects],
  ] as const)
    if (path !== undefined && resolve(path) === resolve(inputPath))
      throw new UsageError(`${flag} ${path} is the input file; write the results elsewhere`);
  if (values.rejects !== undefined && resolve(values.rejects) === resolve(values.output))
    throw new UsageError('--rejects and -o name the same file');
  await mustExist(modelPath, 'the model');
  await mustExist(inputPath, 'the input file');
  for (const [flag, path] of [
    ['-o', values.output],
    ['--rejects', values.rejects],
  ] as const) {
    if (path === undefined) continue;
    await mustExist(dirname(resolve(path)), `the folder of ${flag}`, true);
    // Found only at the end otherwise, when the finished file cannot take the folder's place.
    // (A sharded run's -o is its folder of parts.)
    if ((shard === undefined || flag !== '-o') && (await isDirectory(path)))
      throw new UsageError(`${flag} ${path} is a folder; name a file`);
  }
  const pipeline = values.pipeline === undefined ? undefined : await readPipeline(values.pipeline);

  const started = now();
  // CSV/JSONL to CSV/JSONL on several workers: each thread reads, scores and writes its blocks
  // (batch/parallel.ts); otherwise one session in this thread, or one per worker thread with the
  // cores shared out (as serve --workers) scoring the rows read here.
  const inputFormat = datasetFormatOf(inputPath);
  const parallel = workers > 1 && shard === undefined && format !== 'parquet' && inputFormat !== undefined;
  const model: Model | undefined = parallel
    ? undefined
    : workers === 1
      ? await loadModel(modelPath, { name: modelName(modelPath) })
      : await loadModel(modelPath, {
          name: modelName(modelPath),
          instances: workers,
          cores: availableParallelism(),
        });
  const progress = reporter(io, now);
  // The first Ctrl-C stops at the next batch and removes the unfinished files; a second one does not wait.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const summary: PredictSummary = {
    rows: 0,
    scored: 0,
    rejected: 0,
    seconds: 0,
    rowsPerSecond: 0,
    output: values.output,
    rejects: values.rejects ?? null,
  };
  let sink: { abort(): Promise<void> } | undefined;
  let rejects: ReturnType<typeof rejectsFile> | undefined;
  let sharded: Awaited<ReturnType<typeof predictShard>> | undefined;
  try {
    // Checked against the model now, so a pipeline that does not fit fails before any data is read.
    if (model !== undefined) pipeline?.wrap(model);
    const options: PredictBatchesOptions = {
      keep: list(values.keep),
      outputs: list(values.outputs),
      features: list(values.features),
      pipeline,
      batchSize,
      strict: values.strict === true,
      signal: interrupt.signal,
    };
    for (const key of Object.keys(options) as (keyof PredictBatchesOptions)[])
      if (options[key] === undefined) delete options[key];
    const scoreInto = async (
      rows: BatchInput,
      into: RowSink,
      rejected: { write(r: readonly Rejection[]): Promise<void> } | undefined,
      show: boolean,
    ) => {
      const before = { scored: summary.scored, rejected: summary.rejected };
      for await (const batch of predictBatches(model!, rows, options)) {
        await into.write(batch.rows);
        if (batch.rejected.length > 0) {
          if (rejected !== undefined) await rejected.write(batch.rejected);
          if (show) showRejects(io, batch.rejected, summary.rejected);
        }
        summary.rows += batch.count;
        summary.scored += batch.rows.length;
        summary.rejected += batch.rejected.length;
        progress.rows(summary);
      }
      return { scored: summary.scored - before.scored, rejected: summary.rejected - before.rejected };
    };
    if (shard !== undefined) {
      // Every block's rejected rows go to a file in the folder (`predict merge --rejects` joins them).
      sharded = await predictShard({
        inputPath,
        dir: values.output,
        shard,
        format,
        blockBytes,
        run: await runFingerprint(modelPath, values.pipeline, {
          ...options,
          pipeline: undefined,
          signal: undefined,
          format,
        }),
        sink: batchSink,
        score: (rows, into, rejected) => scoreInto(rows, into, rejected, true),
      });
    } else if (parallel) {
      const file = textFile(values.output);
      sink = file;
      rejects = values.rejects === undefined ? undefined : rejectsFile(values.rejects);
      const size = (await stat(inputPath)).size;
      const into = rejects;
      await predictInWorkers({
        modelPath,
        name: modelName(modelPath),
        inputPath,
        inputFormat: inputFormat!,
        format: format as 'csv' | 'jsonl',
        workers,
        cores: availableParallelism(),
        pipeline: pipeline?.toJSON(),
        options: {
          keep: options.keep,
          outputs: options.outputs,
          features: options.features,
          batchSize,
          strict: options.strict,
        },
        blockBytes: blockBytes ?? WORKER_BLOCK_BYTES,
        signal: interrupt.signal,
        write: (bytes, written) => file.write(bytes, written),
        rejected: async (r) => {
          if (into !== undefined) await into.write(r);
          else showRejects(io, r, summary.rejected);
        },
        progress: (b) => {
          summary.rows += b.rows;
          summary.scored += b.scored;
          summary.rejected += b.rejected;
          progress.bytes(b.end, size);
          progress.rows(summary);
        },
      });
      await file.close();
      await rejects?.close();
    } else {
      const file = batchSink(values.output, format);
      sink = file;
      rejects = values.rejects === undefined ? undefined : rejectsFile(values.rejects);
      await scoreInto(batchInput(inputPath, progress.bytes), file, rejects, rejects === undefined);
      await file.close();
      await rejects?.close();
    }
  } catch (e) {
    progress.done();
    await Promise.all([sink?.abort(), rejects?.abort()]);
    if (!interrupt.signal.aborted) throw e;
    io.err(
      shard === undefined
        ? 'modelship: [ABORTED] predict stopped by Ctrl-C (SIGINT); no output was left\n'
        : `modelship: [ABORTED] predict stopped by Ctrl-C (SIGINT); the finished blocks stay in ${values.output}, run the shard again to go on\n`,
    );
    return EXIT_INTERRUPTED;
  } finally {
    process.off('SIGINT', onSigint);
    await model?.dispose();
  }
  progress.done();
  const ms = Math.max(1, now() - started);
  summary.seconds = Math.round(ms) / 1000;
  summary.rowsPerSecond = Math.round((summary.rows * 1000) / ms);
  if (sharded !== undefined) {
    const s = { ...sharded, seconds: summary.seconds, rowsPerSecond: summary.rowsPerSecond };
    if (values.json === true) io.out(toJson(s));
    else
      io.out(
        `shard ${s.shard}: ${s.blocks} blocks (${s.skipped} done before), scored ${s.scored.toLocaleString('en-US')} of ` +
          `${s.rows.toLocaleString('en-US')} rows (${s.rejected.toLocaleString('en-US')} rejected) -> ${s.output}`,
      );
    return s.rejected > 0 ? EXIT_REJECTED : 0;
  }
  if (values.json === true) io.out(toJson(summary));
  else {
    const hidden = values.rejects === undefined ? summary.rejected - SHOWN_REJECTS : 0;
    if (hidden > 0)
      io.err(`modelship: ${hidden} more rejected rows not shown; --rejects <file> writes them all\n`);
    io.out(
      `scored ${summary.scored.toLocaleString('en-US')} of ${summary.rows.toLocaleString('en-US')} rows ` +
        `(${summary.rejected.toLocaleString('en-US')} rejected${summary.rejects === null || summary.rejected === 0 ? '' : `, in ${summary.rejects}`}) ` +
        `in ${summary.seconds} s, ${perSecond(summary.rows, ms)} rows/s -> ${summary.output}`,
    );
  }
  return summary.rejected > 0 ? EXIT_REJECTED : 0;
}

function showRejects(io: PredictIo, rejected: readonly Rejection[], before: number): void {
  for (let i = 0; i < rejected.length && before + i < SHOWN_REJECTS; i++) {
    const r = rejected[i]!;
    io.err(`modelship: row ${r.row} rejected [${r.code}] ${r.reason.replace(/\s*\n\s*/g, ' ')}\n`);
  }
}

/** Progress on stderr: the bar on a terminal, else a plain line every `everyMs`. */
function reporter(io: PredictIo, now: () => number) {
  const bar = io.tty ? progressLine(io.err, now, 'scoring', true) : undefined;
  const every = io.everyMs ?? 10_000;
  const started = now();
  let last = started;
  let fraction: number | undefined;
  return {
    bytes: (read: number, total: number) => {
      fraction = total > 0 ? read / total : undefined;
      bar?.bytes(read, total);
    },
    rows: (s: PredictSummary) => {
      if (bar !== undefined) return bar.step({ phase: 'predict', done: s.rows, total: undefined });
      const t = now();
      if (t - last < every) return;
      last = t;
      const share = fraction === undefined ? '' : `, ${Math.floor(fraction * 100)}% of the input`;
      io.err(
        `predict: ${s.rows.toLocaleString('en-US')} rows, ${s.rejected.toLocaleString('en-US')} rejected, ${perSecond(s.rows, Math.max(1, t - started))} rows/s${share}\n`,
      );
    },
    done: () => bar?.done(),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
