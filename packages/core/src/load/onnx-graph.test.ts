import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { readOnnxSignature } from './onnx-graph';
import { type ByteSource, decodeUtf8 } from './protobuf';

// A protobuf writer just big enough to build ModelProtos by hand (field numbers from onnx.proto).
type Part = Uint8Array | number[];
function cat(...parts: Part[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x === 0n ? b : b | 0x80);
  } while (x !== 0n);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const bytesField = (field: number, ...body: Part[]) => {
  const b = cat(...body);
  return cat(key(field, 2), varint(b.length), b);
};
const str = (field: number, s: string) => bytesField(field, new TextEncoder().encode(s));
const int = (field: number, v: bigint | number) => cat(key(field, 0), varint(v));

const dimValue = (v: bigint | number) => bytesField(1, int(1, v));
const dimParam = (s: string) => bytesField(1, str(2, s));
const dimNone = () => bytesField(1);
/** ValueInfoProto{name, type{tensor_type{elem_type, shape?}}}. */
function tensorInfo(name: string, elemType: number, dims?: Uint8Array[]) {
  const tensorType = cat(int(1, elemType), dims === undefined ? [] : bytesField(2, ...dims));
  return cat(str(1, name), bytesField(2, bytesField(1, tensorType)));
}
/** TypeProto{map_type{key_type, value_type: tensor(value)}}. */
const mapType = (keyType: number, value: number) =>
  bytesField(5, int(1, keyType), bytesField(2, bytesField(1, int(1, value))));
/** TensorProto{dims, data_type, raw_data, name} (name after the data, as some writers put it). */
function initializer(name: string, rawBytes: number) {
  return cat(int(1, rawBytes / 4), int(2, 1), bytesField(9, new Uint8Array(rawBytes)), str(8, name));
}
function model(graph: Part[], extra: Part[] = []): Uint8Array {
  return cat(int(1, 8), str(2, 'hand'), ...extra, bytesField(7, ...graph), bytesField(8, int(2, 17)));
}

/** A ByteSource over bytes that counts what it was asked to read. */
function counted(bytes: Uint8Array): ByteSource & { bytesRead: number; reads: number } {
  const s = {
    size: bytes.length,
    bytesRead: 0,
    reads: 0,
    read: async (offset: number, length: number) => {
      s.reads++;
      const out = bytes.slice(offset, offset + length);
      s.bytesRead += out.length;
      return out;
    },
  };
  return s;
}

const invalid = { code: 'MODEL_INVALID' };

