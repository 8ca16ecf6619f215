/**
 * A minimal protobuf writer and reader for tests that speak gRPC as an independent client:
 * messages written by hand from the protocol's published field numbers, not from our .proto.
 */
import * as grpc from '@grpc/grpc-js';

export function varint(n: bigint | number): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
export const tag = (field: number, wire: number) => varint((field << 3) | wire);
export const bytesField = (field: number, payload: Buffer | number[]) =>
  Buffer.from([...tag(field, 2), ...varint(payload.length), ...payload]);
export const str = (field: number, s: string) => bytesField(field, Buffer.from(s));
export const packedVarints = (field: number, values: (number | bigint)[]) =>
  bytesField(
    field,
    values.flatMap((v) => varint(v)),
  );
export const packedFloats = (field: number, values: number[]) =>
  bytesField(field, [...Buffer.from(new Float32Array(values).buffer)]);
export const cat = (...parts: Buffer[]) => Buffer.concat(parts);

export type Fields = Map<number, (bigint | Buffer)[]>;

/** Reads one message into its fields: varints as bigints, length-delimited as buffers. */
export function read(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const readVarint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const len = Number(readVarint());
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 5) {
      value = buf.subarray(i, i + 4);
      i += 4;
    } else if (wire === 1) {
      value = buf.subarray(i, i + 8);
      i += 8;
    } else throw new Error(`wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
export const text = (f: Fields, n: number) => (f.get(n)?.[0] as Buffer | undefined)?.toString() ?? '';
export const packedInts = (b: Buffer | undefined) => {
  if (b === undefined) return [];
  const f = read(Buffer.concat([Buffer.from(tag(1, 2)), Buffer.from(varint(b.length)), b]));
  const inner = f.get(1)![0] as Buffer;
  const out: bigint[] = [];
  let i = 0;
  while (i < inner.length) {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const x = inner[i++]!;
      v |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) break;
      shift += 7n;
    }
    out.push(BigInt.asIntN(64, v));
  }
  return out;
};

/** Calls one method of the inference service with a hand-written message; resolves with the answer's fields. */
export function unary(
  client: grpc.Client,
  method: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<Fields> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      `/inference.GRPCInferenceService/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata,
      (e, res) => (e ? reject(e) : resolve(read(res!))),
    ),
  );
}
