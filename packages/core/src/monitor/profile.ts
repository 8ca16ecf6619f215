/**
 * Reference profiles: what the training or validation data looked like, per feature, in a
 * form that serialises to JSON and ships beside the model. Drift is measured against it.
 */
import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { datasetError, datasetRows } from '../evaluate/dataset';
import type { Columns, Row } from '../evaluate/types';
import { hasMarker } from '../marker';
import { flatColumns, flatRow } from './flat-row';

const MARKER = Symbol.for('modelship.profile');

export type FeatureType = 'numeric' | 'categorical';

/** One numeric feature of a profile. */
export interface NumericFeature {
  name: string;
  type: 'numeric';
  count: number;
  missing: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Distinct values, counted up to 1,000 (Evidently treats ≤ 5 as categorical). */
  unique: number;
  /** A uniform random sample of the values (up to `sampleSize`), for KS and Wasserstein. */
  sample: number[];
}

/** One categorical feature of a profile. */
export interface CategoricalFeature {
  name: string;
  type: 'categorical';
  count: number;
  missing: number;
  /** Counts per category (string form of the value). */
  categories: Record<string, number>;
}

export type FeatureProfile = NumericFeature | CategoricalFeature;

export interface ProfileOptions {
  /** Feature types by column (default: numbers are numeric, strings and booleans categorical). */
  schema?: Readonly<Record<string, FeatureType>>;
  /** Columns to leave out (the label, an id). */
  exclude?: readonly string[];
  /** Size of each numeric feature's stored sample (default 1,000). */
  sampleSize?: number;
  /** Seed of the sampling (default 0). */
  seed?: number;
}

const UNIQUE_CAP = 1000;

/** Reservoir sampling: a uniform sample of a stream, in fixed memory. */
export class Reservoir {
  readonly values: number[] = [];
  seen = 0;
  constructor(
    readonly size: number,
    private readonly random: () => number,
  ) {}

  add(v: number): void {
    this.seen++;
    if (this.values.length < this.size) this.values.push(v);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.size) this.values[j] = v;
    }
  }
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * Distinct numbers, counted up to a cap, as a `Set` would count them (+0 and −0 are one value):
 * an open-addressed table of at most twice the cap, so a repeated value costs a hash and a
 * comparison or two, not a `Set` lookup.
 */
export class DistinctCount {
  size = 0;
  private readonly keys: Float64Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  constructor(readonly cap: number) {
    let slots = 2;
    while (slots < 2 * cap) slots *= 2;
    this.keys = new Float64Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  /** Counts `v` (not NaN) if it is new and the cap is not reached. */
  add(v: number): void {
    if (this.size >= this.cap) return;
    const x = v + 0; // −0 → +0
    bits[0] = x;
    let i = Math.imul(words[0]! ^ Math.imul(words[1]!, 0x9e3779b1), 0x85ebca6b) & this.mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === x) return;
      i = (i + 1) & this.mask;
    }
    this.used[i] = 1;
    this.keys[i] = x;
    this.size++;
  }
}

/** What a profile accumulates for one feature while it reads the data. */
class FeatureAccumulator {
  count = 0;
  sum = 0;
  sq = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  readonly distinct = new DistinctCount(UNIQUE_CAP);
  readonly reservoir: Reservoir;
  readonly categories = new Map<string, number>();
  constructor(
    readonly name: string,
    public type: FeatureType | undefined,
    sampleSize: number,
    random: () => number,
  ) {
    this.reservoir = new Reservoir(sampleSize, random);
  }

  /**
   * Adds a value read from row `row`: the typed fast path for a finite number of a feature
   * that is (or becomes) numeric, the general one for anything else.
   */
  add(value: unknown, row: number): void {
    if (typeof value === 'number' && value - value === 0 && this.type !== 'categorical') {
      this.type = 'numeric';
      this.number(value);
    } else this.other(value, row);
  }

  private number(v: number): void {
    this.count++;
    this.sum += v;
    this.sq += v * v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.distinct.add(v);
    this.reservoir.add(v);
  }

  private other(value: unknown, row: number): void {
    if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return;
    this.type ??= typeof value === 'number' ? 'numeric' : 'categorical';
    if (this.type === 'numeric') {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw datasetError(
          `Profile.fromDataset: row ${row}, column '${this.name}' is ${JSON.stringify(value)}; a numeric feature needs finite numbers`,
        );
      this.number(value);
    } else {
      this.count++;
      const key = String(value);
      this.categories.set(key, (this.categories.get(key) ?? 0) + 1);
    }
  }

  feature(rows: number): FeatureProfile {
    const missing = rows - this.count; // absent, null or NaN
    if (this.type !== 'numeric')
      return {
        name: this.name,
        type: 'categorical',
        count: this.count,
        missing,
        categories: Object.fromEntries(this.categories),
      };
    const mean = this.count === 0 ? Number.NaN : this.sum / this.count;
    return {
      name: this.name,
      type: 'numeric',
      count: this.count,
      missing,
      mean,
      std: this.count === 0 ? Number.NaN : Math.sqrt(Math.max(0, this.sq / this.count - mean * mean)),
      min: this.min,
      max: this.max,
      unique: this.distinct.size,
      sample: this.reservoir.values,
    };
  }
}

/** True when `for…in` over the row lists exactly what `Object.entries` would (no inherited keys). */
function plainObject(row: object): boolean {
  const proto = Object.getPrototypeOf(row);
  return proto === Object.prototype || proto === null;
}

