/**
 * Sorting float64 values by their bits: an LSD radix sort on the IEEE-754 representation,
 * which the ranking metrics, their curves and drift statistics share. Each value's 64 bits
 * become an unsigned key that orders as the numbers do (negative values: every bit flipped;
 * the others: the sign bit set), then stable passes place them: the high words first, then
 * the low words only within runs of equal high words ({@link sortKeyPairs}).
 *
 * The order is `Float64Array.prototype.sort`'s: ascending, −0 before +0, NaN last (every NaN,
 * whatever its sign or payload, comes out as the canonical NaN). Small inputs use the native
 * sort, which is faster there and gives the same order.
 */

const SMALL = 512;
/** Keys are read through a Uint32Array view of the floats: low word first on little-endian hosts. */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Writes the sortable key of each value into `keys` (two words per value, low then high): the
 * bits with negative values' every bit flipped and the others' sign bit set, so the keys order
 * as the numbers do; NaN (any sign or payload) above +Infinity. `descending` complements the
 * keys, so an ascending sort of them puts the highest value first.
 */
function floatKeys(values: Float64Array, keys: Uint32Array, descending: boolean): void {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const flip = descending ? 0xffffffff : 0;
  for (let i = 0; i < n; i++) {
    let lo = bits[2 * i]!;
    let hi = bits[2 * i + 1]!;
    if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0)) {
      hi = 0xfff80000;
      lo = 0;
    } else if (hi & 0x80000000) {
      hi = ~hi;
      lo = ~lo;
    } else hi |= 0x80000000;
    keys[2 * i] = lo ^ flip;
    keys[2 * i + 1] = hi ^ flip;
  }
}

/** Turns one pass's counts into start offsets; false when every key has the same digit. */
function offsets(counts: Uint32Array, base: number, bins: number, n: number): boolean {
  let sum = 0;
  for (let d = 0; d < bins; d++) {
    const c = counts[base + d]!;
    if (c === n) return false;
    counts[base + d] = sum;
    sum += c;
  }
  return true;
}

/**
 * Stable LSD passes, four of 8 bits, over the keys `from` to `to` (pairs) by one word (`word`
 * 0 low, 1 high), between `a` and `b` (the same range of both buffers), moving the index `ia`
 * along (into `ib`) when given; a pass whose digit is the same for every key is skipped.
 * `counts` holds 1024 entries. Returns true when the result ended in `b` (an odd number of
 * passes ran).
 */
function lsd(
  a: Uint32Array,
  b: Uint32Array,
  from: number,
  to: number,
  word: number,
  counts: Uint32Array,
  ia: Uint32Array | undefined,
  ib: Uint32Array | undefined,
): boolean {
  const n = to - from;
  counts.fill(0);
  for (let i = from; i < to; i++) {
    const w = a[2 * i + word]!;
    counts[w & 0xff]!++;
    counts[256 + ((w >>> 8) & 0xff)]!++;
    counts[512 + ((w >>> 16) & 0xff)]!++;
    counts[768 + (w >>> 24)]!++;
  }
  let src = a;
  let dst = b;
  let is = ia;
  let id = ib;
  let swapped = false;
  for (let p = 0; p < 4; p++) {
    const base = p * 256;
    if (!offsets(counts, base, 256, n)) continue;
    const shift = p * 8;
    for (let i = from; i < to; i++) {
      const lo = src[2 * i]!;
      const hi = src[2 * i + 1]!;
      const d = base + (((word === 0 ? lo : hi) >>> shift) & 0xff);
      const at = from + counts[d]!;
      counts[d] = at - from + 1;
      dst[2 * at] = lo;
      dst[2 * at + 1] = hi;
      if (id !== undefined) id[at] = is![i]!;
    }
    [src, dst] = [dst, src];
    [is, id] = [id, is];
    swapped = !swapped;
  }
  return swapped;
}

/** Runs up to this long are sorted by their low words by insertion rather than by passes. */
const SHORT_RUN = 32;

/**
 * Sorts the `n` keys in `keys` (pairs: low word, high word, compared as one unsigned 64-bit
 * number) ascending and stable, moving `index` along when given; `scratch` is a buffer of the
 * same size. The high words go first, four passes of 8 bits (8-bit digits scatter into few
 * enough buckets to stay in the first-level cache; the top byte, sign and high exponent bits,
 * is often the same for every score and skipped); then each run of keys with the same high
 * word is sorted by the low words, by insertion when short, by four 8-bit passes otherwise. Scores seldom need the second step (the high word holds sign, exponent and 20 bits
 * of the fraction), so this is about half the passes of sorting all 64 bits. Returns the buffer
 * that holds the result (`keys` or `scratch`), the index likewise, and the number of distinct keys.
 */
