/**
 * JSON read straight from a request's bytes. The envelope of a request is parsed into plain
 * values; chosen members (an input's `data`) are left unread as a {@link JsonSpan} and later read
 * straight into typed arrays (`json-tensor.ts`), so a 64 MiB body never becomes a tree of
 * millions of JS values. Nesting is limited before any recursion, so no body can exhaust the stack.
 */
import { HttpError } from './http-error';
import { web } from './web';

/** The deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** A JSON array left unread in a body: `bytes[start, end)`, validated only when it is read. */
export class JsonSpan {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    /** What the bytes are, for errors ("inference request"). */
    readonly what = 'data',
  ) {}
}

export interface JsonScanOptions {
  /** Deepest nesting of arrays and objects (default {@link MAX_JSON_DEPTH}); deeper bodies get 400. */
  maxDepth?: number;
  /**
   * Members whose array value is left unread, as a {@link JsonSpan}: called with the member's
   * key and the depth of the object holding it (the body is depth 1).
   */
  defer?: (key: string, depth: number) => boolean;
  /** Accept the `NaN`, `Infinity` and `-Infinity` tokens some clients write (default false). */
  nonFinite?: boolean;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const utf8 = new web.TextDecoder('utf-8', { fatal: true });

/** Half the width, relative, of the interval a truncated 15-digit mantissa leaves around a value. */
const TRUNCATION = 2 ** -45;

/**
 * A value whose float32 rounding is that of the exact decimal `m·10^e…` (`m`: its first 15
 * significant digits, the rest dropped), or undefined when the dropped digits could change it.
 * The decimal lies within a relative 1e-14 (the dropped digits) of `m·10^e`, which is computed
 * with one rounding (2^-53); the float32 has 24 bits. When every double within 2^-45 of the
 * estimate rounds to the same float32 (`Math.fround` is monotonic, so checking both ends
 * suffices), that float32 is the one the correctly rounded double rounds to, and the estimate
 * stands for it. Otherwise (about one value in 2^20: near a halfway point between two float32s,
 * or at the range's edge) the caller reads the token exactly.
 */
function float32From(m: number, e: number): number | undefined {
  if (e > 22 || e < -22) return undefined;
  const v = e >= 0 ? m * POW10[e]! : m / POW10[-e]!;
  const lo = Math.fround(v - v * TRUNCATION);
  return lo === Math.fround(v + v * TRUNCATION) && lo !== Number.POSITIVE_INFINITY ? v : undefined;
}

/** The longest string {@link shortString} keeps. */
const SHORT = 24;
/** Strings of up to {@link SHORT} ASCII bytes seen lately, by a hash of their bytes. */
const recent: (string | undefined)[] = new Array(256).fill(undefined);

/**
 * The ASCII string in `b[start, end)`: the one made last time when these bytes were seen
 * recently (a request's keys, names and datatypes repeat from one request to the next), so a
 * body's keys cost a comparison, not an allocation.
 */
function shortString(b: Uint8Array, start: number, end: number): string {
  let h = end - start;
  for (let i = start; i < end; i++) h = (h * 31 + b[i]!) | 0;
  const slot = (h ^ (h >>> 8)) & 255;
  const seen = recent[slot];
  if (seen !== undefined && seen.length === end - start) {
    let i = 0;
    while (i < seen.length && seen.charCodeAt(i) === b[start + i]) i++;
    if (i === seen.length) return seen;
  }
  const made = String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  recent[slot] = made;
  return made;
}

/** The byte at `at` as a reader sees it, for error messages. */
export function showByte(b: number | undefined): string {
  if (b === undefined) return 'the end of the body';
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** What a number token was, besides its value: kept in fields, so no object per number. */
export class Cursor {
  pos: number;
  /** The last number token: no fraction or exponent. */
  plain = false;
  numStart = 0;

  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly what: string,
    readonly nonFinite: boolean,
  ) {
    this.pos = start;
  }

  fail(reason: string): never {
    throw new HttpError(400, `malformed JSON in the ${this.what}: ${reason}`);
  }

  unexpected(): never {
    const at = this.pos;
    return this.fail(
      at >= this.end ? 'unexpected end of the body' : `unexpected ${showByte(this.b[at])} at byte ${at}`,
    );
  }

  ws(): number {
    const b = this.b;
    let p = this.pos;
    let c = b[p];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p];
    this.pos = p;
    return p < this.end ? c! : -1;
  }

  expect(byte: number): void {
    if (this.ws() !== byte) this.unexpected();
    this.pos++;
  }

