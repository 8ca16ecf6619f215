/**
 * Limited-memory BFGS: gradient descent along quasi-Newton directions built from the last few
 * gradient changes, with a backtracking (Armijo) line search. It minimises the smooth convex
 * losses of the baseline models to the optimum scikit-learn's lbfgs reaches.
 */

/** Writes the gradient at `x` into `grad` and returns the objective. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  /** Whether the largest gradient component fell below `tol`. */
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export function lbfgs(
  f: Objective,
  x0: Float64Array,
  options: { maxIter: number; tol: number; memory?: number },
): LbfgsResult {
  const m = options.memory ?? 10;
  const d = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(d);
  let value = f(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(d);
  const alpha = new Array<number>(m).fill(0);
  let iterations = 0;
  for (; iterations < options.maxIter; iterations++) {
    if (maxAbs(g) <= options.tol) return { x, value, iterations, converged: true };
    // Two-loop recursion: dir = −H·g.
    for (let i = 0; i < d; i++) dir[i] = -g[i]!;
    for (let j = S.length - 1; j >= 0; j--) {
      alpha[j] = rho[j]! * dot(S[j]!, dir);
      for (let i = 0; i < d; i++) dir[i] = dir[i]! - alpha[j]! * Y[j]![i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < d; i++) dir[i] = dir[i]! * gamma;
    }
    for (let j = 0; j < S.length; j++) {
      const beta = rho[j]! * dot(Y[j]!, dir);
      for (let i = 0; i < d; i++) dir[i] = dir[i]! + S[j]![i]! * (alpha[j]! - beta);
    }
    let slope = dot(dir, g);
    if (!(slope < 0)) {
      // Not a descent direction (the curvature pairs went stale): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < d; i++) dir[i] = -g[i]!;
      slope = dot(dir, g);
    }
    let step = S.length === 0 ? Math.min(1, 1 / Math.max(maxAbs(g), 1e-300)) : 1;
    const next = new Float64Array(d);
    const nextG = new Float64Array(d);
    let nextValue = Number.NaN;
    let accepted = false;
    for (let tries = 0; tries < 60 && !accepted; tries++) {
      for (let i = 0; i < d; i++) next[i] = x[i]! + step * dir[i]!;
      nextValue = f(next, nextG);
      // Armijo's sufficient decrease; or, once the decrease is below the objective's rounding
      // (near the optimum, where it is of the order of the squared gradient), a smaller gradient.
      accepted =
        nextValue <= value + 1e-4 * step * slope ||
        (Math.abs(nextValue - value) <= 1e-14 * Math.max(1, Math.abs(value)) && maxAbs(nextG) < maxAbs(g));
      if (!accepted) step *= 0.5;
    }
    if (!accepted) return { x, value, iterations, converged: maxAbs(g) <= options.tol }; // no progress left
    const s = new Float64Array(d);
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      s[i] = next[i]! - x[i]!;
      y[i] = nextG[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    x = next;
    g = nextG;
    value = nextValue;
  }
  return { x, value, iterations, converged: maxAbs(g) <= options.tol };
}
