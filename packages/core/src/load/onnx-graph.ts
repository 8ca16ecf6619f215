import { type DType, isDType } from '../tensor/dtype';
import type { Dim } from '../tensor/spec';
import { type ByteSource, ProtoCursor } from './protobuf';

/**
 * What kind of value an ONNX graph input or output is. onnxruntime-js feeds and returns tensors
 * only; converters' classifiers end in a `'sequence of maps'` (ZipMap).
 */
export type ValueKind =
  | 'tensor'
  | 'sequence'
  | 'map'
  | 'sequence of maps'
  | 'optional'
  | 'sparse tensor'
  | 'unknown';

/** One graph input or output as the ONNX file declares it. */
export interface DeclaredValue {
  readonly name: string;
  /** The kind of value (`'unknown'` when the file declares no type). */
  readonly kind: ValueKind;
  /** The type as ONNX writes it: `tensor(float)`, `seq(map(int64,tensor(float)))`. */
  readonly type: string;
  /**
   * The tensor's element type as Modelship names it, `undefined` for a tensor of a type
   * Modelship does not support, or `null` for a value that is not a tensor (a sequence, map,
   * optional or sparse tensor) or whose type the file does not declare.
   */
  readonly dtype: DType | undefined | null;
  /** ONNX's `TensorProto.DataType` number (0 when not a tensor). */
  readonly elemType: number;
  /**
   * The declared shape: `[]` for a scalar, `null` when the file declares no shape, and per
   * dimension a size (`dim_value`), a name (`dim_param`) or `null` (neither, or a negative size).
   */
  readonly shape: readonly Dim[] | null;
}

/** A graph's inputs (initializers left out) and outputs, in declared order. */
export interface DeclaredSignature {
  readonly inputs: readonly DeclaredValue[];
  readonly outputs: readonly DeclaredValue[];
}

// ONNX TensorProto.DataType numbers → Modelship dtypes (onnx.proto).
const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_SPARSE_INITIALIZER = 15;
const TENSOR_NAME = 8;
const SPARSE_VALUES = 1;
/** A ValueInfoProto is names and a type; one past this size is not read (a doc string novel). */
const MAX_VALUE_INFO = 1 << 24;

/**
 * Reads the declared inputs and outputs of an ONNX `ModelProto` from its bytes, or from a
 * {@link ByteSource} that reads a file piece by piece: only the graph's field keys, its
 * `input`/`output` entries and its initializers' names are read; weights and nodes are skipped
 * without being copied. Graph inputs that are also initializers (older IR versions list every
 * weight as an input) are left out, as onnxruntime leaves them out.
 *
 * Truncated or malformed protobuf is a `MODEL_INVALID` {@link ModelLoadError}; fields the
 * reader does not know are skipped.
 *
 * @example
 * const { inputs } = await readOnnxSignature(bytes);
 * inputs.find((i) => i.name === 'sr')?.shape; // [] — a scalar, not an unknown shape
 */
export async function readOnnxSignature(
  source: Uint8Array | ByteSource,
  what = 'the model data',
): Promise<DeclaredSignature> {
  const c = new ProtoCursor(source, what);
  const inputs: DeclaredValue[] = [];
  const outputs: DeclaredValue[] = [];
  const initializers = new Set<string>();
  let graphs = 0;
  await walk(c, c.size, (field, stop) => {
    if (field !== MODEL_GRAPH) return false;
    // A message field seen twice is merged: its repeated fields concatenate.
    graphs++;
    return readGraph(c, stop, inputs, outputs, initializers);
  });
  if (graphs === 0) throw c.invalid(c.size, 'no graph');
  return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
}

/**
 * Walks the fields of a message from the position to `end` reading only their keys: `take` is
 * called at the body of each length-delimited field (with where it ends) and returns `false` to
 * leave it. Every field left is skipped by moving the position, never read.
 */
