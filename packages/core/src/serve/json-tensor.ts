/**
 * An input's JSON `data` read straight into the typed array of its datatype, checked against its
 * shape as it is read: no JS value per element, and no second pass.
 */
import {
  type DType,
  INT64_MAX,
  INT64_MIN,
  INTEGER_RANGE,
  numberToFloat16Bits,
  UINT64_MAX,
} from '../tensor/dtype';
import { sizeOf, type Tensor } from '../tensor/tensor';
import { fromJsonElement } from './bytes-element';
import { HttpError } from './http-error';
import { Cursor, type JsonScanOptions, type JsonSpan, MAX_JSON_DEPTH } from './json-scan';
import { yieldToLoop } from './web';

const BIG_RANGE = {
  int64: [INT64_MIN, INT64_MAX],
  uint64: [0n, UINT64_MAX],
} as const;

/**
 * Reads a `data` array straight into the storage of `dtype`: flat (exactly as many elements as
 * the shape holds) or nested exactly as the shape is (every row as long as its dimension). A
 * finite number the datatype cannot hold (`1e309`, `3.5e38` in FP32) is refused, never made
 * infinite; 64-bit integers are read digit for digit. `where` names the input in errors.
 */
export function readJsonTensor(
  span: JsonSpan,
  dtype: DType,
  dims: readonly number[],
  where: string,
  options: Pick<JsonScanOptions, 'nonFinite'> = {},
): Tensor {
  return new DataReader(span, dtype, dims, where, options.nonFinite === true).step(Number.POSITIVE_INFINITY)!;
}

/** Bytes of `data` read between turns of the event loop by {@link readJsonTensorSliced} (1 MiB). */
export const JSON_SLICE_BYTES = 1 << 20;

/**
 * {@link readJsonTensor} for a large span: the same checks and values, read `sliceBytes` at a
 * time with the event loop turning between slices (`setImmediate` where the runtime has it), so health checks and other
 * requests are answered while a 64 MiB body is read.
 */
export async function readJsonTensorSliced(
  span: JsonSpan,
  dtype: DType,
  dims: readonly number[],
  where: string,
  options: Pick<JsonScanOptions, 'nonFinite'> = {},
  sliceBytes = JSON_SLICE_BYTES,
): Promise<Tensor> {
  const reader = new DataReader(span, dtype, dims, where, options.nonFinite === true);
  for (;;) {
    const t = reader.step(sliceBytes);
    if (t !== undefined) return t;
    await yieldToLoop();
  }
}

class DataReader {
  private readonly r: Cursor;
  private readonly size: number;
  private readonly type: string;
  private at = 0;
  private f64: Float64Array | Float32Array | undefined;
  private ints: Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | undefined;
  private words: Uint32Array | undefined;
  private big: BigInt64Array | BigUint64Array | undefined;
  private strings: (string | Uint8Array)[] | undefined;
  private halves: Uint16Array | undefined;
  private readonly data: Tensor['data'];

  constructor(
    span: JsonSpan,
    private readonly dtype: DType,
    private readonly dims: readonly number[],
    private readonly where: string,
    nonFinite: boolean,
  ) {
    this.r = new Cursor(span.bytes, span.start, span.end, span.what, nonFinite);
    this.size = sizeOf(dims as number[]);
    this.type = dtype;
    const n = this.size;
    switch (dtype) {
      case 'float32':
        this.data = this.f64 = new Float32Array(n);
        break;
      case 'float64':
        this.data = this.f64 = new Float64Array(n);
        break;
      case 'float16':
        this.data = this.halves = new Uint16Array(n);
        break;
      case 'int64':
      case 'uint64': {
        const big = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
        this.data = this.big = big;
        this.words = new Uint32Array(big.buffer);
        break;
      }
      case 'string':
        this.data = this.strings = new Array<string | Uint8Array>(n).fill('');
        break;
      case 'bool':
        this.data = this.ints = new Uint8Array(n);
        break;
      default: {
        const C = {
          int8: Int8Array,
          int16: Int16Array,
          int32: Int32Array,
          uint8: Uint8Array,
          uint16: Uint16Array,
          uint32: Uint32Array,
        }[dtype as 'int8'];
        this.data = this.ints = new C(n);
      }
    }
  }

