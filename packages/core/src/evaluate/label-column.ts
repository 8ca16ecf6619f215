import type { Label } from '../metrics/labels';

/** Class codes, one per row: bytes while there are at most 256 classes, wider after. */
export type Codes = Uint8Array | Uint16Array | Int32Array;

/** Past this many distinct numeric labels, a column keeps the numbers themselves (a regression target). */
const MAX_NUMERIC_CODES = 1 << 16;
/** Up to this many distinct labels are found by a scan rather than the Map. */
const SCAN = 8;

/**
 * An evaluation's labels (true or predicted), one per row, kept as small-integer codes into a
 * table of the distinct labels (first seen first): a byte a row for a classification, where a
 * `Label[]` costs eight and lives on the V8 heap. A column of more than 65,536 distinct numbers
 * is a regression target: it then holds the numbers as float64. Labels compare as the Set and
 * Map compare them (SameValueZero: −0 is 0); the table keeps the first value seen.
 */
export class LabelColumn {
  private codes: Codes = new Uint8Array(1024);
  private values: Float64Array | undefined;
  private readonly index = new Map<Label, number>();
  /** Code → label, first seen first; empty once the column holds numbers (see {@link numbers}). */
  readonly table: Label[] = [];
  length = 0;
  /** True when numbers and strings were both pushed. */
  mixed = false;
  private last: Label | undefined;
  private lastCode = -1;

  /** `numbersPastCodes` false keeps codes however many distinct numbers there are. */
  constructor(private readonly numbersPastCodes = true) {}

  /** Appends one label. */
  push(v: Label): void {
    if (this.values !== undefined) {
      this.pushValue(v);
      return;
    }
    let code: number;
    if (v === this.last && this.lastCode >= 0) code = this.lastCode;
    else {
      code = this.codeOf(v);
      this.last = v;
      this.lastCode = code;
    }
    if (this.values !== undefined) {
      this.pushValue(v);
      return;
    }
    if (this.length === this.codes.length) this.codes = grown(this.codes, this.codes.length * 2);
    this.codes[this.length++] = code;
  }

  private codeOf(v: Label): number {
    const t = this.table;
    if (t.length <= SCAN) {
      for (let c = 0; c < t.length; c++) if (t[c] === v) return c;
    }
    const known = this.index.get(v);
    if (known !== undefined) return known;
    const code = t.length;
    if (t.length > 0 && typeof v !== typeof t[0]) this.mixed = true;
    if (code === MAX_NUMERIC_CODES && this.numbersPastCodes && typeof v === 'number' && !this.mixed) {
      this.toValues();
      return -1;
    }
    if (code === 256 && this.codes instanceof Uint8Array) this.codes = widen(this.codes, Uint16Array);
    else if (code === 65_536 && this.codes instanceof Uint16Array) this.codes = widen(this.codes, Int32Array);
    t.push(v);
    this.index.set(v, code);
    return code;
  }

  /** From codes to the numbers themselves (every label so far is a number). */
  private toValues(): void {
    const values = new Float64Array(Math.max(1024, this.codes.length));
    for (let i = 0; i < this.length; i++) values[i] = this.table[this.codes[i]!] as number;
    this.values = values;
    this.codes = new Uint8Array(0);
    this.table.length = 0;
    this.index.clear();
  }

  private pushValue(v: Label): void {
    if (typeof v !== 'number') this.mixed = true;
    let values = this.values!;
    if (this.length === values.length) {
      const next = new Float64Array(values.length * 2);
      next.set(values);
      this.values = values = next;
    }
    values[this.length++] = typeof v === 'number' ? v : Number.NaN;
  }

  /** The codes, one per row (undefined when the column holds numbers). */
  codeView(): Codes | undefined {
    return this.values === undefined ? this.codes.subarray(0, this.length) : undefined;
  }

  /** The numbers of a column past the code limit (undefined while it holds codes). */
  numbers(): Float64Array | undefined {
    return this.values?.subarray(0, this.length);
  }

  /** The label of row `i`. */
  at(i: number): Label {
    return this.values !== undefined ? this.values[i]! : this.table[this.codes[i]!]!;
  }

  /** The labels of the first `length` rows as an array (for the paths that need one). */
  toArray(): Label[] {
    const out = new Array<Label>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }

  /** The kind of the first label, as `typeof` gives it ('number' for an empty column). */
  kind(): 'number' | 'string' {
    if (this.length === 0) return 'number';
    return typeof this.at(0) === 'string' ? 'string' : 'number';
  }
}

function grown(codes: Codes, size: number): Codes {
  const next = new (codes.constructor as new (n: number) => Codes)(size);
  next.set(codes);
  return next;
}

function widen(codes: Codes, to: Uint16ArrayConstructor | Int32ArrayConstructor): Codes {
  const next = new to(codes.length);
  next.set(codes);
  return next;
}
