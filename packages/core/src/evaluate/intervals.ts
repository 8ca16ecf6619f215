import type { BinaryCurve } from '../metrics/curve-core';

/**
 * Analytic confidence intervals: what a big evaluation uses instead of resampling its rows.
 * Each one costs a pass or two over data the point estimate already prepared (the confusion
 * matrix, the rank order), where a bootstrap costs a pass per resample. Wilson's score
 * interval for a proportion, DeLong's variance for a binary ROC AUC, and otherwise the delta
 * method in its infinitesimal-jackknife form: the variance of a metric is the sum over rows of
 * its derivative by the row's weight, squared, which is also the variance a Poisson bootstrap
 * estimates to first order.
 */

/** A two-sided interval. */
export interface Interval {
  low: number;
  high: number;
}

/** `value ± z·se`, clipped to the metric's range; undefined when the error is not finite. */
export function normalInterval(
  value: number,
  se: number,
  z: number,
  min: number,
  max: number,
): Interval | undefined {
  if (!Number.isFinite(value) || !Number.isFinite(se)) return undefined;
  return { low: Math.max(min, value - z * se), high: Math.min(max, value + z * se) };
}

/** Wilson's score interval for `x` successes in `m` trials (Wilson 1927); undefined when m is 0. */
export function wilsonInterval(x: number, m: number, z: number): Interval | undefined {
  if (!(m > 0)) return undefined;
  const p = x / m;
  const z2 = z * z;
  const centre = (p + z2 / (2 * m)) / (1 + z2 / m);
  const half = (z / (1 + z2 / m)) * Math.sqrt((p * (1 - p)) / m + z2 / (4 * m * m));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Standard error of a metric of a weighted confusion matrix (`counts`, row-major). Every row
 * in a cell has the same derivative, so the sum over rows is a sum over cells, each cell's
 * derivative taken by central differences of `metric` at that cell.
 */
export function cellsStandardError(counts: Float64Array, metric: (counts: Float64Array) => number): number {
  const at = counts.slice();
  let variance = 0;
  for (let c = 0; c < counts.length; c++) {
    const n = counts[c]!;
    if (n === 0) continue;
    const h = Math.max(1e-6, n * 1e-4);
    at[c] = n + h;
    const up = metric(at);
    at[c] = n - h;
    const down = metric(at);
    at[c] = n;
    const d = (up - down) / (2 * h);
    variance += n * d * d;
  }
  return Math.sqrt(variance);
}

/** Standard error of a mean of per-row values: the sample standard deviation over √n. */
export function meanStandardError(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return Math.sqrt(ss / (n - 1) / n);
}

/**
 * Standard error of r² = 1 − SSE/SST by the delta method: a row's derivative is
 * −(d²·SST − SSE·(y − ȳ)²)/SST² (ȳ's own derivative drops out, as SST is least at ȳ).
 */
export function r2StandardError(y: Float64Array, estimate: Float64Array): number {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (y[i]! - estimate[i]!) ** 2;
    sst += (y[i]! - mean) ** 2;
  }
  if (sst === 0) return Number.NaN;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const d = ((y[i]! - estimate[i]!) ** 2 * sst - sse * (y[i]! - mean) ** 2) / (sst * sst);
    variance += d * d;
  }
  return Math.sqrt(variance);
}

/** Rows ordered by score, highest first, with the end of each run of equal scores marked. */
export interface RankOrder {
  order: Uint32Array;
  ends: Uint8Array;
}

/**
 * DeLong's variance of a binary ROC AUC (DeLong, DeLong & Clarke-Pearson 1988) from the
 * binary curve (positives and negatives at or above each distinct score, from the top): a
 * positive's placement is the share of negatives it outranks (ties half), a negative's the
 * share of positives that outrank it; the variance is var(positive placements)/P +
 * var(negative placements)/N. Rows of one score share their placement, so one pass over the
 * distinct scores suffices.
 */
