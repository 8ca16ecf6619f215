/**
 * The Monitor: records every prediction (from a Deployer's events or a wrapped Model) into
 * per-version sliding windows of fixed memory (windows.ts, series.ts), answers snapshots as
 * plain JSON, keeps drift and performance watches (drift-watch.ts, performance-watch.ts), joins
 * late labels (outcomes.ts), and raises and clears alerts (alerts.ts). This file is the surface;
 * each of those rooms holds one idea.
 */
import { EventEmitter } from 'eventemitter3';
import type { PerformanceEstimate, PerformanceEstimator } from '../anomaly/cbpe';
import type { MulticlassPerformanceEstimator } from '../anomaly/cbpe-multiclass';
import type { InputScreen, ScreenReport } from '../anomaly/screen';
import type { Clock } from '../deploy/clock';
import { systemClock } from '../deploy/clock';
import type { Deployer } from '../deploy/deployer';
import type { PredictionEvent } from '../deploy/types';
import { invalidArgument } from '../errors';
import type { Label } from '../metrics/labels';
import type { Model } from '../model/model';
import { type AlertEvent, type AlertRule, type AlertSignals, Alerts, type MonitorEvents } from './alerts';
import type { DriftOptions, DriftReport } from './drift';
import { DriftWatch, type WatchDriftOptions } from './drift-watch';
import type { SeriesHistory } from './history';
import { monitoredModel } from './monitored-model';
import { LabelJoin, type LivePerformance, type PendingPrediction } from './outcomes';
import { PerformanceWatch } from './performance-watch';
import type { Profile } from './profile';
import type { PredictionRecord, SeriesSnapshot } from './series';
import { inputRows, tensorRows } from './tensor-rows';
import { Windows } from './windows';

export interface MonitorOptions {
  /** Length of the sliding window snapshots and alerts look at (default 60,000 ms). */
  windowMs?: number;
  /** Granularity of the window: it slides by this much (default 5,000 ms). */
  intervalMs?: number;
  /** How far back {@link Monitor.history} reaches, one point per interval (default 900,000 ms: 15 minutes). */
  historyMs?: number;
  /** Relative error bound of the latency quantiles (default 0.01: within 1%). */
  relativeAccuracy?: number;
  /** Predictions kept waiting for their label; the oldest are dropped beyond this (default 100,000). */
  maxPending?: number;
  /** Labeled predictions live performance is computed on, the most recent (default 1,000). */
  outcomeWindow?: number;
  /**
   * Model and version series kept at once (default 1,000): a record that would start one more
   * is dropped (counted in `droppedRecords`) once idle series have been let go.
   */
  maxSeries?: number;
  /** A series with no record for this long is let go (default 3,600,000 ms, at least `windowMs`). */
  seriesIdleMs?: number;
  /** Time source (default the runtime's); tests pass a fake one. */
  clock?: Clock;
}

/**
 * Records predictions and watches them.
 *
 * @example
 * const monitor = new Monitor({ windowMs: 60_000 });
 * monitor.attach(deployer);
 * monitor.addAlert({ name: 'slow', metric: 'p99LatencyMs', above: 50, resolveAt: 40 });
 * monitor.on('alert', (a) => log.warn(a.message));
 * monitor.snapshot(); // [{ model, version, requests, errorRate, throughput, latencyMs: { p50, p99, … } }]
 */
export class Monitor extends EventEmitter<MonitorEvents> {
  readonly windowMs: number;
  readonly intervalMs: number;
  readonly historyMs: number;
  readonly relativeAccuracy: number;
  private readonly clock: Clock;
  private readonly windows: Windows;
  private readonly rules = new Alerts();
  private timer: unknown;
  private readonly watches = new Map<string, DriftWatch>();
  private readonly estimators = new Map<string, PerformanceWatch>();
  private readonly labels: LabelJoin;
  private readonly random: () => number = Math.random;
  /** What alert rules read beyond the windows. */
  private readonly signals: AlertSignals = {
    windowMs: 0,
    drift: (model) => (this.watches.has(model) ? this.drift(model) : undefined),
    performance: () => this.performance(),
    estimate: (model) => this.estimators.get(model)?.estimate(),
    recentRows: (model) => this.recentRows(model),
  };
  /** Records dropped because `maxSeries` series were already kept. */
  droppedRecords = 0;

  constructor(options: MonitorOptions = {}) {
    super();
    this.windows = new Windows(options);
    this.windowMs = this.windows.windowMs;
    this.intervalMs = this.windows.intervalMs;
    this.historyMs = this.windows.historyMs;
    this.relativeAccuracy = this.windows.relativeAccuracy;
    this.clock = options.clock ?? systemClock;
    this.labels = new LabelJoin(options.maxPending ?? 100_000, options.outcomeWindow ?? 1000, () =>
      this.clock.now(),
    );
    this.signals.windowMs = this.windowMs;
  }

