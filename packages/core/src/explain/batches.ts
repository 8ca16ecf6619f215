import { invalidArgument, ModelshipError } from '../errors';
import { chooseOutputs } from '../evaluate/collect';
import { type InputBuilder, inputBuilder } from '../evaluate/inputs';
import type { Row } from '../evaluate/types';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
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
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof (model as Model).predict !== 'function' ||
    typeof (model as Model).signature !== 'object'
  )
    throw invalidArgument(where, 'the model must implement Model (signature and predict)', model);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw invalidArgument(where, 'batchSize must be a positive integer', batchSize);
  if (options.class !== undefined && !(Number.isInteger(options.class) && options.class >= 0))
    throw invalidArgument(where, 'class must be a column index (an integer ≥ 0)', options.class);
  throwIfAborted(options.signal);
  return batchSize;
}

/**
 * Runs a model over rows made on the fly, in calls of at most `batchSize` rows, reading one
 * number per row. The rows are a pool of objects made once and overwritten for every batch,
 * so a million coalition rows cost `batchSize` objects; they become inputs through the
 * Evaluator's own row → tensor path (`inputBuilder`), pipelines and `toInputs` included.
 */
export class BatchPredictor {
  private readonly pool: Row[];
  private readonly build: InputBuilder;
  private readonly output: string;
  private column: number | undefined;
  /** Model rows evaluated so far. */
  evaluations = 0;

  constructor(
    private readonly model: Model,
    template: Row,
    private readonly options: ExplainRunOptions,
    private readonly batchSize: number,
    private readonly where: string,
  ) {
    const choice = chooseOutputs(model, { output: options.output }, where);
    if (choice.scores === undefined)
      throw new ModelshipError(
        'OUTPUT_UNKNOWN',
        `${where}: model '${model.name}' has no float output to explain (outputs: ${model.signature.outputs.map((o) => `'${o.name}'`).join(', ')}); name one with output`,
      );
    this.output = choice.scores;
    this.column = options.class;
    this.pool = [{ ...template }];
    this.build = inputBuilder(model, template, options, where);
  }

  /**
   * Predicts `total` rows: `fill(row, i)` writes the feature values of row `i` into a pooled
   * row, `take(i, value)` receives the model's number for it.
   */
  async run(
    total: number,
    fill: (row: Row, i: number) => void,
    take: (i: number, value: number) => void,
  ): Promise<void> {
    const size = Math.min(this.batchSize, total);
    while (this.pool.length < size) this.pool.push({ ...this.pool[0]! });
    for (let start = 0; start < total; start += size) {
      throwIfAborted(this.options.signal);
      const n = Math.min(size, total - start);
      const rows = n === this.pool.length ? this.pool : this.pool.slice(0, n);
      for (let r = 0; r < n; r++) fill(rows[r]!, start + r);
      const out = await this.model.predict(this.build(rows, 0), {
        signal: this.options.signal,
        outputs: [this.output],
      });
      const t = out[this.output];
      const width = t === undefined ? 0 : t.data.length / n;
      if (t === undefined || t.shape[0] !== n || !Number.isInteger(width) || width < 1)
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${this.where}: output '${this.output}' has shape [${t?.shape.join(', ') ?? ''}] for ${n} rows; one row of values per input row is required`,
        );
      const column = this.columnOf(width);
      const data = t.data as ArrayLike<number | bigint | boolean>;
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
