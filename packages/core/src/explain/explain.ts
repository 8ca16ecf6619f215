import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { checkOptions } from '../metrics/labels';
import type { Model } from '../model/model';
import { backgroundNote } from './background';
import { BatchPredictor, checkRunOptions, RUN_OPTIONS } from './batches';
import { type CoalitionPlan, CoalitionValues, linkOf } from './coalitions';
import { EXACT_MAX_PLAYERS, exactPlan } from './exact';
import { kernelPlan } from './kernel';
import { permutationPlan } from './permutation';
import { checkFeatureValues, checkSameColumns, playersOf, rowsOf } from './rows';
import type { Attribution, ExplainMethod, ExplainOptions, ExplainRows, Explanation } from './types';

const OPTIONS = [
  ...RUN_OPTIONS,
  'background',
  'backgroundWeights',
  'method',
  'nsamples',
  'maxEvals',
  'seed',
  'link',
  'groups',
];
const METHODS: readonly ExplainMethod[] = ['exact', 'kernel', 'permutation'];

/** The `k` largest attributions of one row by absolute value. */
function top(values: Record<string, number>, k: number): Attribution[] {
  return Object.entries(values)
    .map(([feature, value]) => ({ feature, value }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .slice(0, k);
}

/** The background's weights normalised to sum 1, or undefined for equal weights. */
function backgroundWeights(
  weights: readonly number[] | undefined,
  rows: number,
  where: string,
): Float64Array | undefined {
  if (weights === undefined) return undefined;
  if (!Array.isArray(weights) && !ArrayBuffer.isView(weights))
    throw invalidArgument(
      where,
      'backgroundWeights must be an array of numbers, one per background row',
      weights,
    );
  if (weights.length !== rows)
    throw invalidArgument(
      where,
      `backgroundWeights has ${weights.length} weights for ${rows} background rows; give one per row`,
      weights.length,
    );
  let total = 0;
  weights.forEach((w, i) => {
    if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0))
      throw invalidArgument(where, `backgroundWeights[${i}] must be a finite number ≥ 0`, w);
    total += w;
  });
  if (!(total > 0)) throw invalidArgument(where, 'backgroundWeights must not all be 0', weights);
  return Float64Array.from(weights, (w) => w / total);
}

/**
 * Shapley values of a model's predictions: how much each feature moved each row's output away
 * from the mean output over a background. Black-box: only batched `predict` is called, so it
 * works for every `Model` — ONNX, function models, baselines, a Deployer version. Features
 * whose value in a row equals every background row's get 0 without being evaluated.
 *
 * @example
 * const ex = await explain(model, rows.slice(0, 20), { background: train.slice(0, 100) });
 * ex.values[0];          // { amount: 0.31, age: -0.02, ... } sums to predictions[0] − baseValue
 * ex.topFeatures(0, 3);  // the three largest |contributions| of row 0
 */
export async function explain(
  model: Model,
  rows: ExplainRows,
  options: ExplainOptions,
): Promise<Explanation> {
  const where = 'explain';
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options with a background are required', options);
  checkOptions(where, options, OPTIONS);
  const batchSize = checkRunOptions(model, options, where);
  if (options.background === undefined)
    throw invalidArgument(
      where,
      'background rows are required (the rows standing for "feature unknown")',
      undefined,
    );
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  if (options.nsamples !== undefined && !(Number.isSafeInteger(options.nsamples) && options.nsamples > 0))
    throw invalidArgument(where, 'nsamples must be a positive integer', options.nsamples);
  const maxEvals = options.maxEvals ?? 500;
  if (!(Number.isSafeInteger(maxEvals) && maxEvals > 0))
    throw invalidArgument(where, 'maxEvals must be a positive integer', maxEvals);
  const link = linkOf(options.link, where);

  const explained = rowsOf(rows, 'the rows', where);
  const background = rowsOf(options.background, 'the background', where);
  const weights = backgroundWeights(options.backgroundWeights, background.length, where);
  const label = options.label ?? 'label';
  const players = playersOf(explained[0]!, label, options.features, options.groups, where);
  checkSameColumns(explained[0]!, background[0]!, label, players.columns, where);
  checkFeatureValues(explained, players.columns, 'the rows', where, options.pipeline !== undefined);
  checkFeatureValues(background, players.columns, 'the background', where, options.pipeline !== undefined);
  const M = players.names.length;
  const method = options.method ?? (M <= 10 ? 'exact' : 'kernel');
  if (!METHODS.includes(method))
    throw invalidArgument(where, `method must be one of ${METHODS.map((m) => `'${m}'`).join(', ')}`, method);
  if (method === 'exact' && M > EXACT_MAX_PLAYERS)
    throw invalidArgument(
      where,
      `method 'exact' evaluates 2^M coalitions and takes at most ${EXACT_MAX_PLAYERS} features; there are ${M}, so use 'kernel' or 'permutation'`,
      method,
    );

  const predictor = new BatchPredictor(model, explained[0]!, players.columns, options, batchSize, where);
  const cv = new CoalitionValues(predictor, players, background, link, weights);
  const baseValue = await cv.base();
  const { table, predictions } = await cv.predictions(explained);
  const random = seededRandom(seed);
  const phis = new Array<Float64Array>(explained.length);
  // rows' coalitions are valued together until they fill a batch, so small games share calls
  let pending: CoalitionPlan[] = [];
  let pendingRows = 0;
  const flush = async (): Promise<void> => {
    const v = await cv.values(pending);
    pending.forEach((plan, j) => {
      phis[plan.game.r] = plan.finish(v[j]!);
    });
    pending = [];
    pendingRows = 0;
  };
  const varyings = explained.map((x) => cv.varying(x));
  for (let r = 0; r < explained.length; r++) {
    const varying = varyings[r]!;
    const fx = predictions[r]!;
    // with one varying feature (or none) the answer is the whole difference: no sampling, no minimum budget
    if (varying.length <= 1) {
      phis[r] = Float64Array.from(varying, () => fx - baseValue);
      continue;
    }
    const game = { cv, rows: table, r, varying, base: baseValue, fx };
    const plan =
      method === 'exact'
        ? exactPlan(game)
        : method === 'kernel'
          ? kernelPlan(game, options.nsamples, random, where)
          : permutationPlan(game, maxEvals, random, where);
    pending.push(plan);
    pendingRows += plan.count * background.length;
    if (pendingRows >= batchSize) await flush();
  }
  if (pending.length > 0) await flush();
  const values = phis.map((phi, r) => {
    const byPlayer = new Float64Array(M);
    varyings[r]!.forEach((p, q) => {
      byPlayer[p] = phi[q]!;
    });
    // fromEntries, so a feature named like an Object.prototype key is an own property
    return Object.fromEntries(players.names.map((name, p) => [name, byPlayer[p]!]));
  });
  return {
    method,
    features: players.names,
    baseValue,
    predictions,
    values,
    evaluations: predictor.evaluations,
    notes: backgroundNote(background.length),
    topFeatures(row: number, k = 5): Attribution[] {
      const v = values[row];
      if (v === undefined)
        throw invalidArgument('topFeatures', `row must be an index below ${values.length}`, row);
      if (!(Number.isInteger(k) && k >= 0))
        throw invalidArgument('topFeatures', 'k must be an integer ≥ 0', k);
      return top(v, k);
    },
  };
}
