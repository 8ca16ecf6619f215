/**
 * Calls and answers between the thread that serves requests and a model's worker, through
 * shared memory instead of `postMessage`. Structured clone costs more than a small model's call
 * (about 17 µs for a one-call `predict` message without a typed array and 31 µs with one, where
 * copying 48 bytes out of shared memory costs under 1 µs; docs/performance.md): each direction
 * is a ring of records in a SharedArrayBuffer, one writer and one reader, the reader woken by
 * `Atomics.notify` only when it waits. What a record cannot carry (string tensors, tensors larger
 * than a quarter of the ring, errors) or what does not fit right now goes by `postMessage`, as
 * before; calls and answers are matched by id, so the two paths may overtake each other.
 */
import { allocate, DTYPES, type DType } from '../tensor/dtype';
import type { NamedTensors, Tensor } from '../tensor/tensor';

/** A call as it leaves the ring: what `predict` messages carry per call. */
export interface ChannelCall {
  id: number;
  inputs: NamedTensors;
  outputs: readonly string[] | undefined;
}

/** What the `load` message carries when the pool uses shared memory (both rings' memory). */
export interface ChannelBuffers {
  calls: SharedArrayBuffer;
  answers: SharedArrayBuffer;
}

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

// ES2024, so not in core's ES2022 lib; Node has it from 16, browsers when cross-origin isolated.
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

/** Whether this runtime can run the channel (SharedArrayBuffer and `Atomics.waitAsync`). */
export function sharedChannelSupported(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof waitAsync === 'function';
}

/** Both rings of a channel, `bytes` each (rounded up to a power of two, at least 4 KiB). */
export function channelBuffers(bytes: number): ChannelBuffers {
  let cap = 4096;
  while (cap < bytes && cap < 2 ** 30) cap *= 2;
  return { calls: new SharedArrayBuffer(HEADER + cap), answers: new SharedArrayBuffer(HEADER + cap) };
}

const HEADER = 16;
/** Int32 slots of the header: bytes ever written (committed) and ever read, modulo 2^32. */
const HEAD = 0;
const TAIL = 1;
/** A record's length word that says "the rest of the ring is empty, go on at its start". */
const WRAP = 0xffffffff;
const CALL = 1;
const ANSWER = 2;

const align8 = (n: number) => (n + 7) & ~7;

/**
 * One direction of a channel: a single-producer, single-consumer ring of records. Each record
 * is a length word, a pad word and its payload, 8-byte aligned so typed arrays of any width read
 * in place. Positions are byte counters modulo 2^32; the capacity is a power of two, so a
 * counter's offset in the ring stays right across the wrap.
 */
export class Ring {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly cap: number;
  /** The writer's position, committed to the header by `commit`. */
  private head: number;
  private closed = false;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 2);
    this.cap = buffer.byteLength - HEADER;
    this.bytes = new Uint8Array(buffer, HEADER, this.cap);
    this.view = new DataView(buffer, HEADER, this.cap);
    this.head = Atomics.load(this.header, HEAD) >>> 0;
  }

  /** The largest payload a record may have: larger ones go by `postMessage`. */
  get maxRecord(): number {
    return this.cap / 4;
  }

  // --- writer ---

  /** Room for a payload of `size` bytes: its offset, or -1 when the ring is too full now. */
  private reserve(size: number): number {
    const total = 8 + align8(size);
    const used = (this.head - (Atomics.load(this.header, TAIL) >>> 0)) >>> 0;
    let at = this.head % this.cap;
    const skip = at + total > this.cap ? this.cap - at : 0;
    if (used + skip + total > this.cap) return -1;
    if (skip > 0) {
      this.view.setUint32(at, WRAP, true);
      this.head = (this.head + skip) >>> 0;
      at = 0;
    }
    this.view.setUint32(at, size, true);
    this.head = (this.head + total) >>> 0;
    return at + 8;
  }

  /** Makes the records written so far visible to the reader, and wakes it if it waits. */
  commit(): void {
    if (Atomics.load(this.header, HEAD) >>> 0 === this.head) return;
    Atomics.store(this.header, HEAD, this.head | 0);
    Atomics.notify(this.header, HEAD);
  }

  /** Writes one call; false (nothing written) when it must go by `postMessage`. */
  writeCall(call: ChannelCall): boolean {
    const names = call.outputs ?? [];
    const tensors = tensorsSize(call.inputs);
    if (tensors < 0) return false;
    let size = 16 + tensors;
    for (const n of names) size += nameSize(n);
    if (size > this.maxRecord) return false;
    const at = this.reserve(size);
    if (at < 0) return false;
    const w = new Writer(this.view, this.bytes, at);
    w.u32(CALL);
    w.u32(call.id);
    w.u32(call.outputs === undefined ? WRAP : names.length);
    for (const n of names) w.name(n);
    w.tensors(call.inputs);
    return true;
  }

  /** Writes one call's outputs; false (nothing written) when they must go by `postMessage`. */
  writeAnswer(id: number, outputs: NamedTensors): boolean {
    const size = tensorsSize(outputs);
    if (size < 0 || size + 8 > this.maxRecord) return false;
    const at = this.reserve(size + 8);
    if (at < 0) return false;
    const w = new Writer(this.view, this.bytes, at);
    w.u32(ANSWER);
    w.u32(id);
    w.tensors(outputs);
    return true;
  }

  // --- reader ---

  /**
   * Reads every committed record, in order, into `calls` or `answers` (each tensor's data
   * copied into a buffer of its own, which can be transferred or handed to onnxruntime).
   */
  read(calls: ChannelCall[], answers: { id: number; outputs: NamedTensors }[]): void {
    const head = Atomics.load(this.header, HEAD) >>> 0;
    let tail = Atomics.load(this.header, TAIL) >>> 0;
    while (tail !== head) {
      const at = tail % this.cap;
      const size = this.view.getUint32(at, true);
      if (size === WRAP) {
        tail = (tail + this.cap - at) >>> 0;
        continue;
      }
      const r = new Reader(this.view, this.bytes, at + 8);
      const kind = r.u32();
      const id = r.u32();
      if (kind === CALL) {
        const n = r.u32();
        let outputs: string[] | undefined;
        if (n !== WRAP) {
          outputs = [];
          for (let i = 0; i < n; i++) outputs.push(r.name());
        }
        calls.push({ id, inputs: r.tensors(), outputs });
      } else answers.push({ id, outputs: r.tensors() });
      tail = (tail + 8 + align8(size)) >>> 0;
    }
    Atomics.store(this.header, TAIL, tail | 0);
  }

  /**
   * Calls `ready` once a record is committed that `read` has not taken (at once if one is).
   * Waiting does not keep a process alive.
   */
  wait(ready: () => void): void {
    if (this.closed) return;
    const head = Atomics.load(this.header, HEAD);
    if (head !== Atomics.load(this.header, TAIL)) {
      void Promise.resolve().then(() => this.fire(ready));
      return;
    }
    const r = waitAsync!(this.header, HEAD, head);
    if (r.async) void r.value.then(() => this.fire(ready));
    else void Promise.resolve().then(() => this.fire(ready));
  }

  private fire(ready: () => void): void {
    if (!this.closed) ready();
  }

  /** Stops waiting for good: a pending `wait` never calls back. */
  close(): void {
    this.closed = true;
    Atomics.notify(this.header, HEAD);
  }
}

