import { invalidArgument } from '../errors';
import type { BootstrapOptions } from './types';

/**
 * A small seeded generator (sfc32, seeded through splitmix32): the same seed gives the same
 * resamples on every platform, which `Math.random` cannot promise.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  // The state is kept as int32 (`| 0`), the same bits as uint32 (`>>> 0`) would hold: int32
  // values stay small integers in V8, where uint32 ones above 2^31 became heap numbers,
  // allocated at every draw (three times slower).
  let a = split() | 0;
  let b = split() | 0;
  let c = split() | 0;
  let d = split() | 0;
  return () => {
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Bootstrap settings with defaults applied and checked. */
export interface BootstrapPlan {
  resamples: number;
  seed: number;
  confidence: number;
  method: 'auto' | 'resample' | 'analytic';
}

/**
 * Above this many rows `method: 'auto'` makes intervals analytically: a thousand resamples of
 * the ten binary metrics then cost tens of seconds, while the analytic intervals agree with
 * them to a small fraction of their width (docs/evaluating.md has the measurements).
 */
export const ANALYTIC_ABOVE_ROWS = 100_000;

/** Whether a plan's intervals are analytic for `n` rows. */
export function analyticFor(plan: BootstrapPlan, n: number): boolean {
  return plan.method === 'analytic' || (plan.method === 'auto' && n > ANALYTIC_ABOVE_ROWS);
}

export function bootstrapPlan(
  options: BootstrapOptions | false | undefined,
  where: string,
): BootstrapPlan | null {
  if (options === false) return null;
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw invalidArgument(where, 'bootstrap must be an options object or false', options);
  const resamples = options?.resamples ?? 1000;
  const seed = options?.seed ?? 0;
  const confidence = options?.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1 || resamples > 1e6)
    throw invalidArgument(where, 'bootstrap.resamples must be an integer from 1 to 1,000,000', resamples);
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'bootstrap.seed must be an integer', seed);
  if (!(confidence > 0 && confidence < 1))
    throw invalidArgument(where, 'bootstrap.confidence must lie strictly between 0 and 1', confidence);
  const method = options?.method ?? 'auto';
  if (method !== 'auto' && method !== 'resample' && method !== 'analytic')
    throw invalidArgument(where, "bootstrap.method must be 'auto', 'resample' or 'analytic'", method);
  return { resamples, seed, confidence, method };
}

/**
 * Draws one resample of n rows with replacement, as counts per row. Scoring a metric with
 * these counts as sample weights is scoring it on the resampled rows.
 */
export function resampleCounts(n: number, random: () => number, into: Float64Array): Float64Array {
  into.fill(0);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(random() * n);
    into[j] = into[j]! + 1;
  }
  return into;
}

/** The q-quantile of sorted values with linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** A percentile interval from resampled values, ignoring resamples that could not be scored (NaN). */
export function percentileInterval(
  values: Float64Array,
  confidence: number,
): { low: number; high: number } | undefined {
  const finite = values.filter((v) => !Number.isNaN(v)).sort();
  if (finite.length === 0) return undefined;
  const tail = (1 - confidence) / 2;
  return { low: quantileSorted(finite, tail), high: quantileSorted(finite, 1 - tail) };
}
