/**
 * Model quality matchers: metric thresholds (value or bootstrap interval), regression against
 * a baseline by a paired test, and calibration. Failures print the metric, per-class and
 * calibration tables.
 */
import type { MatcherState } from 'vitest';
import { ModelshipError } from '../errors';
import { compareModels } from '../evaluate/compare';
import { evaluate } from '../evaluate/evaluate';
import type { Dataset, EvaluateOptions, EvaluationReport, MetricName } from '../evaluate/types';
import type { Model } from '../model/model';
import { checkModel, fmt, modelName, type Result, table } from './matcher-format';

/** A bound on one metric: its value (or its interval's bound) must lie within. */
export interface MetricBound {
  min?: number;
  max?: number;
}

/** Options of {@link toMeetMetrics}: evaluation options, and which figure the bounds apply to. */
export interface MeetMetricsOptions extends EvaluateOptions {
  /**
   * `'value'` (default) checks the point estimate; `'interval'` requires the whole bootstrap
   * interval inside the bounds, a stricter test that small holdouts fail honestly.
   */
  check?: 'value' | 'interval';
}

export interface RegressionOptions extends EvaluateOptions {
  /** The metric compared (default `'rocAuc'` when there are scores, else `'accuracy'`). */
  metric?: MetricName;
  /** Significance level (default 0.05). */
  alpha?: number;
}

export interface CalibrationOptions extends EvaluateOptions {
  /** Largest acceptable expected calibration error (default 0.05). */
  maxEce?: number;
}

function perClassLines(report: EvaluationReport): string[] {
  if (report.perClass === undefined || report.perClass.length > 30) return [];
  return [
    'per class:',
    ...table([
      ['class', 'precision', 'recall', 'f1', 'support'],
      ...report.perClass.map((c) => [
        String(c.label),
        fmt(c.precision),
        fmt(c.recall),
        fmt(c.f1),
        String(c.support),
      ]),
    ]),
  ];
}

