/**
 * Sorting float64 values by their bits: an LSD radix sort on the IEEE-754 representation,
 * which the ranking metrics, their curves and drift statistics share. Each value's 64 bits
 * become an unsigned key that orders as the numbers do (negative values: every bit flipped;
 * the others: the sign bit set), then six stable passes of 11, 11 and 10 bits per 32-bit word
 * place them; a pass whose digit is the same for every key is skipped.
 *
 * The order is `Float64Array.prototype.sort`'s: ascending, −0 before +0, NaN last (every NaN,
 * whatever its sign or payload, comes out as the canonical NaN). Small inputs use the native
 * sort, which is faster there and gives the same order.
 */

const SMALL = 512;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Digit widths and shifts of the six passes: word (0 low, 1 high), shift, mask. */
const PASSES: readonly (readonly [number, number, number])[] = [
  [0, 0, 0x7ff],
  [0, 11, 0x7ff],
  [0, 22, 0x3ff],
  [1, 0, 0x7ff],
  [1, 11, 0x7ff],
  [1, 22, 0x3ff],
];

/**
 * Writes the sortable keys of `values` into `keys` (two words per value, low then high) and
 * counts every pass's digits into `counts` (6 × 2048).
 */
function keysAndCounts(values: Float64Array, keys: Uint32Array, counts: Uint32Array): void {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    let lo = bits[2 * i]!;
    let hi = bits[2 * i + 1]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0)) {
      // NaN: above +Infinity's key, whatever its sign.
      hi = 0xfff80000;
      lo = 0;
    } else if (hi & 0x80000000) {
      hi = ~hi >>> 0;
      lo = ~lo >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    keys[2 * i] = lo;
    keys[2 * i + 1] = hi;
    counts[lo & 0x7ff]!++;
    counts[2048 + ((lo >>> 11) & 0x7ff)]!++;
    counts[4096 + (lo >>> 22)]!++;
    counts[6144 + (hi & 0x7ff)]!++;
    counts[8192 + ((hi >>> 11) & 0x7ff)]!++;
    counts[10240 + (hi >>> 22)]!++;
  }
}

/** Turns one pass's counts into start offsets; false when every key has the same digit. */
function offsets(counts: Uint32Array, pass: number, n: number): boolean {
  const base = pass * 2048;
  let sum = 0;
  for (let d = 0; d < 2048; d++) {
    const c = counts[base + d]!;
    if (c === n) return false;
    counts[base + d] = sum;
    sum += c;
  }
  return true;
}

/** Back from a key to the float's bits, in place (NaN's key gives the canonical NaN). */
function untransform(keys: Uint32Array, out: Float64Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, 2 * out.length);
  for (let i = 0; i < out.length; i++) {
    const lo = keys[2 * i]!;
    const hi = keys[2 * i + 1]!;
    if (hi & 0x80000000) {
      bits[2 * i] = lo;
      bits[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    } else {
      bits[2 * i] = ~lo >>> 0;
      bits[2 * i + 1] = ~hi >>> 0;
    }
  }
}

/**
 * Sorts the keys of `values` by the six passes; with `order`, moves each value's index along
 * (the permutation, stable). Returns the sorted keys and the order.
 */
function radixSort(values: Float64Array, withOrder: boolean): { keys: Uint32Array; order: Uint32Array } {
  const n = values.length;
  let src = new Uint32Array(2 * n);
  let dst = new Uint32Array(2 * n);
  let idx = new Uint32Array(withOrder ? n : 0);
  let idy = new Uint32Array(withOrder ? n : 0);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const counts = new Uint32Array(6 * 2048);
  keysAndCounts(values, src, counts);
  for (let p = 0; p < 6; p++) {
    if (!offsets(counts, p, n)) continue;
    const [word, shift, mask] = PASSES[p]!;
    const base = p * 2048;
    for (let i = 0; i < n; i++) {
      const d = base + ((src[2 * i + word]! >>> shift) & mask);
      const at = counts[d]!;
      counts[d] = at + 1;
      dst[2 * at] = src[2 * i]!;
      dst[2 * at + 1] = src[2 * i + 1]!;
      if (withOrder) idy[at] = idx[i]!;
    }
    [src, dst] = [dst, src];
    [idx, idy] = [idy, idx];
  }
  return { keys: src, order: idx };
}

