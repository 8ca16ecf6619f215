/**
 * The special functions behind the Evaluator's p-values (and the Monitor's drift tests):
 * log-gamma, the regularised incomplete gamma functions, erfc, the normal and chi-squared
 * tails and the exact binomial test. Textbook algorithms, checked against SciPy 1.10
 * (test/golden/make_stats_golden.py).
 */
import { invalidArgument } from '../errors';

function finite(fn: string, name: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw invalidArgument(fn, `${name} must be a number`, v);
}

// Lanczos approximation, g = 7, nine terms: about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.9189385332046728;

/** log Γ(x) for x > 0, as `scipy.special.gammaln`. */
export function logGamma(x: number): number {
  finite('logGamma', 'x', x);
  if (!(x > 0)) throw invalidArgument('logGamma', 'x must be positive', x);
  if (x === 1 || x === 2) return 0;
  if (x < 0.5) {
    // Reflection keeps the series in the range where it is accurate.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPSILON = 1e-16;
const MAX_ITERATIONS = 100_000;

/** P(a, x) by its power series; converges fast for x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by its continued fraction (modified Lentz); converges fast for x ≥ a + 1. */
function gammaFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

function checkGamma(fn: string, a: number, x: number): void {
  finite(fn, 'a', a);
  finite(fn, 'x', x);
  if (!(a > 0)) throw invalidArgument(fn, 'a must be positive', a);
  if (x < 0) throw invalidArgument(fn, 'x must be non-negative', x);
}

/** The regularised lower incomplete gamma function P(a, x), as `scipy.special.gammainc`. */
export function gammaP(a: number, x: number): number {
  checkGamma('gammaP', a, x);
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaFraction(a, x);
}

/**
 * The regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x), as
 * `scipy.special.gammaincc`. Computed directly in the tail, so tiny values keep their digits.
 */
export function gammaQ(a: number, x: number): number {
  checkGamma('gammaQ', a, x);
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaFraction(a, x);
}

/** The complementary error function, as `scipy.special.erfc`, accurate deep into the tail. */
export function erfc(x: number): number {
  finite('erfc', 'x', x);
  if (x === 0) return 1;
  return x > 0 ? gammaQ(0.5, x * x) : 1 + gammaP(0.5, x * x);
}

/** The standard normal CDF Φ(z), as `scipy.stats.norm.cdf`. */
export function normalCdf(z: number): number {
  finite('normalCdf', 'z', z);
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The standard normal upper tail 1 − Φ(z), as `scipy.stats.norm.sf`, without cancellation for large z. */
export function normalSf(z: number): number {
  finite('normalSf', 'z', z);
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * The standard normal quantile Φ⁻¹(p), as `scipy.stats.norm.ppf`: Acklam's rational
 * approximation refined by one Halley step.
 */
export function normalQuantile(p: number): number {
  finite('normalQuantile', 'p', p);
  if (p < 0 || p > 1) throw invalidArgument('normalQuantile', 'p must lie in [0, 1]', p);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  // Halley steps on whichever tail keeps the error relative (the lower tail below 1/2).
  for (let i = 0; i < 2; i++) {
    // Φ(x) − p, computed from the upper tail above the median so it does not cancel.
    const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
    const density = Math.exp(-0.5 * x * x - HALF_LOG_2PI);
    if (density === 0) break;
    const u = e / density;
    x -= u / (1 + (x * u) / 2);
  }
  return x;
}

/** The chi-squared survival function, as `scipy.stats.chi2.sf(x, df)`. */
export function chiSquaredSf(x: number, df: number): number {
  finite('chiSquaredSf', 'x', x);
  finite('chiSquaredSf', 'df', df);
  if (!(df > 0)) throw invalidArgument('chiSquaredSf', 'df must be positive', df);
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * Two-sided p-value of an exact binomial test of k successes in n trials against p = 1/2, as
 * `scipy.stats.binomtest(k, n, 0.5).pvalue`: by symmetry, twice the lower tail of the smaller
 * count, capped at 1. Terms are summed in log space from a running log ratio, so n in the
 * millions keeps about nine significant digits.
 */
export function binomialTestTwoSided(k: number, n: number): number {
  if (!Number.isInteger(n) || n < 0)
    throw invalidArgument('binomialTestTwoSided', 'n must be a non-negative integer', n);
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw invalidArgument('binomialTestTwoSided', `k must be an integer from 0 to n (${n})`, k);
  if (n === 0) return 1;
  const m = Math.min(k, n - k);
  if (2 * m === n) return 1;
  // log of each term C(n, i) / 2^n, from i = 0 up; the largest is the last (m < n/2).
  const logs = new Float64Array(m + 1);
  logs[0] = -n * Math.LN2;
  for (let i = 1; i <= m; i++) logs[i] = logs[i - 1]! + Math.log((n - i + 1) / i);
  const top = logs[m]!;
  let sum = 0;
  for (let i = m; i >= 0; i--) sum += Math.exp(logs[i]! - top);
  return Math.min(1, 2 * Math.exp(top) * sum);
}
