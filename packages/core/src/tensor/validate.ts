import { describe, InputError } from '../errors';
import { coerceInput, type ModelInputs } from './coerce';
import { compiledCheck } from './compiled-check';
import { classTag, type DType, isDType, isFloat, isStorageOf, storageName } from './dtype';
import { describeUnsupported, formatShape, type ModelSignature, type TensorSpec } from './spec';
import { sizeOf, type Tensor } from './tensor';

/** How strictly inputs are checked before a model runs. */
export interface ValidationOptions {
  /**
   * Refuse NaN and ±Infinity in floating-point inputs. Off by default because it reads every
   * element; turn it on where data comes from outside.
   */
  checkFinite?: boolean;
  /**
   * The largest number of elements one request may carry across all its inputs.
   * Default: 2^26 (67,108,864: 256 MiB of float32).
   */
  maxElements?: number;
}

export const DEFAULT_MAX_ELEMENTS = 2 ** 26;

/**
 * Checks named input tensors against a signature and returns them unchanged. Each failure is an
 * {@link InputError} whose message names the input, what the model expects and what it received:
 *
 * - `INPUT_MISSING` / `INPUT_UNKNOWN`: a declared input absent, or a name the model does not have;
 * - `INPUT_INVALID`: a value that is not a tensor, or whose data is not the dtype's storage type;
 * - `INPUT_DTYPE_MISMATCH`, `INPUT_RANK_MISMATCH`, `INPUT_SHAPE_MISMATCH` (a fixed dimension, or a
 *   symbolic one such as `batch` that two inputs set to different sizes);
 * - `INPUT_DATA_LENGTH_MISMATCH`: data length that disagrees with the shape;
 * - `INPUT_NOT_FINITE` (with `checkFinite`), `INPUT_TOO_LARGE` (past `maxElements`).
 */
export function validateInputs(
  signature: ModelSignature,
  inputs: Readonly<Record<string, unknown>>,
  options: ValidationOptions = {},
): Record<string, Tensor> {
  const checkFinite = options.checkFinite === true;
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  if (
    typeof inputs === 'object' &&
    inputs !== null &&
    !Array.isArray(inputs) &&
    compiledCheck(signature, inputs, checkFinite, maxElements)
  ) {
    return inputs as Record<string, Tensor>;
  }
  return explainInputs(signature, inputs, options);
}

/**
 * What `predict` does with its inputs before a model runs: plain arrays and onnxruntime tensors
 * become tensors of the declared dtype ({@link coerceInput}), then everything is checked with
 * {@link validateInputs}. Inputs that are already tensors are not copied.
 */
export function prepareInputs(
  signature: ModelSignature,
  inputs: ModelInputs,
  options?: ValidationOptions,
): Record<string, Tensor> {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    return validateInputs(signature, inputs as never, options);
  }
  let coerced: Record<string, unknown> | undefined;
  for (const spec of signature.inputs) {
    const value = inputs[spec.name];
    if (value === undefined) continue;
    // Already a tensor of the declared dtype, which coerceInput would return as it is: skipped
    // without its dtype lookup, the costliest step of a valid call (bench/predict-overhead).
    if (typeof value === 'object' && value !== null && (value as { dtype?: unknown }).dtype === spec.dtype)
      continue;
    const t = coerceInput(value, spec);
    if (t !== value) {
      coerced ??= { ...inputs };
      coerced[spec.name] = t;
    }
  }
  return validateInputs(signature, coerced ?? inputs, options);
}

/** The full check, run only when the fast one fails: it names the problem. */
function explainInputs(
  signature: ModelSignature,
  inputs: Readonly<Record<string, unknown>>,
  options: ValidationOptions = {},
): Record<string, Tensor> {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new InputError(
      'INPUT_INVALID',
      `inputs must be an object keyed by input name (${signature.inputs.map((s) => s.name).join(', ')}), received ${describe(inputs)}`,
    );
  }
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const checkFinite = options.checkFinite === true;
  const specs = signature.inputs;
  let symbols: Map<string, { size: number; input: string }> | undefined;
  let total = 0;
  let present = 0;
  for (const spec of specs) {
    const t = inputs[spec.name];
    if (t === undefined || !Object.hasOwn(inputs, spec.name)) continue;
    present++;
    if (symbols === undefined && hasSymbol(spec)) symbols = new Map();
    checkOne(spec, t, symbols, checkFinite);
    total += (t as Tensor).data.length;
    if (total > maxElements) {
      throw new InputError(
        'INPUT_TOO_LARGE',
        `input '${spec.name}' brings the request to ${total} elements, over the limit of ${maxElements}`,
        { details: { input: spec.name, expected: maxElements, received: total } },
      );
    }
  }
  if (present !== specs.length || Object.keys(inputs).length !== present) {
    // Slow path, only on failure: name the unknown or missing input.
    const declared = new Set(specs.map((s) => s.name));
    for (const name of Object.keys(inputs)) {
      if (!declared.has(name)) {
        throw new InputError(
          'INPUT_UNKNOWN',
          `unknown input '${name}': the model's inputs are ${listNames(specs)}`,
          {
            details: { input: name, expected: [...declared] },
          },
        );
      }
    }
    for (const spec of specs) {
      if (inputs[spec.name] === undefined || !Object.hasOwn(inputs, spec.name)) {
        throw new InputError(
          'INPUT_MISSING',
          `missing input '${spec.name}': expected ${spec.dtype} ${formatShape(spec.shape)}`,
          {
            details: { input: spec.name, expected: { dtype: spec.dtype, shape: spec.shape } },
          },
        );
      }
    }
  }
  return inputs as Record<string, Tensor>;
}

function hasSymbol(spec: TensorSpec): boolean {
  if (spec.shape === null) return false;
  for (const d of spec.shape) if (typeof d === 'string') return true;
  return false;
}

