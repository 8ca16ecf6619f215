/**
 * Two-sample statistics for drift, each agreeing with SciPy (and Evidently's use of it) on the
 * same inputs: Kolmogorov–Smirnov, the population stability index, Jensen–Shannon distance,
 * the 1-D Wasserstein distance (normalised as Evidently does), and the chi-squared and
 * two-proportion z tests for categories. `test/golden/make_drift_golden.py` holds SciPy's answers.
 */
import { InputError, invalidArgument } from '../errors';
import { chiSquaredSf, normalSf } from '../evaluate/special';
import { sortFloat64 } from '../metrics/sort';

export function finiteArray(
  fn: string,
  name: string,
  values: ArrayLike<number>,
  allowEmpty = false,
): Float64Array {
  if (typeof values !== 'object' || values === null || typeof values.length !== 'number')
    throw invalidArgument(fn, `${name} must be an array of numbers`, values);
  if (!allowEmpty && values.length === 0) throw new InputError('INPUT_INVALID', `${fn}: ${name} is empty`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${String(v)}; finite numbers are required`,
      );
    out[i] = v;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The two-sample Kolmogorov–Smirnov statistic and its two-sided p-value. */
export interface KsResult {
  statistic: number;
  pValue: number;
  /** `'exact'` for samples of at most 10,000 each (as SciPy's `method='auto'`), else `'asymptotic'`. */
  method: 'exact' | 'asymptotic';
}

/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as `scipy.stats.ks_2samp`. The statistic is
 * SciPy's. Up to 10,000 values per sample the p-value is exact (the probability that a random
 * path through the n₁×n₂ lattice leaves the band |i/n₁ − j/n₂| < D), as SciPy's `'auto'`
 * computes it. Above that it is the limiting Kolmogorov distribution `kstwobign.sf(√(n₁n₂/(n₁+n₂))·D)`;
 * SciPy 1.10 uses the finite-n `kstwo` there instead; the two differ by a few percent of the
 * p-value at such sizes (2.3% at 12,000 × 9,000 where p ≈ 10⁻⁴, tested to 3%).
 */
export function ksTwoSample(sample1: ArrayLike<number>, sample2: ArrayLike<number>): KsResult {
  return ksSorted(
    sortFloat64(finiteArray('ksTwoSample', 'sample1', sample1)),
    sortFloat64(finiteArray('ksTwoSample', 'sample2', sample2)),
  );
}

/**
 * {@link ksTwoSample} of two samples already sorted ascending, finite and not empty (drift sorts
 * each current column once and checks it as it reads it).
 */
function ksSorted(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  // Walk both sorted samples; the ECDF difference is read after each distinct value.
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    d = Math.max(d, Math.abs(i / n1 - j / n2));
  }
  return ksPValue(n1, n2, d);
}

/** {@link ksTwoSample}'s p-value for a statistic `d` of samples of sizes n1 and n2. */
export function ksPValue(n1: number, n2: number, d: number): KsResult {
  if (Math.max(n1, n2) <= 10_000) return { statistic: d, pValue: exactKsPValue(n1, n2, d), method: 'exact' };
  const en = (n1 * n2) / (n1 + n2);
  return {
    statistic: d,
    pValue: Math.min(1, Math.max(0, kolmogorovSf(Math.sqrt(en) * d))),
    method: 'asymptotic',
  };
}

/**
 * {@link ksSorted}'s statistic without sorting the second sample: `a` sorted (the reference's
 * small sample), `b` in any order, both finite and not empty. Between two consecutive values
 * of `a` the ECDF difference is monotone in b's ECDF, so its largest value there is at the first
 * or the last of b's values in that gap: counting b's values per gap (with the smallest one and
 * how often it occurs) and per value of `a` gives the same maximum, bit for bit, in one pass
 * over `b` and a short search in `a` per value (a grid over a's range narrows it to a cell).
 */
export function ksStatisticSortedFirst(a: Float64Array, b: Float64Array): number {
  const counter = new KsCounter(a);
  counter.addAll(b);
  return counter.statistic();
}

/**
 * {@link ksStatisticSortedFirst} fed one value at a time: what it keeps of the second sample
 * is counts per gap of `a` (and the smallest value in each gap), whatever their order, so a
 * caller reading values from rows or columns can count them as it reads them instead of
 * collecting them first. Values must be finite; the statistic needs at least one.
 */
export class KsCounter {
  /** How many values were counted. */
  count = 0;
  private readonly n1: number;
  private readonly m: number;
  /** Distinct values of a, and how many of a are ≤ each. */
  private readonly u: Float64Array;
  private readonly upTo: Float64Array;
  // The gap before u[p] is p (p = m: above every value); values equal to u[p] are counted apart.
  private readonly inGap: Float64Array;
  private readonly gapMin: Float64Array;
  private readonly atMin: Float64Array;
  private readonly equal: Float64Array;
  private readonly low: number;
  private readonly high: number;
  private readonly cells: number;
  private readonly scale: number;
  /** first[c]: how many distinct values of a fall in cells before c. */
  private readonly first: Uint32Array;

  /** `a`: the first sample, sorted ascending, finite, not empty. */
  constructor(a: Float64Array) {
    const n1 = a.length;
    const u = new Float64Array(n1);
    const upTo = new Float64Array(n1);
    let m = 0;
    for (let i = 0; i < n1; i++) {
      if (m > 0 && a[i] === u[m - 1]) upTo[m - 1] = i + 1;
      else {
        u[m] = a[i]!;
        upTo[m] = i + 1;
        m++;
      }
    }
    this.n1 = n1;
    this.m = m;
    this.u = u;
    this.upTo = upTo;
    this.inGap = new Float64Array(m + 1);
    this.gapMin = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    this.atMin = new Float64Array(m + 1);
    this.equal = new Float64Array(m);
    this.low = u[0]!;
    this.high = u[m - 1]!;
    this.cells = 4 * m;
    // cell(x) is monotone in x, whatever the rounding; a range too wide or too narrow for the
    // grid puts everything in cell 0 (the search then spans all of a's values).
    const scale = this.cells / (this.high - this.low);
    this.scale = scale > 0 && scale < Number.POSITIVE_INFINITY ? scale : 0;
    const first = new Uint32Array(this.cells + 2);
    for (let p = 0; p < m; p++) first[this.cell(u[p]!) + 1]!++;
    for (let c = 1; c < first.length; c++) first[c] = first[c]! + first[c - 1]!;
    this.first = first;
  }

  private cell(x: number): number {
    const t = (x - this.low) * this.scale;
    return t >= 0 ? Math.min(this.cells, Math.floor(t)) : 0;
  }

  /** Counts one finite value of the second sample. */
  add(v: number): void {
    this.count++;
    let p: number;
    if (v < this.low) p = 0;
    else if (v > this.high) p = this.m;
    else {
      const c = this.cell(v);
      const u = this.u;
      let hi = this.first[c + 1]!;
      p = this.first[c]!;
      while (p < hi) {
        const mid = (p + hi) >>> 1;
        if (u[mid]! < v) p = mid + 1;
        else hi = mid;
      }
      if (u[p] === v) {
        this.equal[p]!++;
        return;
      }
    }
    this.inGap[p]!++;
    if (v < this.gapMin[p]!) {
      this.gapMin[p] = v;
      this.atMin[p] = 1;
    } else if (v === this.gapMin[p]) this.atMin[p]!++;
  }

  /** Counts every value of `b` (finite). */
  addAll(b: Float64Array): void {
    for (let i = 0; i < b.length; i++) this.add(b[i]!);
  }

  /** The two-sample statistic of `a` and the values counted (at least one). */
  statistic(): number {
    const { n1, m, upTo, inGap, atMin, equal } = this;
    const n2 = this.count;
    let d = 0;
    let i = 0;
    let j = 0;
    for (let p = 0; p <= m; p++) {
      const c = inGap[p]!;
      if (c > 0) {
        d = Math.max(d, Math.abs(i / n1 - (j + atMin[p]!) / n2));
        j += c;
        d = Math.max(d, Math.abs(i / n1 - j / n2));
      }
      if (p < m) {
        i = upTo[p]!;
        j += equal[p]!;
        d = Math.max(d, Math.abs(i / n1 - j / n2));
      }
    }
    return d;
  }
}

/**
 * P(D ≥ d) for two samples of sizes n1 and n2 under the null, by dynamic programming over the
 * lattice paths: the probability of a uniformly random path staying strictly inside the band,
 * subtracted from 1. The band is checked in integers scaled by lcm(n1, n2), as SciPy does.
 */
function exactKsPValue(n1: number, n2: number, d: number): number {
  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  const lcm = n1g * n2;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  const inside = (i: number, j: number) => Math.abs(i * n2g - j * n1g) < h;
  // row[j]: probability that a random path reaches (i, j) without having left the band. The
  // mass that steps out is summed as it leaves, so small p-values keep their digits (1 − P(inside)
  // would cancel).
  let out = 0;
  let row = new Float64Array(n2 + 1);
  row[0] = 1;
  for (let i = 0; i <= n1; i++) {
    const next = new Float64Array(n2 + 1);
    for (let j = 0; j <= n2; j++) {
      const p = row[j]!;
      if (p === 0) continue;
      const left = n1 + n2 - i - j;
      if (left === 0) continue;
      // A step in sample 1 (to (i+1, j)) and one in sample 2 (to (i, j+1)).
      if (i < n1) {
        const q = p * ((n1 - i) / left);
        if (inside(i + 1, j)) next[j] = next[j]! + q;
        else out += q;
      }
      if (j < n2) {
        const q = p * ((n2 - j) / left);
        if (inside(i, j + 1)) row[j + 1] = row[j + 1]! + q;
        else out += q;
      }
    }
    row = next;
  }
  return Math.min(1, Math.max(0, out));
}

/** The limiting Kolmogorov distribution's upper tail, `scipy.stats.kstwobign.sf(x)`. */
export function kolmogorovSf(x: number): number {
  if (!(x > 0)) return 1;
  if (x < 1) {
    // Small x: the theta-function form converges fast (1 − CDF, CDF = √(2π)/x Σ e^{−(2k−1)²π²/8x²}).
    const t = (Math.PI * Math.PI) / (8 * x * x);
    let sum = 0;
    for (let k = 1; k < 20; k++) sum += Math.exp(-(2 * k - 1) * (2 * k - 1) * t);
    return 1 - (Math.sqrt(2 * Math.PI) / x) * sum;
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-18) break;
  }
  return 2 * sum;
}

function fractions(fn: string, name: string, values: ArrayLike<number>): Float64Array {
  const f = finiteArray(fn, name, values);
  let total = 0;
  for (const v of f) {
    if (v < 0) throw new InputError('INPUT_INVALID', `${fn}: ${name} holds a negative count or share`);
    total += v;
  }
  if (total === 0) throw new InputError('INPUT_INVALID', `${fn}: ${name} sums to 0`);
  return f.map((v) => v / total);
}

function sameLength(fn: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length)
    throw new InputError('INPUT_INVALID', `${fn}: reference has ${a.length} bins, current has ${b.length}`);
}

/**
 * Replaces zero shares as Evidently does before PSI and KL: per side, a 0 becomes
 * min(nonzero)/10⁶ when the smallest nonzero share is at most 10⁻⁴, else 10⁻⁴.
 */
export function fillZeros(shares: Float64Array): Float64Array {
  let min = Number.POSITIVE_INFINITY;
  for (const v of shares) if (v > 0 && v < min) min = v;
  const fill = min <= 1e-4 ? min / 1e6 : 1e-4;
  return shares.map((v) => (v === 0 ? fill : v));
}

/**
 * Population stability index Σ (ref − cur)·ln(ref/cur) over bins, from counts or shares
 * (each side is normalised; zeros filled as {@link fillZeros}), as Evidently's `psi`.
 */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  sameLength('psi', reference, current);
  const r = fillZeros(fractions('psi', 'reference', reference));
  const c = fillZeros(fractions('psi', 'current', current));
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return s;
}

/**
 * Jensen–Shannon distance (the square root of the divergence, natural log) between two
 * histograms, as `scipy.spatial.distance.jensenshannon(p, q)`: each side normalised, no zero
 * filling (0·ln 0 is 0).
 */
export function jensenShannonDistance(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  sameLength('jensenShannonDistance', reference, current);
  const p = fractions('jensenShannonDistance', 'reference', reference);
  const q = fractions('jensenShannonDistance', 'current', current);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) js += p[i]! * Math.log(p[i]! / m);
    if (q[i]! > 0) js += q[i]! * Math.log(q[i]! / m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/**
 * The 1-D Wasserstein (earth mover's) distance between two samples, optionally weighted, as
 * `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`: the integral of |F_u − F_v|.
 */
export function wassersteinDistance(
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  uWeights?: ArrayLike<number>,
  vWeights?: ArrayLike<number>,
): number {
  const uv = finiteArray('wassersteinDistance', 'u', u);
  const vv = finiteArray('wassersteinDistance', 'v', v);
  if (uWeights === undefined && vWeights === undefined) return unweightedWasserstein(uv, vv);
  const uw =
    uWeights === undefined
      ? new Float64Array(uv.length).fill(1)
      : finiteArray('wassersteinDistance', 'uWeights', uWeights);
  const vw =
    vWeights === undefined
      ? new Float64Array(vv.length).fill(1)
      : finiteArray('wassersteinDistance', 'vWeights', vWeights);
  if (uw.length !== uv.length || vw.length !== vv.length)
    throw new InputError('INPUT_INVALID', 'wassersteinDistance: weights must have one value per sample');
  const ui = Array.from(uv.keys()).sort((a, b) => uv[a]! - uv[b]!);
  const vi = Array.from(vv.keys()).sort((a, b) => vv[a]! - vv[b]!);
  let uTotal = 0;
  let vTotal = 0;
  for (const w of uw) uTotal += w;
  for (const w of vw) vTotal += w;
  if (!(uTotal > 0) || !(vTotal > 0))
    throw new InputError('INPUT_INVALID', 'wassersteinDistance: weights must sum to more than 0');
  // Merge the sorted values; between consecutive values the CDFs are constant.
  let a = 0;
  let b = 0;
  let fu = 0;
  let fv = 0;
  let prev = Math.min(uv[ui[0]!]!, vv[vi[0]!]!);
  let distance = 0;
  while (a < ui.length || b < vi.length) {
    const x = b >= vi.length || (a < ui.length && uv[ui[a]!]! <= vv[vi[b]!]!) ? uv[ui[a]!]! : vv[vi[b]!]!;
    distance += Math.abs(fu - fv) * (x - prev);
    while (a < ui.length && uv[ui[a]!] === x) fu += uw[ui[a++]!]! / uTotal;
    while (b < vi.length && vv[vi[b]!] === x) fv += vw[vi[b++]!]! / vTotal;
    prev = x;
  }
  return distance;
}

/** The unweighted case: radix sorts of the values instead of an index sort with a comparator. */
function unweightedWasserstein(u: Float64Array, v: Float64Array): number {
  return wassersteinSorted(sortFloat64(u), sortFloat64(v));
}

/** The unweighted {@link wassersteinDistance} of two samples sorted ascending, finite and not empty. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let prev = Math.min(a[0]!, b[0]!);
  let distance = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    distance += Math.abs(i / a.length - j / b.length) * (x - prev);
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
    prev = x;
  }
  return distance;
}

/**
 * Evidently's normalised Wasserstein distance: the distance divided by the reference's
 * standard deviation (population, as numpy's default), floored at 0.001.
 */
export function normalizedWasserstein(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const r = finiteArray('normalizedWasserstein', 'reference', reference);
  return wassersteinDistance(r, current) / wassersteinScale(r);
}

/** The divisor of {@link normalizedWasserstein}: the population standard deviation, floored at 0.001. */
export function wassersteinScale(reference: Float64Array): number {
  let mean = 0;
  for (const v of reference) mean += v;
  mean /= reference.length;
  let ss = 0;
  for (const v of reference) ss += (v - mean) ** 2;
  return Math.max(Math.sqrt(ss / reference.length), 0.001);
}

/** Pearson's chi-squared test of observed counts against expected ones, as `scipy.stats.chisquare`. */
export function chiSquareTest(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
): { statistic: number; pValue: number; df: number } {
  sameLength('chiSquareTest', observed, expected);
  const o = finiteArray('chiSquareTest', 'observed', observed);
  const e = finiteArray('chiSquareTest', 'expected', expected);
  let so = 0;
  let se = 0;
  for (let i = 0; i < o.length; i++) {
    so += o[i]!;
    se += e[i]!;
    if (!(e[i]! > 0))
      throw new InputError(
        'INPUT_INVALID',
        `chiSquareTest: expected[${i}] is ${e[i]}; expected counts must be positive`,
      );
  }
  // SciPy 1.10 requires the sums to agree to a relative 1e-8.
  if (Math.abs(so - se) > 1e-8 * Math.max(so, se))
    throw new InputError(
      'INPUT_INVALID',
      `chiSquareTest: observed sums to ${so} but expected to ${se}; they must agree`,
    );
  let stat = 0;
  for (let i = 0; i < o.length; i++) stat += (o[i]! - e[i]!) ** 2 / e[i]!;
  const df = o.length - 1;
  return { statistic: stat, pValue: df > 0 ? chiSquaredSf(stat, df) : 1, df };
}

/**
 * Evidently's categorical chi-squared drift test: current counts against reference shares
 * scaled to the current total, over the union of categories.
 */
export function chiSquareDrift(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): { statistic: number; pValue: number } {
  sameLength('chiSquareDrift', reference, current);
  const r = fractions('chiSquareDrift', 'reference', reference);
  const c = finiteArray('chiSquareDrift', 'current', current);
  let n = 0;
  for (const v of c) n += v;
  const expected = r.map((v) => v * n);
  let stat = 0;
  for (let i = 0; i < c.length; i++) {
    if (expected[i] === 0) {
      if (c[i]! > 0) return { statistic: Number.POSITIVE_INFINITY, pValue: 0 };
      continue;
    }
    stat += (c[i]! - expected[i]!) ** 2 / expected[i]!;
  }
  const df = c.length - 1;
  return { statistic: stat, pValue: df > 0 ? chiSquaredSf(stat, df) : 1 };
}

/**
 * Two-proportion z test with a pooled proportion, two-sided (Evidently's `z` test for binary
 * categories): `successes` of `n` in each sample.
 */
export function twoProportionZTest(
  successes1: number,
  n1: number,
  successes2: number,
  n2: number,
): { statistic: number; pValue: number } {
  for (const [name, v] of Object.entries({ successes1, n1, successes2, n2 })) {
    if (!Number.isInteger(v) || v < 0)
      throw invalidArgument('twoProportionZTest', `${name} must be a non-negative integer`, v);
  }
  if (n1 === 0 || n2 === 0 || successes1 > n1 || successes2 > n2)
    throw invalidArgument(
      'twoProportionZTest',
      'each sample needs at least one observation and successes ≤ n',
      { n1, n2 },
    );
  const p1 = successes1 / n1;
  const p2 = successes2 / n2;
  const pooled = (successes1 + successes2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}
