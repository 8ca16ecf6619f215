/**
 * Element types, named as onnxruntime-js names them. `float16` holds raw IEEE half-precision
 * bits in a `Uint16Array` (use {@link float16BitsToNumber} to read them); `bool` holds 0 or 1
 * in a `Uint8Array`.
 */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string';

/** The storage of each element type. */
export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  /**
   * Text as strings; an element whose bytes are not valid UTF-8 (a BYTES tensor from the wire)
   * is kept as its raw `Uint8Array`, so no byte is lost.
   */
  string: (string | Uint8Array)[];
}

/** The JavaScript value of one element when read out of a tensor. */
export interface ElementTypeMap {
  float32: number;
  float64: number;
  float16: number;
  int8: number;
  int16: number;
  int32: number;
  int64: bigint;
  uint8: number;
  uint16: number;
  uint32: number;
  uint64: bigint;
  bool: boolean;
  string: string | Uint8Array;
}

export type TensorData<D extends DType = DType> = DataTypeMap[D];

/** Every supported element type, in a stable order. */
export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'string',
];

/** True when `value` names a supported element type. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(STORAGE_TAG, value);
}

type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Uint16ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

const STORAGE: Record<Exclude<DType, 'string'>, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

const STORAGE_TAG: Record<DType, string> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  float16: 'Uint16Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
  uint8: 'Uint8Array',
  uint16: 'Uint16Array',
  uint32: 'Uint32Array',
  uint64: 'BigUint64Array',
  bool: 'Uint8Array',
  string: 'Array',
};

/** The name of the storage class for `dtype` (`'Float32Array'`, …, `'Array'` for strings). */
export function storageName(dtype: DType): string {
  return STORAGE_TAG[dtype];
}

/** The class that stores `dtype` (`Array` for strings). */
export function storageConstructor(dtype: DType): unknown {
  return dtype === 'string' ? Array : STORAGE[dtype];
}

/** Allocates zeroed storage for `length` elements of `dtype` (empty strings for `string`). */
export function allocate<D extends DType>(dtype: D, length: number): TensorData<D> {
  if (dtype === 'string') return new Array<string>(length).fill('') as TensorData<D>;
  return new STORAGE[dtype as Exclude<DType, 'string'>](length) as TensorData<D>;
}

/**
 * The class tag of a value (`'Float32Array'`, `'Array'`, …). Unlike `instanceof`, it holds for
 * typed arrays made in another realm (a worker, an iframe, Vitest's browser mode).
 */
export function classTag(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** True when `data` is the exact storage type of `dtype`, whatever realm made it. */
export function isStorageOf(dtype: DType, data: unknown): boolean {
  if (dtype === 'string') return Array.isArray(data);
  // instanceof answers the common same-realm case fast; the tag covers other realms.
  return data instanceof STORAGE[dtype] || classTag(data) === STORAGE_TAG[dtype];
}

/** Bytes per element (strings: 0, they have no fixed size). */
export function bytesPerElement(dtype: DType): number {
  if (dtype === 'string') return 0;
  return STORAGE[dtype].BYTES_PER_ELEMENT;
}

/** True for the floating-point types. */
export function isFloat(dtype: DType): dtype is 'float32' | 'float64' | 'float16' {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** True for the 64-bit integer types, whose elements are bigints. */
export function isBigInt(dtype: DType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}

/** Inclusive range of each integer type held as a JavaScript number. */
export const INTEGER_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encodes a number as IEEE 754 half-precision bits, rounding to nearest even. */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf or NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    if (e < -10) return sign; // underflow to signed zero
    mant |= 0x800000; // subnormal half: shift in the implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m += 1;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** Decodes IEEE 754 half-precision bits to a number. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
