import type { Columns, DataOptions, Row } from '../evaluate/types';
import type { AbortSignalLike } from '../model/model';

/** Rows to explain or to compute a global explanation on: held in memory, read more than once. */
export type ExplainRows = readonly Row[] | Columns;

/** How a model's output is read as the one number explained. */
export interface ExplainedOutput {
  /**
   * The output explained (default: the float output whose name contains "prob", else the first
   * float output — the one `evaluate` reads).
   */
  output?: string;
  /**
   * The column of that output explained, for outputs with several values per row (default:
   * the only column; column 1, the positive class, for two columns; required above two).
   */
  class?: number;
}

/** What every explainer shares: how rows become inputs, how outputs are read, batching and cancellation. */
export interface ExplainRunOptions extends DataOptions, ExplainedOutput {
  /**
   * Rows per `predict` call (default 4096). Every coalition, permutation or grid point is
   * stacked into calls of this many rows; lower it when the model's inputs are large.
   */
  batchSize?: number;
  /** Stops the computation: it rejects with `ABORTED` and returns nothing computed so far. */
  signal?: AbortSignalLike;
}

/** The Shapley value estimator: all coalitions, KernelSHAP, or antithetic permutations. */
export type ExplainMethod = 'exact' | 'kernel' | 'permutation';

export interface ExplainOptions extends ExplainRunOptions {
  /**
   * The rows standing for "feature unknown": each coalition's value is the mean prediction
   * over these rows with the coalition's features taken from the explained row (the
   * interventional value function). Required; 50–100 rows is the usual size (`sampleRows`, or
   * `kmeansBackground` with `backgroundWeights`).
   */
  background: ExplainRows;
  /**
   * One weight per background row (any non-negative numbers, normalised to sum 1): the value
   * function becomes the weighted mean, as for shap's `kmeans` summaries. `kmeansBackground`
   * returns rows and these weights. Default: equal weights.
   */
  backgroundWeights?: readonly number[];
  /**
   * `'exact'` evaluates all 2^M coalitions (default for M ≤ 10), `'kernel'` is KernelSHAP
   * (default above 10), `'permutation'` averages forward and reverse passes of random feature orders.
   */
  method?: ExplainMethod;
  /** KernelSHAP coalitions (default 2·M + 2048, capped at 2^M − 2, where all are enumerated). */
  nsamples?: number;
  /** Permutation budget in coalitions per row (default 500; at least 2·M + 1). */
  maxEvals?: number;
  /** Seed of the sampling (default 0): the same seed gives the same values. */
  seed?: number;
  /** `'identity'` (default) explains the output itself; `'logit'` explains log-odds of a probability. */
  link?: 'identity' | 'logit';
  /**
   * Features explained together as one player, by name: `{ country: ['country_fr', 'country_de'] }`.
   * Columns in no group are players of their own. With a `pipeline`, every record field is
   * already one player.
   */
  groups?: Readonly<Record<string, readonly string[]>>;
}

/** One feature's share of one prediction. */
export interface Attribution {
  feature: string;
  value: number;
}

/** The result of `explain`. */
export interface Explanation {
  /** The method that computed the values. */
  method: ExplainMethod;
  /** The players, in column order (groups in the order given, after the ungrouped columns). */
  features: string[];
  /** link(mean prediction over the background): what every row's attributions start from. */
  baseValue: number;
  /** link(prediction) of each explained row. */
  predictions: number[];
  /** Per row, feature → contribution; each row's values sum to `predictions[i] − baseValue`. */
  values: Record<string, number>[];
  /** Model rows evaluated, over all explained rows. */
  evaluations: number;
  /** Advice on the run, in words (a background too large to be cheap, say). */
  notes: string[];
  /** The `k` largest contributions of row `row` by absolute value, largest first. */
  topFeatures(row: number, k?: number): Attribution[];
}