function listNames(specs: readonly TensorSpec[]): string {
  return specs.length === 0 ? '(none)' : specs.map((s) => `'${s.name}'`).join(', ');
}

function checkOne(
  spec: TensorSpec,
  value: unknown,
  symbols: Map<string, { size: number; input: string }> | undefined,
  checkFinite: boolean,
): void {
  const name = spec.name;
  const expected = (): string => `${spec.dtype} ${formatShape(spec.shape)}`;
  if (typeof value !== 'object' || value === null) {
    throw new InputError(
      'INPUT_INVALID',
      `input '${name}': expected a tensor ${expected()}, received ${describe(value)}`,
      {
        details: { input: name },
      },
    );
  }
  const t = value as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (!isDType(t.dtype)) {
    throw new InputError(
      'INPUT_INVALID',
      `input '${name}': expected a tensor ${expected()}, received dtype ${describe(t.dtype)}`,
      {
        details: { input: name },
      },
    );
  }
  if (t.dtype !== spec.dtype) {
    throw new InputError(
      'INPUT_DTYPE_MISMATCH',
      `input '${name}': expected dtype ${spec.dtype}, received ${t.dtype}`,
      {
        details: { input: name, expected: spec.dtype, received: t.dtype },
      },
    );
  }
  const shape = t.shape;
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new InputError(
      'INPUT_INVALID',
      `input '${name}': shape must be an array of non-negative integers, received ${Array.isArray(shape) ? JSON.stringify(shape) : describe(shape)}`,
      { details: { input: name } },
    );
  }
  if (!isStorageOf(t.dtype as DType, t.data)) {
    throw new InputError(
      'INPUT_INVALID',
      `input '${name}': ${t.dtype} data must be a ${storageName(t.dtype as DType)}, received ${describe(t.data)}`,
      { details: { input: name, expected: storageName(t.dtype as DType), received: classTag(t.data) } },
    );
  }
  if (spec.shape !== null) {
    if (shape.length !== spec.shape.length) {
      throw new InputError(
        'INPUT_RANK_MISMATCH',
        `input '${name}': expected rank ${spec.shape.length} ${formatShape(spec.shape)}, received rank ${shape.length} ${formatShape(shape)}`,
        { details: { input: name, expected: spec.shape, received: shape } },
      );
    }
    for (let i = 0; i < shape.length; i++) {
      const want = spec.shape[i];
      const got = shape[i] as number;
      if (typeof want === 'number' && want >= 0 && want !== got) {
        throw new InputError(
          'INPUT_SHAPE_MISMATCH',
          `input '${name}': dimension ${i} must be ${want} ${formatShape(spec.shape)}, received ${got} ${formatShape(shape)}`,
          { details: { input: name, dimension: i, expected: spec.shape, received: shape } },
        );
      }
      if (typeof want === 'string' && symbols !== undefined) {
        const seen = symbols.get(want);
        if (seen === undefined) symbols.set(want, { size: got, input: name });
        else if (seen.size !== got) {
          throw new InputError(
            'INPUT_SHAPE_MISMATCH',
            `input '${name}': dimension ${i} ('${want}') is ${got}, but input '${seen.input}' set '${want}' to ${seen.size}`,
            { details: { input: name, dimension: i, expected: seen.size, received: got } },
          );
        }
      }
    }
  }
  const length = (t.data as ArrayLike<unknown>).length;
  const size = sizeOf(shape as number[]);
  if (length !== size) {
    throw new InputError(
      'INPUT_DATA_LENGTH_MISMATCH',
      `input '${name}': shape ${formatShape(shape as number[])} holds ${size} elements, but data has ${length}`,
      { details: { input: name, expected: size, received: length } },
    );
  }
  if (checkFinite && isFloat(t.dtype) && t.dtype !== 'float16') {
    const data = t.data as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      // v - v is NaN exactly for NaN and ±Infinity: one branch in the common case.
      if (v - v !== 0) {
        throw new InputError(
          'INPUT_NOT_FINITE',
          `input '${name}': element ${i} is ${v}; finite values are required`,
          {
            details: { input: name, index: i, received: String(v) },
          },
        );
      }
    }
  } else if (checkFinite && t.dtype === 'float16') {
    const data = t.data as Uint16Array;
    for (let i = 0; i < data.length; i++) {
      if ((data[i]! & 0x7c00) === 0x7c00) {
        throw new InputError(
          'INPUT_NOT_FINITE',
          `input '${name}': element ${i} is not finite; finite values are required`,
          {
            details: { input: name, index: i },
          },
        );
      }
    }
  }
}

/** Checks the `outputs` option of a predict call against the signature. */
export function validateOutputNames(
  signature: ModelSignature,
  names: unknown,
): readonly string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    throw new InputError(
      'INVALID_ARGUMENT',
      `predict: options.outputs must be a non-empty array of output names, received ${describe(names)}`,
    );
  }
  const known = new Set(signature.outputs.map((s) => s.name));
  for (const n of names as string[]) {
    if (!known.has(n)) {
      const other = signature.unsupportedOutputs?.find((u) => u.name === n);
      if (other !== undefined)
        throw new InputError(
          'OUTPUT_UNKNOWN',
          `output '${n}' is ${describeUnsupported(other)}, which onnxruntime-js cannot return: the model's tensor outputs are ${listNames(signature.outputs)}`,
          { details: { output: n, kind: other.kind, expected: [...known] } },
        );
      throw new InputError(
        'OUTPUT_UNKNOWN',
        `unknown output '${n}': the model's outputs are ${listNames(signature.outputs)}`,
        {
          details: { output: n, expected: [...known] },
        },
      );
    }
  }
  return names as string[];
}
