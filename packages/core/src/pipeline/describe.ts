/**
 * What a model served with a pipeline takes and answers, per record: its record fields and
 * its answer fields, for metadata routes that describe the records route rather than the
 * tensor inside.
 */
import type { DType } from '../tensor/dtype';
import type { Dim, TensorSpec } from '../tensor/spec';
import type { OutputLabel, ResolvedOutput } from './outputs';
import type { PipelineJson } from './spec';

/** One field of a record. */
export interface RecordFieldSpec {
  name: string;
  /** `number`; `category` (one of `categories` when fitted, any value for `hash`); `image` (encoded bytes or pixels). */
  type: 'number' | 'category' | 'image';
  /** The element type a client sends: `float32` for numbers and numeric categories, else `string`. */
  dtype: 'float32' | 'string';
  /** True when the pipeline imputes the field if it is missing or null. */
  optional: boolean;
  /** The categories seen in training (`oneHot`, `ordinal`). */
  categories?: readonly (string | number | boolean)[];
}

/** One field of an answer. */
export interface AnswerFieldSpec {
  name: string;
  /**
   * `value` (the model output as it is), `label` (`threshold`, `argmax`), `scores` (`softmax`,
   * `sigmoid`) or `topK` (a list of `{label, score}`).
   */
  type: 'value' | 'label' | 'scores' | 'topK';
  /** The model output it reads. */
  from: string;
  /** Its element type; undefined for `topK`, whose elements are objects. */
  dtype: DType | undefined;
  /** Its shape per record (`[]` for one value; null when the output's shape is unknown). */
  shape: readonly Dim[] | null;
}

/** A records route's signature: the fields a record takes and the fields each answer has. */
export interface RecordSignature {
  fields: RecordFieldSpec[];
  answers: AnswerFieldSpec[];
}

const CATEGORICAL = new Set(['oneHot', 'ordinal', 'hash']);

function fieldSpec(column: PipelineJson['columns'][number]): RecordFieldSpec {
  const { field, transforms } = column;
  const encoder = transforms.find((t) => CATEGORICAL.has(t.kind));
  const optional = transforms[0]?.kind === 'impute';
  if (encoder === undefined) return { name: field, type: 'number', dtype: 'float32', optional };
  const categories = encoder.state.categories as (string | number | boolean)[] | undefined;
  const numeric = categories?.every((c) => typeof c === 'number') === true;
  return {
    name: field,
    type: 'category',
    dtype: numeric ? 'float32' : 'string',
    optional,
    ...(categories === undefined ? {} : { categories: [...categories] }),
  };
}

function labelType(labels: readonly OutputLabel[] | undefined): DType {
  return labels?.some((l) => typeof l === 'string') ? 'string' : 'int64';
}

/**
 * An answer's shape as `answers()` writes it: the record's part of the output flattened to one
 * list, or a bare value when it holds one element.
 */
function flat(perRecord: readonly Dim[] | null): Dim[] | null {
  if (perRecord === null) return null;
  if (perRecord.every((d) => d === 1)) return [];
  if (perRecord.every((d) => typeof d === 'number'))
    return [(perRecord as number[]).reduce((a, b) => a * b, 1)];
  return perRecord.length === 1 ? [perRecord[0]!] : [null];
}

function answerSpec(r: ResolvedOutput, outputs: readonly TensorSpec[]): AnswerFieldSpec {
  const out = outputs.find((o) => o.name === r.from)!;
  const perRecord = out.shape === null ? null : out.shape.slice(1);
  const base = { name: r.name, from: r.from };
  switch (r.spec.kind) {
    case 'value':
      return { ...base, type: 'value', dtype: out.dtype, shape: flat(perRecord) };
    case 'threshold':
      return { ...base, type: 'label', dtype: labelType(r.spec.labels), shape: [] };
    case 'argmax':
      return { ...base, type: 'label', dtype: labelType(r.labels), shape: [] };
    case 'topK':
      return { ...base, type: 'topK', dtype: undefined, shape: [r.spec.k] };
    case 'softmax': {
      // softmax always answers a list, even of one.
      const shape = flat(perRecord);
      return { ...base, type: 'scores', dtype: 'float64', shape: shape?.length === 0 ? [1] : shape };
    }
    case 'sigmoid':
      return { ...base, type: 'scores', dtype: 'float64', shape: flat(perRecord) };
  }
}

/** The record signature of a pipeline around a model whose outputs are `outputs`. */
export function describeRecords(
  pipeline: PipelineJson,
  resolved: readonly ResolvedOutput[],
  outputs: readonly TensorSpec[],
): RecordSignature {
  return {
    fields: [
      ...pipeline.columns.map(fieldSpec),
      ...Object.keys(pipeline.images ?? {}).map(
        (name): RecordFieldSpec => ({ name, type: 'image', dtype: 'string', optional: false }),
      ),
    ],
    answers: resolved.map((r) => answerSpec(r, outputs)),
  };
}
