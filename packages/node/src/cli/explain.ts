/**
 * `modelship explain`: why a model answers as it does on a CSV, TSV or JSONL file: permutation
 * importance, partial dependence of the most important features, and Shapley values of chosen
 * rows, printed as tables (or JSON) and optionally drawn in a self-contained HTML page.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type ExplainMethod,
  type ExplanationReport,
  explain,
  explanationToJSON,
  type MetricName,
  type Model,
  ModelshipError,
  type PartialDependence,
  type Pipeline,
  partialDependence,
  permutationImportance,
  type Row,
  renderExplanationHtml,
  sampleRows,
  type Task,
} from '@modelship/core';
import type { Command } from 'commander';
import { readDataset } from '../datasets';
import { loadModel } from '../load-model';
import { EXIT_INTERRUPTED, UsageError } from './errors';
import { dataCommand, integer, list, modelName, progressStream, readPipeline, toJson } from './eval';
import { inCliTerms } from './eval-errors';
import { explanationText } from './explain-text';
import { mustExist } from './files';
import { type ProgressLine, progressLine } from './progress';

/** The options of `modelship explain`, as commander parses them. */
interface ExplainFlags {
  label?: string;
  features?: string;
  pipeline?: string;
  output?: string;
  class?: string;
  task?: string;
  rows?: string;
  pd?: string;
  method?: string;
  nsamples?: string;
  maxEvals?: string;
  link?: string;
  background?: string;
  metric?: string;
  repeats?: string;
  gridResolution?: string;
  seed?: string;
  batchSize?: string;
  html?: string;
  json?: boolean;
}

/** Partial-dependence plots drawn when `--pd` does not name the features. */
const DEFAULT_PD = 4;

export function registerExplain(
  program: Command,
  out: (s: string) => void,
  done: (code: number) => void,
): void {
  dataCommand(
    program
      .command('explain')
      .summary('explain a model on a CSV/TSV/JSONL file')
      .description(
        'Explains a model on a CSV, TSV or JSONL file: permutation importance of every feature, partial dependence ' +
          'of the most important ones, and Shapley values of the rows named by --rows.',
      ),
  )
    .option('--output <name>', 'output explained (default: a float output, "prob*" first)')
    .option('--class <k>', 'column of that output explained (default: its only column, or 1 of two)')
    .option('--task <t>', 'binary, multiclass or regression, for the importance metric (default: inferred)')
    .option('--rows <i,j,...>', 'data rows (from 0) whose Shapley values are shown (default: 0)')
    .option(
      '--pd <a,b,...>',
      `features with a partial-dependence plot (default: the ${DEFAULT_PD} most important)`,
    )
    .option('--method <m>', 'exact, kernel or permutation (default: exact up to 10 features, else kernel)')
    .option('--nsamples <n>', 'KernelSHAP coalitions per row (default: 2·M + 2048)')
    .option('--max-evals <n>', 'permutation method budget per row (default: 500)')
    .option('--link <l>', 'identity, or logit to explain log-odds (default: identity)')
    .option('--background <n>', 'background rows sampled from the data (default: 100)')
    .option('--metric <name>', 'importance metric (default: accuracy, or r2Score for regression)')
    .option('--repeats <n>', 'shuffles per feature for importance (default: 5)')
    .option('--grid-resolution <n>', 'points of each partial-dependence grid (default: 100)')
    .option('--seed <n>', 'seed of the shuffles, the background sample and the Shapley sampling (default: 0)')
    .option('--batch-size <n>', 'rows per predict call (default: 4096)')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--json', 'print the results as JSON instead of tables')
    .addHelpText(
      'after',
      '\nProgress (model rows per phase) goes to stderr on a terminal or with MODELSHIP_PROGRESS=1. Ctrl-C stops the run (exit 130).',
    )
    .action(async (model: string, data: string, values: ExplainFlags) =>
      done(await explainCommand(model, data, values, { out, progress: progressStream() })),
    );
}

interface Io {
  out: (s: string) => void;
  progress: ((s: string) => void) | undefined;
}

function positive(name: string, v: string | undefined): number | undefined {
  const n = integer(name, v);
  if (n === 0) throw new UsageError(`--${name} must be a positive integer, not '${v}'`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined || (allowed as readonly string[]).includes(v)) return v as T | undefined;
  throw new UsageError(`--${name} must be ${allowed.join(', ')}, not '${v}'`);
}