/** The quality matchers (part of `modelMatchers`). */
export const qualityMatchers = {
  /**
   * Evaluates the model and checks each metric against its bounds. The failure message has
   * the metric table and the per-class table.
   *
   * @example
   * await expect(model).toMeetMetrics(holdout, { rocAuc: { min: 0.9 }, recall: { min: 0.8 } });
   */
  async toMeetMetrics(
    this: MatcherState,
    model: unknown,
    dataset: Dataset,
    bounds: Partial<Record<MetricName, MetricBound>>,
    options: MeetMetricsOptions = {},
  ): Promise<Result> {
    checkModel(model, 'toMeetMetrics');
    const names = Object.keys(bounds) as MetricName[];
    if (names.length === 0)
      throw new TypeError('toMeetMetrics: give at least one metric bound, as { rocAuc: { min: 0.9 } }');
    const { check = 'value', ...evaluateOptions } = options;
    const report = await evaluate(model, dataset, {
      bootstrap: check === 'interval' ? {} : false,
      ...evaluateOptions,
      metrics: names,
    });
    const rows: string[][] = [['metric', check === 'interval' ? 'interval' : 'value', 'required', '']];
    let failures = 0;
    for (const name of names) {
      const m = report.metrics[name];
      const b = bounds[name]!;
      const lo = check === 'interval' ? (m?.low ?? Number.NaN) : (m?.value ?? Number.NaN);
      const hi = check === 'interval' ? (m?.high ?? Number.NaN) : (m?.value ?? Number.NaN);
      const ok =
        m !== undefined && (b.min === undefined || lo >= b.min) && (b.max === undefined || hi <= b.max);
      if (!ok) failures++;
      const required = [b.min === undefined ? '' : `≥ ${b.min}`, b.max === undefined ? '' : `≤ ${b.max}`]
        .filter((x) => x)
        .join(' and ');
      rows.push([
        name,
        m === undefined ? 'not computed' : check === 'interval' ? `${fmt(lo)} … ${fmt(hi)}` : fmt(m.value),
        required,
        ok ? 'ok' : 'FAILS',
      ]);
    }
    const pass = failures === 0;
    return {
      pass,
      message: () =>
        [
          this.isNot
            ? `expected ${modelName(model)} to miss a metric bound on ${report.samples} rows, but it meets all ${names.length}:`
            : `${modelName(model)} misses ${failures} of ${names.length} metric bound${names.length > 1 ? 's' : ''} on ${report.samples} rows:`,
          ...table(rows),
          ...perClassLines(report),
          ...report.notes.map((n) => `note: ${n}`),
        ].join('\n'),
    };
  },

  /**
   * True when the model is significantly worse than `baseline` on a metric, by the paired test
   * `compareModels` uses for it (DeLong, McNemar, paired bootstrap). Use it negated:
   * `await expect(candidate).not.toRegressFrom(current, holdout, { metric: 'rocAuc' })`.
   */
  async toRegressFrom(
    this: MatcherState,
    model: unknown,
    baseline: Model,
    dataset: Dataset,
    options: RegressionOptions = {},
  ): Promise<Result> {
    checkModel(model, 'toRegressFrom');
    checkModel(baseline, 'toRegressFrom');
    const { metric, alpha = 0.05, ...evaluateOptions } = options;
    const c = await compareModels(baseline, model, dataset, {
      bootstrap: false,
      ...evaluateOptions,
      alpha,
      ...(metric === undefined ? {} : { metrics: [metric] }),
    });
    const chosen = metric ?? (c.tests.some((t) => t.metric === 'rocAuc') ? 'rocAuc' : 'accuracy');
    const t = c.tests.find((x) => x.metric === chosen);
    if (t === undefined)
      throw new ModelshipError(
        'INVALID_ARGUMENT',
        `toRegressFrom: ${chosen} could not be computed for these models`,
      );
    const pass = t.better === 'a';
    const interval = t.low === undefined ? '' : `, interval ${fmt(t.low)} … ${fmt(t.high!)}`;
    const facts = `${chosen} ${fmt(t.a)} → ${fmt(t.b)} (${t.difference >= 0 ? '+' : ''}${fmt(t.difference)}${interval}), p = ${t.pValue < 1e-4 ? t.pValue.toExponential(1) : t.pValue.toFixed(4)} by ${t.method} at α = ${alpha}, ${c.samples} rows`;
    return {
      pass,
      message: () =>
        this.isNot
          ? `${modelName(model)} regressed from ${modelName(baseline)}: ${facts}`
          : `expected ${modelName(model)} to regress from ${modelName(baseline)}, but the difference is not significant: ${facts}`,
    };
  },

  /** The model's probabilities are calibrated: expected calibration error at most `maxEce`. */
  async toBeCalibrated(
    this: MatcherState,
    model: unknown,
    dataset: Dataset,
    options: CalibrationOptions = {},
  ): Promise<Result> {
    checkModel(model, 'toBeCalibrated');
    const { maxEce = 0.05, ...evaluateOptions } = options;
    const report = await evaluate(model, dataset, {
      bootstrap: false,
      ...evaluateOptions,
      metrics: ['accuracy'],
    });
    if (report.calibration === undefined)
      throw new TypeError(
        `toBeCalibrated: ${modelName(model)} gives no probabilities to calibrate (its output reads as ${report.scores})`,
      );
    const cal = report.calibration;
    const ece = cal.expectedCalibrationError;
    return {
      pass: ece <= maxEce,
      message: () =>
        [
          this.isNot
            ? `expected ${modelName(model)} not to be calibrated within ${maxEce}, but its expected calibration error is ${fmt(ece)}`
            : `${modelName(model)} has expected calibration error ${fmt(ece)}; at most ${maxEce} is allowed (${cal.of === 'positive' ? 'positive-class probability' : 'top-class probability'}):`,
          ...table([
            ['bin', 'rows', 'predicted', 'observed'],
            ...cal.bins
              .filter((b) => b.count > 0)
              .map((b) => [
                `${b.lower.toFixed(2)}–${b.upper.toFixed(2)}`,
                String(b.count),
                fmt(b.meanPredicted),
                fmt(b.observed),
              ]),
          ]),
        ].join('\n'),
    };
  },
};
