import { invalidArgument, ModelshipError } from '../errors';
import { chooseOutputs } from '../evaluate/collect';
import { checkModel } from '../evaluate/evaluate';
import { type InputBuilder, inputBuilder } from '../evaluate/inputs';
import type { Row } from '../evaluate/types';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
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

/**
 * Runs a model over rows made on the fly, in calls of at most `batchSize` rows, reading one
 * number per row. Rows are written into one buffer reused for every call: a float matrix when
 * the model takes feature columns as one `[batch, k]` input, else a pool of records turned into
 * inputs by the Evaluator's own row → tensor path (`inputBuilder`). Source rows are converted
 * by that same path once, in {@link table}, so its checks apply to every value used.
 */
export class BatchPredictor {
  private readonly build: InputBuilder;
  private readonly output: string;
  private readonly spec: TensorSpec | undefined;
  private readonly records: RecordWriter[] = [];
  private matrix: MatrixWriter | undefined;
  private column: number | undefined;
  /** Model rows evaluated so far. */
  evaluations = 0;

  constructor(
    private readonly model: Model,
    private readonly template: Row,
    private readonly columns: readonly string[],
    private readonly options: ExplainRunOptions,
    private readonly batchSize: number,
    private readonly where: string,
  ) {
    this.output = explainedOutput(model, options.output, where);
    this.column = options.class;
    this.build = inputBuilder(model, template, options, where);
    this.spec = matrixInput(model, template, options, columns.length);
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
    const size = Math.min(this.batchSize, total);
    const k = this.columns.length;
    for (let start = 0; start < total; start += size) {
      throwIfAborted(this.options.signal);
      const n = Math.min(size, total - start);
      let inputs: ReturnType<InputBuilder>;
      if (this.spec !== undefined) {
        // a worker pool may transfer (detach) the buffer it was given: make a new one then
        if (this.matrix === undefined || this.matrix.buffer.length < size * k) {
          const Buffer = this.spec.dtype === 'float32' ? Float32Array : Float64Array;
          this.matrix = new MatrixWriter(new Buffer(size * k), k);
        }
        const w = this.matrix;
        for (let r = 0; r < n; r++) {
          w.at = r * k;
          fill(w, start + r);
        }
        inputs = { [this.spec.name]: tensor(this.spec.dtype, w.buffer.subarray(0, n * k), [n, k]) };
      } else {
        while (this.records.length < n) {
          const writer = new RecordWriter(this.columns);
          writer.row = { ...this.template };
          this.records.push(writer);
        }
        for (let r = 0; r < n; r++) fill(this.records[r]!, start + r);
        const rows = this.records.slice(0, n).map((w) => w.row);
        inputs = this.build(rows, 0);
      }
      const out = await this.model.predict(inputs, { signal: this.options.signal, outputs: [this.output] });
      const { data, width } = outputRows(out, this.output, n, this.where);
      const column = this.columnOf(width);
      for (let r = 0; r < n; r++) take(start + r, Number(data[r * width + column]));
      this.evaluations += n;
    }
    throwIfAborted(this.options.signal);
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
