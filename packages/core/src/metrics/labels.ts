import { describe, InputError, invalidArgument } from '../errors';

/** A class label: a number or a string, as scikit-learn accepts. */
export type Label = number | string;

/** Labels for every sample: a plain array of numbers or strings, or a typed array. */
export type LabelArray = ArrayLike<number> | readonly Label[];

/** Per-sample weights. */
export type Weights = ArrayLike<number>;

/** Reads labels into a plain array, refusing NaN, mixed strings and numbers, and non-arrays. */
export function readLabels(values: unknown, name: string, fn: string): Label[] {
  if (
    typeof values !== 'object' ||
    values === null ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw invalidArgument(fn, `${name} must be an array of labels`, values);
  }
  const a = values as ArrayLike<unknown>;
  const out = new Array<Label>(a.length);
  let strings = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v === 'string') strings++;
    else if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${describe(v)}; labels are numbers or strings`,
      );
    }
    out[i] = v as Label;
  }
  if (strings > 0 && strings < a.length) {
    throw new InputError('INPUT_INVALID', `${fn}: ${name} mixes string and number labels`);
  }
  return out;
}

/** Reads scores or probabilities, refusing anything that is not a finite number. */
export function readScores(values: unknown, name: string, fn: string): Float64Array {
  if (
    typeof values !== 'object' ||
    values === null ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw invalidArgument(fn, `${name} must be an array of numbers`, values);
  }
  const a = values as ArrayLike<unknown>;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${describe(v)}; finite numbers are required`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * {@link readScores} without the copy when `values` is already a Float64Array (checked, then
 * returned as it is): for callers that only read the scores.
 */
export function readScoresView(values: unknown, name: string, fn: string): Float64Array {
  if (!(values instanceof Float64Array)) return readScores(values, name, fn);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${describe(v)}; finite numbers are required`,
      );
    }
  }
  return values;
}

/**
 * Classes met while reading labels into codes, in order of first appearance; one list can
 * serve two arrays (true and predicted labels) so both are coded against the same classes.
 * Labels equal to `===` are one class (so −0 and +0 are).
 */
export class LabelCoder {
  readonly classes: Label[] = [];
  private index: Map<Label, number> | undefined;

  /** The code of `label`, adding it as a new class when unseen. */
  code(label: Label): number {
    const c = this.classes;
    if (this.index === undefined) {
      for (let j = 0; j < c.length; j++) if (c[j] === label) return j;
      c.push(label);
      if (c.length > FEW) this.index = new Map(c.map((x, j) => [x, j]));
      return c.length - 1;
    }
    let j = this.index.get(label);
    if (j === undefined) {
      j = c.length;
      c.push(label);
      this.index.set(label, j);
    }
    return j;
  }
}

/** Never equal to a label. */
const NOT_A_LABEL = Symbol('not a label');

/** Labels read by {@link readCodes}. */
export interface LabelCodes {
  /** Each label's index in the coder's `classes` (bytes for byte labels: at most 256 classes). */
  codes: Int32Array | Uint8Array;
  /** The first index of a number label that is not an integer, or −1. */
  nonInteger: number;
}

/**
 * Reads labels as {@link readLabels} does (the same checks and messages, in the same order)
 * into codes against `coder`, in one pass with no per-element allocation; byte arrays are
 * looked up in a table.
 */
export function readCodes(values: unknown, name: string, fn: string, coder: LabelCoder): LabelCodes {
  if (
    typeof values !== 'object' ||
    values === null ||
    typeof (values as ArrayLike<unknown>).length !== 'number'
  ) {
    throw invalidArgument(fn, `${name} must be an array of labels`, values);
  }
  const n = (values as ArrayLike<unknown>).length;
  if (values instanceof Uint8Array || values instanceof Int8Array || values instanceof Uint8ClampedArray) {
    // Every value is an integer in a range of 256: a table from the byte to the code, read
    // through one Uint8Array view so the loop sees one array type. The codes are bytes too: a
    // quarter of the fresh memory of 32-bit codes, which costs more to touch than the loop.
    const bytes = new Uint8Array(values.buffer, values.byteOffset, n);
    const codes = new Uint8Array(n);
    const signed = values instanceof Int8Array;
    const table = new Int32Array(256).fill(-1);
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      let c = table[b]!;
      if (c < 0) {
        c = coder.code(signed ? (b << 24) >> 24 : b);
        table[b] = c;
      }
      codes[i] = c;
    }
    return { codes, nonInteger: -1 };
  }
  const codes = new Int32Array(n);
  const a = values as ArrayLike<unknown>;
  let strings = 0;
  let nonInteger = -1;
  // The previous label and its code: runs of one class skip the lookup and the checks.
  let last: unknown = NOT_A_LABEL;
  let lastCode = -1;
  let lastString = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v === last) {
      codes[i] = lastCode;
      strings += lastString;
      continue;
    }
    lastString = typeof v === 'string' ? 1 : 0;
    if (lastString === 1) strings++;
    else if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${describe(v)}; labels are numbers or strings`,
      );
    } else if (nonInteger < 0 && !Number.isInteger(v)) nonInteger = i;
    lastCode = coder.code(v as Label);
    last = v;
    codes[i] = lastCode;
  }
  if (strings > 0 && strings < n) {
    throw new InputError('INPUT_INVALID', `${fn}: ${name} mixes string and number labels`);
  }
  return { codes, nonInteger };
}