  /** Where in `data` the element at `depth` stands, for errors (`data[0][3]`). */
  private path(depth: number): string {
    return `data${this.counts!.slice(1, depth)
      .map((c) => `[${c - 1}]`)
      .join('')}`;
  }

  private shapeText(): string {
    return `[${this.dims.join(', ')}]`;
  }

  private mismatch(path: string, reason: string): never {
    throw new HttpError(
      400,
      `${this.where}: data is not nested as shape ${this.shapeText()}: ${path} ${reason}`,
    );
  }

  private bad(i: number, token: string, why: string): never {
    throw new HttpError(400, `${this.where}: element ${i} is ${token}, ${why}`);
  }

  // Where a paused read stands. counts[d]: elements seen so far in the open array at depth d
  // (the outer array is depth 1; depth 0 before it is opened).
  private counts: number[] | undefined;
  /** 0 undecided, 1 flat (numbers only), 2 nested like the shape. */
  private mode = 0;
  private depth = 0;

  /**
   * Reads on, pausing at the first element boundary past about `bytes` more bytes: the tensor
   * once the data is read, else undefined (call again).
   */
  step(bytes: number): Tensor | undefined {
    const r = this.r;
    const dims = this.dims;
    const rank = dims.length;
    this.counts ??= new Array<number>(rank + 2).fill(0);
    const counts = this.counts;
    let mode = this.mode;
    let depth = this.depth;
    if (depth === 0) {
      r.expect(0x5b);
      if (r.ws() === 0x5d) {
        r.pos++;
        return this.finish();
      }
      depth = 1;
    }
    const stopAt = r.pos + bytes;
    for (;;) {
      if (r.pos >= stopAt) {
        this.mode = mode;
        this.depth = depth;
        return undefined;
      }
      const c = r.ws();
      if (c === 0x5d || c === 0x2c || c === -1) r.unexpected();
      counts[depth]!++;
      if (c === 0x5b) {
        if (mode === 1) this.mismatch(this.path(depth + 1), 'is an array among flat elements');
        if (depth >= rank)
          this.mismatch(this.path(depth + 1), `is an array, deeper than the shape's ${rank} dimension(s)`);
        mode = 2;
        if (counts[depth]! > dims[depth - 1]!)
          this.mismatch(this.path(depth), `has more than ${dims[depth - 1]} elements`);
        r.pos++;
        depth++;
        counts[depth] = 0;
        if (r.ws() === 0x5d) {
          // An empty row: only right where its dimension is 0.
          if (dims[depth - 1] !== 0)
            this.mismatch(this.path(depth), `has 0 elements, expected ${dims[depth - 1]}`);
          r.pos++;
          depth--;
        } else continue;
      } else {
        if (mode === 0) mode = 1;
        if (mode === 2) {
          if (depth !== rank)
            this.mismatch(
              this.path(depth + 1),
              `is a scalar where the shape has ${rank - depth} more dimension(s)`,
            );
          if (counts[depth]! > dims[depth - 1]!)
            this.mismatch(this.path(depth), `has more than ${dims[depth - 1]} elements`);
        }
        this.element(c);
      }
      // After an element: a comma, or the ends of arrays.
      for (;;) {
        const next = r.ws();
        if (next === 0x2c) {
          r.pos++;
          break;
        }
        if (next !== 0x5d) r.unexpected();
        r.pos++;
        if (mode === 2 && counts[depth] !== dims[depth - 1])
          this.mismatch(this.path(depth), `has ${counts[depth]} elements, expected ${dims[depth - 1]}`);
        if (--depth === 0) return this.finish();
      }
    }
  }

  private finish(): Tensor {
    if (this.at !== this.size)
      throw new HttpError(
        400,
        `${this.where}: shape ${this.shapeText()} holds ${this.size} elements but data has ${this.at}`,
      );
    return { dtype: this.dtype, shape: this.dims as number[], data: this.data } as Tensor;
  }

