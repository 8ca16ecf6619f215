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
  type PredictBatchesOptions,
  predictBatches,
  type Rejection,
  type TextFormat,
} from '@modelship/core/batch';
import type { Command } from 'commander';
import { rejectsFile, rowFileSink, textFormatOf } from '../batch/sink';
import { readDataset } from '../datasets';
import { loadModel } from '../load-model';
import { EXIT_INTERRUPTED, EXIT_REJECTED, UsageError } from './errors';
import { integer, list, modelName, readPipeline, toJson } from './eval';
import { mustExist } from './files';
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

/** Rejected rows shown on stderr when there is no `--rejects` file. */
const SHOWN_REJECTS = 10;

export function registerPredict(
  program: Command,
  out: (s: string) => void,
  done: (code: number) => void,
): void {
  program
    .command('predict')
    .summary('score a CSV/JSONL file with a model, writing CSV/JSONL')
    .description(
      'Scores every row of a CSV, TSV or JSONL file in batches and writes the chosen outputs, with the kept ' +
        'columns, to a CSV or JSONL file in input order. Rows that cannot be scored are reported with their ' +
        'row number (0-based among the data rows) and the reason, and the run goes on (--strict stops at the first).',
    )
    .argument('<model>', 'an .onnx or .ort file')
    .argument('<input>', 'a .csv, .tsv, .jsonl or .ndjson file')
    .requiredOption('-o, --output <file>', 'where the scores go: .csv, .jsonl or .ndjson (or see --format)')
    .option('--format <csv|jsonl>', 'output format (default: from the output file extension)')
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
      'onnxruntime sessions on worker threads, the cores divided among them (default: 1)',
    )
    .option('--batch-size <n>', 'rows per model call (default: 1024)')
    .option('--strict', 'stop at the first row that cannot be scored (exit 2)')
    .option('--rejects <file.jsonl>', 'write rejected rows here: {"row", "code", "reason", "raw"} a line')
    .option('--json', 'print the summary as JSON')
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
}

function formatOf(values: PredictFlags): TextFormat {
  if (values.format !== undefined) {
    if (values.format !== 'csv' && values.format !== 'jsonl')
      throw new UsageError(`--format must be csv or jsonl, not '${values.format}'`);
    return values.format;
  }
  const format = textFormatOf(values.output);
  if (format === undefined)
    throw new UsageError(
      `cannot tell the format of -o ${values.output} from its extension; use .csv, .jsonl or .ndjson, or --format`,
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
  const format = formatOf(values);
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
    if (await isDirectory(path)) throw new UsageError(`${flag} ${path} is a folder; name a file`);
  }
  const pipeline = values.pipeline === undefined ? undefined : await readPipeline(values.pipeline);

  const started = now();
  // One session in this thread, or one per worker thread with the cores shared out (as serve --workers).
  const model: Model =
    workers === 1
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
  let sink: ReturnType<typeof rowFileSink> | undefined;
  let rejects: ReturnType<typeof rejectsFile> | undefined;
  try {
    // Checked against the model now, so a pipeline that does not fit fails before any data is read.
    pipeline?.wrap(model);
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
    const rows = readDataset(inputPath, { badRecords: 'mark', onBytes: progress.bytes });
    const batches = predictBatches(model, rows, options);
    sink = rowFileSink(values.output, format);
    rejects = values.rejects === undefined ? undefined : rejectsFile(values.rejects);
    for await (const batch of batches) {
      await sink.write(batch.rows);
      if (batch.rejected.length > 0) {
        if (rejects !== undefined) await rejects.write(batch.rejected);
        else showRejects(io, batch.rejected, summary.rejected);
      }
      summary.rows += batch.count;
      summary.scored += batch.rows.length;
      summary.rejected += batch.rejected.length;
      progress.rows(summary);
    }
    await sink.close();
    await rejects?.close();
  } catch (e) {
    progress.done();
    await Promise.all([sink?.abort(), rejects?.abort()]);
    if (!interrupt.signal.aborted) throw e;
    io.err('modelship: [ABORTED] predict stopped by Ctrl-C (SIGINT); no output was left\n');
    return EXIT_INTERRUPTED;
  } finally {
    process.off('SIGINT', onSigint);
    await model.dispose();
  }
  progress.done();
  const ms = Math.max(1, now() - started);
  summary.seconds = Math.round(ms) / 1000;
  summary.rowsPerSecond = Math.round((summary.rows * 1000) / ms);
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
