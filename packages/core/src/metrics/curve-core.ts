import { InputError, invalidArgument } from '../errors';
import {
  checkLengths,
  formatLabels,
  type Label,
  readScoresView,
  readWeights,
  uniqueSorted,
  type Weights,
} from './labels';
import { LITTLE_ENDIAN, sortKeyPairs, sortOrder } from './sort';

/**
 * Counts at each distinct score, from the highest down (scikit-learn's `_binary_clf_curve`):
 * `tps[i]`/`fps[i]` are the (weighted) positives and negatives scoring at least `thresholds[i]`.
 */
export interface BinaryCurve {
  /** Float64 sums when weighted; unweighted counts of float32 scores are whole numbers in 32 bits. */
  tps: Float64Array | Uint32Array;
  fps: Float64Array | Uint32Array;
  /** Float32 when the scores were: the same numbers in half the bytes. */
  thresholds: Float64Array | Float32Array;
}

/** Every nonzero byte: which values of a `positive` flag array mean "positive". */
const NONZERO = Uint8Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : 1));

/**
 * Builds the curve; `positive[i]` nonzero marks a positive sample. Unweighted, it sorts the
 * positives' and the negatives' scores separately ({@link sortKeyPairs}) and merges them;
 * weighted, it walks a stable sort order from the highest score down, each run of equal
 * scores in input order (so the weighted sums add up in the same order as a stable descending
 * sort, to the last bit).
 */
export function binaryCurve(
  positive: Uint8Array,
  scores: Float64Array | Float32Array,
  weights: Float64Array | undefined,
): BinaryCurve {
  return codedCurve(positive, NONZERO, scores, weights);
}

/** The curve of samples whose class is `codes[i]`, positive where `isPositive[code]` is 1. */
function codedCurve(
  codes: Uint8Array,
  isPositive: Uint8Array,
  scores: Float64Array | Float32Array,
  weights: Float64Array | undefined,
): BinaryCurve {
  if (weights === undefined && LITTLE_ENDIAN) return countedCurve(codes, isPositive, scores);
  const n = scores.length;
  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  const thresholds = new Float64Array(n);
  let m = 0;
  // −0 and +0 are one score here, as they are to `===`: sort a copy where they are the same.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = scores[i]! === 0 ? 0 : scores[i]!;
  const order = sortOrder(keys);
  let tp = 0;
  let fp = 0;
  let hi = n - 1;
  while (hi >= 0) {
    let lo = hi;
    while (lo > 0 && keys[order[lo - 1]!] === keys[order[hi]!]) lo--;
    for (let k = lo; k <= hi; k++) {
      const i = order[k]!;
      const w = weights === undefined ? 1 : weights[i]!;
      if (isPositive[codes[i]!]) tp += w;
      else fp += w;
    }
    tps[m] = tp;
    fps[m] = fp;
    thresholds[m++] = scores[order[hi]!]!;
    hi = lo - 1;
  }
  return { tps: tps.slice(0, m), fps: fps.slice(0, m), thresholds: thresholds.slice(0, m) };
}

/** The key {@link scoreKey} writes: low word, high word. */
const KEY = new Uint32Array(2);

/**
 * Writes the sortable key of the score with these words into `KEY` (as the radix sort's keys;
 * −0 gets +0's key, since the curves treat them as one score); true when the score is +0.
 */
function scoreKey(lo: number, hi: number): boolean {
  if (lo === 0 && (hi & 0x7fffffff) === 0) {
    KEY[0] = 0;
    KEY[1] = 0x80000000;
    return hi === 0;
  }
  if (hi & 0x80000000) {
    KEY[0] = ~lo;
    KEY[1] = ~hi;
  } else {
    KEY[0] = lo;
    KEY[1] = hi | 0x80000000;
  }
  return false;
}

/**
 * The unweighted curve: the scores' sortable keys split by class in one pass (±0 as one key),
 * each class sorted on its own, then one merge from the highest key down, counting as it goes.
 * A zero threshold is −0 only when every zero score is −0, as the merge of the sorted numbers
 * (`Math.max`) gave it.
 */
