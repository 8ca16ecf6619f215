/**
 * What every outlier detector shares: a score per row (higher is more unusual), a threshold
 * taken from reference scores at a chosen false-positive rate, and a p-value per score.
 */
import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import { type NumericRows, numericMatrix, readVector } from './matrix';

/** Reference scores kept for p-values: all of them up to this many, else evenly spaced order statistics. */
export const MAX_REFERENCE_SCORES = 10_000;

/** The JSON every detector writes: its kind, features, threshold and reference scores, then its own fields. */
export interface DetectorJsonBase {
  version: 1;
  kind: string;
  features: string[];
  threshold: number | null;
  fpr: number | null;
  referenceScores: number[];
}

/** A fitted detector as the Monitor and the Deployer use it. */
export interface OutlierDetector {
  readonly kind: string;
  readonly features: readonly string[];
  /** Scores at or above it are outliers; undefined until `inferThreshold` (or given). */
  readonly threshold: number | undefined;
  /** The score of one record or numeric row; throws `INVALID_ARGUMENT` naming a missing or non-finite feature. */
  score(row: Row | ArrayLike<number>): number;
  /**
   * The score of a vector already in feature order; NaN when a value is not a finite number
   * (the hot path of a screen: no checks beyond that, no allocation).
   */
  scoreValues(x: Float64Array): number;
  /**
   * The scores of `rows` vectors in feature order laid end to end in `values` (row-major,
   * `rows × features.length`), written to `out` (default: a new array) and returned; NaN for a
   * row with a value that is not a finite number. The same numbers as `scoreValues` row by row;
   * an isolation forest scores a batch tree by tree, several times faster than one at a time.
   */
  scoreRows(values: Float64Array, rows: number, out?: Float64Array): Float64Array;
  /** (1 + #{reference scores ≥ score}) / (n + 1): small for scores few reference rows reach. */
  pValue(score: number): number;
  toJSON(): DetectorJsonBase;
}

/** numpy's `quantile(…, method='higher')` of sorted values. */
export function higherQuantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.ceil(q * (sorted.length - 1))]!;
}

export abstract class BaseDetector implements OutlierDetector {
  abstract readonly kind: string;
  threshold: number | undefined;
  /** The false-positive rate the threshold was inferred at, if it was. */
  fpr: number | undefined;
  protected reference: Float64Array = new Float64Array(0);
  private readonly scratch: Float64Array;

  constructor(readonly features: readonly string[]) {
    this.scratch = new Float64Array(features.length);
  }

  /** The score of a feature vector already read and checked. */
  protected abstract scoreVector(x: Float64Array): number;

  abstract toJSON(): DetectorJsonBase;

  score(row: Row | ArrayLike<number>): number {
    if (typeof row !== 'object' || row === null)
      throw invalidArgument(`${this.kind}.score`, 'a row must be a record or an array of numbers', row);
    const bad = readVector(row, this.features, this.scratch);
    if (bad !== undefined)
      throw invalidArgument(
        `${this.kind}.score`,
        `feature '${bad}' must be a finite number (features: ${this.features.join(', ')})`,
        Array.isArray(row) || ArrayBuffer.isView(row) ? row : (row as Row)[bad],
      );
    return this.scoreVector(this.scratch);
  }