describe('readOnnxSignature', () => {
  const graph = [
    str(2, 'g'),
    bytesField(11, tensorInfo('x', 1, [dimParam('batch'), dimValue(4)])),
    bytesField(11, tensorInfo('sr', 7, [])),
    bytesField(11, tensorInfo('any', 1)),
    bytesField(11, tensorInfo('free', 11, [dimNone(), dimValue(-1), dimParam('')])),
    bytesField(12, tensorInfo('y', 1, [dimParam('batch'), dimValue(1)])),
  ];

  it('reads a scalar as [], an undeclared shape as null and each dimension as declared', async () => {
    const sig = await readOnnxSignature(model(graph));
    expect(sig.inputs).toEqual([
      {
        name: 'x',
        kind: 'tensor',
        type: 'tensor(float)',
        dtype: 'float32',
        elemType: 1,
        shape: ['batch', 4],
      },
      { name: 'sr', kind: 'tensor', type: 'tensor(int64)', dtype: 'int64', elemType: 7, shape: [] },
      { name: 'any', kind: 'tensor', type: 'tensor(float)', dtype: 'float32', elemType: 1, shape: null },
      // neither dim_value nor dim_param, a negative dim_value (a 10-byte varint), an empty name
      {
        name: 'free',
        kind: 'tensor',
        type: 'tensor(double)',
        dtype: 'float64',
        elemType: 11,
        shape: [null, null, null],
      },
    ]);
    expect(sig.outputs).toEqual([
      {
        name: 'y',
        kind: 'tensor',
        type: 'tensor(float)',
        dtype: 'float32',
        elemType: 1,
        shape: ['batch', 1],
      },
    ]);
  });

  it('leaves out inputs that are initializers, dense or sparse (older IR versions list them)', async () => {
    const sparse = bytesField(15, bytesField(1, initializer('S', 8)), bytesField(2, initializer('idx', 8)));
    const sig = await readOnnxSignature(
      model([
        bytesField(5, initializer('W', 64)),
        sparse,
        bytesField(11, tensorInfo('x', 1, [dimValue(2)])),
        bytesField(11, tensorInfo('W', 1, [dimValue(16)])),
        bytesField(11, tensorInfo('S', 1, [dimValue(2)])),
        bytesField(12, tensorInfo('y', 1, [dimValue(2)])),
      ]),
    );
    expect(sig.inputs.map((i) => i.name)).toEqual(['x']);
  });

  it('skips fields it does not know, of every wire type, and says what is not a tensor', async () => {
    const group = cat(key(99, 3), int(1, 5), key(98, 3), key(98, 4), key(99, 4));
    const fixed = cat(key(50, 1), [1, 2, 3, 4, 5, 6, 7, 8], key(51, 5), [1, 2, 3, 4]);
    const sequence = cat(
      str(1, 'seq'),
      bytesField(2, bytesField(4, bytesField(1, bytesField(1, int(1, 1))))),
    );
    const sig = await readOnnxSignature(
      model(
        [
          group,
          fixed,
          bytesField(1, str(1, 'x'), str(2, 'y'), str(4, 'Relu')), // a node
          bytesField(11, cat(tensorInfo('x', 16, [dimValue(3)]), str(3, 'doc'), fixed)),
          bytesField(12, sequence),
          bytesField(12, str(1, 'untyped')),
          bytesField(12, str(1, 'probs'), bytesField(2, bytesField(4, bytesField(1, mapType(8, 1))))),
          bytesField(12, str(1, 'dict'), bytesField(2, mapType(7, 11))),
          bytesField(
            12,
            str(1, 'maybe'),
            bytesField(2, bytesField(9, bytesField(1, bytesField(1, int(1, 1))))),
          ),
          bytesField(13, tensorInfo('hidden', 1, [])), // value_info is not a graph output
        ],
        [group, fixed, str(1000, 'future field')],
      ),
    );
    expect(sig.inputs).toEqual([
      { name: 'x', kind: 'tensor', type: 'tensor(bfloat16)', dtype: undefined, elemType: 16, shape: [3] },
    ]);
    expect(sig.outputs).toEqual([
      { name: 'seq', kind: 'sequence', type: 'seq(tensor(float))', dtype: null, elemType: 0, shape: null },
      { name: 'untyped', kind: 'unknown', type: 'unknown', dtype: null, elemType: 0, shape: null },
      {
        name: 'probs',
        kind: 'sequence of maps',
        type: 'seq(map(string,tensor(float)))',
        dtype: null,
        elemType: 0,
        shape: null,
      },
      { name: 'dict', kind: 'map', type: 'map(int64,tensor(double))', dtype: null, elemType: 0, shape: null },
      {
        name: 'maybe',
        kind: 'optional',
        type: 'optional(tensor(float))',
        dtype: null,
        elemType: 0,
        shape: null,
      },
    ]);
  });

  it('refuses truncated or malformed bytes with MODEL_INVALID, never another error', async () => {
    const bytes = model(graph);
    for (let n = 0; n < bytes.length; n++) {
      const head = bytes.subarray(0, n);
      let e: unknown;
      try {
        await readOnnxSignature(head, 'model.onnx');
      } catch (err) {
        e = err;
      }
      // A cut between top-level fields can still be a whole (smaller) ModelProto.
      if (e === undefined) continue;
      expect(ModelshipError.isInstance(e) && e.code, `cut at ${n}`).toBe('MODEL_INVALID');
    }
    await expect(readOnnxSignature(bytes.subarray(0, 20), 'model.onnx')).rejects.toThrow(
      /^model\.onnx ends inside a protobuf field at byte \d+ of 20/,
    );
    await expect(readOnnxSignature(cat(int(1, 8)))).rejects.toThrow('no graph');
    const longVarint = cat(key(1, 0), new Array(11).fill(0xff), [0]);
    await expect(readOnnxSignature(longVarint)).rejects.toThrow('a varint longer than 10 bytes');
    await expect(readOnnxSignature(cat(key(0, 0), [0]))).rejects.toMatchObject(invalid);
    await expect(readOnnxSignature(cat(key(3, 4)))).rejects.toThrow('end-group marker');
    // A length that points past its enclosing message.
    const overlong = cat(key(7, 2), varint(3), bytesField(11, tensorInfo('x', 1, [])));
    await expect(readOnnxSignature(overlong)).rejects.toMatchObject(invalid);
    const huge = cat(key(7, 2), varint(2n ** 62n));
    await expect(readOnnxSignature(huge)).rejects.toMatchObject(invalid);
  });

  it('reads a file piece by piece, skipping the weights without reading them', async () => {
    const weights = 4 << 20;
    const bytes = model([
      bytesField(5, initializer('W', weights)),
      bytesField(11, tensorInfo('x', 1, [dimParam('batch'), dimValue(4)])),
      bytesField(11, tensorInfo('W', 1, [dimValue(weights / 4)])),
      bytesField(12, tensorInfo('y', 1, [dimParam('batch')])),
    ]);
    const source = counted(bytes);
    const sig = await readOnnxSignature(source);
    expect(sig).toEqual(await readOnnxSignature(bytes));
    expect(sig.inputs.map((i) => i.name)).toEqual(['x']);
    // The 4 MiB payload sits between the initializer's header and its name: two windows of
    // 64 KiB cover what is read, a fraction of the file.
    expect(source.bytesRead).toBeLessThan(weights / 32);
    expect(source.reads).toBeLessThanOrEqual(4);

    // A source that returns fewer bytes than it has is a truncated file.
    const short: ByteSource = { size: bytes.length + 10, read: source.read };
    await expect(readOnnxSignature(short)).rejects.toMatchObject(invalid);
  });
});

describe('decodeUtf8', () => {
  it('decodes as TextDecoder does, malformed sequences as replacement characters', () => {
    const samples = [
      new TextEncoder().encode('x_é€𝄞 input'),
      Uint8Array.from([
        0x61, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xf0, 0x9d, 0x84, 0xed, 0xa0, 0x80, 0xc0, 0xaf, 0x62,
      ]),
    ];
    const runs = (t: string) => t.replace(/\ufffd+/g, '\ufffd');
    expect(decodeUtf8(samples[0]!)).toBe('x_é€𝄞 input');
    expect(runs(decodeUtf8(samples[1]!))).toBe(runs(new TextDecoder().decode(samples[1]!)));
  });
});