function countedCurve(
  codes: Uint8Array,
  isPositive: Uint8Array,
  scores: Float64Array | Float32Array,
): BinaryCurve {
  const n = scores.length;
  const tied = tiedCurve(codes, isPositive, scores);
  if (tied !== undefined) return tied;
  if (scores instanceof Float32Array) return countedCurve32(codes, isPositive, scores);
  let np = 0;
  for (let i = 0; i < n; i++) np += isPositive[codes[i]!]!;
  const nn = n - np;
  const pos = new Uint32Array(2 * np);
  const neg = new Uint32Array(2 * nn);
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, 2 * n);
  let plusZero = false;
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    if (scoreKey(bits[2 * i]!, bits[2 * i + 1]!)) plusZero = true;
    const lo = KEY[0]!;
    const hi = KEY[1]!;
    if (isPositive[codes[i]!]) {
      pos[2 * a] = lo;
      pos[2 * a++ + 1] = hi;
    } else {
      neg[2 * b] = lo;
      neg[2 * b++ + 1] = hi;
    }
  }
  const p = sortKeyPairs(pos, new Uint32Array(2 * np), np);
  const q = sortKeyPairs(neg, new Uint32Array(2 * nn), nn);
  const pk = p.keys;
  const nk = q.keys;
  const capacity = p.distinct + q.distinct;
  const tps = new Float64Array(capacity);
  const fps = new Float64Array(capacity);
  const thresholds = new Float64Array(capacity);
  const tb = new Uint32Array(thresholds.buffer);
  let a = np - 1;
  let b = nn - 1;
  let tp = 0;
  let fp = 0;
  let m = 0;
  while (a >= 0 || b >= 0) {
    let hi: number;
    let lo: number;
    if (
      b < 0 ||
      (a >= 0 &&
        (pk[2 * a + 1]! > nk[2 * b + 1]! || (pk[2 * a + 1] === nk[2 * b + 1] && pk[2 * a]! >= nk[2 * b]!)))
    ) {
      hi = pk[2 * a + 1]!;
      lo = pk[2 * a]!;
    } else {
      hi = nk[2 * b + 1]!;
      lo = nk[2 * b]!;
    }
    while (a >= 0 && pk[2 * a] === lo && pk[2 * a + 1] === hi) {
      tp++;
      a--;
    }
    while (b >= 0 && nk[2 * b] === lo && nk[2 * b + 1] === hi) {
      fp++;
      b--;
    }
    tps[m] = tp;
    fps[m] = fp;
    setThreshold(tb, m, lo, hi, plusZero);
    m++;
  }
  if (m === capacity) return { tps, fps, thresholds };
  return { tps: tps.slice(0, m), fps: fps.slice(0, m), thresholds: thresholds.slice(0, m) };
}

/** One double and its words: how a float32 score's float64 key is read. */
const WIDE = new Float64Array(1);
const WIDE_BITS = new Uint32Array(WIDE.buffer);

/** The sortable 32-bit key of a float32 score's bits (±0 as +0's key), as {@link scoreKey} for doubles. */
function key32(v: number): number {
  if ((v & 0x7fffffff) === 0) return 0x80000000;
  return v & 0x80000000 ? ~v >>> 0 : (v | 0x80000000) >>> 0;
}

const NARROW = new Float32Array(1);
const NARROW_BITS = new Uint32Array(NARROW.buffer);

