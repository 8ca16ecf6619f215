/**
 * Paired tests of two models scored on the same rows: DeLong's test for ROC AUC and
 * McNemar's test for accuracy.
 */
import { describe, InputError } from '../errors';
import { binomialTestTwoSided, chiSquaredSf, normalSf } from './special';

/** The result of {@link delong}. */
export interface DeLongResult {
  aucA: number;
  aucB: number;
  varianceA: number;
  varianceB: number;
  covariance: number;
  /** `aucB − aucA`. */
  difference: number;
  standardError: number;
  z: number;
  /** Two-sided p-value of equal AUCs. */
  pValue: number;
}

function readScores(fn: string, name: string, values: ArrayLike<number>, n: number): Float64Array {
  if (typeof values !== 'object' || values === null || values.length !== n) {
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: ${name} must hold one score per sample (${n}), received ${describe(values)}`,
    );
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InputError(
        'INPUT_INVALID',
        `${fn}: ${name}[${i}] is ${describe(v)}; finite numbers are required`,
      );
    out[i] = v;
  }
  return out;
}

/** Midranks (1-based, ties share their mean rank) of values. */
function midranks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** AUC and placement values of one model (Sun & Xu's fast DeLong, O(n log n)). */
function placements(
  pos: Float64Array,
  neg: Float64Array,
): { auc: number; v10: Float64Array; v01: Float64Array } {
  const m = pos.length;
  const n = neg.length;
  const all = new Float64Array(m + n);
  all.set(pos);
  all.set(neg, m);
  const tz = midranks(all);
  const tx = midranks(pos);
  const ty = midranks(neg);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    // The share of negatives this positive outranks (ties count half).
    v10[i] = (tz[i]! - tx[i]!) / n;
    sum += v10[i]!;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (tz[m + j]! - ty[j]!) / m;
  return { auc: sum / m, v10, v01 };
}

function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (n - 1);
}

/**
 * DeLong's test of two correlated ROC AUCs on the same samples (DeLong, DeLong &
 * Clarke-Pearson 1988), with Sun & Xu's O(n log n) midrank algorithm. `positive[i]` is 1 for a
 * positive sample. The p-value is two-sided, from the normal distribution.
 *
 * @example
 * delong(Uint8Array.from(yTrue), scoresOfCurrent, scoresOfCandidate).pValue;
 */
export function delong(
  positive: Uint8Array,
  scoresA: ArrayLike<number>,
  scoresB: ArrayLike<number>,
): DeLongResult {
  const fn = 'delong';
  if (!(positive instanceof Uint8Array))
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: positive must be a Uint8Array of 0 and 1, received ${describe(positive)}`,
    );
  const n = positive.length;
  const a = readScores(fn, 'scoresA', scoresA, n);
  const b = readScores(fn, 'scoresB', scoresB, n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (positive[i]! > 1)
      throw new InputError('INPUT_INVALID', `${fn}: positive[${i}] is ${positive[i]}; 0 or 1 expected`);
    m += positive[i]!;
  }
  if (m === 0 || m === n)
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: needs at least one positive and one negative sample (${m} of ${n} are positive)`,
    );
  const split = (s: Float64Array) => {
    const pos = new Float64Array(m);
    const neg = new Float64Array(n - m);
    for (let i = 0, p = 0, q = 0; i < n; i++) {
      if (positive[i]) pos[p++] = s[i]!;
      else neg[q++] = s[i]!;
    }
    return placements(pos, neg);
  };
  const pa = split(a);
  const pb = split(b);
  const neg = n - m;
  const varianceA = covariance(pa.v10, pa.v10) / m + covariance(pa.v01, pa.v01) / neg;
  const varianceB = covariance(pb.v10, pb.v10) / m + covariance(pb.v01, pb.v01) / neg;
  const cov = covariance(pa.v10, pb.v10) / m + covariance(pa.v01, pb.v01) / neg;
  const difference = pb.auc - pa.auc;
  const variance = Math.max(0, varianceA + varianceB - 2 * cov);
  const standardError = Math.sqrt(variance);
  // Identical rankings have zero variance: no evidence of a difference.
  const z = standardError === 0 ? 0 : difference / standardError;
  return {
    aucA: pa.auc,
    aucB: pb.auc,
    varianceA,
    varianceB,
    covariance: cov,
    difference,
    standardError,
    z,
    pValue: standardError === 0 ? 1 : Math.min(1, 2 * normalSf(Math.abs(z))),
  };
}

/** The result of {@link mcnemar}. */
export interface McNemarResult {
  /** Rows model A got right and B got wrong. */
  b: number;
  /** Rows model A got wrong and B got right. */
  c: number;
  /** min(b, c) for the exact test; the continuity-corrected chi-squared statistic otherwise. */
  statistic: number;
  pValue: number;
  method: 'exact' | 'chi2';
}

/**
 * McNemar's test of two classifiers' accuracy on the same rows, from the discordant pairs. With
 * `exact: 'auto'` (default) it is the exact binomial test below 25 discordant pairs and the
 * continuity-corrected chi-squared test from 25 up, as statsmodels' `mcnemar` offers them.
 */
export function mcnemar(
  correctA: Uint8Array,
  correctB: Uint8Array,
  options: { exact?: boolean | 'auto' } = {},
): McNemarResult {
  const fn = 'mcnemar';
  if (!(correctA instanceof Uint8Array) || !(correctB instanceof Uint8Array))
    throw new InputError('INPUT_INVALID', `${fn}: correctA and correctB must be Uint8Arrays of 0 and 1`);
  if (correctA.length !== correctB.length) {
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: inputs have inconsistent numbers of samples: [${correctA.length}, ${correctB.length}]`,
    );
  }
  const exactOption = options.exact ?? 'auto';
  if (exactOption !== true && exactOption !== false && exactOption !== 'auto')
    throw new InputError(
      'INPUT_INVALID',
      `${fn}: exact must be true, false or 'auto', received ${describe(exactOption)}`,
    );
  let b = 0;
  let c = 0;
  for (let i = 0; i < correctA.length; i++) {
    const x = correctA[i]!;
    const y = correctB[i]!;
    if (x > 1 || y > 1) throw new InputError('INPUT_INVALID', `${fn}: row ${i} is not 0 or 1`);
    if (x && !y) b++;
    else if (!x && y) c++;
  }
  const exact = exactOption === 'auto' ? b + c < 25 : exactOption;
  if (b + c === 0) return { b, c, statistic: 0, pValue: 1, method: exact ? 'exact' : 'chi2' };
  if (exact)
    return {
      b,
      c,
      statistic: Math.min(b, c),
      pValue: binomialTestTwoSided(Math.min(b, c), b + c),
      method: 'exact',
    };
  const statistic = (Math.abs(b - c) - 1) ** 2 / (b + c);
  return { b, c, statistic, pValue: chiSquaredSf(statistic, 1), method: 'chi2' };
}
