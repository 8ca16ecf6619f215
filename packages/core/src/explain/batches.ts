import { invalidArgument, ModelshipError } from '../errors';
import { chooseOutputs } from '../evaluate/collect';
import { checkModel } from '../evaluate/evaluate';
import { type InputBuilder, inputBuilder } from '../evaluate/inputs';
import type { Row } from '../evaluate/types';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { TensorSpec } from '../tensor/spec';
import { type NamedTensors, tensor } from '../tensor/tensor';
import type { ExplainRunOptions } from './types';

/** Rows per `predict` call unless `batchSize` says otherwise. */
export const DEFAULT_BATCH_SIZE = 4096;

/** Option names every explainer takes (how rows become inputs, which output, batching). */
export const RUN_OPTIONS = [
  'label',
  'features',
  'toInputs',
  'pipeline',
  'output',
  'class',
  'batchSize',
  'signal',
];

/** Checks the options every explainer shares; returns the batch size. */
export function checkRunOptions(model: unknown, options: ExplainRunOptions, where: string): number {
  checkModel(model, where);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw invalidArgument(where, 'batchSize must be a positive integer', batchSize);
  if (options.class !== undefined && !(Number.isInteger(options.class) && options.class >= 0))
    throw invalidArgument(where, 'class must be a column index (an integer ≥ 0)', options.class);
  throwIfAborted(options.signal);
  return batchSize;
}

/** The output an explainer reads: `output`, else the one the Evaluator would read; it must be a float output. */
export function explainedOutput(model: Model, output: string | undefined, where: string): string {
  const choice = chooseOutputs(model, { output }, where);
  if (choice.scores === undefined)
    throw new ModelshipError(
      'OUTPUT_UNKNOWN',
      `${where}: model '${model.name}' has no float output to explain (outputs: ${model.signature.outputs.map((o) => `'${o.name}'`).join(', ')}); name one with output`,
    );
  return choice.scores;
}

/** One output of a `predict` answer for `n` input rows, as rows of `width` values. */
export function outputRows(
  out: NamedTensors,
  output: string,
  n: number,
  where: string,
): { data: ArrayLike<number | bigint | boolean>; width: number } {
  const t = out[output];
  const width = t === undefined ? 0 : t.data.length / n;
  if (t === undefined || t.shape[0] !== n || !Number.isInteger(width) || width < 1)
    throw new ModelshipError(
      'INFERENCE_FAILED',
      `${where}: output '${output}' has shape [${t?.shape.join(', ') ?? ''}] for ${n} rows; one row of values per input row is required`,
    );
  return { data: t.data as ArrayLike<number | bigint | boolean>, width };
}

/**
 * Rows a generated row takes its values from: the records, and (when the model takes one
 * float `[batch, k]` input built from feature columns) the same rows as that input's matrix.
 */
export interface Table {
  readonly rows: readonly Row[];
  readonly matrix: ArrayLike<number> | undefined;
}

/** Writes one generated row, column by column (columns are indices into the feature columns). */
export interface RowWriter {
  /** Every feature column from row `i` of `table`. */
  copy(table: Table, i: number): void;
  /** Each column from row `i` of `a` where `fromA` is 1, else from row `j` of `b`. */
  mix(a: Table, i: number, b: Table, j: number, fromA: Uint8Array): void;
  /** One column set to a number. */
  set(col: number, value: number): void;
}

/** Generated rows as pooled records, made inputs by the Evaluator's `inputBuilder` (pipelines, toInputs, named inputs). */
class RecordWriter implements RowWriter {
  row: Row = {};
  constructor(private readonly columns: readonly string[]) {}
  copy(table: Table, i: number): void {
    const source = table.rows[i]!;
    for (const c of this.columns) this.row[c] = source[c];
  }
  mix(a: Table, i: number, b: Table, j: number, fromA: Uint8Array): void {
    const ra = a.rows[i]!;
    const rb = b.rows[j]!;
    const cols = this.columns;
    for (let c = 0; c < cols.length; c++) this.row[cols[c]!] = fromA[c] === 1 ? ra[cols[c]!] : rb[cols[c]!];
  }
  set(col: number, value: number): void {
    this.row[this.columns[col]!] = value;
  }
}