/**
 * The values sorted ascending, in a new array (the input is left as it is), in the order of
 * `Float64Array.prototype.sort`: −0 before +0, NaN last.
 *
 * @example
 * sortFloat64(Float64Array.of(0.5, -1, 0, -0)); // Float64Array [-1, -0, 0, 0.5]
 */
export function sortFloat64(values: Float64Array): Float64Array {
  if (values.length <= SMALL || !LITTLE_ENDIAN) return values.slice().sort();
  const out = new Float64Array(values.length);
  untransform(radixSort(values, false).keys, out);
  return out;
}

/**
 * The permutation that sorts `values` ascending (as {@link sortFloat64}), stable: equal values
 * keep their input order. `values[order[0]]` is the smallest.
 *
 * @example
 * sortOrder(Float64Array.of(0.3, 0.1, 0.3)); // Uint32Array [1, 0, 2]
 */
export function sortOrder(values: Float64Array): Uint32Array {
  const n = values.length;
  if (n <= SMALL || !LITTLE_ENDIAN) {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Stable comparator sort, in the same order as the radix path (NaN last, −0 before +0).
    return order.sort((i, j) => compareFloat(values[i]!, values[j]!) || i - j);
  }
  return radixSort(values, true).order;
}

/** The native typed-array sort's order as a comparator: −0 < +0, NaN after everything. */
function compareFloat(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Object.is(a, -0) ? (Object.is(b, -0) ? 0 : -1) : Object.is(b, -0) ? 1 : 0;
  return 0;
}

/** Ordering runs shorter than this are finished by insertion, longer ones by the native sort. */
const RUN = 16;

/**
 * Sorts `values` in place and returns it, in the order of `Float64Array.prototype.sort`
 * (ascending, −0 before +0), for arrays without NaN (with one, it is that native sort). Faster
 * than {@link sortFloat64} on large arrays, and without its copies: three radix passes on each
 * value's high 32 bits (sign, exponent, top 20 bits of the mantissa) move the values
 * themselves; values sharing their high word (rare unless many are nearly equal) are then
 * ordered among themselves.
 *
 * @example
 * sortFloat64InPlace(Float64Array.of(0.5, -1, 0, -0)); // Float64Array [-1, -0, 0, 0.5]
 */
export function sortFloat64InPlace(values: Float64Array, scratch?: Float64Array): Float64Array {
  const n = values.length;
  if (n <= SMALL || !LITTLE_ENDIAN) return values.sort();
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const counts = new Uint32Array(3 * 2048);
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || words[2 * i] !== 0))
      return values.sort(); // NaN
    // The high word as an unsigned key that orders as the numbers do.
    const key = (hi ^ ((hi >> 31) | 0x80000000)) >>> 0;
    counts[key & 0x7ff]!++;
    counts[2048 + ((key >>> 11) & 0x7ff)]!++;
    counts[4096 + (key >>> 22)]!++;
  }
  let src = values;
  let srcWords = words;
  let dst = scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  let dstWords = new Uint32Array(dst.buffer, dst.byteOffset, 2 * n);
  for (let p = 0; p < 3; p++) {
    if (!offsets(counts, p, n)) continue;
    const base = p * 2048;
    const shift = 11 * p;
    for (let i = 0; i < n; i++) {
      const hi = srcWords[2 * i + 1]!;
      const d = base + (((hi ^ ((hi >> 31) | 0x80000000)) >>> shift) & 0x7ff);
      const at = counts[d]!;
      counts[d] = at + 1;
      dst[at] = src[i]!;
    }
    [src, dst] = [dst, src];
    [srcWords, dstWords] = [dstWords, srcWords];
  }
  if (src !== values) values.set(src);
  // Runs of one high word are still in input order: order each by the whole value (one sign
  // and exponent per run, so `<` orders them as the native sort does).
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && words[2 * i + 1] === words[2 * start + 1]) continue;
    if (i - start > SMALL) values.set(sortFloat64(values.subarray(start, i)), start);
    else if (i - start > RUN) values.subarray(start, i).sort();
    else
      for (let j = start + 1; j < i; j++) {
        const v = values[j]!;
        let k = j - 1;
        while (k >= start && values[k]! > v) {
          values[k + 1] = values[k]!;
          k--;
        }
        values[k + 1] = v;
      }
    start = i;
  }
  return values;
}
