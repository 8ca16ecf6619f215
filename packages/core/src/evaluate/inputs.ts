import { describe, type InputError, invalidArgument } from '../errors';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import { allocate, isBigInt, isFloat } from '../tensor/dtype';
import { formatShape, type TensorSpec } from '../tensor/spec';
import { type Tensor, tensor } from '../tensor/tensor';
import { datasetError } from './dataset';
import type { DataOptions, Row } from './types';

/** Turns a batch of rows into model inputs; `offset` is the index of the batch's first row. */
export type InputBuilder = (rows: readonly Row[], offset: number) => ModelInputs;

/** Most names a message lists; a wider table is cut, saying how many it has. */
const LISTED = 40;
/** Column names a label is often given, listed first when the named label is missing. */
const LABEL_NAMES = ['label', 'target', 'class', 'y', 'outcome'];

/**
 * Names for a message: those resembling one of `near` (the name the user gave, and the
 * usual ones) first, then the rest in their order, so a cut never hides the likely one.
 */
function columnList(names: readonly string[], near: readonly string[] = []): string {
  const close = names.filter((n) => near.some((w) => resembles(n, w)));
  const ordered = close.length === 0 ? names : [...close, ...names.filter((n) => !close.includes(n))];
  const shown = ordered.slice(0, LISTED).map((n) => `'${n}'`);
  return names.length > LISTED ? `${shown.join(', ')}, … (${names.length} in all)` : shown.join(', ');
}

