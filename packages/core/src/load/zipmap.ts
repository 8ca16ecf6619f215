import type { ClassLabels } from '../tensor/spec';
import { ProtoCursor } from './protobuf';
import { bytesField, concat, varintField } from './protobuf-writer';

/** A `ZipMap` output served as the probability tensor it was made from. */
export interface ZipMapOutput {
  /** The graph output's name, kept. */
  readonly name: string;
  /** ZipMap's `classlabels_int64s` or `classlabels_strings`, one per probability column. */
  readonly labels: ClassLabels;
}

export interface ZipMapRewrite {
  /** The rewritten model: a new array, the input bytes are left as they were. */
  readonly bytes: Uint8Array;
  readonly outputs: readonly ZipMapOutput[];
}

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const MODEL_OPSET = 8;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_INTS = 8;
const ATTR_STRINGS = 9;
const FLOAT = 1;
/** int64 labels past 2^53 would not survive as numbers: such a ZipMap is left alone. */
const MAX_LABELS = 1 << 20;

interface Span {
  readonly field: number;
  readonly wire: number;
  readonly start: number;
  readonly end: number;
  /** Where a length-delimited field's body starts (its key and length before it). */
  readonly body: number;
}

interface NodeInfo {
  readonly inputs: string[];
  readonly outputs: string[];
  name?: string;
  opType: string;
  domain: string;
  ints: number[];
  strings: string[];
  hasInts: boolean;
  hasStrings: boolean;
}

/**
 * Rewrites every `ZipMap` whose result is a graph output into an `Identity` of its input, so
 * the output (same name) is the `[batch, classes]` float probability tensor ZipMap was given,
 * which onnxruntime-js can return, instead of the sequence of maps it cannot. The class labels
 * ZipMap would have used as keys come back beside the new bytes.
 *
 * Converters (skl2onnx, onnxmltools) end every classifier this way by default. A ZipMap whose
 * output also feeds another node, one inside a subgraph, or a model with more than one graph
 * field is left alone. Returns `undefined` when nothing was rewritten. `bytes` is not modified.
 *
 * @example
 * const rewrite = rewriteZipMaps(bytes);
 * rewrite?.outputs; // [{ name: 'output_probability', labels: [0, 1, 2] }]
 */
export function rewriteZipMaps(bytes: Uint8Array, what = 'the model data'): ZipMapRewrite | undefined {
  const c = new ProtoCursor(bytes, what);
  const top = spans(c, 0, bytes.length);
  const graphs = top.filter((s) => s.field === MODEL_GRAPH);
  if (graphs.length !== 1) return undefined;
  const graph = graphs[0]!;
  const fields = spans(c, graph.body, graph.end);
  const nodes = new Map<Span, NodeInfo>();
  const consumed = new Set<string>();
  const graphOutputs = new Map<string, Span>();
  for (const s of fields) {
    if (s.field === GRAPH_NODE) {
      const n = readNode(c, s);
      nodes.set(s, n);
      for (const i of n.inputs) consumed.add(i);
    } else if (s.field === GRAPH_OUTPUT) {
      graphOutputs.set(firstString(c, s, 1), s);
    }
  }
  const replaced = new Map<Span, Uint8Array>();
  const outputs: ZipMapOutput[] = [];
  for (const [span, n] of nodes) {
    if (n.opType !== 'ZipMap' || n.domain !== 'ai.onnx.ml' || n.inputs.length !== 1 || n.outputs.length !== 1)
      continue;
    const out = n.outputs[0]!;
    const outSpan = graphOutputs.get(out);
    if (outSpan === undefined || consumed.has(out)) continue;
    const labels = labelsOf(n);
    if (labels === undefined) continue;
    replaced.set(
      span,
      bytesField(GRAPH_NODE, [
        bytesField(NODE_INPUT, n.inputs[0]!),
        bytesField(NODE_OUTPUT, out),
        ...(n.name === undefined ? [] : [bytesField(NODE_NAME, n.name)]),
        bytesField(NODE_OP_TYPE, 'Identity'),
      ]),
    );
    replaced.set(outSpan, bytesField(GRAPH_OUTPUT, probabilityValueInfo(out, labels.length)));
    outputs.push({ name: out, labels });
  }
  if (outputs.length === 0) return undefined;
  const graphBody = concat(fields.map((s) => replaced.get(s) ?? bytes.subarray(s.start, s.end)));
  const chunks = top.map((s) =>
    s === graph ? bytesField(MODEL_GRAPH, graphBody) : bytes.subarray(s.start, s.end),
  );
  // Identity lives in the default domain; a model importing only ai.onnx.ml gets it (opset 1 has it).
  const imports = top.filter((s) => s.field === MODEL_OPSET).map((s) => firstString(c, s, 1));
  if (!imports.some((d) => d === '' || d === 'ai.onnx'))
    chunks.push(bytesField(MODEL_OPSET, [varintField(2, 1)]));
  return { bytes: concat(chunks), outputs };
}

