/**
 * The Vitest matchers: tensors (closeness, shape, dtype, snapshots) and models (metric
 * thresholds, invariance, directional expectations, regression against a baseline,
 * calibration, signature, what the predictions depend on). Each failure message says what was expected, what came out, and
 * where to look.
 */
import type { MatcherState } from 'vitest';
import { Snapshots } from 'vitest';
import { ModelshipError } from '../errors';
import { compareModels } from '../evaluate/compare';
import { evaluate, scoreDataset } from '../evaluate/evaluate';
import type { Scored } from '../evaluate/scored';
import type { Dataset, EvaluateOptions, EvaluationReport, MetricName, Row } from '../evaluate/types';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import { type DriftOptions, detectDrift } from '../monitor/drift';
import { Profile } from '../monitor/profile';

import { formatShape, type TensorSpec } from '../tensor/spec';
import { explainMatchers } from './explain-matchers';
import { type CloseOptions, compareFlat, explain, type Flat, toFlat } from './tensor-compare';
import { matchSummary, parseSummary, renderSummary, summarize, type TensorSummary } from './tensor-snapshot';
import type { RowTransform } from './transforms';

type Result = { pass: boolean; message: () => string; actual?: unknown; expected?: unknown };

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

/** A partial signature: the inputs and outputs named here must have these dtypes and shapes. */
export interface SignatureExpectation {
  inputs?: readonly Partial<TensorSpec>[];
  outputs?: readonly Partial<TensorSpec>[];
}