async function walk(
  c: ProtoCursor,
  end: number,
  take: (field: number, stop: number) => false | Promise<void>,
): Promise<void> {
  while (c.pos < end) {
    if (!c.has(20, end)) await c.need(20, end);
    const { field, wire } = c.key(end);
    if (wire !== 2) {
      c.skip(field, wire, end);
      continue;
    }
    const stop = c.length(end);
    const taken = take(field, stop);
    if (taken !== false) await taken;
    c.pos = stop;
  }
}

function readGraph(
  c: ProtoCursor,
  end: number,
  inputs: DeclaredValue[],
  outputs: DeclaredValue[],
  initializers: Set<string>,
): Promise<void> {
  return walk(c, end, (field, stop) => {
    if (field === GRAPH_INPUT || field === GRAPH_OUTPUT) {
      const kind = field === GRAPH_INPUT ? 'input' : 'output';
      if (stop - c.pos > MAX_VALUE_INFO) throw c.invalid(c.pos, `a graph ${kind} of ${stop - c.pos} bytes`);
      return inMemory(c, stop).then(
        () => void (kind === 'input' ? inputs : outputs).push(valueInfo(c, stop)),
      );
    }
    if (field === GRAPH_INITIALIZER || field === GRAPH_SPARSE_INITIALIZER) {
      const name = field === GRAPH_INITIALIZER ? tensorName(c, stop) : sparseTensorName(c, stop);
      return name.then((n) => void (n !== undefined && initializers.add(n)));
    }
    return false;
  });
}

/** The `name` of a TensorProto, reading field keys only and skipping its data. */
async function tensorName(c: ProtoCursor, end: number): Promise<string | undefined> {
  let name: string | undefined;
  await walk(c, end, (field, stop) =>
    field === TENSOR_NAME
      ? inMemory(c, stop).then(() => {
          name = c.string(stop);
        })
      : false,
  );
  return name;
}

/** A SparseTensorProto is named by its `values` tensor. */
async function sparseTensorName(c: ProtoCursor, end: number): Promise<string | undefined> {
  let name: string | undefined;
  await walk(c, end, (field, stop) =>
    field === SPARSE_VALUES
      ? tensorName(c, stop).then((n) => {
          name = n ?? name;
        })
      : false,
  );
  return name;
}

/** Brings the bytes from the position to `stop` into memory. */
async function inMemory(c: ProtoCursor, stop: number): Promise<void> {
  if (!c.has(stop - c.pos, stop)) await c.need(stop - c.pos, stop);
}

/** A ValueInfoProto already in memory: name=1, type=2 (TypeProto). */
function valueInfo(c: ProtoCursor, end: number): DeclaredValue {
  let name = '';
  let type: TypeInfo | undefined;
  eachField(c, end, (field, wire) => {
    if (field === 1 && wire === 2) name = c.string(c.length(end));
    else if (field === 2 && wire === 2) type = typeProto(c, c.length(end), 0);
    else return false;
    return true;
  });
  if (type === undefined)
    return { name, kind: 'unknown', type: 'unknown', dtype: null, elemType: 0, shape: null };
  if (type.kind !== 'tensor')
    return { name, kind: type.kind, type: type.text, dtype: null, elemType: 0, shape: null };
  const dtype = ELEM_TYPES[type.elemType];
  return {
    name,
    kind: 'tensor',
    type: type.text,
    dtype: dtype !== undefined && isDType(dtype) ? dtype : type.elemType === 0 ? null : undefined,
    elemType: type.elemType,
    shape: type.shape,
  };
}

interface TypeInfo {
  kind: ValueKind;
  text: string;
  elemType: number;
  shape: Dim[] | null;
}

// TypeProto's kinds (onnx.proto): the one-of field number.
const TYPE_TENSOR = 1;
const TYPE_SEQUENCE = 4;
const TYPE_MAP = 5;
const TYPE_SPARSE = 8;
const TYPE_OPTIONAL = 9;
/** ONNX's name of an element type, for `type` texts: Modelship's, but for three. */
function onnxName(elemType: number): string {
  if (elemType === 1) return 'float';
  if (elemType === 11) return 'double';
  if (elemType === 16) return 'bfloat16';
  return ELEM_TYPES[elemType] ?? `type ${elemType}`;
}