  scoreValues(x: Float64Array): number {
    for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j]!)) return Number.NaN;
    return this.scoreVector(x);
  }

  scoreRows(values: Float64Array, rows: number, out: Float64Array = new Float64Array(rows)): Float64Array {
    const where = `${this.kind}.scoreRows`;
    const d = this.features.length;
    if (!(values instanceof Float64Array))
      throw invalidArgument(where, 'values must be a Float64Array', values);
    if (!Number.isInteger(rows) || rows < 0 || rows * d > values.length)
      throw invalidArgument(
        where,
        `rows must be an integer from 0 to ${Math.floor(values.length / d)} (values holds ${values.length} numbers, ${d} per row)`,
        rows,
      );
    if (!(out instanceof Float64Array) || out.length < rows)
      throw invalidArgument(where, `out must be a Float64Array of at least ${rows} numbers`, out);
    this.scoreMatrix(values, rows, out);
    for (let i = 0; i < rows; i++) {
      for (let j = i * d; j < (i + 1) * d; j++) {
        if (!Number.isFinite(values[j]!)) {
          out[i] = Number.NaN;
          break;
        }
      }
    }
    return out;
  }

  /** Scores of many rows, in order. */
  scoreAll(rows: NumericRows): Float64Array {
    const m = numericMatrix(rows, this.features, `${this.kind}.scoreAll`);
    const out = new Float64Array(m.rows);
    this.scoreMatrix(m.values, m.rows, out);
    return out;
  }

  /**
   * `out[i]` = the score of row i of `values` (`rows × features`, row-major), whatever its
   * values; one row at a time unless a detector has a faster way.
   */
  protected scoreMatrix(values: Float64Array, rows: number, out: Float64Array): void {
    const d = this.features.length;
    const x = this.scratch;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < d; j++) x[j] = values[i * d + j]!;
      out[i] = this.scoreVector(x);
    }
  }

  /**
   * Sets the threshold to the (1 − fpr) quantile ('higher' interpolation) of the scores of
   * `rows`, held-out rows from the reference population, and keeps those scores for p-values.
   * `fpr` below 1 / rows is refused: no quantile of so few rows reaches it.
   */
  inferThreshold(rows: NumericRows, options: { fpr: number }): number {
    const fpr = options?.fpr;
    const where = `${this.kind}.inferThreshold`;
    if (typeof fpr !== 'number' || !(fpr > 0 && fpr < 1))
      throw invalidArgument(where, 'fpr must be a number strictly between 0 and 1', fpr);
    const scores = this.scoreAll(rows).sort();
    if (fpr < 1 / scores.length)
      throw invalidArgument(
        where,
        `fpr ${fpr} needs at least ${Math.ceil(1 / fpr)} rows, there are ${scores.length}`,
        fpr,
      );
    this.setReference(scores);
    this.threshold = higherQuantile(scores, 1 - fpr);
    this.fpr = fpr;
    return this.threshold;
  }

  pValue(score: number): number {
    const ref = this.reference;
    if (ref.length === 0)
      throw invalidArgument(`${this.kind}.pValue`, 'no reference scores: call inferThreshold first', score);
    if (Number.isNaN(score)) throw invalidArgument(`${this.kind}.pValue`, 'the score is NaN', score);
    // first index with ref[i] >= score
    let lo = 0;
    let hi = ref.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ref[mid]! < score) lo = mid + 1;
      else hi = mid;
    }
    return (1 + ref.length - lo) / (ref.length + 1);
  }

  /** True when the row's score reaches the threshold. */
  isOutlier(row: Row | ArrayLike<number>): boolean {
    if (this.threshold === undefined)
      throw invalidArgument(`${this.kind}.isOutlier`, 'no threshold: call inferThreshold or set one', row);
    return this.score(row) >= this.threshold;
  }

  protected setReference(sorted: Float64Array): void {
    if (sorted.length <= MAX_REFERENCE_SCORES) {
      this.reference = sorted;
      return;
    }
    const kept = new Float64Array(MAX_REFERENCE_SCORES);
    for (let i = 0; i < MAX_REFERENCE_SCORES; i++)
      kept[i] = sorted[Math.round((i * (sorted.length - 1)) / (MAX_REFERENCE_SCORES - 1))]!;
    this.reference = kept;
  }

  protected baseJSON(): DetectorJsonBase {
    return {
      version: 1,
      kind: this.kind,
      features: [...this.features],
      threshold: this.threshold ?? null,
      fpr: this.fpr ?? null,
      referenceScores: Array.from(this.reference),
    };
  }

  protected restoreBase(json: DetectorJsonBase, where: string): void {
    if (json.threshold !== null && !Number.isFinite(json.threshold))
      throw invalidArgument(where, 'threshold must be a number or null', json.threshold);
    if (!Array.isArray(json.referenceScores) || json.referenceScores.some((s) => !Number.isFinite(s)))
      throw invalidArgument(where, 'referenceScores must be an array of numbers', json.referenceScores);
    this.threshold = json.threshold ?? undefined;
    this.fpr = json.fpr ?? undefined;
    this.reference = Float64Array.from(json.referenceScores).sort();
  }
}

/** Checks the shared part of a detector's JSON. */
export function checkDetectorJson(json: unknown, kind: string, where: string): DetectorJsonBase {
  const j = json as Partial<DetectorJsonBase> | null;
  if (typeof j !== 'object' || j === null || j.version !== 1 || j.kind !== kind)
    throw invalidArgument(where, `not a version 1 ${kind} detector`, json);
  if (!Array.isArray(j.features) || j.features.length === 0 || j.features.some((f) => typeof f !== 'string'))
    throw invalidArgument(where, 'features must be an array of names', j.features);
  return j as DetectorJsonBase;
}
