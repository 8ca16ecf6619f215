/**
 * `modelship eval`: evaluates an ONNX model on a CSV, TSV or JSONL file and prints the
 * report as a table (or JSON), optionally as a self-contained HTML page; with `--compare`, runs
 * the paired tests of two models on the same rows.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  compareModels,
  type EvaluateOptions,
  evaluate,
  type Label,
  type MetricName,
  type Model,
  Pipeline,
  renderComparisonHtml,
  renderReportHtml,
  type Task,
} from '@modelship/core';
import type { Command } from 'commander';
import { datasetFormatOf, readCsvColumns, readDataset } from '../datasets';
import { loadModel } from '../load-model';
import { UsageError } from './errors';
import { inCliTerms } from './eval-errors';
import { comparisonText, reportText } from './eval-text';
import { mustExist } from './files';
import { progressLine } from './progress';

/** The options of `modelship eval`, as commander parses them. */
interface EvalFlags {
  label?: string;
  features?: string;
  pipeline?: string;
  output?: string;
  labelOutput?: string;
  task?: string;
  classes?: string;
  positiveLabel?: string;
  threshold?: string;
  metrics?: string;
  batchSize?: string;
  resamples?: string;
  intervals?: string;
  seed?: string;
  compare?: string;
  html?: string;
  json?: boolean;
}

export function registerEval(program: Command, out: (s: string) => void, done: (code: number) => void): void {
  dataCommand(
    program
      .command('eval')
      .summary('evaluate a model on a CSV/TSV/JSONL file')
      .description(
        'Evaluates a model on a CSV, TSV or JSONL file: metrics with bootstrap intervals, the per-class table, ' +
          'the confusion matrix; --compare tests whether a second model differs on the same rows.',
      ),
  )
    .option(
      '--output <name>',
      'output holding scores or probabilities (default: a float output, "prob*" first)',
    )
    .option('--label-output <name>', 'output holding predicted labels')
    .option('--task <t>', 'binary, multiclass or regression (default: inferred)')
    .option('--classes <a,b,...>', 'class of each score column')
    .option('--positive-label <l>', 'positive class of a binary task (default: the greater class)')
    .option('--threshold <t>', 'binary decision threshold (default: 0.5 on probabilities)')
    .option('--metrics <a,b,...>', 'metrics to report (default: all that fit the task)')
    .option('--batch-size <n>', 'rows per predict call (default: about 1 MiB of input, from the signature)')
    .option('--resamples <n>', 'bootstrap resamples for the 95% intervals (default: 1000; 0 turns them off)')
    .option(
      '--intervals <method>',
      'auto, resample or analytic (default: auto: resamples up to 100,000 rows, analytic above)',
    )
    .option('--seed <n>', 'bootstrap seed (default: 0)')
    .option(
      '--compare <other.onnx>',
      'also run this model and test whether it differs (DeLong, McNemar, paired bootstrap)',
    )
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--json', 'print the report as JSON instead of tables')
    .addHelpText(
      'after',
      '\nProgress (rows while scoring, metrics as they are scored, resamples while bootstrapping, each with its rate and ETA) goes to stderr on a terminal or with MODELSHIP_PROGRESS=1.',
    )
    .action(async (model: string, data: string, values: EvalFlags) =>
      done(await evalCommand(model, data, values, { out, progress: progressStream() })),
    );
}

/**
 * The arguments and options `eval` and `explain` share: the model, the data file, and how its
 * rows become the model's inputs (label, feature columns, a pipeline).
 */
export function dataCommand(command: Command): Command {
  return command
    .argument('<model>', 'an .onnx or .ort file')
    .argument('<data>', 'a .csv, .tsv, .jsonl or .ndjson file')
    .option('--label <column>', 'label column (default: label)')
    .option('--features <a,b,...>', "feature columns, in the model's order (default: all but the label)")
    .option(
      '--pipeline <file.json>',
      "a fitted pipeline.json: rows are records it turns into the model's input",
    );
}

/** Progress goes to stderr when a person is watching it (a TTY), or when MODELSHIP_PROGRESS=1. */
export function progressStream(): ((s: string) => void) | undefined {
  if (!process.stderr.isTTY && process.env.MODELSHIP_PROGRESS !== '1') return undefined;
  return (s) => process.stderr.write(s);
}

interface Io {
  out: (s: string) => void;
  progress: ((s: string) => void) | undefined;
}

export function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

