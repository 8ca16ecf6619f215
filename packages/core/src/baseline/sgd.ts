/**
 * Plain stochastic gradient descent as scikit-learn's `_plain_sgd` (sklearn/linear_model/
 * _sgd_fast.pyx) computes it, step for step: the weight vector kept as `w · wscale` so the L2
 * shrink is one multiplication, the truncated-gradient L1 penalty with its cumulative bound
 * (Tsuruoka et al. 2009), the `optimal` schedule's starting point, `dloss` clipped at 1e12 and
 * the stop on `n_iter_no_change` epochs without a `tol` improvement of the summed loss. Without
 * shuffling the arithmetic is scikit-learn's, so the weights agree to rounding; with it the
 * order comes from our own seeded generator (scikit-learn's cannot be reproduced).
 */
import { invalidArgument, ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { assertFinite, type Design, flag, positive, positiveInteger } from './design';

export type SgdClassifierLoss = 'hinge' | 'log_loss' | 'modified_huber' | 'squared_hinge' | 'perceptron';
export type SgdRegressorLoss =
  | 'squared_error'
  | 'huber'
  | 'epsilon_insensitive'
  | 'squared_epsilon_insensitive';
export type SgdPenalty = 'l2' | 'l1' | 'elasticnet' | null;
export type SgdLearningRate = 'constant' | 'optimal' | 'invscaling' | 'adaptive';

/** The options SGDClassifier and SGDRegressor share, with scikit-learn's names (camelCased). */
export interface SgdOptions {
  /** The penalty (default `'l2'`; `null` for none). */
  penalty?: SgdPenalty;
  /** Regularisation strength; also sets the `optimal` learning rate (default 1e-4). */
  alpha?: number;
  /** Mix of L1 in `elasticnet`, 0…1 (default 0.15). */
  l1Ratio?: number;
  /** Fit an unpenalised intercept (default true). */
  fitIntercept?: boolean;
  /** Epochs at most (default 1000). */
  maxIter?: number;
  /** Stop when the summed training loss has not fallen by `tol · n` for `nIterNoChange` epochs (default 1e-3; `null` never stops early). */
  tol?: number | null;
  /** Epochs without improvement before stopping (default 5). */
  nIterNoChange?: number;
  /** Shuffle the rows before each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). scikit-learn's seeded order is not reproduced. */
  randomState?: number;
  /** `'constant'` (eta0), `'optimal'`, `'invscaling'` (eta0 / t^powerT) or `'adaptive'`. */
  learningRate?: SgdLearningRate;
  /** Initial learning rate for constant, invscaling and adaptive. */
  eta0?: number;
  /** Exponent of invscaling. */
  powerT?: number;
  /** Width of the huber, epsilon-insensitive losses (default 0.1). */
  epsilon?: number;
  /** Weight of each training row (default 1 each). */
  sampleWeight?: ArrayLike<number>;
}

const LOSSES = [
  'hinge',
  'log_loss',
  'modified_huber',
  'squared_hinge',
  'perceptron',
  'squared_error',
  'huber',
  'epsilon_insensitive',
  'squared_epsilon_insensitive',
] as const;
type Loss = (typeof LOSSES)[number];

/** The checked settings of one fit. */
export interface SgdSettings {
  loss: number;
  epsilon: number;
  penalty: 0 | 1 | 2 | 3; // none, l1, l2, elasticnet (scikit-learn's codes)
  alpha: number;
  l1Ratio: number;
  fitIntercept: boolean;
  maxIter: number;
  tol: number;
  nIterNoChange: number;
  shuffle: boolean;
  seed: number;
  learningRate: SgdLearningRate;
  eta0: number;
  powerT: number;
}

const PENALTIES: Record<string, 0 | 1 | 2 | 3> = { none: 0, l1: 1, l2: 2, elasticnet: 3 };

function oneOf<T extends string>(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw invalidArgument(where, `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

/** The `loss` of a saved SGD model, checked against the estimator's losses. */
export function savedLoss<T extends string>(value: unknown, losses: readonly T[], where: string): T {
  if (!losses.includes(value as T))
    throw invalidArgument(where, `loss must be one of ${losses.join(', ')}`, value);
  return value as T;
}

/** Reads and checks the options, with scikit-learn's defaults for this estimator. */
export function sgdSettings(
  where: string,
  loss: unknown,
  losses: readonly string[],
  options: SgdOptions,
  defaults: { loss: Loss; learningRate: SgdLearningRate; eta0: number; powerT: number },
): SgdSettings {
  if (options === null || typeof options !== 'object')
    throw invalidArgument(where, 'options must be an object', options);
  const lossName = oneOf(where, 'loss', loss, losses, defaults.loss);
  const penalty =
    options.penalty === null
      ? 'none'
      : oneOf(where, 'penalty', options.penalty, ['l2', 'l1', 'elasticnet'], 'l2');
  const alpha = positive(where, 'alpha', options.alpha, 1e-4, true);
  const l1Ratio = positive(where, 'l1Ratio', options.l1Ratio, 0.15, true);
  if (l1Ratio > 1) throw invalidArgument(where, 'l1Ratio must be between 0 and 1', l1Ratio);
  const fitIntercept = flag(where, 'fitIntercept', options.fitIntercept, true);
  const shuffle = flag(where, 'shuffle', options.shuffle, true);
  const tol =
    options.tol === null ? Number.NEGATIVE_INFINITY : positive(where, 'tol', options.tol, 1e-3, true);
  const seed = options.randomState ?? 0;
  if (!Number.isSafeInteger(seed)) throw invalidArgument(where, 'randomState must be an integer', seed);
  const learningRate = oneOf(
    where,
    'learningRate',
    options.learningRate,
    ['constant', 'optimal', 'invscaling', 'adaptive'],
    defaults.learningRate,
  );
  const eta0 = positive(where, 'eta0', options.eta0, defaults.eta0, true);
  if (learningRate !== 'optimal' && eta0 <= 0)
    throw invalidArgument(where, `eta0 must be > 0 with learningRate '${learningRate}'`, eta0);
  if (learningRate === 'optimal' && alpha === 0)
    throw invalidArgument(
      where,
      "alpha must be > 0 with learningRate 'optimal' (it sets the step size)",
      alpha,
    );
  const powerT = options.powerT ?? defaults.powerT;
  if (typeof powerT !== 'number' || !Number.isFinite(powerT))
    throw invalidArgument(where, 'powerT must be a finite number', powerT);
  return {
    loss: LOSSES.indexOf(lossName as Loss),
    epsilon: positive(where, 'epsilon', options.epsilon, 0.1, true),
    penalty: PENALTIES[penalty]!,
    alpha,
    // scikit-learn's _plain_sgd: l2 ignores l1_ratio, l1 is l1_ratio 1.
    l1Ratio: penalty === 'l2' ? 0 : penalty === 'l1' ? 1 : l1Ratio,
    fitIntercept,
    maxIter: positiveInteger(where, 'maxIter', options.maxIter, 1000),
    tol,
    nIterNoChange: positiveInteger(where, 'nIterNoChange', options.nIterNoChange, 5),
    shuffle,
    seed,
    learningRate,
    eta0,
    powerT,
  };
}

/**
 * scikit-learn's losses (`loss`) and their derivatives in `p` (`dloss`), by their index in
 * `LOSSES`. One switch each, not a function per loss: the epoch loop calls these two functions
 * only, which V8 inlines, so its code is the same whichever losses a process fits (calling
 * one small function per loss left the loop's call sites polymorphic once a second loss ran).
 * The branch is loop-invariant, so it costs the CPU next to nothing.
 */
function lossValue(loss: number, p: number, y: number, eps: number): number {
  switch (loss) {
    case 0: // hinge (threshold 1)
      return p * y <= 1 ? 1 - p * y : 0;
    case 1: {
      // log_loss
      const z = p * y;
      if (z > 18) return Math.exp(-z);
      if (z < -18) return -z;
      return Math.log(1 + Math.exp(-z));
    }
    case 2: {
      // modified_huber
      const z = p * y;
      if (z >= 1) return 0;
      if (z >= -1) return (1 - z) * (1 - z);
      return -4 * z;
    }
    case 3: {
      // squared_hinge (threshold 1)
      const z = 1 - p * y;
      return z > 0 ? z * z : 0;
    }
    case 4: // perceptron (hinge at 0)
      return p * y <= 0 ? -p * y : 0;
    case 5: // squared_error
      return 0.5 * (p - y) * (p - y);
    case 6: {
      // huber
      const r = p - y;
      const a = Math.abs(r);
      return a <= eps ? 0.5 * r * r : eps * a - 0.5 * eps * eps;
    }
    case 7: // epsilon_insensitive
      return Math.max(0, Math.abs(y - p) - eps);
    default: {
      // squared_epsilon_insensitive
      const r = Math.abs(y - p) - eps;
      return r > 0 ? r * r : 0;
    }
  }
}

function dlossValue(loss: number, p: number, y: number, eps: number): number {
  switch (loss) {
    case 0:
      return p * y <= 1 ? -y : 0;
    case 1: {
      const z = p * y;
      if (z > 18) return -y * Math.exp(-z);
      if (z < -18) return -y;
      return -y / (Math.exp(z) + 1);
    }
    case 2: {
      const z = p * y;
      if (z >= 1) return 0;
      if (z >= -1) return -2 * (1 - z) * y;
      return -4 * y;
    }
    case 3: {
      const z = 1 - p * y;
      return z > 0 ? -2 * y * z : 0;
    }
    case 4:
      return p * y <= 0 ? -y : 0;
    case 5:
      return p - y;
    case 6: {
      const r = p - y;
      if (Math.abs(r) <= eps) return r;
      return r > 0 ? eps : -eps;
    }
    case 7:
      if (y - p > eps) return -1;
      return p - y > eps ? 1 : 0;
    default: {
      const z = y - p;
      if (z > eps) return -2 * (z - eps);
      return z < -eps ? 2 * (-z - eps) : 0;
    }
  }
}

const MAX_DLOSS = 1e12;
const WSCALE_THRESHOLD = 1e-9;
/**
 * Rows of a shuffled epoch whose memory is read in one pass before they are fitted: enough for
 * the CPU to have dozens of cache misses in flight at once, few enough (64 rows of 20 features:
 * 10 kB) that they stay in the L1 cache until their turn.
 */
const BLOCK = 64;
/** Where the read-ahead's sum goes, so that the compiler keeps its loads. */
const TOUCHED = new Float64Array(1);

/** The result of one binary or regression fit. */
export interface SgdFit {
  coef: Float64Array;
  intercept: number;
  /** Epochs run. */
  nIter: number;
}

/**
 * One linear model by SGD on targets `y` (±1 for a binary classifier, values for a regressor),
 * `epochs` overriding maxIter for benchmarks. `seed` shuffles (scikit-learn draws one per class).
 */
export function plainSgd(d: Design, y: Float64Array, s: SgdSettings, seed: number, where: string): SgdFit {
  const { x, n, k, w: sw } = d;
  const w = new Float64Array(k);
  const q = s.penalty === 1 || s.penalty === 3 ? new Float64Array(k) : undefined;
  let wscale = 1;
  let intercept = 0;
  let u = 0;
  const { epsilon, alpha, l1Ratio, powerT } = s;
  const loss = s.loss;
  // A plain loop: Int32Array.from with a mapping callback costs ~9 ms per 100k rows.
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  const random = seededRandom(seed);
  let eta = s.eta0;
  let optimalInit = 0;
  if (s.learningRate === 'optimal') {
    const typw = Math.sqrt(1 / Math.sqrt(alpha));
    const initialEta0 = typw / Math.max(1, dlossValue(loss, -typw, 1, epsilon));
    optimalInit = 1 / (initialEta0 * alpha);
  }
  const shrinks = s.penalty >= 2;
  const l2 = (1 - l1Ratio) * alpha;
  // Hoisted out of the per-row loop: the schedule as a number, and whether the summed loss is
  // needed at all (only for the tol stop; scikit-learn sums it regardless, to the same weights).
  const schedule = s.learningRate === 'optimal' ? 1 : s.learningRate === 'invscaling' ? 2 : 0;
  const sumsLoss = s.tol > Number.NEGATIVE_INFINITY;
  const fitIntercept = s.fitIntercept;
  const eta0 = s.eta0;
  const shuffled = s.shuffle;
  // Shuffled, the targets and weights in each epoch's order, so the rows read them in sequence.
  const ys = shuffled ? new Float64Array(n) : y;
  const ws = shuffled ? new Float64Array(n) : sw;
  const k4 = k - (k % 4);
  const m1 = Math.min(8, k - 1);
  const m2 = Math.min(16, k - 1);
  let touched = 0;
  let unchecked = 0;
  let dot = 0;
  let haveDot = false;
  let t = 1;
  let bestLoss = Number.POSITIVE_INFINITY;
  let noImprovement = 0;
  let epoch = 0;
  for (; epoch < s.maxIter; epoch++) {
    if (shuffled) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const v = index[i]!;
        index[i] = index[j]!;
        index[j] = v;
      }
      for (let r = 0; r < n; r++) {
        const i = index[r]!;
        ys[r] = y[i]!;
        ws[r] = sw[i]!;
      }
    }
    let sumLoss = 0;
    for (let r0 = 0; r0 < n; r0 += BLOCK) {
      const r1 = Math.min(r0 + BLOCK, n);
      // Shuffled, first touch each cache line of the block's rows in a loop that does nothing
      // else: its reads do not wait on one another, so their misses overlap, where the rows'
      // own reads each wait for the previous row's update (most of a shuffled epoch's time was
      // that wait). The sum only keeps the loads alive; the weights do not depend on it.
      if (shuffled) {
        // Up to 24 features a row spans at most four cache lines of 8 values: one read in each
        // of values 0, 8, 16 and the last covers them without a loop of its own per row (whose
        // instructions took room the CPU needs to keep more rows' reads in flight).
        if (k <= 24)
          for (let r = r0; r < r1; r++) {
            const a = index[r]! * k;
            touched += x[a]! + x[a + m1]! + x[a + m2]! + x[a + k - 1]!;
          }
        else
          for (let r = r0; r < r1; r++) {
            const a = index[r]! * k;
            for (let j = 0; j < k; j += 8) touched += x[a + j]!;
            touched += x[a + k - 1]!;
          }
      }
      for (let r = r0; r < r1; r++) {
        const i = index[r]!;
        const at = i * k;
        // The row's dot product, unless the previous row's update computed it.
        if (!haveDot) {
          // Four terms a turn, added in the same order (bit for bit the same sum): fewer loop
          // instructions per row.
          dot = 0;
          let j = 0;
          for (; j < k4; j += 4) {
            const b = at + j;
            dot += w[j]! * x[b]!;
            dot += w[j + 1]! * x[b + 1]!;
            dot += w[j + 2]! * x[b + 2]!;
            dot += w[j + 3]! * x[b + 3]!;
          }
          for (; j < k; j++) dot += w[j]! * x[at + j]!;
        }
        haveDot = false;
        // 0 while every product was finite; NaN for ever once a row held NaN or ±Infinity.
        unchecked += dot * 0;
        const p = dot * wscale + intercept;
        if (schedule === 1) eta = 1 / (alpha * (optimalInit + t - 1));
        else if (schedule === 2)
          // The two default exponents by square roots (correctly rounded, and a tenth of pow's time).
          eta =
            eta0 / (powerT === 0.5 ? Math.sqrt(t) : powerT === 0.25 ? Math.sqrt(Math.sqrt(t)) : t ** powerT);
        const yi = ys[r]!;
        if (sumsLoss) sumLoss += lossValue(loss, p, yi, epsilon);
        let dloss = dlossValue(loss, p, yi, epsilon);
        if (dloss < -MAX_DLOSS) dloss = -MAX_DLOSS;
        else if (dloss > MAX_DLOSS) dloss = MAX_DLOSS;
        const update = -eta * dloss * ws[r]!;
        if (shrinks) {
          wscale *= Math.max(0, 1 - eta * l2);
          if (wscale < WSCALE_THRESHOLD) {
            for (let j = 0; j < k; j++) w[j] = w[j]! * wscale;
            wscale = 1;
          }
        }
        if (update !== 0) {
          const c = update / wscale;
          let j = 0;
          if (q === undefined && r + 1 < n) {
            // The update and the next row's dot product in one pass: each new weight is used
            // as it is stored (the same products, summed in the same order as the row's own
            // pass would), so w is read once and the loop runs once per row, not twice.
            const next = index[r + 1]! * k;
            let d = 0;
            for (; j < k4; j += 4) {
              const b = at + j;
              const e = next + j;
              const w0 = w[j]! + x[b]! * c;
              const w1 = w[j + 1]! + x[b + 1]! * c;
              const w2 = w[j + 2]! + x[b + 2]! * c;
              const w3 = w[j + 3]! + x[b + 3]! * c;
              w[j] = w0;
              w[j + 1] = w1;
              w[j + 2] = w2;
              w[j + 3] = w3;
              d += w0 * x[e]!;
              d += w1 * x[e + 1]!;
              d += w2 * x[e + 2]!;
              d += w3 * x[e + 3]!;
            }
            for (; j < k; j++) {
              const wj = w[j]! + x[at + j]! * c;
              w[j] = wj;
              d += wj * x[next + j]!;
            }
            dot = d;
            haveDot = true;
          } else {
            for (; j < k4; j += 4) {
              const b = at + j;
              w[j] = w[j]! + x[b]! * c;
              w[j + 1] = w[j + 1]! + x[b + 1]! * c;
              w[j + 2] = w[j + 2]! + x[b + 2]! * c;
              w[j + 3] = w[j + 3]! + x[b + 3]! * c;
            }
            for (; j < k; j++) w[j] = w[j]! + x[at + j]! * c;
          }
          if (fitIntercept) intercept += update;
        }
        if (q !== undefined) {
          u += l1Ratio * eta * alpha;
          for (let j = 0; j < k; j++) {
            const z = w[j]!;
            if (wscale * z > 0) w[j] = Math.max(0, z - (u + q[j]!) / wscale);
            else if (wscale * z < 0) w[j] = Math.min(0, z + (u - q[j]!) / wscale);
            q[j] = q[j]! + wscale * (w[j]! - z);
          }
        }
        t++;
      }
    }
    // X's values, checked here rather than by a pass of their own before the fit: a row with a
    // non-finite value made its dot product non-finite (0 · ±Infinity is NaN too), so only
    // then is X searched for the value to name (or the weights had overflowed, reported below).
    if (epoch === 0 && unchecked !== 0) assertFinite(x, k, where);
    if (!Number.isFinite(intercept) || !w.every(Number.isFinite))
      throw new ModelshipError(
        'INVALID_ARGUMENT',
        `${where}: the fit diverged (weights became infinite); scale the features or lower eta0`,
      );
    if (sumsLoss && sumLoss > bestLoss - s.tol * n) noImprovement++;
    else noImprovement = 0;
    if (sumLoss < bestLoss) bestLoss = sumLoss;
    if (noImprovement >= s.nIterNoChange) {
      if (s.learningRate === 'adaptive' && eta > 1e-6) {
        eta /= 5;
        noImprovement = 0;
      } else {
        epoch++;
        break;
      }
    }
  }
  TOUCHED[0] = touched;
  for (let j = 0; j < k; j++) w[j] = w[j]! * wscale;
  return { coef: w, intercept, nIter: Math.min(epoch, s.maxIter) };
}
