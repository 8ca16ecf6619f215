import { checkBytes } from './integrity';
/**
 * A cheap look at model bytes before onnxruntime sees them, so that "this file is not a model"
 * and "onnxruntime refused this model" are told apart in error messages.
 *
 * An ONNX file is a protobuf `ModelProto`; the walk reads only its top-level fields (a few
 * dozen bytes of varints, skipping the length-delimited bodies), never the graph.
 * onnxruntime's own flatbuffer format (`.ort`) is recognised by its file identifier.
 */
export type ModelFormat = { kind: 'onnx' } | { kind: 'ort' } | { kind: 'unknown'; reason: string };

// ModelProto field number → wire type (0 varint, 2 length-delimited), from onnx.proto.
const MODEL_PROTO_FIELDS: Record<number, number> = {
  1: 0, // ir_version
  2: 2, // producer_name
  3: 2, // producer_version
  4: 2, // domain
  5: 0, // model_version
  6: 2, // doc_string
  7: 2, // graph
  8: 2, // opset_import
  14: 2, // metadata_props
  20: 2, // training_info
  25: 2, // functions
};

/** Identifies model bytes as ONNX protobuf, ORT flatbuffer, or neither (with the reason). */
export function detectModelFormat(bytes: Uint8Array): ModelFormat {
  checkBytes(bytes, 'detectModelFormat');
  if (bytes.length === 0) return { kind: 'unknown', reason: 'it is empty' };
  if (bytes.length >= 8 && String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!) === 'ORTM')
    return { kind: 'ort' };
  let pos = 0;
  let sawGraph = false;
  const readVarint = (): number | undefined => {
    let result = 0;
    let shift = 0;
    while (pos < bytes.length && shift < 64) {
      const b = bytes[pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const at = pos;
    const key = readVarint();
    if (key === undefined)
      return { kind: 'unknown', reason: `it ends inside a protobuf field key at byte ${at}` };
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (MODEL_PROTO_FIELDS[field] !== wire) {
      return {
        kind: 'unknown',
        reason: `byte ${at} does not start an ONNX ModelProto field (field ${field}, wire type ${wire})`,
      };
    }
    if (wire === 0) {
      if (readVarint() === undefined)
        return { kind: 'unknown', reason: `it ends inside a varint at byte ${at}` };
    } else {
      const len = readVarint();
      if (len === undefined || pos + len > bytes.length) {
        return {
          kind: 'unknown',
          reason: `field ${field} at byte ${at} claims more bytes than the file has (truncated?)`,
        };
      }
      pos += len;
    }
    if (field === 7) sawGraph = true;
  }
  if (!sawGraph) return { kind: 'unknown', reason: 'it has no ONNX graph' };
  return { kind: 'onnx' };
}
