/**
 * Data-quality checks per record, from a reference {@link Profile}: a value missing where the
 * reference (almost) never missed it, a number outside the reference range (with a tolerance),
 * a category the reference never saw, a value of the wrong type, a non-finite number. O(1) per
 * value; a clean record allocates nothing.
 */
import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import { isArrayLike } from '../monitor/flat-row';
import { Profile } from '../monitor/profile';

export type QualityRule = 'missing' | 'out_of_range' | 'unseen_category' | 'wrong_type' | 'non_finite';
export const QUALITY_RULES: readonly QualityRule[] = [
  'missing',
  'out_of_range',
  'unseen_category',
  'wrong_type',
  'non_finite',
];

/**
 * What a finding does: `count` (metrics and alerts only), `flag` (the answer carries the
 * findings), `reject` (the request is refused with `INPUT_REJECTED` naming record, field and
 * rule), `off` (the feature is not checked).
 */
export type QualityMode = 'count' | 'flag' | 'reject' | 'off';
const MODES: readonly QualityMode[] = ['count', 'flag', 'reject', 'off'];

/** One rule one value broke. */
export interface QualityFinding {
  /** The record's position in the request. */
  record: number;
  feature: string;
  rule: QualityRule;
  /** The value received (`null` for a missing one). */
  value: unknown;
  /** What the reference allows, in words. */
  expected: string;
  /** The feature's mode: what the finding does. */
  mode: Exclude<QualityMode, 'off'>;
}

export interface FeatureQualityOptions {
  mode?: QualityMode;
  /** Share of the reference range allowed beyond its minimum and maximum (default: the checker's). */
  rangeTolerance?: number;
}

export interface DataQualityOptions {
  /** The mode of every feature not named in `features` (default `count`). */
  mode?: QualityMode;
  /** Per feature: its own mode and tolerance. */
  features?: Readonly<Record<string, FeatureQualityOptions>>;
  /**
   * Share of the reference range (max − min) allowed beyond each end before a number is out of
   * range (default 0.1; 0 holds values to the exact reference range).
   */
  rangeTolerance?: number;
  /**
   * A missing value is a finding when the feature was missing in at most this share of the
   * reference rows (default 0.01: "never or almost never missing").
   */
  missingShare?: number;
}

interface NumericCheck {
  name: string;
  type: 'numeric';
  mode: Exclude<QualityMode, 'off'>;
  low: number;
  high: number;
  expected: string;
  checkMissing: boolean;
}
interface CategoricalCheck {
  name: string;
  type: 'categorical';
  mode: Exclude<QualityMode, 'off'>;
  categories: Set<string>;
  expected: string;
  checkMissing: boolean;
}
type Check = NumericCheck | CategoricalCheck;

function checkShare(where: string, what: string, v: unknown, max = Number.POSITIVE_INFINITY): number {
  if (typeof v !== 'number' || !(v >= 0) || v > max)
    throw invalidArgument(where, `${what} must be a number from 0 to ${max}`, v);
  return v;
}

export class DataQualityChecker {
  private readonly checks: Check[] = [];

  constructor(
    readonly profile: Profile,
    options: DataQualityOptions = {},
  ) {
    const where = 'DataQualityChecker';
    if (!Profile.isInstance(profile)) throw invalidArgument(where, 'expected a Profile', profile);
    const mode = options.mode ?? 'count';
    if (!MODES.includes(mode)) throw invalidArgument(where, `mode must be one of ${MODES.join(', ')}`, mode);
    const tolerance = checkShare(where, 'rangeTolerance', options.rangeTolerance ?? 0.1);
    const missingShare = checkShare(where, 'missingShare', options.missingShare ?? 0.01, 1);
    const perFeature = options.features ?? {};
    if (typeof perFeature !== 'object' || perFeature === null)
      throw invalidArgument(where, 'features must be an object of feature options', perFeature);
    for (const name of Object.keys(perFeature))
      if (profile.feature(name) === undefined)
        throw invalidArgument(
          where,
          `feature '${name}' is not in the profile (features: ${profile.features.map((f) => f.name).join(', ')})`,
          name,
        );
    for (const f of profile.features) {
      const own = Object.hasOwn(perFeature, f.name) ? perFeature[f.name]! : {};
      const m = own.mode ?? mode;
      if (!MODES.includes(m))
        throw invalidArgument(where, `feature '${f.name}': mode must be one of ${MODES.join(', ')}`, m);
      if (m === 'off') continue;
      const checkMissing = f.count + f.missing > 0 && f.missing / (f.count + f.missing) <= missingShare;
      if (f.type === 'numeric') {
        if (f.count === 0) continue; // never seen: nothing to hold it to
        const tol = checkShare(where, `feature '${f.name}': rangeTolerance`, own.rangeTolerance ?? tolerance);
        const slack = tol * (f.max - f.min);
        this.checks.push({
          name: f.name,
          type: 'numeric',
          mode: m,
          low: f.min - slack,
          high: f.max + slack,
          expected: `a finite number in [${round(f.min - slack)}, ${round(f.max + slack)}]`,
          checkMissing,
        });
      } else {
        const categories = new Set(Object.keys(f.categories));
        const shown = [...categories].slice(0, 10).join(', ') + (categories.size > 10 ? ', …' : '');
        this.checks.push({
          name: f.name,
          type: 'categorical',
          mode: m,
          categories,
          expected: `one of the ${categories.size} reference categories (${shown})`,
          checkMissing,
        });
      }
    }
  }

