import { invalidArgument, ModelshipError } from '../errors';
import type { CoalitionPlan, RowGame } from './coalitions';

/** shap's default KernelSHAP budget for m varying features. */
export function defaultNsamples(m: number): number {
  return 2 * m + 2048;
}

/** The fewest coalitions KernelSHAP accepts for m varying features: enough for the m − 1 unknowns it solves for. */
export function minNsamples(m: number): number {
  return Math.min(m + 1, maxNsamples(m));
}

/** Every coalition but the empty and the full one: 2^m − 2. */
export function maxNsamples(m: number): number {
  return m >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** m - 2;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * Coalition masks with their kernel weights, in arrays sized for the budget up front (at most
 * `nsamples` are chosen; they grow if not) rather than grown from small ones: the growing
 * arrays were a tenth of what an explained row allocated (bench/explain.ts).
 */
class Samples {
  masks: Uint8Array;
  weights: Float64Array;
  count = 0;
  constructor(
    private readonly m: number,
    capacity: number,
  ) {
    this.masks = new Uint8Array(Math.max(1, capacity) * m);
    this.weights = new Float64Array(Math.max(1, capacity));
  }
  add(mask: Uint8Array, weight: number): number {
    const k = this.count;
    if (k === this.weights.length) {
      const masks = new Uint8Array(this.masks.length * 2);
      masks.set(this.masks);
      this.masks = masks;
      const weights = new Float64Array(this.weights.length * 2);
      weights.set(this.weights);
      this.weights = weights;
    }
    this.masks.set(mask, k * this.m);
    this.weights[k] = weight;
    this.count = k + 1;
    return k;
  }
}

/**
 * The coalitions KernelSHAP evaluates, as shap's KernelExplainer chooses them: subset sizes in
 * pairs (s and m − s) weighted (m−1)/(s(m−s)); sizes whose every subset fits the remaining
 * budget are enumerated in full, the rest sampled with their complements, repeats adding
 * weight rather than rows.
 */
function chooseCoalitions(m: number, nsamples: number, random: () => number): Samples {
  const samples = new Samples(m, Math.min(nsamples, 2 ** 16));
  const sizes = Math.ceil((m - 1) / 2);
  const paired = Math.floor((m - 1) / 2);
  const weightVector = new Float64Array(sizes);
  for (let i = 0; i < sizes; i++) weightVector[i] = (m - 1) / ((i + 1) * (m - i - 1));
  for (let i = 0; i < paired; i++) weightVector[i] = weightVector[i]! * 2;
  const total = weightVector.reduce((a, b) => a + b, 0);
  for (let i = 0; i < sizes; i++) weightVector[i] = weightVector[i]! / total;

  let full = 0;
  let left = nsamples;
  const remaining = Float64Array.from(weightVector);
  const mask = new Uint8Array(m);
  for (let s = 1; s <= sizes; s++) {
    let subsets = binomial(m, s);
    if (s <= paired) subsets *= 2;
    if ((left * remaining[s - 1]!) / subsets < 1 - 1e-8) break;
    full++;
    left -= subsets;
    if (remaining[s - 1]! < 1) {
      const scale = 1 - remaining[s - 1]!;
      for (let i = 0; i < sizes; i++) remaining[i] = remaining[i]! / scale;
    }
    let w = weightVector[s - 1]! / binomial(m, s);
    if (s <= paired) w /= 2;
    // every s-subset, in lexicographic order of its indices
    const idx = Array.from({ length: s }, (_, i) => i);
    for (;;) {
      mask.fill(0);
      for (const i of idx) mask[i] = 1;
      samples.add(mask, w);
      if (s <= paired) {
        for (let q = 0; q < m; q++) mask[q] = 1 - mask[q]!;
        samples.add(mask, w);
      }
      let i = s - 1;
      while (i >= 0 && idx[i] === m - s + i) i--;
      if (i < 0) break;
      idx[i]!++;
      for (let t = i + 1; t < s; t++) idx[t] = idx[t - 1]! + 1;
    }
  }
  const fixed = samples.count;
  let samplesLeft = nsamples - fixed;
  if (full !== sizes && samplesLeft > 0) {
    const probs = weightVector.slice(full);
    for (let i = 0; i < paired - full; i++) probs[i] = probs[i]! / 2;
    const psum = probs.reduce((a, b) => a + b, 0);
    const cumulative = new Float64Array(probs.length);
    let acc = 0;
    for (let i = 0; i < probs.length; i++) cumulative[i] = acc += probs[i]! / psum;
    const seen = new SeenMasks(m);
    const order = Int32Array.from({ length: m }, (_, i) => i);
    const allBits = 2 ** m - 1;
    const addRandom = (key: number | string): void => {
      const at = seen.get(key);
      if (at < 0) {
        seen.set(key, samples.add(mask, 1));
        samplesLeft--;
      } else samples.weights[at]! += 1;
    };
    for (let draws = 4 * samplesLeft; samplesLeft > 0 && draws > 0; draws--) {
      const u = random();
      let ind = 0;
      while (ind < cumulative.length - 1 && u >= cumulative[ind]!) ind++;
      const s = ind + full + 1;
      // the first s places of a random permutation: s steps of Fisher–Yates suffice
      for (let i = 0; i < s; i++) {
        const j = i + Math.floor(random() * (m - i));
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      mask.fill(0);
      for (let t = 0; t < s; t++) mask[order[t]!] = 1;
      const key = seen.key(mask);
      addRandom(key);
      if (samplesLeft > 0 && s <= paired) {
        for (let q = 0; q < m; q++) mask[q] = 1 - mask[q]!;
        // the complement's bits: all ones minus the mask's (exact while the key is a number)
        addRandom(typeof key === 'number' ? allBits - key : seen.key(mask));
      }
    }
    const weightLeft = weightVector.slice(full).reduce((a, b) => a + b, 0);
    let sampled = 0;
    for (let k = fixed; k < samples.count; k++) sampled += samples.weights[k]!;
    for (let k = fixed; k < samples.count; k++)
      samples.weights[k] = (samples.weights[k]! * weightLeft) / sampled;
  }
  return samples;
}

/**
 * The sampled masks seen so far, each with its index among the samples. A mask is keyed by its
 * bits as a number while they fit in one exactly, else by a string; up to 2^16 masks a typed
 * array indexed by that number replaces the map (a map's lookups were a tenth of KernelSHAP's
 * time on 12 features, bench/explain.ts).
 */
class SeenMasks {
  private readonly table: Int32Array | undefined;
  private readonly map = new Map<number | string, number>();
  constructor(private readonly m: number) {
    if (m <= 16) this.table = new Int32Array(2 ** m).fill(-1);
  }
  key(mask: Uint8Array): number | string {
    if (this.m > 52) return mask.join('');
    let key = 0;
    for (let q = 0; q < this.m; q++) key = key * 2 + mask[q]!;
    return key;
  }
  /** The sample index of the mask with this key, or −1. */
  get(key: number | string): number {
    if (this.table !== undefined) return this.table[key as number]!;
    return this.map.get(key) ?? -1;
  }
  set(key: number | string, index: number): void {
    if (this.table !== undefined) this.table[key as number] = index;
    else this.map.set(key, index);
  }
}

/** Solves the symmetric system A x = b in place (Gaussian elimination with partial pivoting); null when singular. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]!));
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r;
    if (!(Math.abs(a[pivot * n + col]!) > 1e-12 * scale)) return null;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) {
        const t = a[col * n + c]!;
        a[col * n + c] = a[pivot * n + c]!;
        a[pivot * n + c] = t;
      }
      const t = b[col]!;
      b[col] = b[pivot]!;
      b[pivot] = t;
    }
    const d = a[col * n + col]!;
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col]! / d;
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r * n + c] = a[r * n + c]! - f * a[col * n + c]!;
      b[r] = b[r]! - f * b[col]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let c = r + 1; c < n; c++) s -= a[r * n + c]! * x[c]!;
    x[r] = s / a[r * n + r]!;
  }
  return x;
}

/**
 * KernelSHAP (shap's KernelExplainer with `l1_reg=False`): weighted least squares of the
 * coalitions' values on their masks, with the sum constraint Σφ = f(x) − base imposed by
 * eliminating the last player. With the whole budget (2^m − 2 coalitions) it equals the exact
 * Shapley values.
 */
export function kernelPlan(
  game: RowGame,
  nsamples: number | undefined,
  random: () => number,
  where: string,
): CoalitionPlan {
  const m = game.varying.length;
  const budget = Math.min(nsamples ?? defaultNsamples(m), maxNsamples(m));
  if (budget < minNsamples(m))
    throw invalidArgument(
      where,
      `nsamples is too small for ${m} varying features; KernelSHAP needs at least M + 1 = ${minNsamples(m)} coalitions`,
      nsamples,
    );
  const samples = chooseCoalitions(m, budget, random);
  return {
    game,
    masks: samples.masks,
    count: samples.count,
    finish: (v) => kernelFinish(v, samples, m, game.base, game.fx, where),
  };
}

function kernelFinish(
  v: Float64Array,
  samples: Samples,
  m: number,
  base: number,
  fx: number,
  where: string,
): Float64Array {
  const phi = new Float64Array(m);
  const total = fx - base;
  const count = samples.count;
  const n = m - 1;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  // a coalition's regression row is mask_j − mask_last: −1, 0 or 1; only its non-zero entries add
  const nonzero = new Int32Array(n);
  const sign = new Float64Array(n);
  const masks = samples.masks;
  const weights = samples.weights;
  for (let k = 0; k < count; k++) {
    const at = k * m;
    const last = masks[at + n]!;
    const y = v[k]! - base - last * total;
    const w = weights[k]!;
    let nz = 0;
    for (let j = 0; j < n; j++) {
      const r = masks[at + j]! - last;
      if (r !== 0) {
        nonzero[nz] = j;
        sign[nz++] = r;
      }
    }
    // A is symmetric: its upper triangle is accumulated (each entry in coalition order, as a
    // full accumulation would) and mirrored once at the end, half the additions
    for (let p = 0; p < nz; p++) {
      const i = nonzero[p]!;
      const wi = w * sign[p]!;
      b[i] = b[i]! + wi * y;
      const row = i * n;
      for (let q = p; q < nz; q++) {
        const j = nonzero[q]!;
        a[row + j] = a[row + j]! + wi * sign[q]!;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i]!;
  const solution = solve(a, b, n);
  if (solution === null)
    throw new ModelshipError(
      'INVALID_ARGUMENT',
      `${where}: the ${count} sampled coalitions do not determine ${m} attributions; raise nsamples (2^M − 2 = ${maxNsamples(m)} enumerates them all)`,
    );
  let sum = 0;
  for (let j = 0; j < n; j++) {
    phi[j] = solution[j]!;
    sum += solution[j]!;
  }
  phi[n] = total - sum;
  return phi;
}