/**
 * Per-feature reference distributions.
 *
 * @example
 * const profile = Profile.fromDataset(trainingRows, { exclude: ['label'] });
 * await writeFile('profile.json', JSON.stringify(profile));
 * const again = Profile.fromJSON(JSON.parse(await readFile('profile.json', 'utf8')));
 */
export class Profile {
  // Declared and set in the constructor: a computed class field would make bundlers keep the
  // class (and all it uses) in every bundle, used or not.
  declare readonly [MARKER]: true;

  constructor(
    readonly rows: number,
    readonly features: readonly FeatureProfile[],
  ) {
    this[MARKER] = true;
  }

  /**
   * True for a Profile made by any copy of `@modelship/core` (another bundle, a dependency's
   * own copy), where `instanceof` would say false.
   */
  static isInstance(value: unknown): value is Profile {
    return hasMarker(value, MARKER);
  }

  feature(name: string): FeatureProfile | undefined {
    return this.features.find((f) => f.name === name);
  }

  /**
   * Profiles a data set (rows, columns or an iterable of rows). An array value (an image under
   * its input's name) is one feature per element: `image[0]`, `image[1]`, … in row-major order.
   */
  static fromDataset(
    dataset: readonly Row[] | Columns | Iterable<Row>,
    options: ProfileOptions = {},
  ): Profile {
    const sampleSize = options.sampleSize ?? 1000;
    if (!Number.isInteger(sampleSize) || sampleSize < 1)
      throw invalidArgument('Profile.fromDataset', 'sampleSize must be a positive integer', sampleSize);
    const random = seededRandom(options.seed ?? 0);
    const exclude = new Set(options.exclude ?? []);
    const rows = datasetRows(dataset, 'Profile.fromDataset') as Iterable<Row>;
    if (typeof (rows as Partial<Iterable<Row>>)[Symbol.iterator] !== 'function')
      throw invalidArgument(
        'Profile.fromDataset',
        'the data set must be synchronous (rows, columns or an iterable)',
        dataset,
      );
    const acc = new Map<string, FeatureAccumulator>();
    const newAcc = (name: string): FeatureAccumulator => {
      const a = new FeatureAccumulator(name, options.schema?.[name], sampleSize, random);
      acc.set(name, a);
      return a;
    };
    let n = 0;
    const columns = flatColumns(dataset);
    if (columns !== undefined) {
      // Columns read in place, row by row in the rows' order (so the sample draws the same
      // random numbers as rows would), without a row object per record.
      const names = Object.keys(columns).filter((name) => !exclude.has(name));
      const cols = names.map((name) => columns[name]!);
      const accs = names.map((name) => newAcc(name));
      n = columns[Object.keys(columns)[0]!]!.length;
      for (let i = 0; i < n; i++) for (let c = 0; c < cols.length; c++) accs[c]!.add(cols[c]![i], i);
    } else {
      // Rows: `for…in` walks a row's keys from V8's cache for its shape, and the accumulator of
      // the k-th key is remembered, so rows of one shape cost no lookup by name. A row holding
      // an array or another object goes on through `flatRow` from where the walk stopped
      // (the keys before it come out of `flatRow` in the same order).
      const slotNames: string[] = [];
      const slots: (FeatureAccumulator | null)[] = [];
      const slot = (k: number, name: string): FeatureAccumulator | null => {
        if (slotNames[k] === name) return slots[k]!;
        const a = exclude.has(name) ? null : (acc.get(name) ?? newAcc(name));
        slotNames[k] = name;
        slots[k] = a;
        return a;
      };
      for (const row of rows) {
        if (typeof row !== 'object' || row === null)
          throw datasetError(`Profile.fromDataset: row ${n} is not an object`);
        let k = 0;
        let nested = !plainObject(row);
        if (!nested)
          for (const name in row) {
            const value = row[name];
            if (typeof value === 'object' && value !== null) {
              nested = true;
              break;
            }
            slot(k++, name)?.add(value, n);
          }
        if (nested) {
          const entries = Object.entries(flatRow(row));
          for (; k < entries.length; k++) slot(k, entries[k]![0])?.add(entries[k]![1], n);
        }
        n++;
      }
    }
    if (n === 0) throw datasetError('Profile.fromDataset: the data set has no rows');
    const features: FeatureProfile[] = [];
    for (const a of acc.values()) features.push(a.feature(n));
    return new Profile(n, features);
  }

  toJSON(): { version: 1; rows: number; features: readonly FeatureProfile[] } {
    return { version: 1, rows: this.rows, features: this.features };
  }

  /** Reads a profile back from its JSON, checking its shape. */
  static fromJSON(json: unknown): Profile {
    const j = json as { version?: unknown; rows?: unknown; features?: unknown };
    if (
      typeof j !== 'object' ||
      j === null ||
      j.version !== 1 ||
      !Number.isInteger(j.rows) ||
      !Array.isArray(j.features)
    )
      throw invalidArgument('Profile.fromJSON', 'not a version 1 profile', json);
    for (const f of j.features as FeatureProfile[]) {
      if (typeof f?.name !== 'string' || (f.type !== 'numeric' && f.type !== 'categorical'))
        throw invalidArgument('Profile.fromJSON', 'a feature needs a name and a type', f);
      if (f.type === 'numeric' && !Array.isArray(f.sample))
        throw invalidArgument('Profile.fromJSON', `feature '${f.name}' has no sample`, f);
      if (f.type === 'categorical' && (typeof f.categories !== 'object' || f.categories === null))
        throw invalidArgument('Profile.fromJSON', `feature '${f.name}' has no categories`, f);
    }
    return new Profile(j.rows as number, j.features as FeatureProfile[]);
  }
}