  /** Records one prediction: O(1), no allocation once the version has been seen. */
  record(r: PredictionRecord): void {
    if (!this.windows.record(r, this.clock.now())) this.droppedRecords++;
  }

  /** Records every request a Deployer answers; returns a function that stops. */
  attach(deployer: Deployer): () => void {
    if (typeof deployer?.on !== 'function')
      throw invalidArgument('Monitor.attach', 'expected a Deployer', deployer);
    const listener = (e: PredictionEvent): void => {
      if (e.kind !== 'serve') return;
      this.record({
        model: e.name,
        version: e.version,
        latencyMs: e.latencyMs,
        batchSize: e.batchSize,
        error: e.error,
        ...(e.screen === undefined ? {} : { screen: e.screen }),
      });
      if (e.error === undefined) {
        this.observeInputs(e.name, e.inputs);
        if (e.outputs !== undefined) this.observeOutputs(e.name, e.outputs);
      }
    };
    deployer.on('prediction', listener);
    return () => deployer.off('prediction', listener);
  }

  /**
   * A Model that records each of its predictions here, for models used without a Deployer.
   * With `screen`, every request is screened first (data quality, outliers, see
   * `InputScreen`): what it finds is counted in the model's series, a request in `reject` mode is
   * refused with `INPUT_REJECTED` (and counted as a failure), and `onScreen` gets each report.
   */
  wrap<M extends Model>(
    model: M,
    options: { screen?: InputScreen; onScreen?: (report: ScreenReport) => void } = {},
  ): Model {
    return monitoredModel(
      model,
      options,
      () => this.clock.now(),
      (r) => this.record(r),
    );
  }

  /**
   * Keeps the most recent input rows of `model` (sampled) to measure their drift against a
   * reference profile with {@link drift}. Memory is `windowRows` rows.
   */
  watchDrift(model: string, profile: Profile, options: WatchDriftOptions = {}): void {
    if (typeof model !== 'string') throw invalidArgument('Monitor.watchDrift', 'model must be a name', model);
    const watch = new DriftWatch(profile, options);
    this.watches.set(options.output === undefined ? model : outputsKey(model), watch);
  }

  /** Records input rows for drift by hand (a wrapped model or a browser's telemetry). */
  observeInputs(model: string, inputs: unknown): void {
    const w = this.watches.get(model);
    if (w === undefined || w.records || !w.sampled(this.random)) return;
    w.keepTensorRows(inputRows(inputs, w.input));
  }

  /** Records a prediction's outputs for prediction drift (see `watchDrift`'s `output`). */
  observeOutputs(model: string, outputs: unknown): void {
    this.estimators.get(model)?.observe(outputs);
    const w = this.watches.get(outputsKey(model));
    if (w === undefined || !w.sampled(this.random)) return;
    w.keepTensorRows(tensorRows((outputs as Record<string, unknown>)[w.output!]));
  }

  /**
   * Estimates `model`'s performance from its recent answers before their labels arrive (CBPE):
   * the positive class's scores of the last `windowRows` rows (default 1,000) of output `output`
   * (default: the first whose name contains "prob"). Read with {@link estimatedPerformance};
   * alert on `estimatedAccuracy`. Realized accuracy, from {@link recordOutcome}, replaces it
   * where labels came back.
   */
  watchPerformance(
    model: string,
    estimator: PerformanceEstimator | MulticlassPerformanceEstimator,
    options: { output?: string; windowRows?: number } = {},
  ): void {
    if (typeof model !== 'string')
      throw invalidArgument('Monitor.watchPerformance', 'model must be a name', model);
    this.estimators.set(model, new PerformanceWatch(estimator, options));
  }

  /**
   * The estimated performance of `model` over its recent answers (see {@link watchPerformance}),
   * next to the realized performance of its versions where labels arrived; `estimate` is
   * undefined before 20 rows.
   */
  estimatedPerformance(model: string): {
    estimate: PerformanceEstimate | undefined;
    realized: LivePerformance[];
  } {
    const watch = this.estimators.get(model);
    if (watch === undefined)
      throw invalidArgument(
        'Monitor.estimatedPerformance',
        `no performance watch for model '${model}'; call watchPerformance first`,
        model,
      );
    return {
      estimate: watch.estimate(),
      realized: this.performance().filter((p) => p.model === model),
    };
  }

  /** Drift of the watched model's recent predictions against a profile of reference predictions. */
  predictionDrift(model: string, options: DriftOptions = {}): DriftReport {
    const w = this.watches.get(outputsKey(model));
    if (w === undefined)
      throw invalidArgument(
        'Monitor.predictionDrift',
        `no prediction drift watch for model '${model}'; call watchDrift with output`,
        model,
      );
    return w.drift(options);
  }

