/**
 * Batch scoring: rows in, scored rows out, batch by batch and in input order, with bad rows
 * set aside (their number and reason) rather than stopping the run or vanishing.
 */
import { DATA_FAULT_CODES, describe, InputError, invalidArgument, ModelshipError } from '../errors';
import {
  checkDataOptions,
  checkModel,
  type InputBuilder,
  inputBuilder,
  valuesPerRow,
} from '../evaluate/inputs';
import type { RecordTransform, Row } from '../evaluate/types';
import { checkOptions } from '../metrics/labels';
import { throwIfAborted } from '../model/abort';
import type { AbortSignalLike, Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { NamedTensors } from '../tensor/tensor';
import { prepareInputs } from '../tensor/validate';
import { columnNames, outputNames, RowAssembler } from './columns';
import type { Rejection, RowBlock, ScoredBatch } from './types';
import { unreadableOf } from './unreadable';

/** Options of {@link predictBatches}. */
export interface PredictBatchesOptions {
  /**
   * Rows per `predict` call (default 1024): large enough that a call's fixed cost (a session
   * run, a message to a worker) is spread thin, small enough that the batches in flight hold
   * little memory.
   */
  batchSize?: number;
  /** Input columns copied into each scored row ahead of the outputs (an id, an amount); default none. */
  keep?: readonly string[];
  /** The model outputs written, in this order (default: every output the model declares). */
  outputs?: readonly string[];
  /**
   * The columns assembled, in this order, into the model's one input `[batch, k]` (or an
   * image-shaped input such as `[batch, 1, 8, 8]` from 64 columns). Default: every column of
   * the first row except one named `label` and the kept ones (unless the input takes exactly
   * as many values as there are columns with the kept ones). Ignored when the rows carry the
   * model's inputs by name.
   */
  features?: readonly string[];
  /**
   * The data's columns, in order, as the first readable row of the whole input has them
   * (default: that row's own keys). How rows become inputs (the default `features`, inputs by
   * name, the check of the kept columns) is decided from them, so a piece of a file scored on
   * its own (a block of a JSON Lines file whose first row has other fields) decides as the
   * whole file does.
   */
  columns?: readonly string[];
  /** A fitted `Pipeline` that turns each batch of records into the model's input. */
  pipeline?: RecordTransform;
  /**
   * Builds the model inputs of a batch yourself. When it throws an `InputError`
   * (`DATASET_INVALID`, `INPUT_*`), the batch's rows are tried one by one and those it refuses
   * are rejected; any other error stops the run.
   */
  toInputs?: (rows: readonly Row[]) => ModelInputs;
  /** Throw at the first rejected row (an `InputError` naming it) instead of reporting it and going on (default false). */
  strict?: boolean;
  /**
   * Batches scored at once (default: the model's worker `instances` + 1, so 2 for a model in
   * this thread): answers are still given in input order.
   */
  concurrency?: number;
  /** Stops the run between batches and cancels the calls in flight (`ABORTED`). */
  signal?: AbortSignalLike;
}

/** What {@link predictBatches} reads: rows, or a reader's blocks of rows with their place in the file. */
export type BatchInput = Iterable<Row> | AsyncIterable<Row> | AsyncIterable<RowBlock>;

const OPTIONS = [
  'batchSize',
  'keep',
  'outputs',
  'features',
  'columns',
  'pipeline',
  'toInputs',
  'strict',
  'concurrency',
  'signal',
];

function rowFault(e: unknown): e is ModelshipError {
  return ModelshipError.isInstance(e) && DATA_FAULT_CODES.has(e.code);
}

interface Plan {
  batchSize: number;
  keep: string[];
  outputs: string[];
  strict: boolean;
  concurrency: number;
  signal: AbortSignalLike | undefined;
  /** A row with the given `columns` (values null), standing for the first row when deciding the inputs. */
  template: Row | undefined;
  options: PredictBatchesOptions;
}

const WHERE = 'predictBatches';

/**
 * Scores rows with a model, batch by batch: an async generator of {@link ScoredBatch}es in
 * input order, each holding a scored row per good input row (the `keep` columns, then the
 * `outputs`, each flat: `probability`, or `probabilities_0`, `probabilities_1`, …) and the
 * batch's rejected rows. Rows become inputs as `evaluate` makes them: through a `pipeline`,
 * from feature columns, or carrying the inputs by name.
 *
 * A row that cannot be read (a reader's marked record), has a wrong type, or fails the model's
 * input checks is rejected with its row number (0-based among the data rows) and the reason,
 * and the run goes on; with `strict` the first one is thrown instead. Several batches are
 * scored at once (`concurrency`), which keeps a model's worker instances busy; the answers are
 * reassembled in order, and reading waits while the consumer has not taken them
 * (back-pressure), so memory stays bounded however long the input.
 *
 * Options are checked at once (`INVALID_ARGUMENT`, `OUTPUT_UNKNOWN`); data that cannot fit the
 * model at all (unknown feature columns, a kept column the data lacks) is `DATASET_INVALID`
 * while iterating.
 *
 * @example
 * for await (const batch of predictBatches(model, readDataset('big.csv'), { batchSize: 1024 })) {
 *   for (const row of batch.rows) console.log(row.probability);
 *   for (const bad of batch.rejected) console.error(`row ${bad.row}: ${bad.reason}`);
 * }
 */
export function predictBatches(
  model: Model,
  input: BatchInput,
  options: PredictBatchesOptions = {},
): AsyncGenerator<ScoredBatch> {
  checkModel(model, WHERE);
  if (
    typeof input !== 'object' ||
    input === null ||
    (typeof (input as Iterable<Row>)[Symbol.iterator] !== 'function' &&
      typeof (input as AsyncIterable<Row>)[Symbol.asyncIterator] !== 'function')
  )
    throw invalidArgument(
      WHERE,
      'the input must be an iterable or async iterable of rows or row blocks',
      input,
    );
  checkOptions(WHERE, options, OPTIONS);
  return run(model, input, planOf(model, options ?? {}));
}

function planOf(model: Model, options: PredictBatchesOptions): Plan {
  const batchSize = options.batchSize ?? 1024;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw invalidArgument(WHERE, 'batchSize must be a positive integer', batchSize);
  const instances = (model as { instances?: unknown }).instances;
  const concurrency =
    options.concurrency ?? (typeof instances === 'number' && instances >= 1 ? instances + 1 : 2);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 1024)
    throw invalidArgument(WHERE, 'concurrency must be an integer from 1 to 1024', concurrency);
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    throw invalidArgument(WHERE, 'strict must be true or false', options.strict);
  checkDataOptions(options, WHERE);
  if (options.features !== undefined) columnNames(options.features, 'features', WHERE);
  const columns = options.columns === undefined ? undefined : columnNames(options.columns, 'columns', WHERE);
  return {
    batchSize,
    keep: options.keep === undefined ? [] : columnNames(options.keep, 'keep', WHERE),
    outputs: outputNames(model, options.outputs, WHERE),
    strict: options.strict === true,
    concurrency,
    signal: options.signal,
    template: columns === undefined ? undefined : Object.fromEntries(columns.map((c) => [c, null])),
    options,
  };
}

