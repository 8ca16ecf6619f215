import { invalidArgument } from '../errors';
import type { CoalitionPlan, RowGame } from './coalitions';

/** Permutations of 0..n−1 drawn by Fisher–Yates from `random`. */
export function shuffleInPlace(order: Int32Array | number[], random: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
}

/** The fewest coalition evaluations one antithetic permutation of m players needs (shap's 2·M + 1). */
export function minPermutationEvals(m: number): number {
  return 2 * m + 1;
}

/**
 * shap's PermutationExplainer: ⌊maxEvals / (2m + 1)⌋ random orders of the m varying players;
 * each is walked forward (switching players on one by one) and in reverse (switching them off
 * in the same order), and every step's change in v is credited to the player switched. Both
 * walks telescope to f(x) − base, so the values always sum to it exactly.
 */
export function permutationPlan(
  game: RowGame,
  maxEvals: number,
  random: () => number,
  where: string,
): CoalitionPlan {
  const { varying, base, fx } = game;
  const m = varying.length;
  const perms = Math.floor(maxEvals / minPermutationEvals(m));
  if (perms < 1)
    throw invalidArgument(
      where,
      `maxEvals is too small for ${m} varying features; the permutation method needs at least 2·M + 1 = ${minPermutationEvals(m)}`,
      maxEvals,
    );
  const steps = m - 1; // coalitions strictly between empty and full, per direction
  const orders: Int32Array[] = [];
  const masks = new Uint8Array(perms * 2 * steps * m);
  let k = 0;
  for (let p = 0; p < perms; p++) {
    const order = Int32Array.from({ length: m }, (_, i) => i);
    shuffleInPlace(order, random);
    orders.push(order);
    for (let i = 1; i <= steps; i++) {
      const at = k++ * m;
      for (let t = 0; t < i; t++) masks[at + order[t]!] = 1;
    }
    for (let i = 1; i <= steps; i++) {
      const at = k++ * m;
      masks.fill(1, at, at + m);
      for (let t = 0; t < i; t++) masks[at + order[t]!] = 0;
    }
  }
  const finish = (v: Float64Array): Float64Array => {
    const phi = new Float64Array(m);
    for (let p = 0; p < perms; p++) {
      const order = orders[p]!;
      const at = p * 2 * steps;
      const forward = (i: number): number => (i === 0 ? base : i === m ? fx : v[at + i - 1]!);
      const reverse = (i: number): number => (i === 0 ? fx : i === m ? base : v[at + steps + i - 1]!);
      for (let i = 0; i < m; i++) {
        const player = order[i]!;
        phi[player] = phi[player]! + (forward(i + 1) - forward(i)) + (reverse(i) - reverse(i + 1));
      }
    }
    for (let j = 0; j < m; j++) phi[j] = phi[j]! / (2 * perms);
    return phi;
  };
  return { game, masks, count: k, finish };
}