/** ValueInfoProto of a float tensor [?, classes]. */
function probabilityValueInfo(name: string, classes: number): Uint8Array[] {
  const shape = [bytesField(1, new Uint8Array(0)), bytesField(1, varintField(1, classes))];
  return [bytesField(1, name), bytesField(2, [bytesField(1, [varintField(1, FLOAT), bytesField(2, shape)])])];
}

function labelsOf(n: NodeInfo): ClassLabels | undefined {
  if (n.hasStrings === n.hasInts) return undefined;
  if (n.hasStrings) return n.strings.length > 0 ? n.strings : undefined;
  if (n.ints.length === 0 || !n.ints.every(Number.isSafeInteger)) return undefined;
  return n.ints;
}

/** The fields of the message from `start` to `end`, each with where it starts and ends. */
function spans(c: ProtoCursor, start: number, end: number): Span[] {
  const out: Span[] = [];
  c.pos = start;
  while (c.pos < end) {
    const at = c.pos;
    const { field, wire } = c.key(end);
    const body = c.pos;
    if (wire === 2) {
      const stop = c.length(end);
      out.push({ field, wire, start: at, end: stop, body: c.pos });
      c.pos = stop;
    } else {
      c.skip(field, wire, end);
      out.push({ field, wire, start: at, end: c.pos, body });
    }
  }
  return out;
}

/** The first length-delimited field `field` of a sub-message, as a string ('' when absent). */
function firstString(c: ProtoCursor, s: Span, field: number): string {
  for (const f of spans(c, s.body, s.end)) {
    if (f.field === field && f.wire === 2) {
      c.pos = f.body;
      return c.string(f.end);
    }
  }
  return '';
}

function readNode(c: ProtoCursor, s: Span): NodeInfo {
  const n: NodeInfo = {
    inputs: [],
    outputs: [],
    opType: '',
    domain: '',
    ints: [],
    strings: [],
    hasInts: false,
    hasStrings: false,
  };
  const str = (f: Span) => {
    c.pos = f.body;
    return c.string(f.end);
  };
  for (const f of spans(c, s.body, s.end)) {
    if (f.wire !== 2) continue;
    if (f.field === NODE_INPUT) n.inputs.push(str(f));
    else if (f.field === NODE_OUTPUT) n.outputs.push(str(f));
    else if (f.field === NODE_NAME) n.name = str(f);
    else if (f.field === NODE_OP_TYPE) n.opType = str(f);
    else if (f.field === NODE_DOMAIN) n.domain = str(f);
  }
  if (n.opType !== 'ZipMap') return n;
  for (const f of spans(c, s.body, s.end))
    if (f.field === NODE_ATTRIBUTE && f.wire === 2) readAttribute(c, f, n);
  return n;
}

/** Only ZipMap's two label attributes are read; ints come packed or one by one. */
function readAttribute(c: ProtoCursor, s: Span, n: NodeInfo): void {
  const fields = spans(c, s.body, s.end);
  const nameSpan = fields.find((f) => f.field === ATTR_NAME && f.wire === 2);
  if (nameSpan === undefined) return;
  c.pos = nameSpan.body;
  const name = c.string(nameSpan.end);
  if (name === 'classlabels_int64s') {
    n.hasInts = true;
    for (const f of fields) {
      if (f.field !== ATTR_INTS || (f.wire !== 0 && f.wire !== 2)) continue;
      // Packed (wire 2) or one varint per label (wire 0).
      let at = f.body;
      while (at < f.end && n.ints.length < MAX_LABELS) {
        const [v, next] = int64At(c, at, f.end);
        n.ints.push(v);
        at = next;
        if (f.wire === 0) break;
      }
    }
  } else if (name === 'classlabels_strings') {
    n.hasStrings = true;
    for (const f of fields) {
      if (f.field !== ATTR_STRINGS || f.wire !== 2 || n.strings.length >= MAX_LABELS) continue;
      c.pos = f.body;
      n.strings.push(c.string(f.end));
    }
  }
}

/**
 * The int64 varint at `at`, exactly (two's complement: -1 is ten bytes), as a number, or NaN when
 * it is not a safe integer; and where the next one starts.
 */
function int64At(c: ProtoCursor, at: number, end: number): [number, number] {
  c.pos = at;
  c.varint(end); // checks the bounds and the length
  const next = c.pos;
  const raw = c.bytes(at, next);
  let v = 0n;
  for (let i = raw.length - 1; i >= 0; i--) v = (v << 7n) | BigInt(raw[i]! & 0x7f);
  const signed = BigInt.asIntN(64, v);
  const n = Number(signed);
  return [Number.isSafeInteger(n) && BigInt(n) === signed ? n : Number.NaN, next];
}