function isBlock(item: unknown): item is RowBlock {
  // Cheap tests first: this runs once per row of a plain row stream.
  return (
    typeof item === 'object' &&
    item !== null &&
    Array.isArray((item as RowBlock).rows) &&
    Number.isSafeInteger((item as RowBlock).firstRow) &&
    (item as RowBlock).firstRow >= 0 &&
    Object.keys(item).length === 2
  );
}

interface Batch {
  firstRow: number;
  rows: unknown[];
}

/**
 * The input as batches of consecutive rows: plain rows are numbered from 0; blocks keep their
 * own numbers, and a batch never spans two blocks that are not adjacent (a shard's blocks).
 */
async function* batchesOf(
  input: BatchInput,
  size: number,
  signal: AbortSignalLike | undefined,
): AsyncGenerator<Batch> {
  let rows: unknown[] = [];
  let firstRow = 0;
  let next = 0;
  let blocks: boolean | undefined;
  // Adds the next row; returns the batch it fills.
  const take = (row: unknown): Batch | undefined => {
    if (rows.length === 0) firstRow = next;
    rows.push(row);
    next++;
    if (rows.length < size) return undefined;
    const full = { firstRow, rows };
    rows = [];
    return full;
  };
  for await (const item of input as AsyncIterable<unknown>) {
    throwIfAborted(signal);
    const block = isBlock(item);
    blocks ??= block;
    if (block !== blocks)
      throw new InputError(
        'DATASET_INVALID',
        `${WHERE}: the input mixes row blocks ({ firstRow, rows }) and rows; item ${next} is ${block ? 'a block' : describe(item)}`,
      );
    if (!block) {
      const full = take(item);
      if (full !== undefined) yield full;
      continue;
    }
    const b = item as RowBlock;
    if (b.firstRow !== next && rows.length > 0) {
      yield { firstRow, rows };
      rows = [];
    }
    if (b.firstRow < next && next > 0)
      throw new InputError(
        'DATASET_INVALID',
        `${WHERE}: row blocks must come in file order; a block starts at row ${b.firstRow} after row ${next - 1}`,
      );
    next = b.firstRow;
    for (const row of b.rows) {
      const full = take(row);
      if (full !== undefined) yield full;
    }
  }
  throwIfAborted(signal);
  if (rows.length > 0) yield { firstRow, rows };
}

function isRow(row: unknown): row is Row {
  return typeof row === 'object' && row !== null && !Array.isArray(row) && unreadableOf(row) === undefined;
}

/** The rejection of a row that is not a readable object, or `undefined` for one that is. */
function unreadable(row: unknown, index: number): Rejection | undefined {
  const record = unreadableOf(row);
  if (record !== undefined)
    return { row: index, code: 'DATASET_INVALID', reason: record.reason, raw: record.raw };
  if (isRow(row)) return undefined;
  return {
    row: index,
    code: 'DATASET_INVALID',
    reason: `row ${index} is ${describe(row)}; rows must be objects of column values`,
    raw: row,
  };
}