/** Every row of the file, in memory: the explainers read the rows many times. */
async function readRows(path: string, bar: ProgressLine | undefined, signal: AbortSignal): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const row of readDataset(path, { onBytes: bar?.bytes, signal })) {
    rows.push(row);
    bar?.count('reading', 'rows', rows.length, undefined);
  }
  if (rows.length === 0)
    throw new ModelshipError(
      'DATASET_INVALID',
      `explain: ${basename(path)} has no data rows; there is nothing to explain`,
    );
  return rows;
}

/** The model, counting the rows it answers so the progress line can show them. */
function counted(model: Model, onRows: (n: number) => void): Model {
  return {
    get name() {
      return model.name;
    },
    get version() {
      return model.version;
    },
    get signature() {
      return model.signature;
    },
    get validation() {
      return model.validation;
    },
    async predict(inputs, options) {
      const out = await model.predict(inputs, options);
      const first = Object.values(out)[0];
      onRows(first?.shape[0] ?? 0);
      return out;
    },
    dispose: () => model.dispose(),
  };
}

export async function explainCommand(
  modelPath: string,
  dataPath: string,
  values: ExplainFlags,
  io: Io,
): Promise<number> {
  const task = oneOf<Task>('task', values.task, ['binary', 'multiclass', 'regression']);
  const method = oneOf<ExplainMethod>('method', values.method, ['exact', 'kernel', 'permutation']);
  const link = oneOf('link', values.link, ['identity', 'logit'] as const);
  const seed = integer('seed', values.seed) ?? 0;
  const backgroundSize = positive('background', values.background) ?? 100;
  const klass = integer('class', values.class);
  const rowList = (list(values.rows) ?? ['0']).map((r) => {
    const n = integer('rows', r);
    if (n === undefined) throw new UsageError(`--rows must list row numbers, not '${values.rows}'`);
    return n;
  });
  const pdList = list(values.pd);
  const run = {
    label: values.label,
    features: list(values.features),
    output: values.output,
    batchSize: positive('batch-size', values.batchSize),
  };
  const shapley = {
    method,
    nsamples: positive('nsamples', values.nsamples),
    maxEvals: positive('max-evals', values.maxEvals),
    link,
    seed,
    class: klass,
  };
  const importance = {
    metric: values.metric as MetricName | undefined,
    repeats: positive('repeats', values.repeats),
    task,
    seed,
  };
  const gridResolution = integer('grid-resolution', values.gridResolution);
  await mustExist(modelPath, 'the model');
  await mustExist(dataPath, 'the data file');

  const controller = new AbortController();
  // The first Ctrl-C stops the explainers at their next batch; a second one does not wait.
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = io.progress === undefined ? undefined : progressLine(io.progress, Date.now, 'reading');
  let model: Model | undefined;
  try {
    const loaded = await loadModel(modelPath, { name: modelName(modelPath) });
    let phase = { name: 'reading', total: undefined as number | undefined, done: 0 };
    model = counted(loaded, (n) => {
      phase.done += n;
      bar?.count(phase.name, 'rows', phase.done, phase.total);
    });
    const start = (name: string, total: number): void => {
      phase = { name, total, done: 0 };
      bar?.count(name, 'rows', 0, total);
    };
    const pipeline: Pipeline | undefined =
      values.pipeline === undefined ? undefined : await readPipeline(values.pipeline);
    pipeline?.wrap(loaded);
    const rows = await readRows(dataPath, bar, controller.signal);
    for (const r of rowList)
      if (r >= rows.length)
        throw new UsageError(
          `--rows ${r} is out of range: ${basename(dataPath)} has ${rows.length} data rows (0 … ${rows.length - 1})`,
        );
    const common = {
      ...defined(run),
      ...(pipeline === undefined ? {} : { pipeline }),
      signal: controller.signal,
    };
    const label = run.label ?? 'label';
    const columns = run.features ?? Object.keys(rows[0]!).filter((c) => c !== label);
    if (pdList !== undefined)
      for (const f of pdList)
        if (!columns.includes(f))
          throw new UsageError(
            `--pd names unknown feature '${f}'; the features are ${columns.map((c) => `'${c}'`).join(', ')}`,
          );

    const report: ExplanationReport = {
      model: { name: loaded.name, version: loaded.version },
      samples: rows.length,
      ...(values.output === undefined ? {} : { output: values.output }),
      ...(klass === undefined ? {} : { class: klass }),
      seed,
    };
    try {
      start('importance', rows.length * (1 + columns.length * (importance.repeats ?? 5)));
      report.importance = await permutationImportance(model, rows, { ...common, ...defined(importance) });
      const imp = report.importance;
      const chosen =
        pdList ??
        imp.features
          .map((f, j) => ({ f, m: imp.importancesMean[j]! }))
          .sort((a, b) => b.m - a.m)
          .map((e) => e.f)
          .filter((f) => columns.includes(f) && rows.every((r) => typeof r[f] === 'number'))
          .slice(0, DEFAULT_PD);
      const resolution = gridResolution ?? 100;
      start(
        'dependence',
        chosen.reduce((a, f) => a + rows.length * Math.min(resolution, distinct(rows, f)), 0),
      );
      const pds: PartialDependence[] = [];
      for (const feature of chosen)
        pds.push(
          await partialDependence(model, rows, {
            ...common,
            ...(klass === undefined ? {} : { class: klass }),
            feature,
            ...(gridResolution === undefined ? {} : { gridResolution }),
          }),
        );
      report.partialDependence = pds;
    } catch (e) {
      throw await inCliTerms(inExplainTerms(e), dataPath);
    }
    const background = sampleRows(rows, backgroundSize, { seed });
    const explained = rowList.map((r) => rows[r]!);
    start('shapley', estimateShapley(columns.length, explained.length, background.length, shapley));
    const ex = await explain(model, explained, { ...common, ...defined(shapley), background }).catch(
      async (e) => {
        // explain counts the --rows it was given; the background's rows are no lines of the file.
        const named = inExplainTerms(e, (i) => rowList[i] ?? i);
        throw ModelshipError.isInstance(named) && named.message.includes('background')
          ? named
          : await inCliTerms(named, dataPath);
      },
    );
    report.shapley = {
      rows: rowList,
      data: explained,
      background: background.length,
      ...explanationToJSON(ex),
    };
    bar?.done();
    if (values.html !== undefined) await writeFile(values.html, renderExplanationHtml(report));
    io.out(values.json === true ? toJson(report) : explanationText(report, basename(dataPath)));
    if (values.html !== undefined && values.json !== true) io.out(`HTML report written to ${values.html}`);
    return 0;
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    bar?.done();
    process.stderr.write('modelship: [ABORTED] explain stopped by Ctrl-C (SIGINT); nothing was written\n');
    return EXIT_INTERRUPTED;
  } finally {
    process.off('SIGINT', onSigint);
    bar?.done();
    await model?.dispose();
  }
}