  /** Reads one element starting with byte `c` into place `at` (counted past the end, never written). */
  private element(c: number): void {
    const r = this.r;
    const i = this.at++;
    const room = i < this.size;
    const isNumber = c === 0x2d || (c >= 0x30 && c <= 0x39) || (r.nonFinite && (c === 0x4e || c === 0x49));
    if (this.dtype === 'string') {
      let v: string | Uint8Array;
      if (c === 0x22) v = r.string();
      else if (c === 0x7b) {
        // {"b64": "..."}: bytes that are not UTF-8, as our JSON answers write them.
        const start = r.pos;
        const e = fromJsonElement(r.value(0, { maxDepth: MAX_JSON_DEPTH }), this.where);
        if (typeof e !== 'string' && !(e instanceof Uint8Array))
          this.bad(i, showToken(r, start), 'a BYTES element is a string or {"b64": "<base64>"}');
        v = e;
      } else this.wrongKind(i, 'a BYTES element is a string or {"b64": "<base64>"}');
      if (room) this.strings![i] = v;
      return;
    }
    if (this.dtype === 'bool') {
      let v: number;
      if (c === 0x74) {
        r.literal('true');
        v = 1;
      } else if (c === 0x66) {
        r.literal('false');
        v = 0;
      } else if (isNumber) {
        v = r.number();
        if (v !== 0 && v !== 1) this.bad(i, r.token(), 'a bool needs true/false or 0/1');
      } else this.wrongKind(i, 'a bool needs true/false or 0/1');
      if (room) this.ints![i] = v;
      return;
    }
    if (!isNumber) this.wrongKind(i, `${this.type} needs numbers`);
    let v: number;
    if (c === 0x4e) {
      r.literal('NaN');
      v = Number.NaN;
    } else v = r.number(this.dtype === 'float32');
    if (this.f64 !== undefined) {
      // A digit literal read as ±Infinity (1e309) overflows the datatype like 3.5e38 does in FP32.
      if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
        if (this.isLiteralNumber(c)) this.bad(i, r.token(), `outside the ${this.type} range`);
      }
      if (this.dtype === 'float32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v)))
        this.bad(i, r.token(), 'outside the float32 range (±3.4028234663852886e38)');
      if (room) this.f64[i] = v;
      return;
    }
    if (this.halves !== undefined) {
      const literal = this.isLiteralNumber(c);
      if (Math.abs(v) >= 65520 && (Number.isFinite(v) || literal))
        this.bad(i, r.token(), 'outside the float16 range (±65504)');
      if (room) this.halves[i] = numberToFloat16Bits(v);
      return;
    }
    if (this.big !== undefined) {
      if (Number.isSafeInteger(v)) {
        const range = BIG_RANGE[this.dtype as 'int64'];
        if (v < 0 && range[0] === 0n) this.bad(i, r.token(), `outside the ${this.type} range`);
        if (room) {
          // Two 32-bit words, little-endian: no bigint made per element.
          this.words![2 * i] = v >>> 0;
          this.words![2 * i + 1] = Math.floor(v / 4294967296) >>> 0;
        }
        return;
      }
      if (!r.plain)
        this.bad(i, r.token(), `${this.type} needs integers (beyond 2^53, written digit for digit)`);
      // Digits beyond 2^53, read exactly.
      const b = BigInt(r.token());
      const range = BIG_RANGE[this.dtype as 'int64'];
      if (b < range[0] || b > range[1]) this.bad(i, r.token(), `outside the ${this.type} range`);
      if (room) this.big[i] = b;
      return;
    }
    const range = INTEGER_RANGE[this.dtype]!;
    if (!Number.isInteger(v)) this.bad(i, r.token(), `${this.type} needs integers`);
    if (v < range[0] || v > range[1])
      this.bad(i, r.token(), `outside the ${this.type} range [${range[0]}, ${range[1]}]`);
    if (room) this.ints![i] = v;
  }

  /** True when the last token was a digit literal (not an `Infinity` token). */
  private isLiteralNumber(c: number): boolean {
    const b = this.r.b[c === 0x2d ? this.r.numStart + 1 : this.r.numStart];
    return b !== undefined && b >= 0x30 && b <= 0x39;
  }

  private wrongKind(i: number, why: string): never {
    const r = this.r;
    const start = r.pos;
    // Not JSON at all (NaN without the nonFinite option, a stray byte) is malformed JSON.
    r.value(0, { maxDepth: MAX_JSON_DEPTH });
    return this.bad(i, showToken(r, start), why);
  }
}

/** The text the cursor read since `start`, cut at 40 characters, for messages. */
function showToken(r: Cursor, start: number): string {
  return String.fromCharCode.apply(
    null,
    r.b.subarray(start, Math.min(r.pos, start + 40)) as unknown as number[],
  );
}