/** Same name ignoring case and separators, one inside the other, or a typo or two apart. */
function resembles(name: string, wanted: string): boolean {
  const a = name.toLowerCase().replace(/[-_\s]/g, '');
  const b = wanted.toLowerCase().replace(/[-_\s]/g, '');
  if (a === '' || b === '') return false;
  if (a === b || (b.length >= 3 && a.includes(b)) || (a.length >= 3 && b.includes(a))) return true;
  const shorter = Math.min(a.length, b.length);
  return shorter >= 3 && editDistance(a, b) <= Math.ceil(shorter / 3);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The shape `size` values of one row take in `spec`, the input without its batch dimension:
 * its declared dimensions when they are all fixed and multiply to `size` (`[batch, 1, 8, 8]`
 * takes 64), `[size]` for a `[batch, k]` input whose `k` is not fixed. `undefined` when no
 * shape fits: a scalar or rank-unknown input, a size that does not match, or a symbolic
 * dimension beyond the second (nothing says how the values split).
 */
export function rowShapeOf(spec: TensorSpec, size: number): number[] | undefined {
  const rest = fixedRowShape(spec);
  if (rest !== undefined) return sizeOf(rest) === size ? rest : undefined;
  return spec.shape !== null && spec.shape.length === 2 ? [size] : undefined;
}

/** The input's non-batch dimensions when they are all fixed (`[batch]` gives `[]`). */
function fixedRowShape(spec: TensorSpec): number[] | undefined {
  const shape = spec.shape;
  if (shape === null || shape.length === 0) return undefined;
  const rest = shape.slice(1);
  return rest.every((d): d is number => typeof d === 'number') ? rest : undefined;
}

function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * How many values one batch row of an input holds when its dimensions after the batch are all
 * fixed (64 for `[batch, 1, 8, 8]`, 1 for `[batch]`); `undefined` otherwise. A profile, a
 * CSV's feature columns or a row's array fill such an input when they have this many values.
 */
export function valuesPerRow(spec: TensorSpec): number | undefined {
  const rest = fixedRowShape(spec);
  return rest === undefined ? undefined : sizeOf(rest);
}

/** The `DATASET_INVALID` error for feature columns that fill no shape of the input. */
function cannotFill(spec: TensorSpec, features: readonly string[], where: string): Error {
  const head = `${where}: model input '${spec.name}' has shape ${formatShape(spec.shape)}`;
  const rest = fixedRowShape(spec);
  if (rest !== undefined) {
    return datasetError(
      `${head} and takes ${sizeOf(rest)} values per row but the data set has ${features.length} feature columns (${columnList(features)}); choose them with features, give each row a '${spec.name}' value, or pass toInputs`,
    );
  }
  const why =
    spec.shape === null
      ? 'its rank is unknown'
      : spec.shape.length === 0
        ? 'it is a scalar, with no batch dimension'
        : 'its dimensions after the first are not all fixed';
  return datasetError(
    `${head}; ${features.length} feature columns cannot fill it (${why}), so give each row a '${spec.name}' value or pass toInputs`,
  );
}

/**
 * How feature columns fill a model's one input: which columns, in which order, and the shape
 * one row's values take. `integer` inputs refuse fractions; `bigint` ones get `BigInt`s.
 */
export interface FeaturePlan {
  spec: TensorSpec;
  features: readonly string[];
  perRow: number[];
  integer: boolean;
  bigint: boolean;
}

/**
 * How rows become inputs, decided from the columns of the first row (`has` says whether a
 * name is one; `columns` lists them) and the model's signature: a pipeline's or `toInputs`'
 * own builder (`build`), rows carrying every input by name (`named`), or feature columns
 * filling the model's one input ({@link FeaturePlan}). Anything else is a `DATASET_INVALID`
 * error naming the input, its shape and the column count.
 */
export function inputPlan(
  model: Model,
  has: (name: string) => boolean,
  columns: readonly string[],
  options: DataOptions,
  where: string,
): { build: InputBuilder } | { named: true } | FeaturePlan {
  if (options.pipeline !== undefined) {
    const pipeline = options.pipeline;
    return { build: (rows, offset) => pipeline.transform(rows, { offset }) };
  }
  if (options.toInputs !== undefined) {
    const toInputs = options.toInputs;
    return { build: (rows) => toInputs(rows) };
  }
  const specs = model.signature.inputs;
  const label = options.label ?? 'label';
  if (specs.length > 0 && specs.every((s) => has(s.name)) && options.features === undefined)
    return { named: true };
  if (specs.length !== 1) {
    throw datasetError(
      `${where}: model '${model.name}' has inputs ${columnList(specs.map((s) => s.name))}; give each row those columns, or pass toInputs`,
    );
  }
  const spec = specs[0]!;
  const features = options.features ?? columns.filter((c) => c !== label);
  if (!Array.isArray(features) || features.some((f) => typeof f !== 'string'))
    throw datasetError(`${where}: features must be an array of column names, received ${describe(features)}`);
  const missing = features.filter((f) => !has(f));
  if (missing.length > 0) {
    throw datasetError(
      `${where}: unknown feature column${missing.length > 1 ? 's' : ''} ${columnList(missing)}; the data set has ${columnList(columns, missing)}`,
    );
  }
  if (features.length === 0)
    throw datasetError(`${where}: the data set has no feature columns besides '${label}'`);
  const perRow = rowShapeOf(spec, features.length);
  if (perRow === undefined) throw cannotFill(spec, features, where);
  if (!(isFloat(spec.dtype) || isBigInt(spec.dtype) || /^u?int(8|16|32)$/.test(spec.dtype))) {
    throw datasetError(
      `${where}: model input '${spec.name}' is ${spec.dtype}; feature columns fill numeric inputs only, so pass toInputs`,
    );
  }
  return { spec, features, perRow, integer: !isFloat(spec.dtype), bigint: isBigInt(spec.dtype) };
}

/**
 * Decides, from the first row and the model's signature, how rows become inputs (see
 * {@link inputPlan}): the rows carry every input by name, or their feature columns fill the
 * model's one input ({@link rowShapeOf}: `[batch, k]`, or `[batch, 1, 8, 8]` from 64 columns).
 */
export function inputBuilder(model: Model, first: Row, options: DataOptions, where: string): InputBuilder {
  const plan = inputPlan(model, (name) => name in first, Object.keys(first), options, where);
  if ('build' in plan) return plan.build;
  if ('named' in plan) {
    const specs = model.signature.inputs;
    return (rows, offset) => {
      const inputs: Record<string, Tensor> = {};
      for (const spec of specs) inputs[spec.name] = stackColumn(spec, rows, offset, where);
      return inputs;
    };
  }
  const { spec, features, perRow, bigint } = plan;
  const k = features.length;
  return (rows, offset) => {
    const data = allocate(spec.dtype, rows.length * k) as unknown as { [i: number]: number | bigint };
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      for (let j = 0; j < k; j++) {
        const v = row[features[j]!];
        checkFeature(v, plan, offset + r, j, where);
        data[r * k + j] = bigint ? BigInt(v as number) : (v as number);
      }
    }
    return { [spec.name]: tensor(spec.dtype, data as never, [rows.length, ...perRow]) };
  };
}

/** Refuses a feature cell the input cannot hold: not a finite number, or a fraction for an integer input. */
export function checkFeature(v: unknown, plan: FeaturePlan, row: number, j: number, where: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw datasetError(
      `${where}: row ${row}, column '${plan.features[j]}' is ${describe(v)}; model input '${plan.spec.name}' (${plan.spec.dtype}) needs a finite number`,
    );
  }
  if (plan.integer && !Number.isInteger(v)) {
    throw datasetError(
      `${where}: row ${row}, column '${plan.features[j]}' is ${v}; model input '${plan.spec.name}' is ${plan.spec.dtype} and takes integers only`,
    );
  }
}

