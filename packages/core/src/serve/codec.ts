/**
 * Tensors on the wire: the Open Inference Protocol's datatypes, their JSON encodings and the
 * little-endian binary layout of Triton's binary tensor data extension (also gRPC's raw
 * contents).
 */

import { allocate, type DType } from '../tensor/dtype';
import { sizeOf, type Tensor, tensor, toArray } from '../tensor/tensor';
import { bytesElement, elementBytes, jsonElement } from './bytes-element';
import { describeValue as describe, HttpError } from './http-error';
import { type JsonScanOptions, JsonSpan } from './json-scan';
import { readJsonTensor, readJsonTensorSliced } from './json-tensor';
import { web } from './web';

const TO_DTYPE: Record<string, DType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const TO_DATATYPE: Record<DType, string> = Object.fromEntries(
  Object.entries(TO_DTYPE).map(([k, v]) => [v, k]),
) as Record<DType, string>;

/** The protocol datatype of a dtype (`float32` → `FP32`). */
export function datatypeOf(dtype: DType): string {
  return TO_DATATYPE[dtype];
}

/** The dtype of a protocol datatype, or a 400 naming the known ones. */
export function dtypeOf(datatype: unknown, where: string): DType {
  if (typeof datatype !== 'string' || !Object.hasOwn(TO_DTYPE, datatype)) {
    throw new HttpError(
      400,
      `${where}: unknown datatype ${describe(datatype)}; expected one of ${Object.keys(TO_DTYPE).join(', ')}`,
    );
  }
  return TO_DTYPE[datatype]!;
}

/** Checks a shape from a request: an array of non-negative integers. */
export function readShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    throw new HttpError(
      400,
      `${where}: shape must be an array of non-negative integers, received ${describe(shape)}`,
    );
  }
  return shape as number[];
}

/** Bytes per element of each fixed-size datatype (BYTES has none). */
export const BYTE_SIZE: Partial<Record<DType, number>> = {
  bool: 1,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  float16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

export { bytesElement, elementBytes, fromJsonElement, jsonElement } from './bytes-element';

/** Zero bytes: a body or binary tail that has none. Shared; only its length is ever read. */
export const NO_BYTES = new Uint8Array(0);

/** The checks of a JSON input before its data is read: its datatype, shape and data span. */
function jsonInput(
  name: string,
  datatype: unknown,
  shape: unknown,
  data: unknown,
): { where: string; dtype: DType; dims: number[]; span: JsonSpan } {
  const where = `input '${name}'`;
  const dtype = dtypeOf(datatype, where);
  const dims = readShape(shape, where);
  if (data instanceof JsonSpan) return { where, dtype, dims, span: data };
  if (!Array.isArray(data))
    throw new HttpError(400, `${where}: data must be an array, received ${describe(data)}`);
  const bytes = new web.TextEncoder().encode(JSON.stringify(data));
  return { where, dtype, dims, span: new JsonSpan(bytes, 0, bytes.byteLength) };
}

/**
 * A tensor from a JSON request input: `data` flat or nested exactly as the shape, row-major,
 * read straight into the datatype's typed array (a {@link JsonSpan} left unread by the body's
 * parser, or an array, which is written out as JSON first). A value the datatype cannot hold is
 * refused, never wrapped, rounded or made infinite.
 */
export function fromJson(
  name: string,
  datatype: unknown,
  shape: unknown,
  data: unknown,
  options?: Pick<JsonScanOptions, 'nonFinite'>,
): Tensor {
  const { where, dtype, dims, span } = jsonInput(name, datatype, shape, data);
  return readJsonTensor(span, dtype, dims, where, options);
}

/**
 * {@link fromJson} for large data: the datatype and shape are checked at once (a bad one throws
 * here), then the data is read in slices with the event loop turning between them.
 */
export function fromJsonSliced(
  name: string,
  datatype: unknown,
  shape: unknown,
  data: JsonSpan,
  options?: Pick<JsonScanOptions, 'nonFinite'>,
): Promise<Tensor> {
  const { where, dtype, dims, span } = jsonInput(name, datatype, shape, data);
  return readJsonTensorSliced(span, dtype, dims, where, options);
}

/**
 * A tensor's elements as values `JSON.stringify` writes as the protocol wants (flat; NaN and
 * ±Infinity become null, as Triton writes them), or undefined for 64-bit integers a double
 * cannot hold exactly (use `jsonData`). JSON.stringify formats the numbers itself: `String(v)`
 * per element would fill V8's number-string cache, which keeps each string alive into the old
 * generation until the next full collection.
 */
export function jsonValues(t: Tensor): unknown[] | undefined {
  if (t.dtype === 'int64' || t.dtype === 'uint64') {
    const d = t.data as BigInt64Array | BigUint64Array;
    const values = new Array<number>(d.length);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v > 9007199254740991n || v < -9007199254740991n) return undefined;
      values[i] = Number(v);
    }
    return values;
  }
  if (t.dtype === 'float16') return toArray(t as Tensor<'float16'>) as number[];
  if (t.dtype === 'bool') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  if (t.dtype === 'string') {
    const d = t.data as (string | Uint8Array)[];
    return d.every((v) => typeof v === 'string') ? d : d.map(jsonElement);
  }
  return Array.from(t.data as Float32Array);
}