export function integer(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || v.trim() === '')
    throw new UsageError(`--${name} must be a non-negative integer, not '${v}'`);
  return n;
}

/** Labels given on the command line are numbers when they read as numbers, as CSV cells are. */
function labelOf(v: string): Label {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : v;
}

export async function evalCommand(
  modelPath: string,
  dataPath: string,
  values: EvalFlags,
  io: Io,
): Promise<number> {
  const task = values.task;
  if (task !== undefined && !['binary', 'multiclass', 'regression'].includes(task))
    throw new UsageError(`--task must be binary, multiclass or regression, not '${task}'`);
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.threshold.trim() === '' || !Number.isFinite(threshold))
      throw new UsageError(`--threshold must be a number, not '${values.threshold}'`);
  }
  const resamples = integer('resamples', values.resamples) ?? 1000;
  const seed = integer('seed', values.seed) ?? 0;
  const method = values.intervals ?? 'auto';
  if (method !== 'auto' && method !== 'resample' && method !== 'analytic')
    throw new UsageError(`--intervals must be auto, resample or analytic, not '${method}'`);
  const options: EvaluateOptions = {
    label: values.label,
    features: list(values.features),
    output: values.output,
    labelOutput: values.labelOutput,
    task: task as Task | undefined,
    classes: list(values.classes)?.map(labelOf),
    positiveLabel: values.positiveLabel === undefined ? undefined : labelOf(values.positiveLabel),
    threshold,
    metrics: list(values.metrics) as MetricName[] | undefined,
    batchSize: integer('batch-size', values.batchSize),
    bootstrap: resamples === 0 ? false : { resamples, seed, method },
  };
  for (const key of Object.keys(options) as (keyof EvaluateOptions)[])
    if (options[key] === undefined) delete options[key];
  await mustExist(modelPath, 'the model');
  await mustExist(dataPath, 'the data file');
  if (values.compare !== undefined) await mustExist(values.compare, '--compare');

  const bar = io.progress === undefined ? undefined : progressLine(io.progress, Date.now, 'scoring', true);
  const models: Model[] = [];
  try {
    models.push(await loadModel(modelPath, { name: modelName(modelPath) }));
    if (values.compare !== undefined)
      models.push(await loadModel(values.compare, { name: modelName(values.compare) }));
    const pipeline = values.pipeline === undefined ? undefined : await readPipeline(values.pipeline);
    // Checked against each model now, so a pipeline that does not fit fails before any data is read.
    for (const m of models) pipeline?.wrap(m);
    // CSV and TSV go through the columnar reader: bytes straight into typed columns.
    const format = datasetFormatOf(dataPath);
    const rows =
      format === 'csv' || format === 'tsv'
        ? readCsvColumns(dataPath, { delimiter: format === 'tsv' ? '\t' : ',', onBytes: bar?.bytes })
        : readDataset(dataPath, { onBytes: bar?.bytes });
    const run = { ...options, ...(pipeline === undefined ? {} : { pipeline }), onProgress: bar?.step };
    try {
      if (models.length === 2) {
        const comparison = await compareModels(models[0]!, models[1]!, rows, run);
        bar?.done();
        if (values.html !== undefined) await writeFile(values.html, renderComparisonHtml(comparison));
        io.out(values.json === true ? toJson(comparison) : comparisonText(comparison, basename(dataPath)));
      } else {
        const report = await evaluate(models[0]!, rows, run);
        bar?.done();
        if (values.html !== undefined) await writeFile(values.html, renderReportHtml(report));
        io.out(values.json === true ? toJson(report) : reportText(report, basename(dataPath)));
      }
    } catch (e) {
      throw await inCliTerms(e, dataPath);
    }
    if (values.html !== undefined && values.json !== true) io.out(`HTML report written to ${values.html}`);
    return 0;
  } finally {
    bar?.done();
    await Promise.all(models.map((m) => m.dispose()));
  }
}

export async function readPipeline(file: string): Promise<Pipeline> {
  await mustExist(file, '--pipeline');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --pipeline ${file}: ${(e as Error).message}`);
  }
  try {
    return Pipeline.fromJSON(JSON.parse(text));
  } catch (e) {
    throw new UsageError(`--pipeline ${file}: ${(e as Error).message}`);
  }
}

export function modelName(path: string): string {
  return basename(path).replace(/\.(onnx|ort)$/, '');
}

/** JSON with NaN written as null, as JSON has no NaN. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}
