/**
 * Two more column transforms: the hashing trick (scikit-learn's `FeatureHasher` on one string
 * per row) and bucketing (its `KBinsDiscretizer`, or fixed boundaries as TF's
 * `bucketized_column`). Pure TypeScript: MurmurHash3 over UTF-8 bytes encoded here.
 */
import { invalidArgument } from '../errors';

/** UTF-8 bytes of a string; a lone surrogate becomes U+FFFD, as `TextEncoder` does. */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** MurmurHash3 x86 32-bit of `bytes`, as a signed 32-bit integer (scikit-learn's `murmurhash3_32(…, positive=False)`). */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= bytes[blocks + 2]! << 16;
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8;
    k ^= bytes[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** The column and sign `FeatureHasher` gives one string: `abs(h) % buckets`, sign of h. */
export function hashSlot(value: string, buckets: number, alternateSign: boolean): [number, number] {
  const h = murmur3(utf8(value));
  // abs(−2³¹) does not fit an int32; scikit-learn defines its slot as below.
  const column = h === -2147483648 ? (2147483647 - (buckets - 1)) % buckets : Math.abs(h) % buckets;
  return [column, alternateSign && h < 0 ? -1 : 1];
}

/** numpy's linear interpolation between a and b (its `_lerp`, exact at both ends). */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** numpy's default (linear) percentile `q` (0–100) of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return lerp(sorted[lo]!, sorted[hi]!, pos - lo);
}

/**
 * Bin edges as `KBinsDiscretizer` learns them (first and last are the column's min and max): equal
 * widths (`uniform`), or percentiles (`quantile`) with bins narrower than 1e-8 removed. A
 * constant column gets one bin.
 */
export function fitEdges(
  values: readonly number[],
  bins: number,
  strategy: 'uniform' | 'quantile',
): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  if (min === max) return [min, max];
  if (strategy === 'uniform') {
    const step = (max - min) / bins;
    const edges = Array.from({ length: bins + 1 }, (_, i) => i * step + min);
    edges[bins] = max;
    return edges;
  }
  const step = 100 / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => percentile(sorted, i === bins ? 100 : i * step));
  return edges.filter((e, i) => i === 0 || e - edges[i - 1]! > 1e-8);
}

/** The bin of `v`: the count of inner edges ≤ v (numpy's `searchsorted(inner, v, 'right')`). */
export function binOf(edges: readonly number[], v: number): number {
  let lo = 1;
  let hi = edges.length - 1; // inner edges are edges[1 .. length−2]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Checks explicit bucket boundaries: finite, strictly increasing, at least one. */
export function checkBoundaries(boundaries: unknown, where: string): number[] {
  if (
    !Array.isArray(boundaries) ||
    boundaries.length === 0 ||
    !boundaries.every(
      (b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > boundaries[i - 1]),
    )
  )
    throw invalidArgument(where, 'boundaries must be finite numbers in increasing order', boundaries);
  return [...boundaries];
}
