/**
 * A fitted feature pipeline: records in, the model's input tensor out. Fitted in TypeScript on
 * training rows, serialised to versioned JSON, read back bit for bit.
 */
import { InputError, invalidArgument } from '../errors';
import type { Tensor } from '../tensor/tensor';
import {
  applyTransform,
  columnNames,
  type FieldValue,
  type FittedTransform,
  fitTransform,
  isMultiColumn,
  type TransformSpec,
  widthOf,
} from './transforms';

/** A record, as a client sends it: field name to value. */
export type PipelineRecord = Readonly<Record<string, unknown>>;

export interface PipelineSpec {
  /** Transforms per field, applied in order; `[]` passes a numeric field through. */
  features: Readonly<Record<string, TransformSpec | readonly TransformSpec[]>>;
  /** The model input the assembled `[batch, k]` float32 tensor feeds (default `'features'`). */
  input?: string;
}

interface Column {
  field: string;
  transforms: FittedTransform[];
  width: number;
}

/** The serialised form of a pipeline. */
export interface PipelineJson {
  format: 'modelship-pipeline';
  version: 1;
  input: string;
  columns: { field: string; transforms: FittedTransform[] }[];
}

function check(row: unknown, i: number): PipelineRecord {
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    throw new InputError('INPUT_INVALID', `record ${i} is not an object of fields`);
  return row as PipelineRecord;
}

/**
 * Records to a model input.
 *
 * @example
 * const pipeline = Pipeline.fit(trainingRows, {
 *   features: { amount: [impute('median'), standardize()], age: minMax(), country: oneHot({ unknown: 'ignore' }) },
 * });
 * pipeline.transform([{ amount: 120.5, age: 41, country: 'FR' }]); // { features: Tensor float32 [1, k] }
 */
export class Pipeline {
  private constructor(
    readonly input: string,
    private readonly columns: readonly Column[],
  ) {}

  /** Fits every field's transforms, in order, on the training records. */
  static fit(records: readonly PipelineRecord[], spec: PipelineSpec): Pipeline {
    if (!Array.isArray(records) || records.length === 0)
      throw invalidArgument('Pipeline.fit', 'records must be a non-empty array', records);
    if (
      typeof spec !== 'object' ||
      spec === null ||
      typeof spec.features !== 'object' ||
      spec.features === null
    )
      throw invalidArgument('Pipeline.fit', 'spec.features must map fields to transforms', spec);
    const rows = records.map(check);
    const columns: Column[] = [];
    for (const [field, given] of Object.entries(spec.features)) {
      if (field === '__proto__')
        throw invalidArgument('Pipeline.fit', "'__proto__' cannot be a field", field);
      const specs = (Array.isArray(given) ? given : [given]) as TransformSpec[];
      let values: FieldValue[] = rows.map((r) => r[field] as FieldValue);
      const fitted: FittedTransform[] = [];
      specs.forEach((s, k) => {
        if (typeof s !== 'object' || s === null || typeof s.kind !== 'string')
          throw invalidArgument('Pipeline.fit', `field '${field}': transform ${k} is not a transform`, s);
        const spread = fitted.find((f) => isMultiColumn(f.kind));
        if (spread !== undefined)
          throw invalidArgument(
            'Pipeline.fit',
            `field '${field}': ${spread.kind} must be its last transform`,
            s,
          );
        const f = fitTransform(s, values, field);
        fitted.push(f);
        if (!isMultiColumn(f.kind))
          values = values.map((v, i) => applyTransform(f, v, i, field) as FieldValue);
      });
      const last = fitted.at(-1);
      columns.push({ field, transforms: fitted, width: last === undefined ? 1 : widthOf(last) });
    }
    return new Pipeline(spec.input ?? 'features', columns);
  }

  /** Number of columns the input tensor gets. */
  get width(): number {
    return this.columns.reduce((n, c) => n + c.width, 0);
  }

  /** Column names of the assembled input, one-hot columns as `field=category`. */
  featureNames(): string[] {
    return this.columns.flatMap((c) => columnNames(c.transforms.at(-1), c.field));
  }

  /** Records to `{ [input]: float32 [n, width] }`; a missing field, a wrong type or an unseen category (under `'error'`) is an InputError naming the field and the record. */
  transform(records: readonly PipelineRecord[]): Record<string, Tensor<'float32'>> {
    if (!Array.isArray(records))
      throw invalidArgument('Pipeline.transform', 'records must be an array', records);
    const width = this.width;
    const data = new Float32Array(records.length * width);
    records.forEach((raw, i) => {
      const row = check(raw, i);
      let at = i * width;
      for (const c of this.columns) {
        let v: FieldValue | number[] = row[c.field] as FieldValue;
        if (!Object.hasOwn(row, c.field) && !c.transforms.some((t) => t.kind === 'impute'))
          throw new InputError('INPUT_MISSING', `record ${i} has no field '${c.field}'`);
        for (const t of c.transforms) v = applyTransform(t, v as FieldValue, i, c.field);
        if (Array.isArray(v)) {
          data.set(v, at);
          at += v.length;
        } else {
          if (typeof v !== 'number' || !Number.isFinite(v))
            throw new InputError(
              'INPUT_INVALID',
              `record ${i}, field '${c.field}' is ${JSON.stringify(v)}; a finite number is required`,
            );
          data[at++] = v;
        }
      }
    });
    return { [this.input]: { dtype: 'float32', shape: [records.length, width], data } };
  }

  toJSON(): PipelineJson {
    return {
      format: 'modelship-pipeline',
      version: 1,
      input: this.input,
      columns: this.columns.map((c) => ({ field: c.field, transforms: c.transforms })),
    };
  }

  /** Reads a pipeline back from its JSON; it transforms exactly as the one that was saved. */
  static fromJSON(json: unknown): Pipeline {
    const j = json as Partial<PipelineJson>;
    if (
      typeof j !== 'object' ||
      j === null ||
      j.format !== 'modelship-pipeline' ||
      j.version !== 1 ||
      !Array.isArray(j.columns)
    )
      throw invalidArgument('Pipeline.fromJSON', 'not a version 1 modelship pipeline', json);
    const columns = j.columns.map((c) => {
      if (typeof c?.field !== 'string' || !Array.isArray(c.transforms))
        throw invalidArgument('Pipeline.fromJSON', 'a column needs a field and its transforms', c);
      const last = c.transforms.at(-1);
      return { field: c.field, transforms: c.transforms, width: last === undefined ? 1 : widthOf(last) };
    });
    return new Pipeline(typeof j.input === 'string' ? j.input : 'features', columns);
  }
}