/** Generated rows written straight into one reused float buffer of `batchSize × k`. */
class MatrixWriter implements RowWriter {
  at = 0;
  constructor(
    public buffer: Float32Array | Float64Array,
    private readonly k: number,
  ) {}
  copy(table: Table, i: number): void {
    const m = table.matrix!;
    const from = i * this.k;
    for (let j = 0; j < this.k; j++) this.buffer[this.at + j] = m[from + j]!;
  }
  mix(a: Table, i: number, b: Table, j: number, fromA: Uint8Array): void {
    const ma = a.matrix!;
    const mb = b.matrix!;
    const fa = i * this.k;
    const fb = j * this.k;
    for (let c = 0; c < this.k; c++) this.buffer[this.at + c] = fromA[c] === 1 ? ma[fa + c]! : mb[fb + c]!;
  }
  set(col: number, value: number): void {
    this.buffer[this.at + col] = value;
  }
}

/**
 * The one float `[batch, k]` input that feature columns fill, when that is how rows become
 * inputs (no pipeline, no toInputs, rows not carrying inputs by name): the case a matrix
 * buffer can serve without making a record per generated row.
 */
function matrixInput(
  model: Model,
  first: Row,
  options: ExplainRunOptions,
  k: number,
): TensorSpec | undefined {
  if (options.pipeline !== undefined || options.toInputs !== undefined) return undefined;
  const specs = model.signature.inputs;
  if (specs.length !== 1) return undefined;
  const spec = specs[0]!;
  if (options.features === undefined && spec.name in first) return undefined;
  if (spec.dtype !== 'float32' && spec.dtype !== 'float64') return undefined;
  if (
    spec.shape === null ||
    spec.shape.length !== 2 ||
    (typeof spec.shape[1] === 'number' && spec.shape[1] !== k)
  )
    return undefined;
  return spec;
}

/** The float buffer a matrix input is written into. */
export type MatrixBuffer = Float32Array | Float64Array;

/** Writes one call's rows into its buffer (see {@link BatchPredictor.runMatrix}). */
export type WriteMatrix = (buffer: MatrixBuffer, call: number, first: number, n: number) => void;

/** Receives one call's output: row r's number is `data[r * width + column]`. */
export type ReadOutput = (
  data: ArrayLike<number>,
  width: number,
  column: number,
  call: number,
  first: number,
  n: number,
) => void;

/** Writes one call's inputs (into buffer `slot`): its `n` rows, the first of them row `first` of the whole stream. */
type MakeInputs = (slot: number, call: number, first: number, n: number) => ModelInputs;

/** `total` rows cut into calls of `size` (the last one shorter). */
export function callSizes(total: number, size: number): number[] {
  const out: number[] = [];
  for (let first = 0; first < total; first += size) out.push(Math.min(size, total - first));
  return out;
}

/**
 * Runs a model over rows made on the fly, in calls of at most `batchSize` rows, reading one
 * number per row. Rows are written into buffers reused for every call: a float matrix when
 * the model takes feature columns as one `[batch, k]` input, else a pool of records turned into
 * inputs by the Evaluator's own row → tensor path (`inputBuilder`). Source rows are converted
 * by that same path once, in {@link table}, so its checks apply to every value used.
 *
 * On a worker pool (`loadModel(path, { instances: n })`) n + 1 calls are kept in flight, each
 * with a buffer of its own, so rows are written while the instances run; otherwise one call at
 * a time.
 */