/** The score whose key is `key` (−0 for the zeros' key when no zero was +0). */
function fromKey32(key: number, plusZero: boolean): number {
  if (key === 0x80000000 && !plusZero) return -0;
  NARROW_BITS[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return NARROW[0]!;
}

/**
 * {@link countedCurve} for float32 scores: one 32-bit key a score instead of two words, so the
 * two classes' keys and one scratch buffer take about 7 bytes a row instead of 32. Every
 * float32 is a double and the keys order as the doubles do, so the counts and thresholds are
 * the float64 path's, to the last bit.
 */
function countedCurve32(codes: Uint8Array, isPositive: Uint8Array, scores: Float32Array): BinaryCurve {
  const n = scores.length;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  let np = 0;
  for (let i = 0; i < n; i++) np += isPositive[codes[i]!]!;
  const nn = n - np;
  const pos = new Uint32Array(np);
  const neg = new Uint32Array(nn);
  let plusZero = false;
  for (let i = 0, a = 0, b = 0; i < n; i++) {
    const v = bits[i]!;
    if (v === 0) plusZero = true;
    if (isPositive[codes[i]!]) pos[a++] = key32(v);
    else neg[b++] = key32(v);
  }
  const scratch = new Uint32Array(Math.max(np, nn));
  sortWords(pos, scratch);
  sortWords(neg, scratch);
  // The points: one per distinct key of either class (counted first, so nothing is cut to size).
  let m = 0;
  for (let a = np - 1, b = nn - 1; a >= 0 || b >= 0; m++) {
    const key = b < 0 || (a >= 0 && pos[a]! >= neg[b]!) ? pos[a]! : neg[b]!;
    while (a >= 0 && pos[a] === key) a--;
    while (b >= 0 && neg[b] === key) b--;
  }
  // Counts below 2³² are exact in 32 bits and every threshold is a float32: 12 bytes a point, not 24.
  const tps = new Uint32Array(m);
  const fps = new Uint32Array(m);
  const thresholds = new Float32Array(m);
  let tp = 0;
  let fp = 0;
  for (let a = np - 1, b = nn - 1, j = 0; a >= 0 || b >= 0; j++) {
    const key = b < 0 || (a >= 0 && pos[a]! >= neg[b]!) ? pos[a]! : neg[b]!;
    while (a >= 0 && pos[a] === key) {
      tp++;
      a--;
    }
    while (b >= 0 && neg[b] === key) {
      fp++;
      b--;
    }
    tps[j] = tp;
    fps[j] = fp;
    thresholds[j] = fromKey32(key, plusZero);
  }
  return { tps, fps, thresholds };
}

/** Sorts 32-bit keys ascending in place (LSD radix, four 8-bit passes, a pass whose digit never changes skipped). */
function sortWords(keys: Uint32Array, scratch: Uint32Array): void {
  const n = keys.length;
  const counts = new Uint32Array(4 * 256);
  for (let i = 0; i < n; i++) {
    const w = keys[i]!;
    counts[w & 0xff]!++;
    counts[256 + ((w >>> 8) & 0xff)]!++;
    counts[512 + ((w >>> 16) & 0xff)]!++;
    counts[768 + (w >>> 24)]!++;
  }
  let src = keys;
  let dst = scratch.subarray(0, n);
  for (let p = 0; p < 4; p++) {
    const base = p * 256;
    let sum = 0;
    let skip = false;
    for (let d = 0; d < 256; d++) {
      const c = counts[base + d]!;
      if (c === n) skip = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (skip) continue;
    const shift = p * 8;
    for (let i = 0; i < n; i++) {
      const w = src[i]!;
      dst[counts[base + ((w >>> shift) & 0xff)]!++] = w;
    }
    [src, dst] = [dst, src];
  }
  if (src !== keys) keys.set(src);
}

/** Slots of the table {@link tiedCurve} counts in (a power of two), and how many distinct scores it takes. */
const TABLE_SLOTS = 1 << 16;
const TABLE_LIMIT = TABLE_SLOTS >>> 1;

/**
 * The unweighted curve of scores with few distinct values (rounded scores, tree ensembles,
 * k-nearest neighbours), without sorting the samples: one pass counts positives and negatives
 * per distinct score in an open-addressing table small enough for the cache, then only the
 * distinct scores are sorted. Gives up (undefined) once the scores hold more than
 * `TABLE_LIMIT` distinct values; the radix path then sorts them all. Same counts and
 * thresholds as the merge, to the last bit (counts are integers).
 */
function tiedCurve(
  codes: Uint8Array,
  isPositive: Uint8Array,
  scores: Float64Array | Float32Array,
): BinaryCurve | undefined {
  const n = scores.length;
  // Float32 scores are read through a double, so the keys (and thresholds) are the float64 path's.
  const narrow = scores instanceof Float32Array;
  const bits = narrow ? WIDE_BITS : new Uint32Array(scores.buffer, scores.byteOffset, 2 * n);
  // Per slot: key low word, key high word (0: empty; no number's key has high word 0, only
  // some NaNs', which scores never hold), negatives, positives.
  const table = new Uint32Array(4 * TABLE_SLOTS);
  let distinct = 0;
  let plusZero = false;
  for (let i = 0; i < n; i++) {
    if (narrow) WIDE[0] = scores[i]!;
    const at = narrow ? 0 : 2 * i;
    if (scoreKey(bits[at]!, bits[at + 1]!)) plusZero = true;
    const lo = KEY[0]!;
    const hi = KEY[1]!;
    const column = isPositive[codes[i]!]!;
    if (hi === 0) return undefined;
    let slot = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 16) & (TABLE_SLOTS - 1);
    for (;;) {
      const at = 4 * slot;
      const h = table[at + 1]!;
      if (h === hi && table[at] === lo) {
        table[at + 2 + column]!++;
        break;
      }
      if (h === 0) {
        if (++distinct > TABLE_LIMIT) return undefined;
        table[at] = lo;
        table[at + 1] = hi;
        table[at + 2 + column] = 1;
        break;
      }
      slot = (slot + 1) & (TABLE_SLOTS - 1);
    }
  }
  const d = distinct;
  const keys = new Uint32Array(2 * d);
  const neg = new Uint32Array(d);
  const pos = new Uint32Array(d);
  let j = 0;
  for (let slot = 0; slot < TABLE_SLOTS; slot++) {
    const at = 4 * slot;
    if (table[at + 1] === 0) continue;
    keys[2 * j] = table[at]!;
    keys[2 * j + 1] = table[at + 1]!;
    neg[j] = table[at + 2]!;
    pos[j++] = table[at + 3]!;
  }
  const index = Uint32Array.from({ length: d }, (_, i) => i);
  const sorted = sortKeyPairs(keys, new Uint32Array(2 * d), d, index);
  const k = sorted.keys;
  const order = sorted.index!;
  const tps = new Float64Array(d);
  const fps = new Float64Array(d);
  const thresholds = new Float64Array(d);
  const tb = new Uint32Array(thresholds.buffer);
  let tp = 0;
  let fp = 0;
  for (let m = 0, r = d - 1; r >= 0; m++, r--) {
    tp += pos[order[r]!]!;
    fp += neg[order[r]!]!;
    tps[m] = tp;
    fps[m] = fp;
    setThreshold(tb, m, k[2 * r]!, k[2 * r + 1]!, plusZero);
  }
  return { tps, fps, thresholds };
}

/** Writes the number whose sortable key is `lo`, `hi` at `thresholds[m]` (through its words `tb`). */
function setThreshold(tb: Uint32Array, m: number, lo: number, hi: number, plusZero: boolean): void {
  if (hi & 0x80000000) {
    tb[2 * m] = lo;
    tb[2 * m + 1] = hi & 0x7fffffff;
    // ±0 share +0's key; the merge of the sorted numbers gave −0 only when no zero was +0.
    if (lo === 0 && hi === 0x80000000 && !plusZero) tb[2 * m + 1] = 0x80000000;
  } else {
    tb[2 * m] = ~lo;
    tb[2 * m + 1] = ~hi;
  }
}

/** Inputs of a binary curve metric, read and checked: labels as codes 0 and 1 into `seen`. */
export interface BinaryInputs {
  /** 0 for the first class seen, 1 for the other. */
  codes: Uint8Array;
  /** The classes in the order they appear (at most two). */
  seen: Label[];
  /** The same, sorted. */
  classes: Label[];
  scores: Float64Array;
  weights: Float64Array | undefined;
}

export function readBinary(
  fn: string,
  yTrue: unknown,
  yScore: unknown,
  sampleWeight: Weights | undefined,
): BinaryInputs {
  const labels = binaryLabels(fn, yTrue);
  const scores = readScoresView(yScore, 'yScore', fn);
  checkLengths(fn, labels.codes, scores);
  return { ...labels, scores, weights: readWeights(sampleWeight, scores.length, fn) };
}

/** The curve of the inputs with `positive` as the positive class (no positives if it is absent). */
export function curveFor(input: BinaryInputs, positive: Label): BinaryCurve {
  const isPositive = Uint8Array.of(input.seen[0] === positive ? 1 : 0, input.seen[1] === positive ? 1 : 0);
  return codedCurve(input.codes, isPositive, input.scores, input.weights);
}

/** Stands for "no class yet": never equal to a label. */
const NONE = Symbol('none');

/**
 * Reads the labels of a binary curve metric in one pass with no per-element allocation
 * (typed arrays of 10^7 labels are common here) into codes, refusing NaN, mixed types and
 * more than two classes, which scikit-learn's curves do not support either.
 */
function binaryLabels(fn: string, values: unknown): { codes: Uint8Array; seen: Label[]; classes: Label[] } {
  if (
    typeof values !== 'object' ||
    values === null ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw invalidArgument(fn, 'yTrue must be an array of labels', values);
  }
  if (values instanceof Uint8Array) return byteLabels(fn, values);
  const a = values as ArrayLike<unknown>;
  const codes = new Uint8Array(a.length);
  let first: unknown = NONE;
  let second: unknown = NONE;
  const kind = a.length > 0 ? typeof a[0] : 'number';
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    // A label equal to a class already seen passed the checks below when it was first seen.
    if (v === first) continue;
    if (v === second) {
      codes[i] = 1;
      continue;
    }
    if (typeof v !== kind || (kind !== 'string' && (kind !== 'number' || Number.isNaN(v)))) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: yTrue[${i}] is ${String(v)}; labels are numbers or strings, not mixed`,
      );
    }
    if (first === NONE) first = v;
    else if (second === NONE) {
      second = v;
      codes[i] = 1;
    } else {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: yTrue has more than two classes; this metric needs binary targets`,
      );
    }
  }
  const seen = [first, second].filter((c) => c !== NONE) as Label[];
  return { codes, seen, classes: uniqueSorted(seen) };
}