/**
 * Stacks one input's per-row values (scalars, nested arrays or typed arrays) along a new batch
 * dimension. Where the input's per-row dimensions are fixed, each row's values fill them
 * whatever their nesting (a flat 64-value array fills `[batch, 1, 8, 8]`) and a wrong count
 * is `DATASET_INVALID`; otherwise the values keep their own shape.
 */
function stackColumn(spec: TensorSpec, rows: readonly Row[], offset: number, where: string): Tensor {
  let firstShape: readonly number[] | undefined;
  let rowShape: readonly number[] = [];
  let out: { [i: number]: unknown; length: number } | undefined;
  let size = 0;
  for (let r = 0; r < rows.length; r++) {
    const value = rows[r]![spec.name];
    let t: Tensor;
    try {
      t = tensor(spec.dtype, value as never);
    } catch (e) {
      throw datasetError(
        `${where}: row ${offset + r}, input '${spec.name}' (${spec.dtype}) cannot be read: ${(e as Error).message}`,
      );
    }
    if (firstShape === undefined) {
      firstShape = t.shape;
      size = t.data.length;
      const fixed = fixedRowShape(spec);
      if (fixed !== undefined && sizeOf(fixed) !== size) {
        throw datasetError(
          `${where}: row ${offset + r}, input '${spec.name}' has ${size} value${size === 1 ? '' : 's'} (shape ${formatShape(t.shape)}); model input '${spec.name}' has shape ${formatShape(spec.shape)} and takes ${sizeOf(fixed)} values per row`,
        );
      }
      rowShape = fixed ?? t.shape;
      out = allocate(spec.dtype, rows.length * size) as unknown as typeof out;
    } else if (t.data.length !== size || t.shape.some((d, i) => d !== firstShape![i])) {
      throw datasetError(
        `${where}: row ${offset + r}, input '${spec.name}' has shape ${formatShape(t.shape)}; row ${offset} had ${formatShape(firstShape)}`,
      );
    }
    const data = t.data as ArrayLike<unknown>;
    for (let i = 0; i < size; i++) out![r * size + i] = data[i];
  }
  return tensor(spec.dtype, out as never, [rows.length, ...rowShape]);
}

/** Reads each row's label, refusing rows without one. */
export function readRowLabels(
  rows: readonly Row[],
  label: string,
  offset: number,
  where: string,
  into: { push(v: Label): void },
): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const v = row[label];
    if (typeof v === 'number' && Number.isFinite(v)) into.push(v);
    else if (typeof v === 'string' && v !== '') into.push(v);
    else if (typeof v === 'boolean') into.push(v ? 1 : 0);
    else if (typeof v === 'bigint') into.push(Number(v));
    else if (!(label in row) && offset + r === 0) throw noLabelColumn(Object.keys(row), label, where);
    else {
      throw datasetError(
        `${where}: row ${offset + r} has label ${describe(v)}; labels are numbers or strings`,
      );
    }
  }
}

/** The `DATASET_INVALID` error for a data set without the label column, listing likely names first. */
export function noLabelColumn(columns: readonly string[], label: string, where: string): InputError {
  return datasetError(
    `${where}: the data set has no label column '${label}' (columns: ${columnList(columns, [label, ...LABEL_NAMES])}); name it with label`,
  );
}

/** Checks how rows become inputs: `toInputs` a function, `pipeline` a fitted one and alone. */
export function checkDataOptions(options: DataOptions, where: string): void {
  if (options.toInputs !== undefined && typeof options.toInputs !== 'function')
    throw invalidArgument(where, 'toInputs must be a function', options.toInputs);
  if (
    options.pipeline !== undefined &&
    (typeof options.pipeline !== 'object' ||
      options.pipeline === null ||
      typeof options.pipeline.transform !== 'function')
  )
    throw invalidArgument(where, 'pipeline must be a fitted Pipeline', options.pipeline);
  if (options.pipeline !== undefined && (options.toInputs !== undefined || options.features !== undefined))
    throw invalidArgument(where, 'pipeline builds the inputs; leave out toInputs and features', options);
}

/** Refuses anything that is not a `Model`, before any work starts. */
export function checkModel(model: unknown, where: string): asserts model is Model {
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof (model as Model).predict !== 'function' ||
    typeof (model as Model).signature !== 'object'
  ) {
    throw invalidArgument(where, 'the model must implement Model (signature and predict)', model);
  }
}