/** Labels given as an 8-bit typed array, seen as bytes, with the labels that occur. */
export interface ByteLabels {
  /** The labels' bytes (an Int8Array's as two's complement). */
  bytes: Uint8Array;
  /** Each byte's label (−1 for 0xff of an Int8Array). */
  labelOf: (b: number) => number;
  /** The bytes that occur, ascending. */
  present: number[];
}

/**
 * An 8-bit typed array of labels read in place: one pass over the bytes marks which occur,
 * so a caller needs no array of codes (a fresh n-element array costs more to touch than the
 * pass that fills it). Undefined for any other array.
 */
export function byteLabels(values: unknown): ByteLabels | undefined {
  if (!(values instanceof Uint8Array || values instanceof Int8Array || values instanceof Uint8ClampedArray))
    return undefined;
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.length);
  const seen = new Uint8Array(256);
  for (let i = 0; i < bytes.length; i++) seen[bytes[i]!] = 1;
  const present: number[] = [];
  for (let b = 0; b < 256; b++) if (seen[b] === 1) present.push(b);
  const labelOf = values instanceof Int8Array ? (b: number) => (b << 24) >> 24 : (b: number) => b;
  return { bytes, labelOf, present };
}

/** Up to this many distinct labels are looked up in a short list rather than a Set or Map. */
const FEW = 16;

/** Sorted distinct labels, as `numpy.unique` orders them (numbers ascending, strings by code unit). */
export function uniqueSorted(...lists: readonly (readonly Label[])[]): Label[] {
  // Labels are usually a handful of classes repeated n times: a short list beats hashing them.
  const few: Label[] = [];
  let set: Set<Label> | undefined;
  for (const l of lists) {
    for (let i = 0; i < l.length; i++) {
      const v = l[i]!;
      if (set !== undefined) set.add(v);
      else if (!few.includes(v)) {
        few.push(v);
        if (few.length > FEW) set = new Set(few);
      }
    }
  }
  const out = set === undefined ? few : [...set];
  return typeof out[0] === 'number' ? (out as number[]).sort((a, b) => a - b) : (out as string[]).sort();
}

/** Throws unless the arrays have the same length, naming both lengths as scikit-learn does. */
export function checkLengths(fn: string, ...arrays: { length: number }[]): void {
  const lengths = arrays.map((a) => a.length);
  if (lengths.some((l) => l !== lengths[0])) {
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: inputs have inconsistent numbers of samples: [${lengths.join(', ')}]`,
    );
  }
}

/** Reads `sampleWeight` (default: all ones), checking its length and values. */
export function readWeights(values: Weights | undefined, n: number, fn: string): Float64Array | undefined {
  if (values === undefined) return undefined;
  const w = readScores(values, 'sampleWeight', fn);
  if (w.length !== n)
    throw new InputError('INPUT_INVALID', `${fn}: sampleWeight has ${w.length} values for ${n} samples`);
  return w;
}

/** Refuses option names a function does not know, so a typo is not silently ignored. */
export function checkOptions(fn: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(fn, 'options must be an object', options);
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw invalidArgument(fn, `unknown option '${key}' (known: ${known.join(', ')})`, key);
  }
}

/**
 * Refuses labels that are continuous values, as scikit-learn's "can't handle a mix of
 * continuous and binary targets": numeric labels must be integers.
 */
export function checkDiscrete(labels: Label[], name: string, fn: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (typeof v === 'number' && !Number.isInteger(v)) {
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${v}; classification metrics need discrete labels, not continuous values`,
      );
    }
  }
}

/** Maps each label to its index in `classes` (-1 when absent; the first index when repeated). */
export function encode(labels: readonly Label[], classes: readonly Label[]): Int32Array {
  const out = new Int32Array(labels.length);
  if (classes.length <= FEW && !classes.some((c) => Number.isNaN(c))) {
    // indexOf is ===, which agrees with the Map's SameValueZero for every label but NaN.
    for (let i = 0; i < labels.length; i++) out[i] = classes.indexOf(labels[i]!);
    return out;
  }
  const index = new Map<Label, number>();
  classes.forEach((c, i) => {
    if (!index.has(c)) index.set(c, i);
  });
  for (let i = 0; i < labels.length; i++) out[i] = index.get(labels[i]!) ?? -1;
  return out;
}

/** Formats a label list the way scikit-learn's messages do. */
export function formatLabels(labels: readonly Label[]): string {
  return `[${labels.map((l) => (typeof l === 'string' ? `'${l}'` : String(l))).join(', ')}]`;
}