/** Bytes the tensors take in a record, or -1 when one cannot go (a string tensor). */
function tensorsSize(tensors: NamedTensors): number {
  let size = 8;
  for (const name in tensors) {
    const t = tensors[name]!;
    if (t.dtype === 'string' || !ArrayBuffer.isView(t.data)) return -1;
    size += nameSize(name) + 8 + 8 * t.shape.length + 8 + align8((t.data as ArrayBufferView).byteLength);
  }
  return size;
}

/** A name as its length and UTF-16 code units, padded to 4 bytes. */
function nameSize(name: string): number {
  return 4 + ((2 * name.length + 3) & ~3);
}

class Writer {
  constructor(
    private readonly view: DataView,
    private readonly bytes: Uint8Array,
    private at: number,
  ) {}

  u32(v: number): void {
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }

  name(s: string): void {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) this.view.setUint16(this.at + 2 * i, s.charCodeAt(i), true);
    this.at += (2 * s.length + 3) & ~3;
  }

  tensors(tensors: NamedTensors): void {
    let n = 0;
    for (const _ in tensors) n++;
    this.u32(n);
    this.u32(0);
    for (const name in tensors) this.tensor(name, tensors[name]!);
  }

  private tensor(name: string, t: Tensor): void {
    this.name(name);
    this.u32(DTYPES.indexOf(t.dtype));
    this.u32(t.shape.length);
    for (const d of t.shape) {
      this.view.setFloat64(this.at, d, true);
      this.at += 8;
    }
    const data = t.data as ArrayBufferView;
    this.u32(data.byteLength);
    this.u32(0);
    this.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.at);
    this.at += align8(data.byteLength);
  }
}

class Reader {
  constructor(
    private readonly view: DataView,
    private readonly bytes: Uint8Array,
    private at: number,
  ) {}

  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  name(): string {
    const n = this.u32();
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.view.getUint16(this.at + 2 * i, true));
    this.at += (2 * n + 3) & ~3;
    return s;
  }

  tensors(): NamedTensors {
    const n = this.u32();
    this.at += 4;
    const out: NamedTensors = {};
    for (let i = 0; i < n; i++) {
      const name = this.name();
      const dtype = DTYPES[this.u32()] as Exclude<DType, 'string'>;
      const rank = this.u32();
      const shape: number[] = [];
      for (let k = 0; k < rank; k++) {
        shape.push(this.view.getFloat64(this.at, true));
        this.at += 8;
      }
      const byteLength = this.u32();
      this.at += 4;
      const data = allocate(dtype, byteLength / BYTES[dtype]) as unknown as Uint8Array;
      new Uint8Array(data.buffer, 0, byteLength).set(this.bytes.subarray(this.at, this.at + byteLength));
      this.at += align8(byteLength);
      out[name] = { dtype, shape, data } as unknown as Tensor;
    }
    return out;
  }
}

const BYTES: Record<Exclude<DType, 'string'>, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};
