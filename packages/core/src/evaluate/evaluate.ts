import { invalidArgument } from '../errors';
import { checkOptions } from '../metrics/labels';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import { bytesPerElement } from '../tensor/dtype';
import { analyticFor, bootstrapPlan } from './bootstrap';
import { Collected, chooseOutputs } from './collect';
import { type ColumnStream, isColumnStream } from './column-block';
import { type BlockInputBuilder, blockInputBuilder, readBlockLabels } from './column-inputs';
import { batchesOf, datasetError, datasetLength, datasetRows } from './dataset';
import {
  checkDataOptions,
  checkModel,
  type InputBuilder,
  inputBuilder,
  noLabelColumn,
  readRowLabels,
} from './inputs';
import { defaultMetrics, METRIC_NAMES } from './metric-set';

export { checkModel } from './inputs';

import { calibration, checkMetrics, confusion, curves, perClass, residuals, scoreMetrics } from './report';
import { type Scored, score } from './scored';
import type { Dataset, EvaluateOptions, EvaluationReport, MetricName } from './types';

/** The options `evaluate` takes; permutation importance takes those that say how rows are read. */
export const EVALUATE_OPTIONS = [
  'label',
  'features',
  'toInputs',
  'pipeline',
  'output',
  'labelOutput',
  'task',
  'classes',
  'positiveLabel',
  'threshold',
  'scores',
  'average',
  'metrics',
  'batchSize',
  'bootstrap',
  'calibrationBins',
  'total',
  'signal',
  'onProgress',
];

/** Options checked and defaulted once, shared by {@link evaluate} and `compareModels`. */
export interface Plan {
  label: string;
  /** Rows per `predict` call; undefined to choose it from the models' signatures. */
  batchSize: number | undefined;
  bins: number;
  metrics: readonly MetricName[] | undefined;
}

export function planOf(options: EvaluateOptions, where: string, extra: readonly string[] = []): Plan {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options must be an object', options);
  checkOptions(where, options, [...EVALUATE_OPTIONS, ...extra]);
  const batchSize = options.batchSize;
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1))
    throw invalidArgument(where, 'batchSize must be a positive integer', batchSize);
  const bins = options.calibrationBins ?? 10;
  if (!Number.isInteger(bins) || bins < 1 || bins > 1000)
    throw invalidArgument(where, 'calibrationBins must be an integer from 1 to 1000', bins);
  const label = options.label ?? 'label';
  if (typeof label !== 'string' || label === '')
    throw invalidArgument(where, 'label must be a column name', label);
  if (options.metrics !== undefined) {
    if (!Array.isArray(options.metrics) || options.metrics.length === 0)
      throw invalidArgument(where, 'metrics must be a non-empty array of metric names', options.metrics);
    for (const m of options.metrics) {
      if (!METRIC_NAMES.includes(m))
        throw invalidArgument(where, `unknown metric '${String(m)}' (known: ${METRIC_NAMES.join(', ')})`, m);
    }
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw invalidArgument(where, 'onProgress must be a function', options.onProgress);
  checkDataOptions(options, where);
  return { label, batchSize, bins, metrics: options.metrics };
}

/** Input bytes a `predict` call aims at when `batchSize` is not given. */
const BATCH_BYTES = 1 << 20;
/** An input dimension the signature leaves open (other than the batch) is taken to be this long. */
const OPEN_DIM = 64;

/**
 * Rows per `predict` call from the models' signatures: about 1 MiB of input per call (21,845
 * rows of 12 float32 features), at least 256 (the old fixed size) and at most 65,536; a model
 * whose first dimension is fixed gets that many. Large batches spread the per-call cost of the
 * runtime and of building the input tensor over more rows.
 */
export function defaultBatchSize(models: readonly Model[]): number {
  let size = 65_536;
  for (const m of models) {
    let bytes = 0;
    for (const spec of m.signature.inputs) {
      const dims = spec.shape ?? [];
      if (typeof dims[0] === 'number' && dims[0] > 0) size = Math.min(size, dims[0]);
      let values = 1;
      for (let d = 1; d < dims.length; d++) {
        const dim = dims[d];
        values *= typeof dim === 'number' && dim > 0 ? dim : OPEN_DIM;
      }
      // Strings have no fixed size: counted as 64 bytes each.
      bytes += values * (bytesPerElement(spec.dtype) || 64);
    }
    const fixed = m.signature.inputs.some((spec) => typeof spec.shape?.[0] === 'number');
    if (!fixed) size = Math.min(size, Math.max(256, Math.floor(BATCH_BYTES / Math.max(1, bytes))));
  }
  return size;
}

/**
 * Runs each model over the data set batch by batch (every model sees the same batch, so an
 * iterable is read once) and collects labels and outputs.
 */
export async function collect(
  models: readonly Model[],
  dataset: Dataset,
  options: EvaluateOptions,
  plan: Plan,
  where: string,
): Promise<Collected[]> {
  for (const m of models) checkModel(m, where);
  const batchSize = plan.batchSize ?? defaultBatchSize(models);
  if (isColumnStream(dataset)) return collectBlocks(models, dataset, options, plan, batchSize, where);
  const rows = datasetRows(dataset, where);
  const total = options.total ?? datasetLength(dataset);
  const collected = models.map((m) => new Collected(chooseOutputs(m, options, where), where));
  let builders: InputBuilder[] | undefined;
  let done = 0;
  for await (const batch of batchesOf(rows, batchSize, options.signal, where)) {
    if (builders === undefined) {
      const first = batch[0]!;
      if (!(plan.label in first)) readRowLabels([first], plan.label, 0, where, []);
      builders = models.map((m) => inputBuilder(m, first, options, where));
    }
    readRowLabels(batch, plan.label, done, where, collected[0]!.labels);
    done = await predictBatch(
      models,
      collected,
      (m) => builders![m]!(batch, done),
      batch.length,
      done,
      total,
      options,
    );
  }
  return finished(collected, done, where);
}