async function* run(model: Model, input: BatchInput, plan: Plan): AsyncGenerator<ScoredBatch> {
  const assembler = new RowAssembler(model, plan.keep, plan.outputs, WHERE);
  let build: InputBuilder | undefined;
  const inFlight: Promise<ScoredBatch>[] = [];
  const take = async (): Promise<ScoredBatch> => {
    const batch = await inFlight.shift()!;
    if (plan.strict && batch.rejected.length > 0) {
      const first = batch.rejected[0]!;
      throw new InputError(first.code as 'DATASET_INVALID', `row ${first.row} rejected: ${first.reason}`, {
        details: { row: first.row },
      });
    }
    return batch;
  };
  try {
    for await (const batch of batchesOf(input, plan.batchSize, plan.signal)) {
      if (build === undefined) {
        const first = batch.rows.find(isRow);
        if (first !== undefined) build = builderFor(model, plan.template ?? first, plan);
      }
      const scoring = score(model, batch, build, assembler, plan);
      // Settled later, in order; a failure is seen when its turn comes, never as unhandled.
      scoring.catch(() => {});
      inFlight.push(scoring);
      if (inFlight.length >= plan.concurrency) yield await take();
    }
    while (inFlight.length > 0) yield await take();
  } finally {
    // Stopped early (a break, an error): the batches still running finish unobserved.
    inFlight.length = 0;
  }
}

function builderFor(model: Model, first: Row, plan: Plan): InputBuilder {
  const { options, keep } = plan;
  const missing = keep.filter((k) => !(k in first));
  if (missing.length > 0)
    throw new InputError(
      'DATASET_INVALID',
      `${WHERE}: kept column${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')} not in the data (columns: ${Object.keys(
        first,
      )
        .slice(0, 40)
        .map((c) => `'${c}'`)
        .join(', ')})`,
    );
  const specs = model.signature.inputs;
  const byName = specs.length > 0 && specs.every((s) => s.name in first);
  let features = options.features;
  if (features === undefined && options.pipeline === undefined && options.toInputs === undefined && !byName) {
    // Kept columns are usually ids, not features; but a kept feature (an amount) stays one
    // when the model's input takes exactly the columns with it.
    const columns = Object.keys(first).filter((c) => c !== 'label');
    const unkept = columns.filter((c) => !keep.includes(c));
    const width = specs.length === 1 ? valuesPerRow(specs[0]!) : undefined;
    features = width !== undefined && unkept.length !== width && columns.length === width ? columns : unkept;
  }
  return inputBuilder(
    model,
    first,
    { pipeline: options.pipeline, toInputs: options.toInputs, features },
    WHERE,
  );
}

/** Scores one batch: rejects the rows that cannot be read, then tries the rest together, and one by one only when that fails. */
async function score(
  model: Model,
  batch: Batch,
  build: InputBuilder | undefined,
  assembler: RowAssembler,
  plan: Plan,
): Promise<ScoredBatch> {
  const rejected: Rejection[] = [];
  let good: Row[] = [];
  let numbers: number[] | undefined;
  for (let i = 0; i < batch.rows.length; i++) {
    const row = batch.rows[i];
    const bad = unreadable(row, batch.firstRow + i);
    if (bad === undefined) {
      good.push(row as Row);
      numbers?.push(batch.firstRow + i);
    } else {
      rejected.push(bad);
      numbers ??= Array.from({ length: good.length }, (_, k) => batch.firstRow + k);
    }
  }
  const done = (rows: Row[], out?: NamedTensors): ScoredBatch => ({
    firstRow: batch.firstRow,
    count: batch.rows.length,
    rows: out === undefined ? [] : assembler.rows(rows, out),
    rejected: rejected.sort((a, b) => a.row - b.row),
  });
  if (good.length === 0 || build === undefined) return done([]);
  const offset = numbers?.[0] ?? batch.firstRow;
  const predict = (inputs: ModelInputs) =>
    model.predict(inputs, { outputs: plan.outputs, signal: plan.signal });
  let inputs: ModelInputs | undefined;
  try {
    inputs = build(good, offset);
    return done(good, await predict(inputs));
  } catch (e) {
    if (!rowFault(e)) throw e;
    // Some row does not fit: find which, one by one, and score the others together.
    const fit: Row[] = [];
    for (let i = 0; i < good.length; i++) {
      const index = numbers?.[i] ?? batch.firstRow + i;
      try {
        prepareInputs(model.signature, build([good[i]!], index), model.validation);
        fit.push(good[i]!);
      } catch (rowError) {
        if (!rowFault(rowError)) throw rowError;
        rejected.push({ row: index, code: rowError.code, reason: rowError.message, raw: good[i] });
      }
    }
    if (fit.length === good.length) throw e;
    good = fit;
    if (good.length === 0) return done([]);
    return done(good, await predict(build(good, offset)));
  }
}