  /**
   * Records feature rows for drift directly (one array of values per row, in the watch's
   * feature order), as browsers send them with their telemetry.
   */
  observeRows(model: string, rows: readonly ArrayLike<unknown>[]): void {
    const w = this.watches.get(model);
    if (w === undefined || !w.sampled(this.random)) return;
    w.keepRows(rows.length, (r, i) => rows[r]![i]);
  }

  /**
   * Records client records (field name to value) for drift on raw features, as a server with
   * a pipeline receives them. Only the watched features are kept; a missing one is `null`. An
   * array field is one feature per element (`image[0]`, …), as in profiles.
   */
  observeRecords(model: string, records: readonly Readonly<Record<string, unknown>>[]): void {
    const w = this.watches.get(model);
    if (w === undefined || !w.sampled(this.random)) return;
    if (!Array.isArray(records))
      throw invalidArgument('Monitor.observeRecords', 'records must be an array of objects', records);
    w.keepRecords(records);
  }

  /**
   * A copy of the input rows `model`'s drift watch keeps now (the most recent `windowRows`,
   * oldest first), or undefined without a watch.
   */
  recentRows(model: string): Record<string, unknown>[] | undefined {
    return this.watches.get(model)?.recent();
  }

  /** Drift of the watched model's recent rows against its profile. */
  drift(model: string, options: DriftOptions = {}): DriftReport {
    const w = this.watches.get(model);
    if (w === undefined)
      throw invalidArgument(
        'Monitor.drift',
        `no drift watch for model '${model}'; call watchDrift first`,
        model,
      );
    return w.drift(options);
  }

  /**
   * Keeps what the model answered for `requestId` until its true label arrives
   * ({@link recordOutcome}). At most `maxPending` wait; the oldest are dropped first.
   */
  recordPrediction(requestId: string, prediction: PendingPrediction): void {
    this.labels.recordPrediction(requestId, prediction);
  }

  /**
   * Joins the true label of an earlier prediction. Returns false when the request is unknown
   * (never recorded, or dropped as too old).
   */
  recordOutcome(requestId: string, label: Label): boolean {
    return this.labels.recordOutcome(requestId, label);
  }

  /**
   * Accuracy, F1 and ROC AUC of each version on its most recent labeled predictions, with the
   * Evaluator's metric functions. `positiveLabel` makes F1 binary (default: macro F1).
   */
  performance(options: { positiveLabel?: Label } = {}): LivePerformance[] {
    return this.labels.performance(options);
  }

  /** Every version's window, as plain JSON (series idle for `seriesIdleMs` are let go first). */
  snapshot(): SeriesSnapshot[] {
    return this.windows.snapshot(this.clock.now());
  }

  /**
   * Each version's traffic over the last `historyMs`, one point per finished interval, oldest
   * first (the current interval, still filling, is left out): what a dashboard draws as trends.
   *
   * @example
   * monitor.history('fraud'); // [{ model: 'fraud', version: '3', intervalMs: 5000, points: [{ t, requests, throughput, errorRate, p99LatencyMs, … }, …] }]
   */
  history(model?: string): SeriesHistory[] {
    if (model !== undefined && typeof model !== 'string')
      throw invalidArgument('Monitor.history', 'model must be a string', model);
    return this.windows.history(this.clock.now(), model);
  }

  /** Adds (or replaces) an alert rule. */
  addAlert(rule: AlertRule): void {
    this.rules.add(rule);
  }

  removeAlert(name: string): void {
    this.rules.remove(name);
  }

  /** The alerts firing now. */
  alerts(): AlertEvent[] {
    return this.rules.firing();
  }

  /** Evaluates every rule on the current windows, emitting `alert` and `resolved` as states change. */
  check(): AlertEvent[] {
    const snapshots = this.snapshot();
    this.rules.check(snapshots, this.clock.now(), this.signals, (kind, event) => this.emit(kind, event));
    return this.alerts();
  }

  /**
   * A Deployer guard check (`policy.guards.check`) that rolls the candidate back while the named
   * rule is firing for `model`.
   */
  guard(rule: string, model?: string): () => string | undefined {
    return () => {
      this.check();
      const a = this.alerts().find((x) => x.rule === rule && (model === undefined || x.model === model));
      return a?.message;
    };
  }

  /** Checks alerts every interval until {@link stop}. */
  start(): void {
    if (this.timer !== undefined) return;
    const tick = (): void => {
      this.check();
      this.timer = this.clock.setTimeout(tick, this.intervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    };
    this.timer = this.clock.setTimeout(tick, this.intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function outputsKey(model: string): string {
  return `${model}\u0000outputs`;
}