  literal(word: string): void {
    const b = this.b;
    for (let i = 0; i < word.length; i++)
      if (b[this.pos + i] !== word.charCodeAt(i)) {
        this.pos += i;
        this.unexpected();
      }
    this.pos += word.length;
  }

  /** A string token, decoded. */
  string(): string {
    const b = this.b;
    const start = ++this.pos;
    let p = start;
    let ascii = true;
    let escaped = false;
    for (;;) {
      if (p >= this.end) {
        this.pos = p;
        this.unexpected();
      }
      const c = b[p]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        p += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail(`a control character (${showByte(c)}) inside a string at byte ${p}`);
      }
      if (c >= 0x80) ascii = false;
      p++;
    }
    this.pos = p + 1;
    if (ascii && !escaped) {
      // Short ASCII strings (keys, names, datatypes) without a decoder call, and the ones seen
      // before without making a string at all.
      if (p - start <= SHORT) return shortString(b, start, p);
      if (p - start < 64) return String.fromCharCode.apply(null, b.subarray(start, p) as unknown as number[]);
    }
    let text: string;
    try {
      text = utf8.decode(b.subarray(start, p));
    } catch {
      return this.fail(`the string at byte ${start - 1} is not valid UTF-8`);
    }
    if (!escaped) return text;
    try {
      return JSON.parse(`"${text}"`) as string;
    } catch {
      return this.fail(`a bad escape in the string at byte ${start - 1}`);
    }
  }

  /**
   * A number token's value, correctly rounded: up to 15 significant digits and a power of ten
   * up to 22 are exact doubles, so one multiplication or division rounds once (Clinger's fast
   * path); longer tokens go to `Number`. Sets `plain` and `numStart`.
   *
   * With `float32`, the value is only ever stored in a float32 (the caller rounds it with
   * `Math.fround`), and a longer token is read from its first 15 digits when that decides the
   * float32: see {@link float32From}.
   */
  number(float32 = false): number {
    const b = this.b;
    let p = this.pos;
    this.numStart = p;
    const neg = b[p] === 0x2d;
    if (neg) p++;
    if (this.nonFinite && b[p] === 0x49) {
      this.pos = p;
      this.literal('Infinity');
      this.plain = false;
      return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    }
    let m = 0;
    let sig = 0;
    let exp10 = 0;
    let slow = false;
    /** Significant digits past the 15th, not in `m`. */
    let dropped = 0;
    let c = b[p]!;
    if (c === 0x30) c = b[++p]!;
    else if (c >= 0x31 && c <= 0x39) {
      do {
        if (++sig <= 15) m = m * 10 + (c - 0x30);
        else {
          slow = true;
          dropped++;
        }
        c = b[++p]!;
      } while (c >= 0x30 && c <= 0x39);
    } else {
      this.pos = p;
      this.unexpected();
    }
    let plain = true;
    if (c === 0x2e) {
      plain = false;
      c = b[++p]!;
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = p;
        this.unexpected();
      }
      do {
        if (m !== 0 || c !== 0x30) {
          if (++sig <= 15) m = m * 10 + (c - 0x30);
          else {
            slow = true;
            dropped++;
          }
        }
        exp10--;
        c = b[++p]!;
      } while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      plain = false;
      c = b[++p]!;
      let sign = 1;
      if (c === 0x2d || c === 0x2b) {
        if (c === 0x2d) sign = -1;
        c = b[++p]!;
      }
      if (!(c >= 0x30 && c <= 0x39)) {
        this.pos = p;
        this.unexpected();
      }
      let e = 0;
      do {
        if (e < 100_000) e = e * 10 + (c - 0x30);
        c = b[++p]!;
      } while (c >= 0x30 && c <= 0x39);
      exp10 += sign * e;
    }
    this.pos = p;
    this.plain = plain;
    if (p > this.end) this.unexpected();
    if (slow && float32) {
      const v = float32From(m, exp10 + dropped);
      if (v !== undefined) return neg ? -v : v;
    }
    // The token's own text carries its sign.
    if (slow || exp10 > 22 || exp10 < -22) return Number(this.token());
    const v = exp10 >= 0 ? m * POW10[exp10]! : m / POW10[-exp10]!;
    return neg ? -v : v;
  }

  /** The text of the last number token. */
  token(): string {
    return String.fromCharCode.apply(null, this.b.subarray(this.numStart, this.pos) as unknown as number[]);
  }

  /** Any JSON value; `depth` counts the containers around it. */
  value(depth: number, o: JsonScanOptions): unknown {
    const c = this.ws();
    if (c === 0x7b || c === 0x5b) {
      const max = o.maxDepth ?? MAX_JSON_DEPTH;
      if (depth >= max) throw new HttpError(400, `the ${this.what} is nested deeper than ${max} levels`);
      return c === 0x7b ? this.object(depth + 1, o) : this.array(depth + 1, o);
    }
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) {
      this.literal('true');
      return true;
    }
    if (c === 0x66) {
      this.literal('false');
      return false;
    }
    if (c === 0x6e) {
      this.literal('null');
      return null;
    }
    if (this.nonFinite && c === 0x4e) {
      this.literal('NaN');
      return Number.NaN;
    }
    if (this.nonFinite && c === 0x49) return this.number();
    return this.unexpected();
  }

  /**
   * Finds the end of the array at `pos` by its brackets alone (strings skipped), without reading
   * its values: whoever reads the span checks its grammar.
   */
  private skipArray(depth: number, maxDepth: number): void {
    const b = this.b;
    const end = this.end;
    // Native searches for the next bracket and quote: rows of numbers are passed over at memchr speed.
    let open = 0;
    let p = this.pos;
    let nextOpen = -2;
    let nextClose = -2;
    let nextQuote = -2;
    for (;;) {
      if (nextOpen < p && nextOpen !== -1) nextOpen = b.indexOf(0x5b, p);
      if (nextClose < p && nextClose !== -1) nextClose = b.indexOf(0x5d, p);
      if (nextQuote < p && nextQuote !== -1) nextQuote = b.indexOf(0x22, p);
      if (nextClose === -1 || nextClose >= end) break;
      if (nextQuote !== -1 && nextQuote < nextClose && (nextOpen === -1 || nextQuote < nextOpen)) {
        p = nextQuote + 1;
        while (p < end && b[p] !== 0x22) p += b[p] === 0x5c ? 2 : 1;
        p++;
        continue;
      }
      if (nextOpen !== -1 && nextOpen < nextClose) {
        if (depth + ++open > maxDepth)
          throw new HttpError(400, `the ${this.what} is nested deeper than ${maxDepth} levels`);
        p = nextOpen + 1;
        continue;
      }
      p = nextClose + 1;
      if (--open === 0) {
        this.pos = p;
        return;
      }
    }
    this.pos = end;
    this.unexpected();
  }

  /** After a member or element: false at the container's closing byte, true at a comma. */
  private more(close: number): boolean {
    const c = this.ws();
    if (c !== close && c !== 0x2c) this.unexpected();
    this.pos++;
    return c === 0x2c;
  }

  private object(depth: number, o: JsonScanOptions): unknown {
    this.pos++;
    const out: Record<string, unknown> = {};
    if (this.ws() === 0x7d) {
      this.pos++;
      return out;
    }
    do {
      if (this.ws() !== 0x22) this.unexpected();
      const key = this.string();
      this.expect(0x3a);
      let v: unknown;
      if (o.defer?.(key, depth) === true && this.ws() === 0x5b) {
        const start = this.pos;
        this.skipArray(depth, o.maxDepth ?? MAX_JSON_DEPTH);
        v = new JsonSpan(this.b, start, this.pos, this.what);
      } else v = this.value(depth, o);
      // A key such as __proto__ stays an own data property, as JSON.parse makes it; any other
      // key is assigned (Object.prototype has no other setter), which is far cheaper.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    } while (this.more(0x7d));
    return out;
  }

  private array(depth: number, o: JsonScanOptions): unknown {
    this.pos++;
    const out: unknown[] = [];
    if (this.ws() === 0x5d) {
      this.pos++;
      return out;
    }
    do out.push(this.value(depth, o));
    while (this.more(0x5d));
    return out;
  }
}

/**
 * Parses a JSON body from its bytes; members chosen by `options.defer` come back as
 * {@link JsonSpan}s. `what` names the body in errors ("inference request").
 */
export function scanJson(bytes: Uint8Array, what: string, options: JsonScanOptions = {}): unknown {
  const r = new Cursor(bytes, 0, bytes.byteLength, what, options.nonFinite === true);
  const v = r.value(0, options);
  if (r.ws() !== -1) r.unexpected();
  return v;
}

/**
 * The deepest nesting of arrays and objects in JSON text, counted without parsing (strings are
 * skipped), so a body can be refused before a recursive walk meets it.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