export function delongStandardError(curve: BinaryCurve): number {
  const { tps, fps } = curve;
  const runs = tps.length;
  const P = tps[runs - 1] ?? 0;
  const N = fps[runs - 1] ?? 0;
  if (P < 2 || N < 2) return Number.NaN;
  let s10 = 0;
  let ss10 = 0;
  let ss01 = 0;
  for (let g = 0; g < runs; g++) {
    const posAbove = g === 0 ? 0 : tps[g - 1]!;
    const negAbove = g === 0 ? 0 : fps[g - 1]!;
    const p = tps[g]! - posAbove;
    const q = fps[g]! - negAbove;
    const v10 = (N - negAbove - q / 2) / N;
    const v01 = (posAbove + p / 2) / P;
    s10 += p * v10;
    ss10 += p * v10 * v10;
    ss01 += q * v01 * v01;
  }
  const auc = s10 / P;
  const var10 = Math.max(0, ss10 - P * auc * auc) / (P - 1);
  const var01 = Math.max(0, ss01 - N * auc * auc) / (N - 1);
  return Math.sqrt(var10 / P + var01 / N);
}

/**
 * Adds each row's derivative of the ROC AUC (by its weight) times `scale` to `into`: a
 * positive's is (placement − AUC)/P, a negative's (placement − AUC)/N. Used where AUCs are
 * averaged (one-vs-rest), so the average's variance is the sum of the summed derivatives squared.
 */
export function addAucInfluence(
  { order, ends }: RankOrder,
  positive: Uint8Array,
  scale: number,
  into: Float64Array,
): number {
  let P = 0;
  for (let i = 0; i < positive.length; i++) P += positive[i]!;
  const N = positive.length - P;
  // The AUC first, then each run's derivative: two passes over the runs.
  let posAbove = 0;
  let negAbove = 0;
  let area = 0;
  let start = 0;
  for (let r = 0; r < order.length; r++) {
    if (!ends[r]) continue;
    let p = 0;
    for (let t = start; t <= r; t++) p += positive[order[t]!]!;
    const q = r + 1 - start - p;
    area += p * (N - negAbove - q / 2);
    posAbove += p;
    negAbove += q;
    start = r + 1;
  }
  const auc = area / (P * N);
  posAbove = 0;
  negAbove = 0;
  start = 0;
  for (let r = 0; r < order.length; r++) {
    if (!ends[r]) continue;
    let p = 0;
    for (let t = start; t <= r; t++) p += positive[order[t]!]!;
    const q = r + 1 - start - p;
    const dPos = ((N - negAbove - q / 2) / N - auc) / P;
    const dNeg = ((posAbove + p / 2) / P - auc) / N;
    for (let t = start; t <= r; t++) {
      const i = order[t]!;
      into[i] = into[i]! + scale * (positive[i] ? dPos : dNeg);
    }
    posAbove += p;
    negAbove += q;
    start = r + 1;
  }
  return auc;
}

/**
 * Standard error of average precision by the delta method. With A = Σ over positives i of
 * TP(sᵢ)/K(sᵢ) (TP and K counting the positives and all rows scored at least sᵢ) and
 * AP = A/P, a row m's derivative is (y_m·prec_m + y_m·S₁(s_m) − S₂(s_m) − AP·y_m)/P, where
 * S₁(t) and S₂(t) sum 1/K and prec/K over the positives scored at most t: one pass over the
 * binary curve's distinct scores from the bottom.
 */
export function averagePrecisionStandardError(curve: BinaryCurve): number {
  const { tps, fps } = curve;
  const runs = tps.length;
  const P = tps[runs - 1] ?? 0;
  const N = fps[runs - 1] ?? 0;
  if (P === 0 || N === 0) return Number.NaN;
  let ap = 0;
  for (let g = 0; g < runs; g++)
    ap += (tps[g]! - (g === 0 ? 0 : tps[g - 1]!)) * (tps[g]! / (tps[g]! + fps[g]!));
  ap /= P;
  let s1 = 0;
  let s2 = 0;
  let variance = 0;
  for (let g = runs - 1; g >= 0; g--) {
    const p = tps[g]! - (g === 0 ? 0 : tps[g - 1]!);
    const q = fps[g]! - (g === 0 ? 0 : fps[g - 1]!);
    const k = tps[g]! + fps[g]!;
    const prec = tps[g]! / k;
    s1 += p / k;
    s2 += (p * prec) / k;
    const dPos = (prec + s1 - s2 - ap) / P;
    const dNeg = -s2 / P;
    variance += p * dPos * dPos + q * dNeg * dNeg;
  }
  return Math.sqrt(variance);
}
