import { describe, expect, it } from 'vitest';
import { DTYPES, type DType } from '../tensor/dtype';
import { type NamedTensors, type Tensor, tensor } from '../tensor/tensor';
import { type ChannelCall, channelBuffers, Ring, sharedChannelSupported } from './shared-channel';

/** Two elements of each numeric dtype, at values that show a byte misplaced. */
function sample(dtype: Exclude<DType, 'string'>): Tensor {
  if (dtype === 'int64') return tensor('int64', [-(2n ** 62n) + 3n, 7n], [2, 1]);
  if (dtype === 'uint64') return tensor('uint64', [2n ** 63n + 5n, 1n], [2, 1]);
  if (dtype === 'bool') return tensor('bool', [true, false], [2, 1]);
  if (dtype === 'float16') return tensor('float16', Uint16Array.from([0x3c00, 0xc000]), [2, 1]);
  const values: Record<string, number[]> = {
    float32: [1.5, -2.25],
    float64: [Math.PI, -1e300],
    int8: [-128, 127],
    int16: [-32768, 321],
    int32: [-(2 ** 31), 2 ** 31 - 1],
    uint8: [255, 1],
    uint16: [65535, 2],
    uint32: [2 ** 32 - 1, 3],
  };
  return tensor(dtype, values[dtype]!, [2, 1]);
}

const numeric = DTYPES.filter((d): d is Exclude<DType, 'string'> => d !== 'string');
const plain = (t: NamedTensors) =>
  Object.fromEntries(
    Object.entries(t).map(([k, v]) => [k, [v.dtype, v.shape, Array.from(v.data as ArrayLike<unknown>)]]),
  );

function readAll(ring: Ring) {
  const calls: ChannelCall[] = [];
  const answers: { id: number; outputs: NamedTensors }[] = [];
  ring.read(calls, answers);
  return { calls, answers };
}

describe('shared-memory channel', () => {
  it('is available in Node', () => {
    expect(sharedChannelSupported()).toBe(true);
  });

  it('round-trips a call with tensors of every numeric dtype, its output names, and an answer', () => {
    const ring = new Ring(channelBuffers(1 << 16).calls);
    const inputs = Object.fromEntries(numeric.map((d) => [`in_${d}`, sample(d)]));
    // A view at an odd offset into a larger buffer, as a request body gives.
    const body = new Uint8Array(64).fill(9);
    body.set([1, 2, 3], 5);
    inputs.ragged = { dtype: 'uint8', shape: [3], data: body.subarray(5, 8) };
    expect(ring.writeCall({ id: 7, inputs, outputs: ['y', 'ünïcode ✓'] })).toBe(true);
    expect(ring.writeCall({ id: 8, inputs: { e: tensor('float32', [], [0, 4]) }, outputs: undefined })).toBe(
      true,
    );
    expect(ring.writeAnswer(9, { out: sample('float64') })).toBe(true);
    // Nothing is visible before the commit.
    expect(readAll(ring).calls).toEqual([]);
    ring.commit();
    const { calls, answers } = readAll(ring);
    expect(calls.map((c) => [c.id, c.outputs])).toEqual([
      [7, ['y', 'ünïcode ✓']],
      [8, undefined],
    ]);
    expect(plain(calls[0]!.inputs)).toEqual(plain(inputs));
    for (const d of numeric)
      expect(Object.prototype.toString.call(calls[0]!.inputs[`in_${d}`]!.data)).toBe(
        Object.prototype.toString.call(sample(d).data),
      );
    // Each tensor owns exactly its bytes (it can be transferred or handed to onnxruntime).
    const r = calls[0]!.inputs.ragged!.data as Uint8Array;
    expect([r.byteOffset, r.buffer.byteLength, r.buffer instanceof ArrayBuffer]).toEqual([0, 3, true]);
    expect(plain(calls[1]!.inputs)).toEqual({ e: ['float32', [0, 4], []] });
    expect(answers.map((a) => [a.id, plain(a.outputs)])).toEqual([[9, plain({ out: sample('float64') })]]);
    expect(readAll(ring)).toEqual({ calls: [], answers: [] });
  });

  it('leaves string tensors and tensors over a quarter of the ring to postMessage', () => {
    const ring = new Ring(channelBuffers(4096).calls);
    expect(ring.maxRecord).toBe(1024);
    expect(ring.writeCall({ id: 1, inputs: { s: tensor('string', ['a'], [1]) }, outputs: undefined })).toBe(
      false,
    );
    const big = { x: tensor('float32', new Float32Array(256), [1, 256]) }; // 1 KiB of data
    expect(ring.writeCall({ id: 2, inputs: big, outputs: undefined })).toBe(false);
    expect(ring.writeAnswer(3, big)).toBe(false);
    ring.commit();
    expect(readAll(ring)).toEqual({ calls: [], answers: [] });
  });

  it('refuses a record while full, and wraps round its end over many laps in order', () => {
    const ring = new Ring(channelBuffers(4096).calls);
    const call = (id: number) => ({
      id,
      inputs: { x: tensor('float64', [id, -id, id / 3], [1, 3]) },
      outputs: undefined,
    });
    let written = 0;
    while (ring.writeCall(call(written))) written++;
    // Each record is 96 bytes: 42 fit in the 4,096 bytes, the 43rd waits for the reader.
    expect(written).toBe(42);
    ring.commit();
    expect(readAll(ring).calls.map((c) => c.id)).toEqual(Array.from({ length: 42 }, (_, i) => i));
    const seen: number[] = [];
    let id = 100;
    for (let lap = 0; lap < 50; lap++) {
      for (let k = 0; k < 7; k++) expect(ring.writeCall(call(id++))).toBe(true);
      ring.commit();
      for (const c of readAll(ring).calls) {
        expect(Array.from(c.inputs.x!.data as Float64Array)).toEqual([c.id, -c.id, c.id / 3]);
        seen.push(c.id);
      }
    }
    expect(seen).toEqual(Array.from({ length: 350 }, (_, i) => 100 + i));
  });

  it('wakes a waiting reader on commit, not before, and never after close', async () => {
    const buffers = channelBuffers(4096);
    const writer = new Ring(buffers.answers);
    const reader = new Ring(buffers.answers);
    const woken: string[] = [];
    reader.wait(() => woken.push('first'));
    writer.writeAnswer(1, { y: tensor('int32', [1], [1]) });
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toEqual([]);
    writer.commit();
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toEqual(['first']);
    // A record not yet read: wait calls back at once.
    reader.wait(() => woken.push('pending'));
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toEqual(['first', 'pending']);
    readAll(reader);
    reader.wait(() => woken.push('closed'));
    reader.close();
    writer.writeAnswer(2, { y: tensor('int32', [2], [1]) });
    writer.commit();
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toEqual(['first', 'pending']);
  });
});
