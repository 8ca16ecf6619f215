/**
 * Matchers on what a model's predictions depend on, from Shapley values (`explain`): the share
 * of a feature in the mean |attribution| over some rows, and the features that lead it.
 */
import type { MatcherState } from 'vitest';
import { invalidArgument } from '../errors';
import { explain } from '../explain/explain';
import type { ExplainOptions, ExplainRows, Explanation } from '../explain/types';
import type { Model } from '../model/model';

type Result = { pass: boolean; message: () => string };

/** Options of `toDependOn`: how to explain (a background is required), and the bound. */
export interface DependenceOptions extends ExplainOptions {
  /**
   * The share of the mean |attribution| (over all features) above which the model depends on
   * the feature (default 0.01: 1%). `.not.toDependOn` passes at or below it.
   */
  maxShare?: number;
}

/** Options of `toHaveTopFeatures`: how to explain (a background is required), and how many lead. */
export interface TopFeaturesOptions extends ExplainOptions {
  /** How many leading features the named ones must be among (default: as many as are named). */
  k?: number;
}

/** One feature's mean |attribution| over the explained rows, and its share of their sum. */
export interface FeatureImportance {
  feature: string;
  meanAbs: number;
  share: number;
}

/** Mean |attribution| per feature over an explanation's rows, largest first (ties by name order). */
export function meanAbsAttributions(ex: Explanation): FeatureImportance[] {
  const rows = ex.values.length;
  const means = ex.features.map((feature) => ({
    feature,
    meanAbs: ex.values.reduce((s, v) => s + Math.abs(v[feature]!), 0) / rows,
  }));
  const total = means.reduce((s, m) => s + m.meanAbs, 0);
  return means
    .map((m) => ({ ...m, share: total > 0 ? m.meanAbs / total : 0 }))
    .sort((a, b) => b.meanAbs - a.meanAbs);
}

function label(model: Model): string {
  return `model '${model.name}' (version ${model.version})`;
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function num(v: number): string {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2);
}

/** The attribution table a failure prints: rank, feature, mean |value|, share (marked rows with ←). */
function attributionTable(importances: readonly FeatureImportance[], marked: readonly string[]): string[] {
  const rows = [
    ['rank', 'feature', 'mean |value|', 'share'],
    ...importances.map((f, i) => [
      String(i + 1),
      f.feature,
      num(f.meanAbs),
      `${pct(f.share)}${marked.includes(f.feature) ? '  ←' : ''}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

function checkExplainable(model: unknown, matcher: string): asserts model is Model {
  if (typeof model !== 'object' || model === null || typeof (model as Model).predict !== 'function')
    throw invalidArgument(
      matcher,
      'expect() must be given a Model (something with signature and predict)',
      model,
    );
}

function checkFeature(ex: Explanation, feature: string, matcher: string): void {
  if (!ex.features.includes(feature))
    throw invalidArgument(
      matcher,
      `'${feature}' is not one of the explained features (${ex.features.map((f) => `'${f}'`).join(', ')})`,
      feature,
    );
}

export const explainMatchers = {
  /**
   * The model depends on `feature`: its share of the mean |attribution| over `rows` exceeds
   * `maxShare` (default 1%). Mostly used negated, for a feature a model must ignore:
   * `await expect(model).not.toDependOn('gender', rows, { background })`.
   */
  async toDependOn(
    this: MatcherState,
    model: unknown,
    feature: string,
    rows: ExplainRows,
    options: DependenceOptions,
  ): Promise<Result> {
    const where = 'toDependOn';
    checkExplainable(model, where);
    if (typeof feature !== 'string') throw invalidArgument(where, 'the feature must be a name', feature);
    if (typeof options !== 'object' || options === null)
      throw invalidArgument(where, 'options with a background are required', options);
    const { maxShare = 0.01, ...explainOptions } = options;
    if (!(typeof maxShare === 'number' && maxShare >= 0 && maxShare <= 1))
      throw invalidArgument(where, 'maxShare must be a number from 0 to 1', maxShare);
    const ex = await explain(model, rows, explainOptions);
    checkFeature(ex, feature, where);
    const importances = meanAbsAttributions(ex);
    const share = importances.find((f) => f.feature === feature)!.share;
    const pass = share > maxShare;
    const facts = `'${feature}' carries ${pct(share)} of the mean |attribution| over ${ex.values.length} rows (${ex.method} Shapley values); the bound is ${pct(maxShare)}`;
    return {
      pass,
      message: () =>
        [
          this.isNot
            ? `expected ${label(model)} not to depend on '${feature}', but ${facts}:`
            : `expected ${label(model)} to depend on '${feature}', but ${facts}:`,
          ...attributionTable(importances, [feature]),
        ].join('\n'),
    };
  },

  /**
   * The named features are among the model's `k` leading features by mean |attribution| over
   * `rows` (k defaults to how many are named: then they are exactly the leaders, in any order).
   */
  async toHaveTopFeatures(
    this: MatcherState,
    model: unknown,
    features: readonly string[],
    rows: ExplainRows,
    options: TopFeaturesOptions,
  ): Promise<Result> {
    const where = 'toHaveTopFeatures';
    checkExplainable(model, where);
    if (!Array.isArray(features) || features.length === 0 || features.some((f) => typeof f !== 'string'))
      throw invalidArgument(where, 'the features must be a non-empty array of names', features);
    if (typeof options !== 'object' || options === null)
      throw invalidArgument(where, 'options with a background are required', options);
    const { k = features.length, ...explainOptions } = options;
    if (!(Number.isInteger(k) && k >= features.length))
      throw invalidArgument(where, `k must be an integer ≥ the ${features.length} features named`, k);
    const ex = await explain(model, rows, explainOptions);
    for (const f of features) checkFeature(ex, f, where);
    const importances = meanAbsAttributions(ex);
    const top = importances.slice(0, k).map((f) => f.feature);
    const outside = features.filter((f) => !top.includes(f));
    const rank = (f: string): string => `'${f}' ranks ${importances.findIndex((i) => i.feature === f) + 1}`;
    const named = features.map((f) => `'${f}'`).join(', ');
    const leaders = `the top ${k} by mean |attribution| over ${ex.values.length} rows are ${top.map((f) => `'${f}'`).join(', ')}`;
    return {
      pass: outside.length === 0,
      message: () =>
        [
          this.isNot
            ? `expected ${named} not to be among the top ${k} features of ${label(model)}, but ${leaders}:`
            : `expected ${named} among the top ${k} features of ${label(model)}, but ${leaders} (${outside.map(rank).join(', ')}):`,
          ...attributionTable(importances, features),
        ].join('\n'),
    };
  },
};
