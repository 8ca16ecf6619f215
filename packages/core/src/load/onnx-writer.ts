import { invalidArgument } from '../errors';
import { bytesField, concat, varint, varintField } from './protobuf-writer';

/**
 * Writes an ONNX `ModelProto` from a plain description: what a trained baseline needs to ship as
 * a `.onnx` file that onnxruntime (Node, web, Python) runs. Field numbers are onnx.proto's.
 */

/** An element type of a graph input, output or initializer. */
export type OnnxElementType = 'float' | 'double' | 'int64' | 'int32' | 'string' | 'bool' | 'uint8';

/** An attribute value; the key says the attribute's type, as `AttributeProto.type` does. */
export type OnnxAttributeValue =
  | { int: number | bigint }
  | { float: number }
  | { string: string }
  | { ints: readonly (number | bigint)[] }
  | { floats: ArrayLike<number> }
  | { strings: readonly string[] }
  | { tensor: OnnxTensorSpec };

/** A graph input or output: a tensor with a shape whose dimensions are sizes or names. */
export interface OnnxValueSpec {
  name: string;
  type: OnnxElementType;
  /** Sizes, symbolic names (`'N'`) or null for an unnamed dynamic dimension. */
  shape: readonly (number | string | null)[];
  /**
   * Set for a sequence of maps from this key type to `type` (ZipMap's output,
   * `seq(map(int64|string, tensor(float)))`); `shape` is then not written.
   */
  mapKey?: 'int64' | 'string';
}

/** A constant tensor (an initializer or a tensor attribute). */
export interface OnnxTensorSpec {
  name?: string;
  type: Exclude<OnnxElementType, 'string'> | 'string';
  dims: readonly number[];
  /** Numbers for numeric types (bigints for int64 beyond 2^53), strings for `'string'`. */
  values: ArrayLike<number> | readonly bigint[] | readonly string[];
}

/** One operator. */
export interface OnnxNodeSpec {
  opType: string;
  /** `''` (default) for the standard operators, `'ai.onnx.ml'` for the ML ones. */
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, OnnxAttributeValue>>;
}

/** A whole model: one graph and the operator sets it uses. */
export interface OnnxModelSpec {
  graphName?: string;
  inputs: readonly OnnxValueSpec[];
  outputs: readonly OnnxValueSpec[];
  nodes: readonly OnnxNodeSpec[];
  initializers?: readonly OnnxTensorSpec[];
  /** Operator set versions by domain, e.g. `{ '': 13, 'ai.onnx.ml': 3 }`. */
  opsets: Readonly<Record<string, number>>;
  /** ModelProto.ir_version (default 8, which onnxruntime 1.14 and later read). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** ModelProto.metadata_props. */
  metadata?: Readonly<Record<string, string>>;
}

const ELEMENT: Record<OnnxElementType, number> = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  double: 11,
};

const WHAT = 'encodeOnnxModel';

/** A varint of a signed 64-bit integer (two's complement, as protobuf's int64). */
function int64Varint(value: number | bigint, what: string): Uint8Array {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw invalidArgument(WHAT, `${what} must be an integer`, value);
    if (value >= 0) return varint(value);
    value = BigInt(value);
  }
  if (value < -(1n << 63n) || value >= 1n << 63n)
    throw invalidArgument(WHAT, `${what} must fit in a signed 64-bit integer`, value);
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function int64Field(field: number, value: number | bigint, what: string): Uint8Array {
  return concat([varint(field * 8), int64Varint(value, what)]);
}

function packedInt64(field: number, values: ArrayLike<number | bigint>, what: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < values.length; i++) chunks.push(int64Varint(values[i] as number | bigint, what));
  return bytesField(field, chunks);
}

function packedFloat32(field: number, values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return bytesField(field, bytes);
}

function packedFloat64(field: number, values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  return bytesField(field, bytes);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '')
    throw invalidArgument(WHAT, `${what} must be a non-empty string`, name);
  return name;
}

function elementType(type: unknown, what: string): number {
  const code = typeof type === 'string' ? ELEMENT[type as OnnxElementType] : undefined;
  if (code === undefined)
    throw invalidArgument(WHAT, `${what} must be one of ${Object.keys(ELEMENT).join(', ')}`, type);
  return code;
}

/** TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, string_data 6, int64_data 7, name 8, double_data 10. */
export function encodeTensor(t: OnnxTensorSpec, what = 'tensor'): Uint8Array {
  const code = elementType(t.type, `${what}.type`);
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw invalidArgument(WHAT, `${what}.dims must be sizes`, t.dims);
    count *= d;
  }
  if (t.values.length !== count)
    throw invalidArgument(
      WHAT,
      `${what} has ${t.values.length} values for dims [${t.dims.join(', ')}]`,
      count,
    );
  const parts: Uint8Array[] = [];
  if (t.dims.length > 0) parts.push(packedInt64(1, t.dims, `${what}.dims`));
  parts.push(varintField(2, code));
  if (t.name !== undefined) parts.push(bytesField(8, checkName(t.name, `${what}.name`)));
  const values = t.values as ArrayLike<unknown>;
  switch (t.type) {
    case 'float':
      parts.push(packedFloat32(4, numbers(values, what)));
      break;
    case 'double':
      parts.push(packedFloat64(10, numbers(values, what)));
      break;
    case 'int64':
      parts.push(packedInt64(7, values as ArrayLike<number | bigint>, `${what}.values`));
      break;
    case 'int32':
    case 'bool':
    case 'uint8':
      parts.push(packedInt64(5, numbers(values, what), `${what}.values`));
      break;
    case 'string':
      for (let i = 0; i < values.length; i++) {
        const s = values[i];
        if (typeof s !== 'string') throw invalidArgument(WHAT, `${what}.values must be strings`, s);
        parts.push(bytesField(6, s));
      }
      break;
  }
  return concat(parts);
}

function numbers(values: ArrayLike<unknown>, what: string): ArrayLike<number> {
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== 'number')
      throw invalidArgument(WHAT, `${what}.values must be numbers`, values[i]);
  return values as ArrayLike<number>;
}

/** AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20. */
function encodeAttribute(name: string, value: OnnxAttributeValue, what: string): Uint8Array {
  const parts: Uint8Array[] = [bytesField(1, name)];
  if (value === null || typeof value !== 'object')
    throw invalidArgument(WHAT, `${what} must be an object such as { ints: [...] }`, value);
  if ('float' in value) {
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, value.float, true);
    parts.push(varint(2 * 8 + 5), f, varintField(20, 1));
  } else if ('int' in value) parts.push(int64Field(3, value.int, what), varintField(20, 2));
  else if ('string' in value) parts.push(bytesField(4, value.string), varintField(20, 3));
  else if ('tensor' in value) parts.push(bytesField(5, encodeTensor(value.tensor, what)), varintField(20, 4));
  else if ('floats' in value) parts.push(packedFloat32(7, numbers(value.floats, what)), varintField(20, 6));
  else if ('ints' in value) parts.push(packedInt64(8, value.ints, what), varintField(20, 7));
  else if ('strings' in value) {
    for (const s of value.strings) {
      if (typeof s !== 'string') throw invalidArgument(WHAT, `${what} must hold strings`, s);
      parts.push(bytesField(9, s));
    }
    parts.push(varintField(20, 8));
  } else
    throw invalidArgument(
      WHAT,
      `${what} has no value key (int, float, string, ints, floats, strings, tensor)`,
      value,
    );
  return concat(parts);
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7. */
function encodeNode(n: OnnxNodeSpec, i: number): Uint8Array {
  const what = `nodes[${i}]`;
  const parts: Uint8Array[] = [];
  for (const input of n.inputs)
    parts.push(bytesField(1, typeof input === 'string' ? input : checkName(input, what)));
  for (const output of n.outputs) parts.push(bytesField(2, checkName(output, `${what}.outputs`)));
  if (n.name !== undefined) parts.push(bytesField(3, checkName(n.name, `${what}.name`)));
  parts.push(bytesField(4, checkName(n.opType, `${what}.opType`)));
  for (const [name, value] of Object.entries(n.attributes ?? {}))
    parts.push(bytesField(5, encodeAttribute(name, value, `${what}.attributes.${name}`)));
  if (n.domain !== undefined && n.domain !== '') parts.push(bytesField(7, n.domain));
  return concat(parts);
}