/** JSON text of a tensor's elements, flat; 64-bit integers are written exactly, digit for digit. */
export function jsonData(t: Tensor): string {
  if (t.dtype === 'int64' || t.dtype === 'uint64')
    return `[${Array.from(t.data as BigInt64Array, String).join(',')}]`;
  return JSON.stringify(jsonValues(t));
}

/** A tensor from binary data: little-endian elements, or 4-byte length-prefixed BYTES. */
export function fromBinary(name: string, datatype: unknown, shape: unknown, bytes: Uint8Array): Tensor {
  const where = `input '${name}'`;
  const dtype = dtypeOf(datatype, where);
  const dims = readShape(shape, where);
  const size = sizeOf(dims);
  if (dtype === 'string') {
    const strings: (string | Uint8Array)[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    while (at < bytes.byteLength) {
      if (at + 4 > bytes.byteLength)
        throw new HttpError(400, `${where}: BYTES data ends inside a length prefix`);
      const len = view.getUint32(at, true);
      at += 4;
      if (at + len > bytes.byteLength)
        throw new HttpError(
          400,
          `${where}: a BYTES element claims ${len} bytes but only ${bytes.byteLength - at} remain`,
        );
      strings.push(bytesElement(bytes.subarray(at, at + len)));
      at += len;
    }
    if (strings.length !== size)
      throw new HttpError(
        400,
        `${where}: shape [${dims.join(', ')}] holds ${size} elements but the data has ${strings.length}`,
      );
    return tensor('string', strings, dims);
  }
  const width = BYTE_SIZE[dtype]!;
  if (bytes.byteLength !== size * width) {
    throw new HttpError(
      400,
      `${where}: shape [${dims.join(', ')}] of ${datatype} needs ${size * width} bytes, received ${bytes.byteLength}`,
    );
  }
  // Copy into fresh, aligned storage; the machine order is little-endian on every platform Node ships for.
  const data = allocate(dtype, size) as unknown as { buffer: ArrayBuffer };
  new Uint8Array(data.buffer).set(bytes);
  if (dtype === 'bool') {
    const b = data as unknown as Uint8Array;
    for (let i = 0; i < b.length; i++)
      if (b[i]! > 1) throw new HttpError(400, `${where}: BOOL element ${i} is ${b[i]}; 0 or 1 expected`);
  }
  return { dtype, shape: dims, data: data as never };
}

/** The binary encoding of a tensor's elements. */
export function binaryData(t: Tensor): Uint8Array {
  if (t.dtype === 'string') {
    const parts = (t.data as (string | Uint8Array)[]).map(elementBytes);
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.byteLength, true);
      out.set(p, at + 4);
      at += 4 + p.byteLength;
    }
    return out;
  }
  const d = t.data as Uint8Array;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