export class BatchPredictor {
  private readonly build: InputBuilder;
  private readonly output: string;
  private readonly spec: TensorSpec | undefined;
  private readonly records: RecordWriter[] = [];
  private readonly buffers: MatrixBuffer[] = [];
  private column: number | undefined;
  /** Calls kept in flight at once. */
  readonly concurrency: number;
  /** Model rows evaluated so far. */
  evaluations = 0;

  constructor(
    private readonly model: Model,
    private readonly template: Row,
    private readonly columns: readonly string[],
    private readonly options: ExplainRunOptions,
    readonly batchSize: number,
    private readonly where: string,
  ) {
    this.output = explainedOutput(model, options.output, where);
    this.column = options.class;
    this.build = inputBuilder(model, template, options, where);
    this.spec = matrixInput(model, template, options, columns.length);
    this.concurrency = callsInFlight(model);
  }

  /** Whether generated rows are written straight into a float matrix (see {@link runMatrix}). */
  get writesMatrix(): boolean {
    return this.spec !== undefined;
  }

  /** Source rows, checked and (for a matrix input) converted once by the Evaluator's input builder. */
  table(rows: readonly Row[]): Table {
    if (this.spec === undefined) return { rows, matrix: undefined };
    const built = this.build(rows, 0)[this.spec.name] as { data: ArrayLike<number> } | undefined;
    return { rows, matrix: built?.data };
  }

  /**
   * Predicts `total` generated rows: `fill(writer, i)` writes row `i` (every feature column,
   * with `copy`, `mix` or `set`), `take(i, value)` receives the model's number for it.
   */
  async run(
    total: number,
    fill: (writer: RowWriter, i: number) => void,
    take: (i: number, value: number) => void,
  ): Promise<void> {
    const k = this.columns.length;
    const calls = callSizes(total, this.batchSize);
    const read: ReadOutput = (data, width, column, _call, first, n) => {
      for (let r = 0; r < n; r++) take(first + r, data[r * width + column]!);
    };
    if (this.spec !== undefined) {
      const writer = new MatrixWriter(new Float32Array(0), k);
      await this.runMatrix(
        calls,
        (buffer, _call, first, n) => {
          writer.buffer = buffer;
          for (let r = 0; r < n; r++) {
            writer.at = r * k;
            fill(writer, first + r);
          }
        },
        read,
      );
      return;
    }
    await this.stream(
      calls,
      (_slot, _call, first, n) => {
        while (this.records.length < n) {
          const writer = new RecordWriter(this.columns);
          writer.row = { ...this.template };
          this.records.push(writer);
        }
        for (let r = 0; r < n; r++) fill(this.records[r]!, first + r);
        // the builder copies the records' values into tensors of its own: the pool is free again
        return this.build(
          this.records.slice(0, n).map((w) => w.row),
          0,
        );
      },
      read,
    );
  }

  /**
   * Predicts rows written straight into the model's float matrix input (only when
   * {@link writesMatrix}), one call per entry of `calls` (its row count, at most the batch
   * size): `write(buffer, call, first, n)` fills the call's `n` rows (row-major, `k` values a
   * row, from index 0; the buffer is the one this call slot had last time, with its content),
   * `read(data, width, column, call, first, n)` gets their output (row r's number at
   * `data[r * width + column]`). `first` is the call's first row in the whole stream.
   */
  async runMatrix(calls: readonly number[], write: WriteMatrix, read: ReadOutput): Promise<void> {
    const spec = this.spec!;
    const k = this.columns.length;
    const size = calls.reduce((a, b) => Math.max(a, b), 0);
    await this.stream(
      calls,
      (slot, call, first, n) => {
        let buffer = this.buffers[slot];
        if (buffer === undefined || buffer.length < size * k) {
          buffer = spec.dtype === 'float32' ? new Float32Array(size * k) : new Float64Array(size * k);
          this.buffers[slot] = buffer;
        }
        write(buffer, call, first, n);
        return { [spec.name]: tensor(spec.dtype, buffer.subarray(0, n * k), [n, k]) };
      },
      read,
    );
  }

