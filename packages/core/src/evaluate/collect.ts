import { ModelshipError } from '../errors';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import { isFloat } from '../tensor/dtype';
import type { NamedTensors } from '../tensor/tensor';
import { LabelColumn } from './label-column';
import type { OutputOptions } from './types';

/**
 * A growable buffer of scores, so collecting n scores costs O(n) and no per-row arrays. It
 * keeps them as the model gives them: float32 outputs as a `Float32Array` (half the bytes of
 * float64, and the same numbers, since every float32 is a double), anything else as float64.
 */
export class ScoreBuffer {
  private data: Float32Array | Float64Array = new Float32Array(1024);
  /** Float32 until a value that is not a float32 arrives. */
  private narrow = true;
  length = 0;

  private reserve(extra: number, narrow: boolean): void {
    const wide = !narrow && this.narrow;
    if (this.length + extra <= this.data.length && !wide) return;
    // 1.5× growth: the buffer is at most half again the scores, and a grow holds both copies.
    const size = Math.max(this.length + extra, Math.ceil(this.data.length * 1.5));
    const next = wide || !this.narrow ? new Float64Array(size) : new Float32Array(size);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
    if (wide) this.narrow = false;
  }

  push(v: number): void {
    this.reserve(1, Math.fround(v) === v || Number.isNaN(v));
    this.data[this.length++] = v;
  }

  /** Appends a tensor's values (`Number` of each: bigints and booleans become numbers). */
  pushAll(values: ArrayLike<number | bigint | boolean>): void {
    const n = values.length;
    if (values instanceof Float32Array || values instanceof Float64Array) {
      this.reserve(n, values instanceof Float32Array);
      this.data.set(values, this.length);
      this.length += n;
      return;
    }
    for (let i = 0; i < n; i++) this.push(Number(values[i]));
  }

  view(): Float32Array | Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Which outputs an evaluation reads, chosen once from the signature. */
export interface OutputChoice {
  /** The output holding scores or values, if any. */
  scores: string | undefined;
  /** The output holding predicted labels, if any. */
  labels: string | undefined;
  /** The class of each score column, when the scores output's spec names them (a ZipMap output). */
  classes?: readonly Label[];
}

/**
 * Picks the outputs to read: the named ones, else the float output whose name mentions
 * probabilities, else the first float output; a model with no float output is read for labels.
 */
export function chooseOutputs(model: Model, options: OutputOptions, where: string): OutputChoice {
  const outputs = model.signature.outputs;
  const known = (name: string, what: string): string => {
    if (!outputs.some((o) => o.name === name)) {
      throw new ModelshipError(
        'OUTPUT_UNKNOWN',
        `${where}: ${what} '${name}' is not an output of model '${model.name}' (outputs: ${outputs.map((o) => `'${o.name}'`).join(', ')})`,
      );
    }
    return name;
  };
  const labels = options.labelOutput === undefined ? undefined : known(options.labelOutput, 'labelOutput');
  const withClasses = (scores: string | undefined): OutputChoice => {
    const classes = outputs.find((o) => o.name === scores)?.labels;
    return classes === undefined ? { scores, labels } : { scores, labels, classes };
  };
  if (options.output !== undefined) return withClasses(known(options.output, 'output'));
  const floats = outputs.filter((o) => isFloat(o.dtype));
  const scores = (floats.find((o) => /prob/i.test(o.name)) ?? floats[0])?.name;
  if (scores === undefined && labels === undefined) {
    if (outputs.length === 0)
      throw new ModelshipError('OUTPUT_UNKNOWN', `${where}: model '${model.name}' declares no outputs`);
    return { scores: undefined, labels: outputs[0]!.name };
  }
  return withClasses(scores);
}

/**
 * Everything an evaluation keeps from the model's answers: scores row by row, and the true and
 * predicted labels as codes (a byte a row for up to 256 classes), never as arrays of values.
 */
export class Collected {
  /** The true labels; the models of one comparison share them. */
  labels = new LabelColumn();
  readonly scores = new ScoreBuffer();
  readonly predicted = new LabelColumn();
  /** Scores per row (the output's width), fixed by the first batch. */
  width = -1;

  constructor(
    readonly choice: OutputChoice,
    private readonly where: string,
  ) {}

  /** The outputs `predict` must compute. */
  outputs(): string[] {
    return [this.choice.scores, this.choice.labels].filter((o): o is string => o !== undefined);
  }

  /** Appends a batch of `rows` rows from the model's outputs. */
  add(out: NamedTensors, rows: number): void {
    if (this.choice.scores !== undefined) {
      const t = out[this.choice.scores]!;
      const width = rows === 0 ? 0 : t.data.length / rows;
      if (!Number.isInteger(width) || t.shape[0] !== rows || width < 1) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${this.where}: output '${this.choice.scores}' has shape [${t.shape.join(', ')}] for ${rows} rows; one row of scores per input row is required`,
        );
      }
      if (this.width === -1) this.width = width;
      else if (width !== this.width) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${this.where}: output '${this.choice.scores}' gave ${width} values per row, earlier batches gave ${this.width}`,
        );
      }
      this.scores.pushAll(t.data as ArrayLike<number | bigint | boolean>);
    }
    if (this.choice.labels !== undefined) {
      const t = out[this.choice.labels]!;
      if (t.data.length !== rows) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${this.where}: label output '${this.choice.labels}' has shape [${t.shape.join(', ')}] for ${rows} rows; one label per row is required`,
        );
      }
      const data = t.data as ArrayLike<number | bigint | boolean | string>;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        this.predicted.push(typeof v === 'string' ? v : Number(v));
      }
    }
  }
}