/**
 * The explainers' messages in the command's terms: a row as the data row (which eval's
 * rewriting then turns into the file's line; `dataRow` maps an explained row to it), a missing
 * cell as the file shows it, the `class` option as its flag.
 */
function inExplainTerms(e: unknown, dataRow: (i: number) => number = (i) => i): unknown {
  if (!ModelshipError.isInstance(e)) return e;
  const message = e.message
    .replace(/\bthe rows row (\d+)/g, (_m, i: string) => `row ${dataRow(Number(i))}`)
    .replace(/ is null; /, ' is missing (an empty, NaN or NA cell); ')
    .replace(/\bwith class\b/g, 'with --class');
  return message === e.message ? e : new ModelshipError(e.code, message, { cause: e });
}

/** The options that were given: an explicit `undefined` would trip the explainers' option checks. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function distinct(rows: readonly Row[], feature: string): number {
  return new Set(rows.map((r) => r[feature])).size;
}

/** Model rows the Shapley values will take at most (features equal to the whole background cost none). */
function estimateShapley(
  features: number,
  rows: number,
  background: number,
  o: { method?: ExplainMethod; nsamples?: number; maxEvals?: number },
): number {
  const method = o.method ?? (features <= 10 ? 'exact' : 'kernel');
  const all = 2 ** Math.min(features, 52) - 2;
  const coalitions =
    method === 'exact'
      ? all
      : method === 'kernel'
        ? Math.min(o.nsamples ?? 2 * features + 2048, all)
        : (o.maxEvals ?? 500);
  return background + rows + rows * coalitions * background;
}
