/**
 * A fitted feature pipeline: records in, the model's input tensor out. Fitted in TypeScript on
 * training rows, serialised to versioned JSON, read back bit for bit.
 */
import { InputError, invalidArgument } from '../errors';
import { hasMarker } from '../marker';
import type { Model } from '../model/model';
import type { Tensor } from '../tensor/tensor';
import { checkFittedColumn } from './check';
import type { Plan } from './compile';
import { checkImageSpec, type ImageOptions, imageTensor } from './images';
import { checkOutputSpec, type OutputLabel, type OutputSpec } from './outputs';
import { compilePlan } from './plan';
import type { PipelineJson, PipelineRecord, PipelineSpec } from './spec';
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
import { PipelineModel, type WrapOptions } from './wrap';

export type { PipelineJson, PipelineRecord, PipelineSpec } from './spec';

const MARKER = Symbol.for('modelship.pipeline');

interface Column {
  field: string;
  transforms: FittedTransform[];
  width: number;
}

function column(field: string, transforms: FittedTransform[]): Column {
  const last = transforms.at(-1);
  return { field, transforms, width: last === undefined ? 1 : widthOf(last) };
}

function checkOutputs(given: unknown, where: string): Readonly<Record<string, string | OutputSpec>> {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidArgument(
      where,
      'output must map answer fields to model outputs or output transforms',
      given,
    );
  const out: Record<string, string | OutputSpec> = {};
  for (const [name, spec] of Object.entries(given)) {
    if (name === '__proto__') throw invalidArgument(where, "'__proto__' cannot be an answer field", name);
    out[name] = checkOutputSpec(spec, `${where}: output '${name}'`);
  }
  return out;
}

function checkPipelineLabels(labels: unknown, where: string): OutputLabel[] | undefined {
  if (labels === undefined) return undefined;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' || typeof l === 'number'))
    throw invalidArgument(where, 'labels must be an array of strings or numbers', labels);
  return [...labels];
}

function checkAllowExtra(given: unknown, where: string): boolean {
  if (given === undefined) return false;
  if (typeof given !== 'boolean') throw invalidArgument(where, 'allowExtraFields must be a boolean', given);
  return given;
}

