import { utf8 as encodeUtf8 } from '../pipeline/hash-bucket';

/**
 * The few protobuf encodings a graph rewrite needs: varints, keys, length-delimited fields.
 * Messages are built as lists of byte chunks and joined once.
 */

/** Encodes a non-negative integer (up to 2^53) as a varint. */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`varint: ${value} is not a non-negative safe integer`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A varint field: key (wire type 0) and value. */
export function varintField(field: number, value: number): Uint8Array {
  return concat([varint(field * 8), varint(value)]);
}

/** A length-delimited field (wire type 2) around a string (UTF-8) or bytes or sub-message chunks. */
export function bytesField(field: number, body: string | Uint8Array | readonly Uint8Array[]): Uint8Array {
  const content =
    typeof body === 'string' ? encodeUtf8(body) : body instanceof Uint8Array ? body : concat(body);
  return concat([varint(field * 8 + 2), varint(content.length), content]);
}

/** Joins chunks into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
