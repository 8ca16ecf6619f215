import { ModelshipError } from '../errors';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import { isFloat } from '../tensor/dtype';
import type { NamedTensors } from '../tensor/tensor';
import { LabelColumn } from './label-column';
import type { OutputOptions } from './types';

/** A growable float64 buffer, so collecting n scores costs O(n) and no per-row arrays. */
export class Float64Buffer {
  private data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  view(): Float64Array {
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
  readonly scores = new Float64Buffer();
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
      const data = t.data as ArrayLike<number | bigint | boolean>;
      for (let i = 0; i < data.length; i++) this.scores.push(Number(data[i]));
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