/**
 * {@link collect} for a CSV read into column blocks: the blocks are the batches, their feature
 * columns go straight into the input tensor and their label column into the labels.
 */
async function collectBlocks(
  models: readonly Model[],
  csv: ColumnStream,
  options: EvaluateOptions,
  plan: Plan,
  batchSize: number,
  where: string,
): Promise<Collected[]> {
  const collected = models.map((m) => new Collected(chooseOutputs(m, options, where), where));
  let builders: BlockInputBuilder[] | undefined;
  let done = 0;
  for await (const block of csv.blocks(batchSize)) {
    throwIfAborted(options.signal);
    if (builders === undefined) {
      if (!block.names.includes(plan.label)) throw noLabelColumn(block.names, plan.label, where);
      builders = models.map((m) => blockInputBuilder(m, block, options, where));
    }
    readBlockLabels(block, plan.label, where, collected[0]!.labels);
    done = await predictBatch(
      models,
      collected,
      (m) => builders![m]!(block),
      block.length,
      done,
      options.total,
      options,
    );
  }
  throwIfAborted(options.signal);
  return finished(collected, done, where);
}

/** Runs every model on one batch and keeps its answers; returns the rows done so far. */
async function predictBatch(
  models: readonly Model[],
  collected: Collected[],
  inputsFor: (m: number) => ModelInputs,
  length: number,
  done: number,
  total: number | undefined,
  options: EvaluateOptions,
): Promise<number> {
  for (let m = 0; m < models.length; m++) {
    const out = await models[m]!.predict(inputsFor(m), {
      signal: options.signal,
      outputs: collected[m]!.outputs(),
    });
    collected[m]!.add(out, length);
  }
  const now = done + length;
  options.onProgress?.({ phase: 'predict', done: now, total });
  return now;
}

/** Refuses an empty data set; every model gets the labels the first one read. */
function finished(collected: Collected[], done: number, where: string): Collected[] {
  if (done === 0) throw datasetError(`${where}: the data set has no rows`);
  // The labels are read once; every model scores against the same column.
  for (let m = 1; m < collected.length; m++) collected[m]!.labels = collected[0]!.labels;
  return collected;
}

/** Builds a report from scored data: metrics with intervals, per-class table, curves, calibration. */
export function buildReport(
  model: Model,
  s: Scored,
  output: string,
  options: EvaluateOptions,
  plan: Plan,
  started: number,
  where: string,
): EvaluationReport {
  const notes: string[] = [];
  const names = plan.metrics ?? defaultMetrics(s);
  checkMetrics(names, s, where);
  const boot = bootstrapPlan(options.bootstrap, where);
  const metrics = scoreMetrics(s, names, boot, notes, options.onProgress);
  const report: EvaluationReport = {
    model: { name: model.name, version: model.version },
    task: s.task,
    samples: s.n,
    output,
    scores: s.kind,
    metrics,
    bootstrap:
      boot === null
        ? null
        : {
            resamples: boot.resamples,
            seed: boot.seed,
            confidence: boot.confidence,
            ...(analyticFor(boot, s.n) ? { method: 'analytic' as const } : {}),
          },
    notes,
    durationMs: 0,
  };
  if (s.task === 'regression') {
    report.residuals = residuals(s);
  } else {
    report.classes = s.classes;
    if (s.positive !== undefined) report.positiveLabel = s.positive;
    if (s.threshold !== undefined) report.threshold = s.threshold;
    if (s.task === 'multiclass') report.average = s.average;
    report.perClass = perClass(s);
    report.confusion = confusion(s);
    const c = curves(s, notes);
    if (c !== undefined) {
      report.roc = c.roc;
      report.pr = c.pr;
    }
    const cal = calibration(s, plan.bins);
    if (cal !== undefined) report.calibration = cal;
  }
  report.durationMs = Date.now() - started;
  return report;
}

/**
 * Evaluates a model on a data set: runs it in batches, reads its outputs as predictions and
 * scores, and reports each metric with a seeded bootstrap confidence interval, the per-class
 * table, the confusion matrix, ROC and precision-recall curves and calibration bins. Point
 * values are scikit-learn's (the metric functions); intervals are percentile intervals over
 * resamples of the rows.
 *
 * @example
 * const report = await evaluate(model, rows, { label: 'is_fraud', metrics: ['rocAuc', 'recall'] });
 * report.metrics.rocAuc; // { value: 0.981, low: 0.968, high: 0.991 }
 */
export async function evaluate(
  model: Model,
  dataset: Dataset,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const where = 'evaluate';
  const started = Date.now();
  const plan = planOf(options, where);
  const [collected] = await collect([model], dataset, options, plan, where);
  const s = score(collected!, options, where);
  return buildReport(
    model,
    s,
    collected!.choice.scores ?? collected!.choice.labels!,
    options,
    plan,
    started,
    where,
  );
}

/**
 * Runs a model over a data set and reads its answers as `evaluate` does, without metrics: the
 * predictions and scores row by row (the testing matchers compare these).
 */
export async function scoreDataset(
  model: Model,
  dataset: Dataset,
  options: EvaluateOptions,
  where: string,
): Promise<Scored> {
  const plan = planOf(options, where);
  const [collected] = await collect([model], dataset, options, plan, where);
  return score(collected!, options, where);
}
