import { describe, InputError } from '../errors';
import {
  allocate,
  classTag,
  type DType,
  type ElementTypeMap,
  float16BitsToNumber,
  INT64_MAX,
  INT64_MIN,
  INTEGER_RANGE,
  isDType,
  isStorageOf,
  numberToFloat16Bits,
  storageName,
  type TensorData,
  UINT64_MAX,
} from './dtype';

/**
 * A dense, row-major tensor: a plain object, so it can be structured-cloned to a worker,
 * serialised, and made by hand. `data.length` always equals the product of `shape`.
 */
export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorData<D>;
}

/** Tensors keyed by input or output name. */
export type NamedTensors = Record<string, Tensor>;

/** A nested array of elements, as in `[[1, 2], [3, 4]]`. */
export type NestedArray<T> = T | readonly NestedArray<T>[];

/** Anything {@link tensor} can build a tensor from. */
export type TensorSource<D extends DType> =
  | TensorData<D>
  | NestedArray<ElementTypeMap[D] | number | bigint | boolean | string>
  | ArrayLike<number>
  | ArrayLike<bigint>;

/** The number of elements a shape holds (1 for a scalar's empty shape). */
export function sizeOf(shape: readonly number[]): number {
  if (!Array.isArray(shape))
    throw new InputError('TENSOR_INVALID', `sizeOf: shape must be an array, received ${describe(shape)}`);
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks that `shape` is a list of non-negative safe integers; returns it as a fresh array. */
export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) {
    throw new InputError(
      'TENSOR_INVALID',
      `${where}: shape must be an array of integers, received ${describe(shape)}`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new InputError(
        'TENSOR_INVALID',
        `${where}: shape[${i}] must be a non-negative integer, received ${describe(d)} (shape ${JSON.stringify(shape)})`,
      );
    }
    out.push(d);
  }
  return out;
}

/**
 * Builds a tensor, checking that the data fits the dtype and the shape.
 *
 * - Nested arrays give their own shape (`tensor('float32', [[1, 2], [3, 4]])` is 2×2); ragged
 *   arrays are refused.
 * - A typed array of the dtype's exact storage type is used as is, without a copy; any other
 *   array-like is converted element by element, and a value that the dtype cannot hold
 *   (300 for `int8`, 1.5 for `int32`, 2^53 as a number for `int64`) is refused rather than
 *   silently wrapped or rounded.
 * - `float16` takes numbers (encoded to half precision) or raw bits in a `Uint16Array`.
 *
 * @example
 * const x = tensor('float32', [[0.1, 0.2, 0.3]]);          // shape [1, 3]
 * const ids = tensor('int64', [1n, 2n, 3n, 4n], [2, 2]);   // shape [2, 2]
 */