/** ValueInfoProto { name 1, type 2 } with TypeProto.tensor_type { elem_type 1, shape 2 { dim 1 { dim_value 1 | dim_param 2 } } } (or a sequence of maps). */
function encodeValue(v: OnnxValueSpec, what: string): Uint8Array {
  if (!Array.isArray(v.shape)) throw invalidArgument(WHAT, `${what}.shape must be an array`, v.shape);
  const dims = v.shape.map((d) => {
    if (d === null) return bytesField(1, []);
    if (typeof d === 'string') return bytesField(1, bytesField(2, d));
    if (!Number.isSafeInteger(d) || d < 0)
      throw invalidArgument(WHAT, `${what}.shape holds a bad dimension`, d);
    return bytesField(1, varintField(1, d));
  });
  const elem = varintField(1, elementType(v.type, `${what}.type`));
  let type: Uint8Array;
  if (v.mapKey === undefined) type = bytesField(1, [elem, bytesField(2, dims)]);
  else {
    if (v.mapKey !== 'int64' && v.mapKey !== 'string')
      throw invalidArgument(WHAT, `${what}.mapKey must be 'int64' or 'string'`, v.mapKey);
    // TypeProto.sequence_type 4 { elem_type 1: map_type 5 { key_type 1, value_type 2: tensor_type 1 } }.
    const map = [varintField(1, ELEMENT[v.mapKey]), bytesField(2, bytesField(1, elem))];
    type = bytesField(4, bytesField(1, bytesField(5, map)));
  }
  return concat([bytesField(1, checkName(v.name, `${what}.name`)), bytesField(2, type)]);
}

/**
 * Encodes a model as ONNX bytes.
 *
 * @example
 * const bytes = encodeOnnxModel({
 *   inputs: [{ name: 'x', type: 'float', shape: ['N', 2] }],
 *   outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
 *   nodes: [{ opType: 'LinearRegressor', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['y'],
 *     attributes: { coefficients: { floats: [0.5, -1] }, intercepts: { floats: [2] } } }],
 *   opsets: { '': 13, 'ai.onnx.ml': 3 },
 * });
 */
export function encodeOnnxModel(spec: OnnxModelSpec): Uint8Array {
  if (spec === null || typeof spec !== 'object')
    throw invalidArgument(WHAT, 'the spec must be an object', spec);
  for (const key of ['inputs', 'outputs', 'nodes'] as const)
    if (!Array.isArray(spec[key])) throw invalidArgument(WHAT, `spec.${key} must be an array`, spec[key]);
  if (spec.opsets === null || typeof spec.opsets !== 'object')
    throw invalidArgument(WHAT, "spec.opsets must map domains to versions, e.g. { '': 13 }", spec.opsets);
  const graph: Uint8Array[] = spec.nodes.map(encodeNode).map((n) => bytesField(1, n));
  graph.push(bytesField(2, spec.graphName ?? 'modelship'));
  (spec.initializers ?? []).forEach((t, i) => {
    graph.push(
      bytesField(
        5,
        encodeTensor({ ...t, name: checkName(t.name, `initializers[${i}].name`) }, `initializers[${i}]`),
      ),
    );
  });
  for (const [i, v] of spec.inputs.entries()) graph.push(bytesField(11, encodeValue(v, `inputs[${i}]`)));
  for (const [i, v] of spec.outputs.entries()) graph.push(bytesField(12, encodeValue(v, `outputs[${i}]`)));
  const model: Uint8Array[] = [varintField(1, spec.irVersion ?? 8)];
  for (const [domain, version] of Object.entries(spec.opsets)) {
    if (!Number.isSafeInteger(version) || version < 1)
      throw invalidArgument(WHAT, `spec.opsets['${domain}'] must be a positive integer`, version);
    model.push(bytesField(8, [...(domain === '' ? [] : [bytesField(1, domain)]), varintField(2, version)]));
  }
  model.push(bytesField(2, spec.producerName ?? 'modelship'));
  if (spec.producerVersion !== undefined) model.push(bytesField(3, spec.producerVersion));
  if (spec.docString !== undefined) model.push(bytesField(6, spec.docString));
  model.push(bytesField(7, graph));
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    model.push(bytesField(14, [bytesField(1, key), bytesField(2, String(value))]));
  return concat(model);
}