  /** The features checked, in profile order. */
  get features(): string[] {
    return this.checks.map((c) => c.name);
  }

  /**
   * Checks records (field → value; array fields as `image[0]`, …): every finding, in record
   * and profile order; an empty array when all are clean.
   */
  check(records: readonly Row[]): QualityFinding[] {
    if (!Array.isArray(records))
      throw invalidArgument('DataQualityChecker.check', 'records must be an array', records);
    let findings: QualityFinding[] | undefined;
    for (let r = 0; r < records.length; r++) {
      const record = records[r];
      if (typeof record !== 'object' || record === null || Array.isArray(record))
        throw invalidArgument('DataQualityChecker.check', `record ${r} is not an object`, record);
      for (const c of this.checks) {
        const v = fieldValue(record, c.name);
        const rule = ruleBroken(c, v);
        if (rule === undefined) continue;
        findings ??= [];
        findings.push(finding(r, c, rule, v));
      }
    }
    return findings ?? NONE;
  }

  /** Where each checked feature sits among `features` (−1 where absent), for {@link checkFlat}. */
  columnsOf(features: readonly string[]): Int32Array {
    const index = new Map(features.map((f, i) => [f, i]));
    return Int32Array.from(this.checks, (c) => index.get(c.name) ?? -1);
  }

  /**
   * Checks `rows` rows of `width` values each, row-major in `data` (a tensor's data), the
   * checked features at `columns` (from {@link columnsOf}). Allocates nothing for clean rows.
   */
  checkFlat(data: ArrayLike<unknown>, rows: number, width: number, columns: Int32Array): QualityFinding[] {
    let findings: QualityFinding[] | undefined;
    const checks = this.checks;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      for (let k = 0; k < checks.length; k++) {
        const i = columns[k]!;
        if (i < 0) continue;
        const c = checks[k]!;
        const raw = data[base + i];
        const v = typeof raw === 'bigint' ? Number(raw) : raw;
        const rule = ruleBroken(c, v);
        if (rule === undefined) continue;
        findings ??= [];
        findings.push(finding(r, c, rule, v));
      }
    }
    return findings ?? NONE;
  }

  /**
   * Checks numeric rows whose values follow the profile's feature order (a tensor's rows, as a
   * server without a pipeline receives them).
   */
  checkRows(rows: readonly ArrayLike<unknown>[], features: readonly string[]): QualityFinding[] {
    // Laid out as one matrix (a short row's missing values undefined), then checked as a tensor is.
    const width = features.length;
    const data = new Array<unknown>(rows.length * width);
    rows.forEach((row, r) => {
      for (let j = 0; j < width && j < row.length; j++) data[r * width + j] = row[j];
    });
    return this.checkFlat(data, rows.length, width, this.columnsOf(features));
  }
}

const NONE: QualityFinding[] = [];
Object.freeze(NONE);

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/** A record's value for a feature, reading `name[i]` from an array field. */
function fieldValue(record: Row, name: string): unknown {
  if (Object.hasOwn(record, name)) return record[name];
  const open = name.lastIndexOf('[');
  if (open > 0 && name.endsWith(']')) {
    const field = record[name.slice(0, open)];
    if (isArrayLike(field)) {
      const flat = flatten(field);
      return flat[Number(name.slice(open + 1, -1))];
    }
  }
  return undefined;
}

function flatten(value: ArrayLike<unknown>): ArrayLike<unknown> {
  if (!Array.isArray(value) || !value.some(isArrayLike)) return value;
  return (value as unknown[]).flat(Number.POSITIVE_INFINITY);
}

function finding(record: number, c: Check, rule: QualityRule, v: unknown): QualityFinding {
  return {
    record,
    feature: c.name,
    rule,
    value: v ?? null,
    expected: rule === 'missing' ? 'a value (the reference never missed it)' : c.expected,
    mode: c.mode,
  };
}

function ruleBroken(c: Check, v: unknown): QualityRule | undefined {
  if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v)))
    return c.checkMissing ? 'missing' : undefined;
  if (c.type === 'numeric') {
    if (typeof v !== 'number') return 'wrong_type';
    if (!Number.isFinite(v)) return 'non_finite';
    return v < c.low || v > c.high ? 'out_of_range' : undefined;
  }
  if (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol') return 'wrong_type';
  if (typeof v === 'number' && !Number.isFinite(v)) return 'non_finite';
  return c.categories.has(String(v)) ? undefined : 'unseen_category';
}