function fmt(v: number): string {
  return Number.isFinite(v)
    ? Math.abs(v) >= 1e-3 || v === 0
      ? v.toFixed(4)
      : v.toExponential(2)
    : String(v);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(v < 0.001 && v > 0 ? 3 : 1)}%`;
}

function flat(value: unknown, what: string): Flat {
  return toFlat(value, what);
}

function modelName(model: Model): string {
  return `model '${model.name}' (version ${model.version})`;
}

function checkModel(model: unknown, matcher: string): asserts model is Model {
  if (typeof model !== 'object' || model === null || typeof (model as Model).predict !== 'function')
    throw new TypeError(`${matcher}: expect() must be given a Model (something with signature and predict)`);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
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

/** Scores of the watched class, or regression estimates, row by row. */
function scoresOf(s: Scored, cls: Label | undefined, matcher: string): Float64Array {
  if (s.task === 'regression') return s.estimate!;
  if (s.positiveScores !== undefined && cls === undefined) return s.positiveScores;
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
  if (s.positiveScores !== undefined) return s.positiveScores;
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

/**
 * The matchers, for `expect.extend(modelMatchers)` (or `import '@modelship/core/testing/setup'`).
 */
export const modelMatchers = {
  /** numpy `allclose`: |received − expected| ≤ atol + rtol·|expected| element-wise, shapes equal. */
  toBeCloseToTensor(
    this: MatcherState,
    received: unknown,
    expected: unknown,
    options: CloseOptions = {},
  ): Result {
    const r = flat(received, 'received');
    const e = flat(expected, 'expected');
    const c = compareFlat(r, e, options);
    const head = this.isNot
      ? 'expected tensors not to be close, but they are:'
      : 'expected tensor to be close to the expected tensor:';
    return {
      pass: c.pass,
      message: () => [head, ...explain(c, e.shape).map((l) => `  ${l}`)].join('\n'),
    };
  },

  /** The tensor's shape equals `shape`. */
  toHaveShape(this: MatcherState, received: unknown, shape: readonly number[]): Result {
    const r = flat(received, 'received');
    const pass = r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i]);
    return {
      pass,
      message: () =>
        `expected shape ${this.isNot ? 'not ' : ''}[${shape.join(', ')}], received [${r.shape.join(', ')}]`,
      actual: r.shape,
      expected: shape,
    };
  },

  /** The tensor's dtype (a typed array's element type) equals `dtype`. */
  toHaveDType(this: MatcherState, received: unknown, dtype: string): Result {
    const r = flat(received, 'received');
    return {
      pass: r.dtype === dtype,
      message: () =>
        `expected dtype ${this.isNot ? 'not ' : ''}${dtype}, received ${r.dtype ?? 'an untyped array'}`,
    };
  },

  /**
   * Stores a compact summary of the tensor in the snapshot file (every value up to 64
   * elements; statistics, head, tail and a strided sample above) and compares it within
   * `rtol`/`atol` on later runs. `vitest -u` rewrites it.
   */
  toMatchTensorSnapshot(this: MatcherState, received: unknown, options: CloseOptions = {}) {
    const r = flat(received, 'received');
    let why: string | undefined;
    const adapter = {
      name: 'tensor',
      capture: (): TensorSummary => summarize(r),
      render: (s: TensorSummary) => renderSummary(s),
      parseExpected: (text: string) => parseSummary(text),
      match: (s: TensorSummary, stored: TensorSummary) => {
        const m = matchSummary(s, stored, options);
        why = m.message;
        // Within tolerance, the stored text stays as it is: `-u` does not churn float noise.
        return m.pass ? { pass: true, resolved: renderSummary(stored) } : { pass: false, message: m.message };
      },
    };
    const result = Snapshots.toMatchDomainSnapshot.call(this, adapter, received) as Result;
    // Vitest's own message only names the snapshot; say what moved first.
    return result.pass || why === undefined
      ? result
      : { ...result, message: () => `${why}\n${result.message()}` };
  },

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

  /**
   * The rows drift from a reference profile: the share of drifted features reaches
   * `driftShare` (default 0.5), with Evidently's choice of test per feature. Use it negated on
   * live or candidate data: `expect(batch).not.toDriftFrom(profile)`.
   */
  toDriftFrom(this: MatcherState, rows: unknown, profile: Profile, options: DriftOptions = {}): Result {
    if (
      !Profile.isInstance(profile) &&
      (typeof profile !== 'object' || profile === null || !Array.isArray((profile as Profile).features))
    )
      throw new TypeError(
        'toDriftFrom: the reference must be a Profile (Profile.fromDataset or Profile.fromJSON)',
      );
    // A Profile from any copy of core is used as it is; anything else is read as profile JSON.
    const reference = Profile.isInstance(profile) ? profile : Profile.fromJSON(profile);
    const report = detectDrift(reference, rows as Row[], options);
    const lines = table([
      ['feature', 'test', 'score', 'threshold', ''],
      ...report.features.map((f) => [
        f.feature,
        f.method,
        fmt(f.score),
        String(f.threshold),
        f.drifted ? 'DRIFTED' : 'ok',
      ]),
    ]);
    const summary = `${report.driftedFeatures} of ${report.features.length} features drifted (share ${fmt(report.share)}, dataset drift at ≥ ${report.driftShare}) on ${report.currentRows} rows against a ${report.referenceRows}-row reference`;
    return {
      pass: report.datasetDrift,
      message: () =>
        [
          this.isNot ? `expected no drift, but ${summary}:` : `expected drift, but ${summary}:`,
          ...lines,
        ].join('\n'),
    };
  },

  /** The model declares the named inputs and outputs with these dtypes and shapes (others may exist). */
  toHaveSignature(this: MatcherState, model: unknown, expected: SignatureExpectation): Result {
    checkModel(model, 'toHaveSignature');
    const problems: string[] = [];
    for (const side of ['inputs', 'outputs'] as const) {
      for (const want of expected[side] ?? []) {
        const have = model.signature[side].find((s) => s.name === want.name);
        if (have === undefined) {
          problems.push(
            `${side.slice(0, -1)} '${want.name}' is missing (${side}: ${model.signature[side].map((s) => `'${s.name}'`).join(', ')})`,
          );
          continue;
        }
        if (want.dtype !== undefined && want.dtype !== have.dtype)
          problems.push(`${side.slice(0, -1)} '${want.name}' is ${have.dtype}, expected ${want.dtype}`);
        if (want.shape !== undefined && formatShape(want.shape) !== formatShape(have.shape))
          problems.push(
            `${side.slice(0, -1)} '${want.name}' has shape ${formatShape(have.shape)}, expected ${formatShape(want.shape)}`,
          );
        if (want.labels !== undefined && JSON.stringify(want.labels) !== JSON.stringify(have.labels ?? null))
          problems.push(
            `${side.slice(0, -1)} '${want.name}' has labels ${JSON.stringify(have.labels ?? null)}, expected ${JSON.stringify(want.labels)}`,
          );
      }
    }
    return {
      pass: problems.length === 0,
      message: () =>
        this.isNot
          ? `expected ${modelName(model)} not to have that signature, but it does`
          : `${modelName(model)} does not have the expected signature:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    };
  },
  ...explainMatchers,
};
