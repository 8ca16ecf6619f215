import { ModelLoadError } from '../errors';

/**
 * Random access to bytes that need not all be in memory: a model file read piece by piece, so
 * a walk over its protobuf skips the weights without reading them.
 */
export interface ByteSource {
  /** The total number of bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset` (fewer only at the end of the source). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Bytes read from a {@link ByteSource} at a time, unless a field needs more: a small read after
 * a skip (the next field is often another initializer's header, followed by its weights), a
 * larger one while reading on from the last window (nodes, many small fields).
 */
const AFTER_SKIP = 1 << 12;
const WINDOW = 1 << 16;
const EMPTY = new Uint8Array(0);

/**
 * A position in protobuf bytes with the reads the wire format needs, every one bounds-checked.
 * Over a `Uint8Array` the whole message is in memory and {@link ProtoCursor.need} never reads;
 * over a {@link ByteSource} a window of the bytes is held and {@link ProtoCursor.need} moves it.
 * Skipping a field only moves the position, so large payloads are neither copied nor read.
 */
export class ProtoCursor {
  /** The absolute position of the next byte to read. */
  pos = 0;
  readonly size: number;
  private buf: Uint8Array;
  /** The absolute position of `buf[0]`. */
  private base = 0;
  private readonly source: ByteSource | undefined;

  constructor(
    source: Uint8Array | ByteSource,
    /** What the bytes are, for error messages. */
    readonly what: string,
  ) {
    if (source instanceof Uint8Array) {
      this.buf = source;
      this.size = source.length;
    } else {
      this.source = source;
      this.buf = EMPTY;
      this.size = source.size;
    }
  }

  /** True when the `n` bytes from the position (or as many as remain before `end`) are in memory. */
  has(n: number, end: number): boolean {
    const stop = Math.min(this.pos + n, end);
    return this.pos >= this.base && stop <= this.base + this.buf.length;
  }

  /**
   * Brings the `n` bytes from the position (or as many as remain before `end`) into memory.
   * Call as `if (!c.has(n, end)) await c.need(n, end)` so that bytes in memory cost no await.
   */
  async need(n: number, end: number): Promise<void> {
    if (this.has(n, end)) return;
    const source = this.source;
    const want = Math.min(end, this.size) - this.pos;
    if (source === undefined || want < 0) throw this.truncated(this.pos);
    const onward = this.pos >= this.base && this.pos <= this.base + this.buf.length;
    const length = Math.min(Math.max(Math.min(n, want), onward ? WINDOW : AFTER_SKIP), this.size - this.pos);
    const bytes = await source.read(this.pos, length);
    if (bytes.length < Math.min(n, want)) throw this.truncated(this.pos + bytes.length);
    this.buf = bytes;
    this.base = this.pos;
  }

  /**
   * Reads a varint (up to 10 bytes, 64 bits) that must end before `end`. Values past 2^53 come
   * back inexact (negative int64s as numbers ≥ 2^63): callers check `Number.isSafeInteger`.
   */
  varint(end: number): number {
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.truncated(start);
      const b = this.byte();
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return (hi >>> 0) * 2 ** 32 + (lo >>> 0);
    }
    throw this.invalid(start, 'a varint longer than 10 bytes');
  }

  /** Reads a field key; `field` 0 and wire types 6 and 7 do not exist and are refused. */
  key(end: number): { field: number; wire: number } {
    const start = this.pos;
    const key = this.varint(end);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0 || wire > 5 || !Number.isSafeInteger(key) || field > 0x1fffffff)
      throw this.invalid(start, `a field key with field ${field} and wire type ${wire}`);
    return { field, wire };
  }

  /** Reads a length prefix and returns where the field it introduces ends. */
  length(end: number): number {
    const start = this.pos;
    const len = this.varint(end);
    if (!Number.isSafeInteger(len) || this.pos + len > end) throw this.truncated(start);
    return this.pos + len;
  }

  /** Skips the value of a field whose key was just read; for groups, up to the matching end. */
  skip(field: number, wire: number, end: number, depth = 0): void {
    const start = this.pos;
    if (wire === 0) this.varint(end);
    else if (wire === 1 || wire === 5) {
      this.pos += wire === 1 ? 8 : 4;
      if (this.pos > end) throw this.truncated(start);
    } else if (wire === 2) this.pos = this.length(end);
    else if (wire === 3) {
      if (depth > 64) throw this.invalid(start, 'groups nested more than 64 deep');
      for (;;) {
        const k = this.key(end);
        if (k.wire === 4) {
          if (k.field !== field) throw this.invalid(start, `a group ${field} closed as ${k.field}`);
          return;
        }
        this.skip(k.field, k.wire, end, depth + 1);
      }
    } else throw this.invalid(start, `an end-group marker for field ${field} without its start`);
  }

  /** Reads the UTF-8 string from the position to `end` (in memory). */
  string(end: number): string {
    const from = this.pos - this.base;
    const to = end - this.base;
    if (from < 0 || to > this.buf.length) throw this.truncated(this.pos);
    this.pos = end;
    return decodeUtf8(this.buf, from, to);
  }

  /** The bytes from `from` to `to` (in memory), not copied. */
  bytes(from: number, to: number): Uint8Array {
    const a = from - this.base;
    const b = to - this.base;
    if (a < 0 || a > b || b > this.buf.length) throw this.truncated(from);
    return this.buf.subarray(a, b);
  }

  private byte(): number {
    const i = this.pos - this.base;
    if (i < 0 || i >= this.buf.length) throw this.truncated(this.pos);
    this.pos++;
    return this.buf[i]!;
  }

  truncated(at: number): ModelLoadError {
    return new ModelLoadError(
      'MODEL_INVALID',
      `${this.what} ends inside a protobuf field at byte ${at} of ${this.size} (truncated?)`,
      { details: { offset: at, size: this.size } },
    );
  }

  invalid(at: number, what: string): ModelLoadError {
    return new ModelLoadError(
      'MODEL_INVALID',
      `${this.what} has ${what} at byte ${at}: it is not valid protobuf`,
      {
        details: { offset: at },
      },
    );
  }
}

/** UTF-8 to a string; malformed sequences become U+FFFD as `TextDecoder` makes them. */
export function decodeUtf8(bytes: Uint8Array, from = 0, to = bytes.length): string {
  let out = '';
  let i = from;
  while (i < to) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    const n = b >= 0xf0 && b < 0xf5 ? 3 : b >= 0xe0 ? (b < 0xf0 ? 2 : 0) : b >= 0xc2 ? 1 : 0;
    let cp = n === 3 ? b & 0x07 : n === 2 ? b & 0x0f : b & 0x1f;
    let ok = n > 0 && i + n < to + 1;
    for (let k = 1; ok && k <= n; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    if (
      ok &&
      ((n === 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
        (n === 3 && (cp < 0x10000 || cp > 0x10ffff)))
    )
      ok = false;
    if (!ok) {
      out += '\ufffd';
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}