/** TypeProto: tensor_type=1 (elem_type=1, shape=2), sequence_type=4, map_type=5, sparse=8, optional=9. */
function typeProto(c: ProtoCursor, end: number, depth: number): TypeInfo | undefined {
  if (depth > 16) throw c.invalid(c.pos, 'types nested more than 16 deep');
  let out: TypeInfo | undefined;
  eachField(c, end, (field, wire) => {
    if (wire !== 2) return false;
    const stop = c.length(end);
    if (field === TYPE_TENSOR || field === TYPE_SPARSE) {
      let elemType = 0;
      let shape: Dim[] | null = null;
      eachField(c, stop, (f, w) => {
        if (f === 1 && w === 0) {
          const v = c.varint(stop);
          elemType = Number.isSafeInteger(v) ? v : -1;
        } else if (f === 2 && w === 2) shape = [...(shape ?? []), ...dims(c, c.length(stop))];
        else return false;
        return true;
      });
      const elem = onnxName(elemType);
      out =
        field === TYPE_TENSOR
          ? { kind: 'tensor', text: `tensor(${elem})`, elemType, shape }
          : { kind: 'sparse tensor', text: `sparse_tensor(${elem})`, elemType: 0, shape: null };
    } else if (field === TYPE_SEQUENCE || field === TYPE_OPTIONAL) {
      let inner: TypeInfo | undefined;
      eachField(c, stop, (f, w) => {
        if (f !== 1 || w !== 2) return false;
        inner = typeProto(c, c.length(stop), depth + 1);
        return true;
      });
      const text = `${field === TYPE_SEQUENCE ? 'seq' : 'optional'}(${inner?.text ?? 'unknown'})`;
      const kind =
        field === TYPE_OPTIONAL ? 'optional' : inner?.kind === 'map' ? 'sequence of maps' : 'sequence';
      out = { kind, text, elemType: 0, shape: null };
    } else if (field === TYPE_MAP) {
      let key = 0;
      let value: TypeInfo | undefined;
      eachField(c, stop, (f, w) => {
        if (f === 1 && w === 0) key = c.varint(stop);
        else if (f === 2 && w === 2) value = typeProto(c, c.length(stop), depth + 1);
        else return false;
        return true;
      });
      out = {
        kind: 'map',
        text: `map(${onnxName(key)},${value?.text ?? 'unknown'})`,
        elemType: 0,
        shape: null,
      };
    } else return false;
    return true;
  });
  return out;
}

/** TensorShapeProto: repeated Dimension dim=1, each dim_value=1 | dim_param=2. */
function dims(c: ProtoCursor, end: number): Dim[] {
  const out: Dim[] = [];
  eachField(c, end, (field, wire) => {
    if (field !== 1 || wire !== 2) return false;
    const stop = c.length(end);
    let dim: Dim = null;
    eachField(c, stop, (f, w) => {
      if (f === 1 && w === 0) {
        const v = c.varint(stop);
        dim = Number.isSafeInteger(v) ? v : null;
      } else if (f === 2 && w === 2) {
        const s = c.string(c.length(stop));
        dim = s === '' ? null : s;
      } else return false;
      return true;
    });
    out.push(dim);
    return true;
  });
  return out;
}

/** Calls `read` at each field key of a message in memory; fields it does not take are skipped. */
function eachField(c: ProtoCursor, end: number, read: (field: number, wire: number) => boolean): void {
  while (c.pos < end) {
    const { field, wire } = c.key(end);
    const start = c.pos;
    if (!read(field, wire)) {
      c.pos = start;
      c.skip(field, wire, end);
    }
  }
  if (c.pos !== end) throw c.truncated(end);
}
