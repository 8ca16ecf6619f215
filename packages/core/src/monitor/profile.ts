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
    interface Acc {
      type: FeatureType | undefined;
      count: number;
      missing: number;
      sum: number;
      sq: number;
      min: number;
      max: number;
      distinct: Set<number>;
      reservoir: Reservoir;
      categories: Map<string, number>;
    }
    const acc = new Map<string, Acc>();
    const newAcc = (name: string, missing: number): Acc => {
      const a: Acc = {
        type: options.schema?.[name],
        count: 0,
        missing, // rows before this column appeared lacked it
        sum: 0,
        sq: 0,
        min: Number.POSITIVE_INFINITY,
        max: Number.NEGATIVE_INFINITY,
        distinct: new Set(),
        reservoir: new Reservoir(sampleSize, random),
        categories: new Map(),
      };
      acc.set(name, a);
      return a;
    };
    const add = (a: Acc, name: string, value: unknown, row: number): void => {
      if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
        a.missing++;
        return;
      }
      a.type ??= typeof value === 'number' ? 'numeric' : 'categorical';
      a.count++;
      if (a.type === 'numeric') {
        if (typeof value !== 'number' || !Number.isFinite(value))
          throw datasetError(
            `Profile.fromDataset: row ${row}, column '${name}' is ${JSON.stringify(value)}; a numeric feature needs finite numbers`,
          );
        a.sum += value;
        a.sq += value * value;
        if (value < a.min) a.min = value;
        if (value > a.max) a.max = value;
        if (a.distinct.size < UNIQUE_CAP) a.distinct.add(value);
        a.reservoir.add(value);
      } else {
        const key = String(value);
        a.categories.set(key, (a.categories.get(key) ?? 0) + 1);
      }
    };
    let n = 0;
    const columns = flatColumns(dataset);
    if (columns !== undefined) {
      // Columns read in place, row by row in the rows' order (so the sample draws the same
      // random numbers as rows would), without a row object per record.
      const names = Object.keys(columns).filter((name) => !exclude.has(name));
      const cols = names.map((name) => columns[name]!);
      const accs = names.map((name) => newAcc(name, 0));
      n = columns[Object.keys(columns)[0]!]!.length;
      for (let i = 0; i < n; i++)
        for (let c = 0; c < cols.length; c++) add(accs[c]!, names[c]!, cols[c]![i], i);
    } else {
      for (const row of rows) {
        if (typeof row !== 'object' || row === null)
          throw datasetError(`Profile.fromDataset: row ${n} is not an object`);
        for (const [name, value] of Object.entries(flatRow(row))) {
          if (exclude.has(name)) continue;
          add(acc.get(name) ?? newAcc(name, n), name, value, n);
        }
        n++;
      }
    }
    if (n === 0) throw datasetError('Profile.fromDataset: the data set has no rows');
    const features: FeatureProfile[] = [];
    for (const [name, a] of acc) {
      a.missing = n - a.count; // absent, null or NaN
      if (a.type === 'numeric') {
        const mean = a.count === 0 ? Number.NaN : a.sum / a.count;
        features.push({
          name,
          type: 'numeric',
          count: a.count,
          missing: a.missing,
          mean,
          std: a.count === 0 ? Number.NaN : Math.sqrt(Math.max(0, a.sq / a.count - mean * mean)),
          min: a.min,
          max: a.max,
          unique: a.distinct.size,
          sample: a.reservoir.values,
        });
      } else {
        features.push({
          name,
          type: 'categorical',
          count: a.count,
          missing: a.missing,
          categories: Object.fromEntries(a.categories),
        });
      }
    }
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