  /**
   * Calls the model once per entry of `calls` (its row count), up to {@link concurrency} calls
   * at once: `make` writes a call's inputs (into buffer `slot`, free until that call has
   * answered), `read` gets its output. A failed call stops new ones; the first error is thrown
   * once the others have ended.
   */
  private async stream(calls: readonly number[], make: MakeInputs, read: ReadOutput): Promise<void> {
    const signal = this.options.signal;
    if (this.concurrency === 1) {
      await this.inTurn(calls, make, read);
      return;
    }
    const free = Array.from({ length: this.concurrency }, (_, i) => this.concurrency - 1 - i);
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let first = 0;
    for (let call = 0; call < calls.length && failure === undefined; first += calls[call]!, call++) {
      while (free.length === 0) await Promise.race(inFlight);
      if (failure !== undefined) break;
      throwIfAborted(signal);
      const n = calls[call]!;
      const at = first;
      const slot = free.pop()!;
      let answer: Promise<NamedTensors>;
      try {
        answer = this.model.predict(make(slot, call, at, n), { signal, outputs: [this.output] });
      } catch (e) {
        failure = { error: e };
        free.push(slot);
        break;
      }
      const done: Promise<void> = answer
        .then((out) => {
          const { data, width } = outputRows(out, this.output, n, this.where);
          read(numbers(data), width, this.columnOf(width), call, at, n);
          this.evaluations += n;
        })
        .catch((e: unknown) => {
          failure ??= { error: e };
        })
        .finally(() => {
          inFlight.delete(done);
          free.push(slot);
        });
      inFlight.add(done);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
    throwIfAborted(signal);
  }

  /**
   * {@link stream} with one call at a time (a model that runs in this thread): each call awaited
   * before the next is written, without the bookkeeping of calls in flight (a set, a race and
   * three promises a call were a fifth of what an explained row allocated, bench/explain.ts).
   */
  private async inTurn(calls: readonly number[], make: MakeInputs, read: ReadOutput): Promise<void> {
    const signal = this.options.signal;
    const options = { signal, outputs: [this.output] };
    for (let call = 0, first = 0; call < calls.length; first += calls[call]!, call++) {
      throwIfAborted(signal);
      const n = calls[call]!;
      const out = await this.model.predict(make(0, call, first, n), options);
      const { data, width } = outputRows(out, this.output, n, this.where);
      read(numbers(data), width, this.columnOf(width), call, first, n);
      this.evaluations += n;
    }
    throwIfAborted(signal);
  }

  private columnOf(width: number): number {
    if (this.column === undefined) {
      if (width > 2)
        throw invalidArgument(
          this.where,
          `output '${this.output}' has ${width} values per row; choose the class explained with class (0–${width - 1})`,
          undefined,
        );
      this.column = width - 1;
    }
    if (this.column >= width)
      throw invalidArgument(
        this.where,
        `class must be below ${width}, the values per row of output '${this.output}'`,
        this.column,
      );
    return this.column;
  }
}

/** An output's values as numbers (int64 outputs come as bigint, bool as 0/1). */
function numbers(data: ArrayLike<unknown>): ArrayLike<number> {
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  return Array.from(data as ArrayLike<number | bigint | boolean>, Number);
}

/**
 * Calls worth keeping in flight on a model: on a worker pool (`WorkerPoolModel` has
 * `instances`; read by name so the pool's code stays out of bundles that only explain), one per
 * instance plus one, so that while the instances run their calls this thread writes the next
 * call's rows into a buffer of its own (double buffering: the explainer's writing and reading
 * overlap the model's work instead of adding to it); else 1, as an in-thread model holds this
 * thread while it runs.
 */
function callsInFlight(model: Model): number {
  const n = (model as { instances?: unknown }).instances;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? Math.min(n, 64) + 1 : 1;
}