/** {@link binaryLabels} for bytes: a table from value to code, with no check per label. */
function byteLabels(fn: string, values: Uint8Array): { codes: Uint8Array; seen: Label[]; classes: Label[] } {
  const table = new Uint8Array(256).fill(2);
  const codes = new Uint8Array(values.length);
  const seen: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let c = table[v]!;
    if (c === 2) {
      if (seen.length === 2) {
        throw new InputError(
          'INPUT_INVALID',
          `${fn}: yTrue has more than two classes; this metric needs binary targets`,
        );
      }
      c = seen.length;
      table[v] = c;
      seen.push(v);
    }
    codes[i] = c;
  }
  return { codes, seen, classes: uniqueSorted(seen) };
}

/**
 * The positive class when none is given, as scikit-learn's `_check_pos_label_consistency`:
 * labels must be {0, 1} or {-1, 1} (or one of those values alone), and the positive is 1.
 */
export function defaultPositive(fn: string, classes: readonly Label[], given: Label | undefined): Label {
  if (given !== undefined) return given;
  const ok =
    classes.every((c) => typeof c === 'number') &&
    [[0, 1], [-1, 1], [0], [-1], [1]].some(
      (set) => classes.length === set.length && classes.every((c, i) => c === set[i]),
    );
  if (!ok) {
    throw invalidArgument(
      fn,
      `yTrue takes values in ${formatLabels(classes)} and positiveLabel is not given: use labels {0, 1} or {-1, 1}, or give positiveLabel`,
      classes,
    );
  }
  return 1;
}

/** Area under the ROC curve from its counts (trapezoids; ties count half, as Mann-Whitney). */
export function aucFromCurve(c: BinaryCurve): number {
  const P = c.tps[c.tps.length - 1]!;
  const N = c.fps[c.fps.length - 1]!;
  let area = 0;
  let prevT = 0;
  let prevF = 0;
  for (let i = 0; i < c.tps.length; i++) {
    area += (c.fps[i]! - prevF) * (c.tps[i]! + prevT);
    prevT = c.tps[i]!;
    prevF = c.fps[i]!;
  }
  return area / 2 / (P * N);
}

export function requireTwoClasses(fn: string, classes: readonly Label[]): void {
  if (classes.length !== 2) {
    throw new InputError(
      'METRIC_UNDEFINED',
      classes.length < 2
        ? `${fn}: only one class present in yTrue; ROC AUC is not defined in that case`
        : `${fn}: yTrue has ${classes.length} classes; pass an n×k probability matrix with multiClass 'ovr' or 'ovo'`,
    );
  }
}
