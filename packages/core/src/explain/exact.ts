import type { CoalitionPlan, RowGame } from './coalitions';

/** The most players `'exact'` enumerates (2^20 coalitions per row). */
export const EXACT_MAX_PLAYERS = 20;

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}

/**
 * Exact Shapley values over the row's m ≥ 2 varying players: v of all 2^m coalitions, then
 * φ_j = Σ_{S ∌ j} |S|!(m−|S|−1)!/m! · (v(S ∪ j) − v(S)).
 */
export function exactPlan(game: RowGame): CoalitionPlan {
  const { varying, base, fx } = game;
  const m = varying.length;
  const full = 2 ** m - 1;
  const count = full - 1;
  const masks = new Uint8Array(count * m);
  for (let s = 1; s < full; s++) for (let q = 0; q < m; q++) masks[(s - 1) * m + q] = (s >> q) & 1;
  return { game, masks, count, finish: (inner) => exactFinish(inner, m, base, fx) };
}

function exactFinish(inner: Float64Array, m: number, base: number, fx: number): Float64Array {
  const phi = new Float64Array(m);
  const full = 2 ** m - 1;
  const v = new Float64Array(full + 1);
  v[0] = base;
  v[full] = fx;
  v.set(inner, 1);
  // weight[s] = s!(m−s−1)!/m! = 1 / (m · C(m−1, s))
  const weight = new Float64Array(m);
  let binom = 1;
  for (let s = 0; s < m; s++) {
    weight[s] = 1 / (m * binom);
    binom = (binom * (m - 1 - s)) / (s + 1);
  }
  for (let j = 0; j < m; j++) {
    const bit = 1 << j;
    let sum = 0;
    for (let s = 0; s <= full; s++) {
      if ((s & bit) !== 0) continue;
      sum += weight[popcount(s)]! * (v[s | bit]! - v[s]!);
    }
    phi[j] = sum;
  }
  return phi;
}
