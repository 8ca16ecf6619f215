import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { EVALUATE_OPTIONS, scoreDataset } from '../evaluate/evaluate';
import { LOWER_IS_BETTER, METRIC_NAMES, scorer } from '../evaluate/metric-set';
import { checkMetrics } from '../evaluate/report';
import type { EvaluateOptions, MetricName, OutputOptions, Row } from '../evaluate/types';
import { checkOptions } from '../metrics/labels';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
import { DEFAULT_BATCH_SIZE } from './batches';
import { shuffleInPlace } from './permutation';
import { checkFeatureValues, playersOf, rowsOf } from './rows';
import type { ExplainRows, ExplainRunOptions } from './types';

export interface PermutationImportanceOptions extends Omit<ExplainRunOptions, 'class'>, OutputOptions {
  /**
   * The score compared before and after shuffling, any metric `evaluate` knows (default:
   * `accuracy` for classification, `r2Score` for regression, as scikit-learn's `estimator.score`).
   */
  metric?: MetricName;
  /** Shuffles per feature (default 5). */
  repeats?: number;
  /** Seed of the shuffles (default 0); as in scikit-learn, every feature sees the same sequence of shuffles. */
  seed?: number;
  /** Columns shuffled together as one feature, by name (see `explain`). */
  groups?: Readonly<Record<string, readonly string[]>>;
  /**
   * The row orders to use instead of seeded shuffles: one permutation of the row indices per
   * repeat, applied cumulatively as scikit-learn applies its shuffles. Lets a test replay the
   * exact orders scikit-learn drew.
   */
  permutations?: readonly (readonly number[])[];
}

export interface PermutationImportance {
  metric: MetricName;
  /** The metric on the unshuffled rows. */
  baseline: number;
  features: string[];
  /** Per feature, per repeat: how much worse the metric got (baseline − shuffled; reversed for losses). */
  importances: number[][];
  importancesMean: number[];
  /** Standard deviation over the repeats (ddof 0, as scikit-learn). */
  importancesStd: number[];
}

const NOT_TAKEN = new Set(['metrics', 'bootstrap', 'calibrationBins', 'total', 'onProgress']);
const OPTIONS = [
  ...EVALUATE_OPTIONS.filter((o) => !NOT_TAKEN.has(o)),
  'metric',
  'repeats',
  'seed',
  'groups',
  'permutations',
];

function checkPermutations(perms: unknown, repeats: number, n: number, where: string): void {
  if (!Array.isArray(perms) || perms.length !== repeats)
    throw invalidArgument(
      where,
      `permutations must be an array of ${repeats} row orders (one per repeat)`,
      perms,
    );
  perms.forEach((p: unknown, r) => {
    const seen = new Uint8Array(n);
    const fresh = (i: unknown): boolean => {
      if (!(Number.isInteger(i) && (i as number) >= 0 && (i as number) < n) || seen[i as number] === 1)
        return false;
      seen[i as number] = 1;
      return true;
    };
    const ok = Array.isArray(p) && p.length === n && p.every(fresh);
    if (!ok)
      throw invalidArgument(where, `permutations[${r}] must be a permutation of the ${n} row indices`, p);
  });
}

/**
 * Permutation importance (scikit-learn's `permutation_importance`): each feature's values are
 * shuffled across the rows, `repeats` times, and the drop in the metric is its importance.
 * Cheap and model-agnostic; correlated features share (and so hide) their importance.
 *
 * @example
 * const imp = await permutationImportance(model, holdout, { label: 'is_fraud', metric: 'rocAuc', seed: 1 });
 * imp.features[imp.importancesMean.indexOf(Math.max(...imp.importancesMean))]; // the most important feature
 */
export async function permutationImportance(
  model: Model,
  rows: ExplainRows,
  options: PermutationImportanceOptions = {},
): Promise<PermutationImportance> {
  const where = 'permutationImportance';
  checkOptions(where, options, OPTIONS);
  const repeats = options.repeats ?? 5;
  if (!(Number.isSafeInteger(repeats) && repeats > 0))
    throw invalidArgument(where, 'repeats must be a positive integer', repeats);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  if (options.metric !== undefined && !METRIC_NAMES.includes(options.metric))
    throw invalidArgument(
      where,
      `unknown metric '${String(options.metric)}' (known: ${METRIC_NAMES.join(', ')})`,
      options.metric,
    );
  const data = rowsOf(rows, 'the rows', where);
  const n = data.length;
  if (options.permutations !== undefined) checkPermutations(options.permutations, repeats, n, where);
  const label = options.label ?? 'label';
  const players = playersOf(data[0]!, label, options.features, options.groups, where);
  checkFeatureValues(data, players.columns, 'the rows', where, options.pipeline !== undefined);

  const { metric: _m, repeats: _r, seed: _s, groups: _g, permutations: _p, ...rest } = options;
  const evalOptions: EvaluateOptions = { ...rest, batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE };
  const work: Row[] = data.map((row) => ({ ...row }));
  const scoreOf = async (metric: MetricName | undefined): Promise<{ metric: MetricName; value: number }> => {
    const s = await scoreDataset(model, work, evalOptions, where);
    const name = metric ?? (s.task === 'regression' ? 'r2Score' : 'accuracy');
    checkMetrics([name], s, where);
    return { metric: name, value: scorer(name, s)() };
  };
  const { metric, value: baseline } = await scoreOf(options.metric);
  const sign = LOWER_IS_BETTER.has(metric) ? -1 : 1;

  const importances: number[][] = [];
  const idx = new Int32Array(n);
  const column = new Array<unknown>(n);
  for (const cols of players.members) {
    const names = cols.map((c) => players.columns[c]!);
    const random = seededRandom(seed);
    for (let i = 0; i < n; i++) idx[i] = i;
    const scores: number[] = [];
    for (let r = 0; r < repeats; r++) {
      throwIfAborted(options.signal);
      if (options.permutations !== undefined) idx.set(options.permutations[r]!);
      else shuffleInPlace(idx, random);
      for (const c of names) {
        for (let i = 0; i < n; i++) column[i] = work[idx[i]!]![c];
        for (let i = 0; i < n; i++) work[i]![c] = column[i];
      }
      scores.push(sign * (baseline - (await scoreOf(metric)).value));
    }
    for (const c of names) for (let i = 0; i < n; i++) work[i]![c] = data[i]![c];
    importances.push(scores);
  }
  const importancesMean = importances.map((s) => s.reduce((a, b) => a + b, 0) / s.length);
  const importancesStd = importances.map((s, j) => {
    const mean = importancesMean[j]!;
    return Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  });
  return { metric, baseline, features: players.names, importances, importancesMean, importancesStd };
}