export function tensor<D extends DType>(
  dtype: D,
  source: TensorSource<D>,
  shape?: readonly number[],
): Tensor<D> {
  if (!isDType(dtype)) {
    throw new InputError('TENSOR_INVALID', `tensor: unknown dtype ${describe(dtype)}`);
  }
  const where = `tensor(${dtype})`;
  let flat: ArrayLike<unknown>;
  let inferred: number[] | undefined;
  const tag = classTag(source);
  if (tag.endsWith('Array') && tag !== 'Array') {
    flat = source as ArrayLike<unknown>;
  } else if (Array.isArray(source)) {
    const nested = flatten(source, where);
    flat = nested.values;
    inferred = nested.shape;
  } else if (
    source !== null &&
    typeof source === 'object' &&
    typeof (source as ArrayLike<unknown>).length === 'number'
  ) {
    flat = source as ArrayLike<unknown>;
  } else {
    // A single element makes a scalar.
    flat = [source];
    inferred = [];
  }
  const finalShape = shape === undefined ? (inferred ?? [flat.length]) : checkShape(shape, where);
  if (
    shape !== undefined &&
    inferred !== undefined &&
    inferred.length > 1 &&
    !sameShape(inferred, finalShape)
  ) {
    throw new InputError(
      'TENSOR_INVALID',
      `${where}: nested data has shape ${JSON.stringify(inferred)} but shape ${JSON.stringify(finalShape)} was given`,
    );
  }
  if (sizeOf(finalShape) !== flat.length) {
    throw new InputError(
      'TENSOR_INVALID',
      `${where}: shape ${JSON.stringify(finalShape)} holds ${sizeOf(finalShape)} elements but the data has ${flat.length}`,
    );
  }
  const data =
    isStorageOf(dtype, flat) && dtype !== 'float16' ? (flat as TensorData<D>) : convert(dtype, flat, where);
  return { dtype, shape: finalShape, data };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function flatten(source: readonly unknown[], where: string): { values: unknown[]; shape: number[] } {
  const shape: number[] = [];
  let level: unknown = source;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const values: unknown[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node)) {
        throw new InputError(
          'TENSOR_INVALID',
          `${where}: ragged nested array: ${path} is an array deeper than the rest`,
        );
      }
      values.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new InputError(
        'TENSOR_INVALID',
        `${where}: ragged nested array: ${path} has ${Array.isArray(node) ? `length ${node.length}` : 'no array'} where ${shape[depth]} was expected`,
      );
    }
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(source, 0, 'data');
  return { values, shape };
}

function convert<D extends DType>(dtype: D, flat: ArrayLike<unknown>, where: string): TensorData<D> {
  const n = flat.length;
  const out = allocate(dtype, n) as unknown as Record<number, unknown>;
  const bad = (i: number, v: unknown, why: string): never => {
    throw new InputError('TENSOR_INVALID', `${where}: element ${i} is ${describe(v)}, ${why}`);
  };
  switch (dtype) {
    case 'string':
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'string' && classTag(v) !== 'Uint8Array')
          bad(i, v, 'a string tensor needs strings (or Uint8Array raw bytes)');
        out[i] = v;
      }
      break;
    case 'bool':
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v === 'boolean') out[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) out[i] = v;
        else bad(i, v, 'a bool tensor needs true/false or 0/1');
      }
      break;
    case 'int64':
    case 'uint64': {
      const [lo, hi] = dtype === 'int64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        let b: bigint;
        if (typeof v === 'bigint') b = v;
        else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
        else if (typeof v === 'number' && Number.isInteger(v)) {
          b = bad(i, v, `beyond 2^53 a number has lost precision; pass ${dtype} values as bigint`);
        } else b = bad(i, v, `${dtype} needs integers (bigint or safe-integer numbers)`);
        if (b < lo || b > hi) bad(i, v, `outside the ${dtype} range`);
        out[i] = b;
      }
      break;
    }
    case 'float16':
      if (classTag(flat) === 'Uint16Array') {
        // Raw half-precision bits, as onnxruntime-js stores them.
        return flat as TensorData<D>;
      }
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, v, 'float16 needs numbers');
        // Finite numbers that half precision would turn into ±Infinity are refused, not rounded.
        if (Number.isFinite(v) && Math.abs(v as number) >= 65520)
          bad(i, v, 'outside the float16 range (±65504)');
        out[i] = numberToFloat16Bits(v as number);
      }
      break;
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, v, `${dtype} needs numbers`);
        if (dtype === 'float32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v as number)))
          bad(i, v, 'outside the float32 range (±3.4028234663852886e38)');
        out[i] = v;
      }
      break;
    default: {
      const range = INTEGER_RANGE[dtype]!;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        const num = typeof v === 'bigint' ? Number(v) : v;
        if (typeof num !== 'number' || !Number.isInteger(num)) bad(i, v, `${dtype} needs integers`);
        if ((num as number) < range[0] || (num as number) > range[1]) {
          bad(i, v, `outside the ${dtype} range [${range[0]}, ${range[1]}]`);
        }
        out[i] = num;
      }
    }
  }
  return out as unknown as TensorData<D>;
}

