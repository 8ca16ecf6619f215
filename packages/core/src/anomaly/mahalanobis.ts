/**
 * Mahalanobis outlier scores: how far a row lies from the reference mean, in units of the
 * reference covariance. Fitted as Alibi Detect's Mahalanobis detector is defined (mean,
 * covariance with n − 1, eigendecomposition, directions with eigenvalue ≤ `minEigenvalue`
 * dropped); score = the squared length of the whitened projection of (x − mean).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { invalidArgument, ModelshipError } from '../errors';
import { BaseDetector, checkDetectorJson, type DetectorJsonBase } from './detector';
import { type NumericRows, numericMatrix } from './matrix';

export interface MahalanobisOptions {
  /** Features to use, by name (default: every numeric field of the first record, or all columns of numeric rows). */
  features?: readonly string[];
  /** Eigenvalues at or below it are directions without variance (default 1e-6). */
  minEigenvalue?: number;
  /**
   * What a singular covariance (a feature constant, or a combination of others, as one-hot
   * columns are) does: `'error'` (default) refuses to fit and names the features involved;
   * `'drop'` leaves those directions out of the score, as Alibi Detect does.
   */
  singular?: 'error' | 'drop';
}

export interface MahalanobisJson extends DetectorJsonBase {
  kind: 'mahalanobis';
  mean: number[];
  /** Row-major `features × components` whitening projection. */
  projection: number[];
  components: number;
}

export class MahalanobisDetector extends BaseDetector {
  readonly kind = 'mahalanobis';
  private readonly centred: Float64Array;

  private constructor(
    features: readonly string[],
    readonly mean: Float64Array,
    /** Row-major `features × components`: eigenvectors divided by the square root of their eigenvalue. */
    private readonly projection: Float64Array,
    /** Directions kept (the covariance's rank above `minEigenvalue`). */
    readonly components: number,
  ) {
    super(features);
    this.centred = new Float64Array(features.length);
  }

  /** Fits on reference rows: at least two, and more rows than features. */
  static fit(rows: NumericRows, options: MahalanobisOptions = {}): MahalanobisDetector {
    const where = 'MahalanobisDetector.fit';
    const minEigenvalue = options.minEigenvalue ?? 1e-6;
    if (!(typeof minEigenvalue === 'number' && minEigenvalue >= 0 && Number.isFinite(minEigenvalue)))
      throw invalidArgument(where, 'minEigenvalue must be a finite number ≥ 0', minEigenvalue);
    const singular = options.singular ?? 'error';
    if (singular !== 'error' && singular !== 'drop')
      throw invalidArgument(where, "singular must be 'error' or 'drop'", singular);
    const m = numericMatrix(rows, options.features, where);
    const n = m.rows;
    const d = m.features.length;
    if (n <= d)
      throw invalidArgument(
        where,
        `${d} features need more than ${d} reference rows for a covariance (better: 10 × ${d} or more)`,
        n,
      );
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += m.values[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j]! /= n;
    const sums = new Float64Array(d * d);
    const c = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) c[j] = m.values[i * d + j]! - mean[j]!;
      for (let a = 0; a < d; a++) {
        const ca = c[a]!;
        for (let b = a; b < d; b++) sums[a * d + b]! += ca * c[b]!;
      }
    }
    const cov = new Matrix(d, d);
    for (let a = 0; a < d; a++)
      for (let b = a; b < d; b++) {
        const v = sums[a * d + b]! / (n - 1);
        cov.set(a, b, v);
        cov.set(b, a, v);
      }
    const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
    const values = eig.realEigenvalues;
    const vectors = eig.eigenvectorMatrix;
    const keep: number[] = [];
    for (let k = 0; k < d; k++) if (values[k]! > minEigenvalue) keep.push(k);
    if (keep.length < d && (singular === 'error' || keep.length === 0)) {
      const involved = new Set<string>();
      for (let k = 0; k < d; k++) {
        if (values[k]! > minEigenvalue) continue;
        for (let j = 0; j < d; j++) if (Math.abs(vectors.get(j, k)) > 1e-6) involved.add(m.features[j]!);
      }
      throw new ModelshipError(
        'DATASET_INVALID',
        `${where}: the covariance is singular (${d - keep.length} of ${d} directions have variance ≤ ${minEigenvalue}; features involved: ${[...involved].join(', ')})` +
          (keep.length === 0
            ? ''
            : "; drop a constant or redundant feature, or pass { singular: 'drop' } to leave those directions out"),
        { details: { features: [...involved], rank: keep.length } },
      );
    }
    const projection = new Float64Array(d * keep.length);
    keep.forEach((k, col) => {
      const scale = 1 / Math.sqrt(values[k]!);
      for (let j = 0; j < d; j++) projection[j * keep.length + col] = vectors.get(j, k) * scale;
    });
    return new MahalanobisDetector(m.features, mean, projection, keep.length);
  }

  protected scoreVector(x: Float64Array): number {
    const d = this.features.length;
    const k = this.components;
    const c = this.centred;
    for (let j = 0; j < d; j++) c[j] = x[j]! - this.mean[j]!;
    let score = 0;
    for (let col = 0; col < k; col++) {
      let z = 0;
      for (let j = 0; j < d; j++) z += c[j]! * this.projection[j * k + col]!;
      score += z * z;
    }
    return score;
  }

  toJSON(): MahalanobisJson {
    return {
      ...this.baseJSON(),
      kind: 'mahalanobis',
      mean: Array.from(this.mean),
      projection: Array.from(this.projection),
      components: this.components,
    };
  }

  static fromJSON(json: unknown): MahalanobisDetector {
    const where = 'MahalanobisDetector.fromJSON';
    const j = checkDetectorJson(json, 'mahalanobis', where) as MahalanobisJson;
    const d = j.features.length;
    const k = j.components;
    if (!Number.isInteger(k) || k < 1 || k > d) throw invalidArgument(where, `components must be 1…${d}`, k);
    if (!Array.isArray(j.mean) || j.mean.length !== d || j.mean.some((v) => !Number.isFinite(v)))
      throw invalidArgument(where, `mean must hold ${d} numbers`, j.mean);
    if (
      !Array.isArray(j.projection) ||
      j.projection.length !== d * k ||
      j.projection.some((v) => !Number.isFinite(v))
    )
      throw invalidArgument(where, `projection must hold ${d * k} numbers`, j.projection);
    const det = new MahalanobisDetector(
      j.features,
      Float64Array.from(j.mean),
      Float64Array.from(j.projection),
      k,
    );
    det.restoreBase(j, where);
    return det;
  }
}