function checkImages(
  given: unknown,
  columns: readonly Column[],
  input: string,
  where: string,
): Record<string, ImageOptions> {
  if (given === undefined) {
    if (columns.length === 0) throw invalidArgument(where, 'a pipeline needs features or images', given);
    return {};
  }
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw invalidArgument(where, 'images must map fields to image options', given);
  const out: Record<string, ImageOptions> = {};
  const inputs = new Set(columns.length > 0 ? [input] : []);
  for (const [field, spec] of Object.entries(given)) {
    if (field === '__proto__') throw invalidArgument(where, "'__proto__' cannot be a field", field);
    if (columns.some((c) => c.field === field))
      throw invalidArgument(where, `field '${field}' is both a feature and an image`, field);
    const checked = checkImageSpec(spec, `${where}: image '${field}'`);
    const name = checked.input ?? field;
    if (inputs.has(name))
      throw invalidArgument(where, `two parts of the pipeline feed model input '${name}'`, name);
    inputs.add(name);
    out[field] = checked;
  }
  if (inputs.size === 0) throw invalidArgument(where, 'a pipeline needs features or images', given);
  return out;
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
  // Set in the constructor, not as a computed class field, so bundlers can drop an unused class.
  declare readonly [MARKER]: true;

  /**
   * True for a Pipeline made by any copy of `@modelship/core` (another bundle, a dependency's
   * own copy), where `instanceof` would say false.
   */
  static isInstance(value: unknown): value is Pipeline {
    return hasMarker(value, MARKER);
  }

  private constructor(
    readonly input: string,
    private readonly columns: readonly Column[],
    /** Answer fields from model outputs (see {@link PipelineSpec.output}). */
    readonly output: Readonly<Record<string, string | OutputSpec>> | undefined,
    /** Class labels for answers that give none. */
    readonly labels: readonly OutputLabel[] | undefined,
    /** Image fields and how each becomes its model input. */
    readonly images: Readonly<Record<string, ImageOptions>> = {},
    /** Whether served records may carry fields the pipeline does not read (see {@link PipelineSpec.allowExtraFields}). */
    readonly allowExtraFields = false,
  ) {
    this[MARKER] = true;
    this.width = columns.reduce((n, c) => n + c.width, 0);
    this.plan = compilePlan(columns, this.width);
  }

  /** Number of columns the input tensor gets. */
  readonly width: number;
  private known: Set<string> | undefined;
  private readonly plan: Plan;

  /** The fields a record must (or, when imputed, may) carry, in column order. */
  get fields(): string[] {
    return [...this.columns.map((c) => c.field), ...Object.keys(this.images)];
  }

  /**
   * Refuses a record holding a field the pipeline does not read: an `InputError`
   * (`INPUT_UNKNOWN`) naming the record (counted from `offset`), the fields and the ones it takes.
   */
  checkFields(records: readonly PipelineRecord[], offset = 0): void {
    this.known ??= new Set(this.fields);
    const known = this.known;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (typeof r !== 'object' || r === null || Array.isArray(r)) continue; // transform names these
      let clean = true;
      // No array per record on this path, which every served request takes.
      for (const k in r) if (!known.has(k)) clean = false;
      if (clean) continue;
      const extra = Object.keys(r).filter((k) => !known.has(k));
      if (extra.length > 0)
        throw new InputError(
          'INPUT_UNKNOWN',
          `record ${offset + i} has ${extra.length === 1 ? 'a field' : 'fields'} the pipeline does not read: ${extra.map((k) => `'${k}'`).join(', ')} (it reads ${this.fields.map((k) => `'${k}'`).join(', ')}); set "allowExtraFields": true in the pipeline to ignore extra fields`,
          { details: { record: offset + i, fields: extra } },
        );
    }
  }

  /** The model inputs the pipeline makes: the feature tensor (when there are features) and one per image field. */
  inputNames(): string[] {
    return [
      ...(this.columns.length > 0 ? [this.input] : []),
      ...Object.entries(this.images).map(([field, spec]) => spec.input ?? field),
    ];
  }

  /**
   * A {@link Model} that takes records and returns answers: the pipeline's input tensor goes
   * to `model`, and its outputs come back as one answer object per record. Checked now against
   * the model's signature (input name and width, output names and types). Disposing the
   * wrapper disposes `model`.
   *
   * @example
   * const served = pipeline.wrap(model);
   * await served.predict([{ amount: 120.5, age: 41, country: 'FR' }]); // [{ label: 'legit', probability: 0.07 }]
   */
  wrap(model: Model, options: WrapOptions = {}): PipelineModel<Pipeline> {
    return new PipelineModel(this, model, options);
  }

  /**
   * Fits every field's transforms, in order, on the training records. A pipeline of image fields
   * and fixed transforms alone learns nothing, so it may be given no records (`[]`).
   */
  static fit(records: readonly PipelineRecord[], spec: PipelineSpec): Pipeline {
    const learns = Object.keys(spec?.features ?? {}).length > 0;
    if (!Array.isArray(records) || (records.length === 0 && learns))
      throw invalidArgument('Pipeline.fit', 'records must be a non-empty array', records);
    if (
      typeof spec !== 'object' ||
      spec === null ||
      (spec.features !== undefined && (typeof spec.features !== 'object' || spec.features === null)) ||
      (spec.features === undefined && spec.images === undefined)
    )
      throw invalidArgument('Pipeline.fit', 'spec.features must map fields to transforms', spec);
    const rows = records.map(check);
    const columns: Column[] = [];
    for (const [field, given] of Object.entries(spec.features ?? {})) {
      if (field === '__proto__')
        throw invalidArgument('Pipeline.fit', "'__proto__' cannot be a field", field);
      const specs = (Array.isArray(given) ? given : [given]) as TransformSpec[];
      let values: FieldValue[] = rows.map((r) => r[field] as FieldValue);
      const fitted: FittedTransform[] = [];
      specs.forEach((s, k) => {
        if (typeof s !== 'object' || s === null || typeof s.kind !== 'string')
          throw invalidArgument('Pipeline.fit', `field '${field}': transform ${k} is not a transform`, s);
        const spread = fitted.find((f) => isMultiColumn(f));
        if (spread !== undefined)
          throw invalidArgument(
            'Pipeline.fit',
            `field '${field}': ${spread.kind} must be its last transform`,
            s,
          );
        const f = fitTransform(s, values, field);
        fitted.push(f);
        if (!isMultiColumn(f)) values = values.map((v, i) => applyTransform(f, v, i, field) as FieldValue);
      });
      columns.push(column(field, fitted));
    }
    const output = spec.output === undefined ? undefined : checkOutputs(spec.output, 'Pipeline.fit');
    const input = spec.input ?? 'features';
    return new Pipeline(
      input,
      columns,
      output,
      checkPipelineLabels(spec.labels, 'Pipeline.fit'),
      checkImages(spec.images, columns, input, 'Pipeline.fit'),
      checkAllowExtra(spec.allowExtraFields, 'Pipeline.fit'),
    );
  }

  /** Column names of the assembled input, one-hot columns as `field=category`. */
  featureNames(): string[] {
    return this.columns.flatMap((c) => columnNames(c.transforms.at(-1), c.field));
  }

  /**
   * Records to `{ [input]: float32 [n, width] }`; a missing field, a wrong type or an unseen
   * category (under `'error'`) is an InputError naming the field and the record, counted from
   * `options.offset` (default 0) so a batch of a larger data set names the data set's row.
   */
  transform(
    records: readonly PipelineRecord[],
    options: { offset?: number } = {},
  ): Record<string, Tensor<'float32'>> {
    if (!Array.isArray(records))
      throw invalidArgument('Pipeline.transform', 'records must be an array', records);
    const offset = options.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0)
      throw invalidArgument('Pipeline.transform', 'offset must be a non-negative integer', offset);
    const out: Record<string, Tensor<'float32'>> = {};
    if (this.columns.length > 0) {
      const data = new Float32Array(records.length * this.width);
      this.plan(records, data, offset);
      out[this.input] = { dtype: 'float32', shape: [records.length, this.width], data };
    }
    for (const [field, spec] of Object.entries(this.images)) {
      const values = records.map((r, k) => {
        const row = check(r, offset + k);
        if (!Object.hasOwn(row, field))
          throw new InputError('INPUT_MISSING', `record ${offset + k} has no field '${field}'`);
        return row[field];
      });
      out[spec.input ?? field] = imageTensor(values, spec, offset);
    }
    return out;
  }

  toJSON(): PipelineJson {
    return {
      format: 'modelship-pipeline',
      version: 1,
      input: this.input,
      columns: this.columns.map((c) => ({ field: c.field, transforms: c.transforms })),
      ...(this.output === undefined ? {} : { output: { ...this.output } }),
      ...(this.labels === undefined ? {} : { labels: [...this.labels] }),
      ...(Object.keys(this.images).length === 0 ? {} : { images: { ...this.images } }),
      ...(this.allowExtraFields ? { allowExtraFields: true as const } : {}),
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
    if (j.columns.length === 0 && j.images === undefined)
      throw invalidArgument('Pipeline.fromJSON', 'a pipeline needs a column', json);
    if (j.input !== undefined && (typeof j.input !== 'string' || j.input === ''))
      throw invalidArgument('Pipeline.fromJSON', 'input must name a model input', j.input);
    const seen = new Set<string>();
    const columns = j.columns.map((c) => {
      if (typeof c !== 'object' || c === null)
        throw invalidArgument('Pipeline.fromJSON', 'a column needs a field and its transforms', c);
      const transforms = checkFittedColumn(c.field, c.transforms, 'Pipeline.fromJSON');
      if (seen.has(c.field))
        throw invalidArgument('Pipeline.fromJSON', `column '${c.field}' appears twice`, c);
      seen.add(c.field);
      return column(c.field, transforms);
    });
    const output = j.output === undefined ? undefined : checkOutputs(j.output, 'Pipeline.fromJSON');
    const input = typeof j.input === 'string' ? j.input : 'features';
    return new Pipeline(
      input,
      columns,
      output,
      checkPipelineLabels(j.labels, 'Pipeline.fromJSON'),
      checkImages(j.images, columns, input, 'Pipeline.fromJSON'),
      checkAllowExtra(j.allowExtraFields, 'Pipeline.fromJSON'),
    );
  }

  /** A copy whose unlabelled answers use `labels` (a labels file beside the model, say). */
  withLabels(labels: readonly OutputLabel[]): Pipeline {
    return new Pipeline(
      this.input,
      this.columns,
      this.output,
      checkPipelineLabels(labels, 'Pipeline.withLabels'),
      this.images,
      this.allowExtraFields,
    );
  }
}
