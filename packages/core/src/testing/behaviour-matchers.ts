/**
 * Metamorphic matchers: a transform of the rows leaves the predictions alone (invariance) or
 * moves the score one way (a directional expectation).
 */
import type { MatcherState } from 'vitest';
import { scoreDataset } from '../evaluate/evaluate';
import type { Scored } from '../evaluate/scored';
import type { Dataset, EvaluateOptions, Row } from '../evaluate/types';
import type { Label } from '../metrics/labels';
import { checkModel, fmt, modelName, pct, type Result } from './matcher-format';
import type { RowTransform } from './transforms';

export interface InvarianceOptions extends EvaluateOptions {
  /** Share of rows whose prediction may change (default 0). */
  maxFlipRate?: number;
  /** Regression: an estimate that moves by more than this counts as changed (default 1e-6). */
  tolerance?: number;
}

export interface DirectionOptions extends EvaluateOptions {
  /** Which way the score must move: `'increase'` or `'decrease'`. */
  direction: 'increase' | 'decrease';
  /** Share of rows allowed to move the other way (default 0). */
  maxViolationRate?: number;
  /** Moves smaller than this against the direction are not violations (default 0). */
  tolerance?: number;
  /** Multiclass: the class whose score is watched. */
  class?: Label;
}

/** Scores of the watched class, or regression estimates, row by row. */
function scoresOf(s: Scored, cls: Label | undefined, matcher: string): Float64Array {
  if (s.task === 'regression') return s.estimate!;
  if (s.positiveScores !== undefined && cls === undefined) return Float64Array.from(s.positiveScores);
  if (s.matrix !== undefined) {
    if (cls === undefined)
      throw new TypeError(
        `${matcher}: a multiclass model needs the class option: which class's score must move`,
      );
    const j = s.classes.indexOf(cls);
    if (j < 0)
      throw new TypeError(
        `${matcher}: class ${JSON.stringify(cls)} is not one of ${JSON.stringify(s.classes)}`,
      );
    const k = s.classes.length;
    return Float64Array.from({ length: s.n }, (_, i) => s.matrix![i * k + j]!);
  }
  if (s.positiveScores !== undefined) return Float64Array.from(s.positiveScores);
  throw new TypeError(
    `${matcher}: the model's predictions were read as labels; there are no scores to compare`,
  );
}

function rowsOf(dataset: Dataset, matcher: string): Row[] {
  if (Array.isArray(dataset)) return dataset as Row[];
  throw new TypeError(
    `${matcher}: the data set must be an array of rows, so the transform can be applied to it`,
  );
}

/** The metamorphic matchers (part of `modelMatchers`). */
export const behaviourMatchers = {
  /**
   * The model's predictions do not change (beyond `maxFlipRate` of the rows) when `transform`
   * is applied to the rows: a metamorphic invariance test.
   */
  async toBeInvariantTo(
    this: MatcherState,
    model: unknown,
    transform: RowTransform,
    dataset: Dataset,
    options: InvarianceOptions = {},
  ): Promise<Result> {
    checkModel(model, 'toBeInvariantTo');
    if (typeof transform !== 'function')
      throw new TypeError('toBeInvariantTo: the transform must be a function of the rows');
    const { maxFlipRate = 0, tolerance = 1e-6, ...evaluateOptions } = options;
    const rows = rowsOf(dataset, 'toBeInvariantTo');
    const before = await scoreDataset(model, rows, evaluateOptions, 'toBeInvariantTo');
    const after = await scoreDataset(model, transform(rows), evaluateOptions, 'toBeInvariantTo');
    const changed: number[] = [];
    for (let i = 0; i < before.n; i++) {
      const moved =
        before.task === 'regression'
          ? Math.abs(before.estimate![i]! - after.estimate![i]!) > tolerance
          : before.yPred[i] !== after.yPred[i];
      if (moved) changed.push(i);
    }
    const rate = changed.length / before.n;
    const pass = rate <= maxFlipRate;
    const show = (i: number): string => {
      const s0 = before.positiveScores?.[i] ?? before.estimate?.[i];
      const s1 = after.positiveScores?.[i] ?? after.estimate?.[i];
      const scores = s0 === undefined ? '' : ` (score ${fmt(s0)} → ${fmt(s1!)})`;
      return before.task === 'regression'
        ? `row ${i}: ${fmt(before.estimate![i]!)} → ${fmt(after.estimate![i]!)}`
        : `row ${i}: ${String(before.yPred[i])} → ${String(after.yPred[i])}${scores}`;
    };
    return {
      pass,
      message: () =>
        this.isNot
          ? `expected ${modelName(model)} to change its predictions on more than ${pct(maxFlipRate)} of rows under the transform, but it changed ${changed.length} of ${before.n} (${pct(rate)})`
          : [
              `${modelName(model)} changed its prediction on ${changed.length} of ${before.n} rows (${pct(rate)}) under the transform; at most ${pct(maxFlipRate)} may change`,
              `first changes: ${changed.slice(0, 5).map(show).join('; ')}`,
            ].join('\n'),
    };
  },

  /**
   * The model's score moves in `direction` on (nearly) every row when `transform` is applied:
   * a directional expectation, such as "a larger amount never lowers the fraud probability".
   */
  async toRespondTo(
    this: MatcherState,
    model: unknown,
    transform: RowTransform,
    dataset: Dataset,
    options: DirectionOptions,
  ): Promise<Result> {
    checkModel(model, 'toRespondTo');
    if (options?.direction !== 'increase' && options?.direction !== 'decrease')
      throw new TypeError("toRespondTo: options.direction must be 'increase' or 'decrease'");
    const { direction, maxViolationRate = 0, tolerance = 0, class: cls, ...evaluateOptions } = options;
    const rows = rowsOf(dataset, 'toRespondTo');
    const before = scoresOf(
      await scoreDataset(model, rows, evaluateOptions, 'toRespondTo'),
      cls,
      'toRespondTo',
    );
    const after = scoresOf(
      await scoreDataset(model, transform(rows), evaluateOptions, 'toRespondTo'),
      cls,
      'toRespondTo',
    );
    const sign = direction === 'increase' ? 1 : -1;
    const violations: number[] = [];
    for (let i = 0; i < before.length; i++)
      if (sign * (after[i]! - before[i]!) < -tolerance) violations.push(i);
    const rate = violations.length / before.length;
    return {
      pass: rate <= maxViolationRate,
      message: () =>
        this.isNot
          ? `expected ${modelName(model)}'s score not to ${direction} under the transform, but it did on ${before.length - violations.length} of ${before.length} rows`
          : [
              `${modelName(model)}'s score should ${direction} under the transform, but moved the other way on ${violations.length} of ${before.length} rows (${pct(rate)}; at most ${pct(maxViolationRate)} allowed)`,
              `first: ${violations
                .slice(0, 5)
                .map((i) => `row ${i}: ${fmt(before[i]!)} → ${fmt(after[i]!)}`)
                .join('; ')}`,
            ].join('\n'),
    };
  },
};