/** True when `value` has the shape of a {@link Tensor} (dtype, shape and data fields). */
export function isTensor(value: unknown): value is Tensor {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<Tensor>;
  return isDType(t.dtype) && Array.isArray(t.shape) && t.data !== undefined;
}

/**
 * Checks a tensor made by hand: a known dtype, a valid shape, storage of the dtype's type and a
 * length that matches the shape. Returns the tensor unchanged.
 */
export function checkTensor(value: unknown, where: string): Tensor {
  if (typeof value !== 'object' || value === null) {
    throw new InputError(
      'TENSOR_INVALID',
      `${where}: expected a tensor { dtype, shape, data }, received ${describe(value)}`,
    );
  }
  const t = value as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (!isDType(t.dtype)) {
    throw new InputError('TENSOR_INVALID', `${where}: unknown dtype ${describe(t.dtype)}`);
  }
  const shape = checkShape(t.shape, where);
  if (!isStorageOf(t.dtype, t.data)) {
    throw new InputError(
      'TENSOR_INVALID',
      `${where}: a ${t.dtype} tensor keeps its data in a ${storageName(t.dtype)}, received ${describe(t.data)}`,
      { details: { expected: storageName(t.dtype), received: classTag(t.data) } },
    );
  }
  const length = (t.data as ArrayLike<unknown>).length;
  if (length !== sizeOf(shape)) {
    throw new InputError(
      'INPUT_DATA_LENGTH_MISMATCH',
      `${where}: shape ${JSON.stringify(shape)} holds ${sizeOf(shape)} elements but data has ${length}`,
      { details: { expected: sizeOf(shape), received: length } },
    );
  }
  return value as Tensor;
}

/**
 * Narrows a tensor to a known dtype, checking it: `asDType(out.probability, 'float32').data` is
 * typed `Float32Array`. A different dtype throws `TENSOR_INVALID` naming both.
 */
export function asDType<D extends DType>(t: Tensor, dtype: D): Tensor<D> {
  if (t?.dtype !== dtype) {
    throw new InputError(
      'TENSOR_INVALID',
      `expected a ${dtype} tensor, received ${t === undefined ? 'undefined' : t.dtype}`,
    );
  }
  return t as Tensor<D>;
}

/**
 * Reads a tensor's elements as a flat JavaScript array: numbers, bigints for 64-bit integers,
 * booleans for `bool`, decoded numbers for `float16`.
 */
export function toArray<D extends DType>(t: Tensor<D>): ElementTypeMap[D][] {
  checkTensor(t, 'toArray');
  const n = t.data.length;
  const out = new Array<unknown>(n);
  if (t.dtype === 'bool') for (let i = 0; i < n; i++) out[i] = (t.data as Uint8Array)[i] !== 0;
  else if (t.dtype === 'float16')
    for (let i = 0; i < n; i++) out[i] = float16BitsToNumber((t.data as Uint16Array)[i]!);
  else for (let i = 0; i < n; i++) out[i] = (t.data as ArrayLike<unknown>)[i];
  return out as ElementTypeMap[D][];
}

/** Reads a tensor as nested arrays following its shape (a scalar gives its single element). */
export function toNested<D extends DType>(t: Tensor<D>): NestedArray<ElementTypeMap[D]> {
  const flat = toArray(t); // checks t
  if (t.shape.length === 0) return flat[0] as ElementTypeMap[D];
  let offset = 0;
  const build = (depth: number): NestedArray<ElementTypeMap[D]> => {
    const len = t.shape[depth]!;
    const level: NestedArray<ElementTypeMap[D]>[] = [];
    if (depth === t.shape.length - 1) {
      for (let i = 0; i < len; i++) level.push(flat[offset++]!);
    } else {
      for (let i = 0; i < len; i++) level.push(build(depth + 1));
    }
    return level;
  };
  return build(0);
}