export function sortKeyPairs(
  keys: Uint32Array,
  scratch: Uint32Array,
  n: number,
  index?: Uint32Array,
): { keys: Uint32Array; index: Uint32Array | undefined; distinct: number } {
  const indexScratch = index === undefined ? undefined : new Uint32Array(n);
  const counts = new Uint32Array(4 * 256);
  const swapped = lsd(keys, scratch, 0, n, 1, counts, index, indexScratch);
  const k = swapped ? scratch : keys;
  const s = swapped ? keys : scratch;
  const ix = swapped ? indexScratch : index;
  const iy = swapped ? index : indexScratch;
  let distinct = 0;
  for (let i = 0; i < n; ) {
    const hi = k[2 * i + 1]!;
    const lo = k[2 * i]!;
    let j = i + 1;
    let same = true;
    while (j < n && k[2 * j + 1] === hi) {
      if (k[2 * j] !== lo) same = false;
      j++;
    }
    if (same) distinct++;
    else distinct += sortLows(k, s, i, j, counts, ix, iy);
    i = j;
  }
  return { keys: k, index: ix, distinct };
}

/** Sorts the run `from`..`to` (equal high words) by the low words, stable; returns its distinct keys. */
function sortLows(
  k: Uint32Array,
  s: Uint32Array,
  from: number,
  to: number,
  counts: Uint32Array,
  ix: Uint32Array | undefined,
  iy: Uint32Array | undefined,
): number {
  if (to - from <= SHORT_RUN) {
    for (let i = from + 1; i < to; i++) {
      const lo = k[2 * i]!;
      const at = ix === undefined ? 0 : ix[i]!;
      let j = i - 1;
      while (j >= from && k[2 * j]! > lo) {
        k[2 * j + 2] = k[2 * j]!;
        if (ix !== undefined) ix[j + 1] = ix[j]!;
        j--;
      }
      k[2 * j + 2] = lo;
      if (ix !== undefined) ix[j + 1] = at;
    }
  } else if (lsd(k, s, from, to, 0, counts, ix, iy)) {
    k.set(s.subarray(2 * from, 2 * to), 2 * from);
    if (ix !== undefined) ix.set(iy!.subarray(from, to), from);
  }
  let distinct = 1;
  for (let i = from + 1; i < to; i++) if (k[2 * i] !== k[2 * i - 2]) distinct++;
  return distinct;
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
 * Sorts the keys of `values` ({@link sortKeyPairs}), complemented when `descending`; with
 * `order`, moves each value's index along (the permutation, stable). Returns the sorted keys
 * and the order.
 */
function radixSort(
  values: Float64Array,
  withOrder: boolean,
  descending = false,
): { keys: Uint32Array; order: Uint32Array } {
  const n = values.length;
  const keys = new Uint32Array(2 * n);
  floatKeys(values, keys, descending);
  const index = withOrder ? new Uint32Array(n) : undefined;
  if (index !== undefined) for (let i = 0; i < n; i++) index[i] = i;
  const sorted = sortKeyPairs(keys, new Uint32Array(2 * n), n, index);
  return { keys: sorted.keys, order: sorted.index ?? new Uint32Array(0) };
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
 * keep their input order. `values[order[0]]` is the smallest. With `descending`, the highest
 * first (+0 before −0, NaN first), equal values still in input order.
 *
 * @example
 * sortOrder(Float64Array.of(0.3, 0.1, 0.3)); // Uint32Array [1, 0, 2]
 * sortOrder(Float64Array.of(0.3, 0.1, 0.3), { descending: true }); // Uint32Array [0, 2, 1]
 */
export function sortOrder(values: Float64Array, options: { descending?: boolean } = {}): Uint32Array {
  const n = values.length;
  const descending = options.descending === true;
  if (n <= SMALL || !LITTLE_ENDIAN) {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Stable comparator sort, in the same order as the radix path (NaN last, −0 before +0).
    return descending
      ? order.sort((i, j) => compareFloat(values[j]!, values[i]!) || i - j)
      : order.sort((i, j) => compareFloat(values[i]!, values[j]!) || i - j);
  }
  return radixSort(values, true, descending).order;
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
    if (!offsets(counts, p * 2048, 2048, n)) continue;
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
