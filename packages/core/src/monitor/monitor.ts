/**
 * The Monitor: records every prediction (from a Deployer's events or a wrapped Model) into
 * per-version sliding windows of fixed memory (a latency sketch, counts of requests, errors and
 * rows per interval), answers snapshots as plain JSON, and raises and clears alerts.
 */
import { EventEmitter } from 'eventemitter3';
import { type PerformanceEstimate, type PerformanceEstimator, positiveScores } from '../anomaly/cbpe';
import { classScores, type MulticlassPerformanceEstimator } from '../anomaly/cbpe-multiclass';
import type { InputScreen, ScreenReport } from '../anomaly/screen';
import type { Clock } from '../deploy/clock';
import { systemClock } from '../deploy/clock';
import type { Deployer } from '../deploy/deployer';
import type { PredictionEvent } from '../deploy/types';
import { invalidArgument } from '../errors';
import { accuracy, f1 } from '../metrics/classification';
import type { Label } from '../metrics/labels';
import { rocAuc } from '../metrics/ranking';
import type { Model, PredictOptions } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { NamedTensors } from '../tensor/tensor';
import { type DriftOptions, type DriftReport, detectDrift } from './drift';
import { flatRow } from './flat-row';
import { HistoryRing, type SeriesHistory } from './history';
import type { Profile } from './profile';
import { QuantileSketch } from './sketch';
import { inputRows, type TensorRows, tensorRows } from './tensor-rows';

/** Options of {@link Monitor.watchDrift}. */
export interface WatchDriftOptions {
  /** The model input whose rows are the features (default: the model's only input). */
  input?: string;
  /** Feature names of the input's columns, in order (default: the profile's features, in order). */
  features?: readonly string[];
  /** Rows kept for drift: the most recent ones (default 1,000). */
  windowRows?: number;
  /** Share of requests whose rows are kept (default 1). */
  sampleRate?: number;
  /**
   * Watch this model output instead of the inputs (prediction drift): its rows (a `[batch]`
   * output is one value per row) are compared with a profile of reference predictions.
   */
  output?: string;
  /**
   * The profile describes records, the raw fields clients send before a pipeline turns them
   * into tensors: rows then come only from {@link Monitor.observeRecords} (a server with a
   * pipeline calls it), never from input tensors. Default false.
   */
  records?: boolean;
}

interface DriftWatch {
  profile: Profile;
  records: boolean;
  input: string | undefined;
  output: string | undefined;
  features: readonly string[];
  rows: Record<string, unknown>[];
  next: number;
  windowRows: number;
  sampleRate: number;
}

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

/** One answered (or failed) prediction. */
export interface PredictionRecord {
  model: string;
  version: string;
  latencyMs: number;
  /** Rows in the model call that answered it (dynamic batching), when known. */
  batchSize?: number;
  /** The failure, when the prediction failed. */
  error?: unknown;
  /** What the deployment's input screen found in the request (data quality, outliers). */
  screen?: ScreenReport;
}

/** What the model answered for a request, kept until its true label arrives. */
export interface PendingPrediction {
  model: string;
  version: string;
  /** The predicted label. */
  predicted: Label;
  /** The positive class's score, for ROC AUC (binary tasks). */
  score?: number;
}

/** Live quality of a version from labels that arrived after the predictions. */
export interface LivePerformance {
  model: string;
  version: string;
  /** Predictions joined with their true label (the most recent `outcomeWindow`). */
  labeled: number;
  accuracy: number;
  /** F1 of the positive class (binary, with `positiveLabel`) or macro F1. */
  f1: number;
  /** ROC AUC when scores were recorded and both classes are present. */
  rocAuc?: number;
}

interface Outcomes {
  predicted: Label[];
  truth: Label[];
  scores: (number | undefined)[];
  next: number;
}

/** A version's traffic over the window. */
export interface SeriesSnapshot {
  model: string;
  version: string;
  windowMs: number;
  requests: number;
  errors: number;
  errorRate: number;
  /** Requests per second over the window. */
  throughput: number;
  latencyMs: { p50?: number; p90?: number; p99?: number; mean?: number; max?: number; relativeError: number };
  meanBatchSize?: number;
  /** What the deployment's input screen found, once it screened a request of this version. */
  screen?: ScreenSnapshot;
}

/** A version's screened records: over the window, and findings since the series began. */
export interface ScreenSnapshot {
  /** Records screened in the window, and those with a data-quality finding. */
  records: number;
  qualityViolations: number;
  qualityViolationRate: number;
  /** Records scored for outliers in the window, and those at or above the threshold. */
  scored: number;
  outliers: number;
  outlierRate: number;
  /** Quantiles of the window's outlier scores (undefined before any). */
  outlierScore: { p50?: number; p90?: number; p99?: number };
  /** Since the series began: findings by feature and rule, records screened, outliers. */
  totals: {
    records: number;
    qualityViolations: number;
    scored: number;
    outliers: number;
    findings: { feature: string; rule: string; count: number }[];
  };
}

/** An alert rule: a metric of a version's window against a threshold, with hysteresis. */
export interface AlertRule {
  name: string;
  /** Only this model (default: every model). */
  model?: string;
  /** Only this version (default: every version). */
  version?: string;
  metric:
    | 'errorRate'
    | 'p50LatencyMs'
    | 'p90LatencyMs'
    | 'p99LatencyMs'
    | 'throughput'
    | 'requests'
    | 'driftShare'
    | 'liveAccuracy'
    | 'qualityViolationRate'
    | 'outlierRate'
    | 'estimatedAccuracy'
    | ((s: SeriesSnapshot) => number | undefined);
  /** Fires when the metric rises above this… */
  above?: number;
  /** …or falls below this. */
  below?: number;
  /** Clears only once the metric is back past this (default: the threshold itself). */
  resolveAt?: number;
  /**
   * No verdict on fewer requests in the window (default 20); for `driftShare`, fewer rows in the
   * drift window, for `liveAccuracy`, fewer labeled predictions, and for `qualityViolationRate`
   * and `outlierRate`, fewer records screened or scored.
   */
  minRequests?: number;
}

/** An alert as `alert` and `resolved` report it. */
export interface AlertEvent {
  rule: string;
  model: string;
  version: string;
  value: number;
  threshold: number;
  message: string;
  at: number;
  /**
   * On `alert` only: the recent input rows of the model's drift watch (`watchDrift`), copied
   * when the alert fired, oldest first: the window's data, for a retraining hook to label and
   * learn from. Absent when the model has no drift watch.
   */
  rows?: Record<string, unknown>[];
}

export interface MonitorEvents {
  alert: [AlertEvent];
  resolved: [AlertEvent];
}

interface Bucket {
  /** Interval number (time / intervalMs) this bucket holds, or -1. */
  slot: number;
  sketch: QuantileSketch;
  requests: number;
  errors: number;
  rows: number;
  batched: number;
  screened: number;
  violations: number;
  scored: number;
  outliers: number;
  /** Outlier scores of the interval, made on the first one. */
  scores: QuantileSketch | undefined;
}

/** Screen counts since a series began. */
interface ScreenTotals {
  records: number;
  violations: number;
  scored: number;
  outliers: number;
  /** Findings by `feature \u0000 rule`. */
  findings: Map<string, number>;
}

class Series {
  readonly buckets: Bucket[];
  readonly history: HistoryRing;
  /** The interval of the newest record. */
  last = -1;
  screen: ScreenTotals | undefined;
  constructor(
    readonly model: string,
    readonly version: string,
    count: number,
    accuracy: number,
    historySlots: number,
  ) {
    this.history = new HistoryRing(historySlots);
    this.buckets = Array.from({ length: count }, () => ({
      slot: -1,
      sketch: new QuantileSketch(accuracy),
      requests: 0,
      errors: 0,
      rows: 0,
      batched: 0,
      screened: 0,
      violations: 0,
      scored: 0,
      outliers: 0,
      scores: undefined,
    }));
  }
}

const METRICS = new Set([
  'errorRate',
  'p50LatencyMs',
  'p90LatencyMs',
  'p99LatencyMs',
  'throughput',
  'requests',
  'driftShare',
  'liveAccuracy',
  'qualityViolationRate',
  'outlierRate',
  'estimatedAccuracy',
]);

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
  private readonly slots: number;
  private readonly historySlots: number;
  private readonly series = new Map<string, Series>();
  private readonly rules = new Map<string, AlertRule>();
  /** Active alerts by rule and series. */
  private readonly active = new Map<string, AlertEvent>();
  private timer: unknown;
  private readonly watches = new Map<string, DriftWatch>();
  private readonly estimators = new Map<
    string,
    {
      estimator: PerformanceEstimator | MulticlassPerformanceEstimator;
      output: string | undefined;
      /** Scores per row: 1 (the positive class) or the classes of a multiclass estimator. */
      width: number;
      scores: Float64Array;
      next: number;
      filled: number;
    }
  >();
  private readonly pending = new Map<string, PendingPrediction & { at: number }>();
  private readonly outcomes = new Map<string, Outcomes>();
  private readonly maxPending: number;
  private readonly outcomeWindow: number;
  private readonly random: () => number = Math.random;
  private readonly maxSeries: number;
  private readonly idleSlots: number;
  /** Records dropped because `maxSeries` series were already kept. */
  droppedRecords = 0;

  constructor(options: MonitorOptions = {}) {
    super();
    this.windowMs = options.windowMs ?? 60_000;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.relativeAccuracy = options.relativeAccuracy ?? 0.01;
    if (!(this.intervalMs > 0))
      throw invalidArgument('Monitor', 'intervalMs must be positive', this.intervalMs);
    if (!(this.windowMs >= this.intervalMs))
      throw invalidArgument('Monitor', 'windowMs must be at least intervalMs', this.windowMs);
    this.slots = Math.ceil(this.windowMs / this.intervalMs);
    this.historyMs = options.historyMs ?? 900_000;
    if (!(this.historyMs >= 0) || this.historyMs > 7 * 86_400_000)
      throw invalidArgument('Monitor', 'historyMs must be from 0 to 7 days', this.historyMs);
    this.historySlots = Math.ceil(this.historyMs / this.intervalMs);
    this.clock = options.clock ?? systemClock;
    this.maxPending = options.maxPending ?? 100_000;
    this.outcomeWindow = options.outcomeWindow ?? 1000;
    this.maxSeries = options.maxSeries ?? 1000;
    if (!Number.isSafeInteger(this.maxSeries) || this.maxSeries < 1)
      throw invalidArgument('Monitor', 'maxSeries must be a positive integer', this.maxSeries);
    const idleMs = options.seriesIdleMs ?? 3_600_000;
    if (!(idleMs > 0)) throw invalidArgument('Monitor', 'seriesIdleMs must be positive', idleMs);
    this.idleSlots = Math.ceil(Math.max(idleMs, this.windowMs) / this.intervalMs);
    new QuantileSketch(this.relativeAccuracy); // validates the accuracy
  }

  /** Records one prediction: O(1), no allocation once the version has been seen. */
  record(r: PredictionRecord): void {
    const key = `${r.model}\u0000${r.version}`;
    let s = this.series.get(key);
    const slot = Math.floor(this.clock.now() / this.intervalMs);
    if (s === undefined) {
      if (typeof r.model !== 'string' || typeof r.version !== 'string')
        throw invalidArgument('Monitor.record', 'model and version must be strings', r);
      if (this.series.size >= this.maxSeries) {
        this.letIdleGo(slot);
        if (this.series.size >= this.maxSeries) {
          this.droppedRecords++;
          return;
        }
      }
      s = new Series(r.model, r.version, this.slots + 1, this.relativeAccuracy, this.historySlots);
      this.series.set(key, s);
    }
    s.last = slot;
    const b = s.buckets[slot % s.buckets.length]!;
    if (b.slot !== slot) {
      s.history.keep(b);
      b.slot = slot;
      b.sketch.reset();
      b.requests = 0;
      b.errors = 0;
      b.rows = 0;
      b.batched = 0;
      b.screened = 0;
      b.violations = 0;
      b.scored = 0;
      b.outliers = 0;
      b.scores?.reset();
    }
    b.requests++;
    if (r.error !== undefined) b.errors++;
    if (Number.isFinite(r.latencyMs) && r.latencyMs >= 0) b.sketch.add(r.latencyMs);
    if (r.batchSize !== undefined && r.batchSize > 0) {
      b.rows += r.batchSize;
      b.batched++;
    }
    if (r.screen !== undefined) this.recordScreen(s, b, r.screen);
  }

  private recordScreen(s: Series, b: Bucket, report: ScreenReport): void {
    if (s.screen === undefined)
      s.screen = { records: 0, violations: 0, scored: 0, outliers: 0, findings: new Map() };
    const t = s.screen;
    b.screened += report.records;
    b.violations += report.violatingRecords;
    b.scored += report.scores.length;
    b.outliers += report.outliers;
    t.records += report.records;
    t.violations += report.violatingRecords;
    t.scored += report.scores.length;
    t.outliers += report.outliers;
    if (report.scores.length > 0) {
      b.scores ??= new QuantileSketch(this.relativeAccuracy);
      for (const x of report.scores) if (x.score > 0) b.scores.add(x.score);
    }
    for (const f of report.findings) {
      const key = `${f.feature}\u0000${f.rule}`;
      t.findings.set(key, (t.findings.get(key) ?? 0) + 1);
    }
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
    const monitor = this;
    const { screen, onScreen } = options;
    if (screen !== undefined && typeof screen?.screen !== 'function')
      throw invalidArgument('Monitor.wrap', 'screen must be an InputScreen', screen);
    if (onScreen !== undefined && typeof onScreen !== 'function')
      throw invalidArgument('Monitor.wrap', 'onScreen must be a function', onScreen);
    return {
      get name() {
        return model.name;
      },
      get version() {
        return model.version;
      },
      get signature() {
        return model.signature;
      },
      async predict(inputs: ModelInputs, options?: PredictOptions): Promise<NamedTensors> {
        const started = monitor.clock.now();
        let report: ScreenReport | undefined;
        const record = (error?: unknown) =>
          monitor.record({
            model: model.name,
            version: model.version,
            latencyMs: monitor.clock.now() - started,
            ...(error === undefined ? {} : { error }),
            ...(report === undefined ? {} : { screen: report }),
          });
        try {
          if (screen !== undefined) {
            try {
              report = screen.screen(inputs);
            } catch (e) {
              report = (e as { report?: ScreenReport }).report;
              throw e;
            }
            onScreen?.(report);
          }
          const out = await model.predict(inputs, options);
          record();
          return out;
        } catch (e) {
          record(e);
          throw e;
        }
      },
      dispose: () => model.dispose(),
    };
  }

  /**
   * Keeps the most recent input rows of `model` (sampled) to measure their drift against a
   * reference profile with {@link drift}. Memory is `windowRows` rows.
   */
  watchDrift(model: string, profile: Profile, options: WatchDriftOptions = {}): void {
    if (typeof model !== 'string') throw invalidArgument('Monitor.watchDrift', 'model must be a name', model);
    if (typeof profile !== 'object' || profile === null || !Array.isArray(profile.features))
      throw invalidArgument('Monitor.watchDrift', 'expected a Profile', profile);
    const windowRows = options.windowRows ?? 1000;
    const sampleRate = options.sampleRate ?? 1;
    if (!Number.isInteger(windowRows) || windowRows < 1)
      throw invalidArgument('Monitor.watchDrift', 'windowRows must be a positive integer', windowRows);
    if (!(sampleRate > 0 && sampleRate <= 1))
      throw invalidArgument('Monitor.watchDrift', 'sampleRate must lie in (0, 1]', sampleRate);
    if (options.output !== undefined && typeof options.output !== 'string')
      throw invalidArgument('Monitor.watchDrift', 'output must be an output name', options.output);
    if (options.records !== undefined && typeof options.records !== 'boolean')
      throw invalidArgument('Monitor.watchDrift', 'records must be a boolean', options.records);
    if (options.records === true && options.output !== undefined)
      throw invalidArgument(
        'Monitor.watchDrift',
        'records watches inputs; it cannot go with output',
        options,
      );
    this.watches.set(options.output === undefined ? model : outputsKey(model), {
      profile,
      records: options.records === true,
      input: options.input,
      output: options.output,
      features: options.features ?? profile.features.map((f) => f.name),
      rows: [],
      next: 0,
      windowRows,
      sampleRate,
    });
  }

  /** Records input rows for drift by hand (a wrapped model or a browser's telemetry). */
  observeInputs(model: string, inputs: unknown): void {
    const w = this.watches.get(model);
    if (w === undefined || w.records || (w.sampleRate < 1 && this.random() >= w.sampleRate)) return;
    this.keepTensorRows(w, inputRows(inputs, w.input));
  }

  /** Records a prediction's outputs for prediction drift (see `watchDrift`'s `output`). */
  observeOutputs(model: string, outputs: unknown): void {
    const e = this.estimators.get(model);
    if (e !== undefined) {
      const w = e.width;
      const rows = w === 1 ? positiveScores(outputs, e.output) : classScores(outputs, w, e.output);
      const slots = e.scores.length / w;
      for (let i = 0; i < rows.length / w; i++) {
        for (let j = 0; j < w; j++) e.scores[e.next * w + j] = rows[i * w + j]!;
        e.next = (e.next + 1) % slots;
        if (e.filled < slots) e.filled++;
      }
    }
    const w = this.watches.get(outputsKey(model));
    if (w === undefined || (w.sampleRate < 1 && this.random() >= w.sampleRate)) return;
    this.keepTensorRows(w, tensorRows((outputs as Record<string, unknown>)[w.output!]));
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
    const where = 'Monitor.watchPerformance';
    if (typeof model !== 'string') throw invalidArgument(where, 'model must be a name', model);
    if (typeof estimator?.estimate !== 'function')
      throw invalidArgument(where, 'expected a fitted PerformanceEstimator', estimator);
    const windowRows = options.windowRows ?? 1000;
    if (!Number.isInteger(windowRows) || windowRows < 20)
      throw invalidArgument(where, 'windowRows must be an integer ≥ 20', windowRows);
    if (options.output !== undefined && typeof options.output !== 'string')
      throw invalidArgument(where, 'output must be an output name', options.output);
    const width = 'classes' in estimator ? estimator.classes : 1;
    this.estimators.set(model, {
      estimator,
      output: options.output,
      width,
      scores: new Float64Array(windowRows * width),
      next: 0,
      filled: 0,
    });
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
    if (!this.estimators.has(model))
      throw invalidArgument(
        'Monitor.estimatedPerformance',
        `no performance watch for model '${model}'; call watchPerformance first`,
        model,
      );
    return {
      estimate: this.estimateOf(model),
      realized: this.performance().filter((p) => p.model === model),
    };
  }

  /** The estimate over a performance watch's recent scores; undefined without a watch or before 20 rows. */
  private estimateOf(model: string): PerformanceEstimate | undefined {
    const e = this.estimators.get(model);
    if (e === undefined || e.filled < 20) return undefined;
    const scores = e.scores.subarray(0, e.filled * e.width);
    return 'classes' in e.estimator
      ? e.estimator.estimate({ data: scores, shape: [e.filled, e.width] })
      : e.estimator.estimate(scores);
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
    return detectDrift(w.profile, w.rows, options);
  }

  /**
   * Records feature rows for drift directly (one array of values per row, in the watch's
   * feature order), as browsers send them with their telemetry.
   */
  observeRows(model: string, rows: readonly ArrayLike<unknown>[]): void {
    const w = this.watches.get(model);
    if (w === undefined || (w.sampleRate < 1 && this.random() >= w.sampleRate)) return;
    this.keepRows(w, rows.length, (r, i) => rows[r]![i]);
  }

  /**
   * Records client records (field name to value) for drift on raw features, as a server with
   * a pipeline receives them. Only the watched features are kept; a missing one is `null`. An
   * array field is one feature per element (`image[0]`, …), as in profiles.
   */
  observeRecords(model: string, records: readonly Readonly<Record<string, unknown>>[]): void {
    const w = this.watches.get(model);
    if (w === undefined || (w.sampleRate < 1 && this.random() >= w.sampleRate)) return;
    if (!Array.isArray(records))
      throw invalidArgument('Monitor.observeRecords', 'records must be an array of objects', records);
    for (const record of records) {
      const r = typeof record === 'object' && record !== null ? flatRow(record) : record;
      const row: Record<string, unknown> = {};
      for (const f of w.features)
        row[f] = typeof r === 'object' && r !== null && Object.hasOwn(r, f) ? r[f] : null;
      this.keepRow(w, row);
    }
  }

  /** Keeps `rows` rows, the watch's feature i of row r being `valueAt(r, i)`. */
  private keepRows(w: DriftWatch, rows: number, valueAt: (r: number, i: number) => unknown): void {
    for (let r = 0; r < rows; r++) {
      const row: Record<string, unknown> = {};
      w.features.forEach((f, i) => {
        row[f] = valueAt(r, i);
      });
      this.keepRow(w, row);
    }
  }

  /** Keeps a tensor's rows, its values read in the watch's feature order (64-bit integers as numbers). */
  private keepTensorRows(w: DriftWatch, { data, rows, width }: TensorRows): void {
    this.keepRows(w, rows, (r, i) => {
      const v = i < width ? data[r * width + i] : undefined;
      return typeof v === 'bigint' ? Number(v) : v;
    });
  }

  /** Puts one row in the watch's window, over the oldest once it is full. */
  private keepRow(w: DriftWatch, row: Record<string, unknown>): void {
    if (w.rows.length < w.windowRows) w.rows.push(row);
    else w.rows[w.next] = row;
    w.next = (w.next + 1) % w.windowRows;
  }

  /**
   * A copy of the input rows `model`'s drift watch keeps now (the most recent `windowRows`,
   * oldest first), or undefined without a watch.
   */
  recentRows(model: string): Record<string, unknown>[] | undefined {
    const w = this.watches.get(model);
    if (w === undefined) return undefined;
    const full = w.rows.length === w.windowRows;
    return full ? [...w.rows.slice(w.next), ...w.rows.slice(0, w.next)] : w.rows.slice();
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
    return detectDrift(w.profile, w.rows, options);
  }

  /**
   * Keeps what the model answered for `requestId` until its true label arrives
   * ({@link recordOutcome}). At most `maxPending` wait; the oldest are dropped first.
   */
  recordPrediction(requestId: string, prediction: PendingPrediction): void {
    if (typeof requestId !== 'string' || requestId === '')
      throw invalidArgument('Monitor.recordPrediction', 'requestId must be a non-empty string', requestId);
    if (typeof prediction?.model !== 'string' || typeof prediction.version !== 'string')
      throw invalidArgument('Monitor.recordPrediction', 'the prediction needs model and version', prediction);
    if (typeof prediction.predicted !== 'number' && typeof prediction.predicted !== 'string')
      throw invalidArgument(
        'Monitor.recordPrediction',
        'predicted must be a label (number or string)',
        prediction.predicted,
      );
    this.pending.delete(requestId);
    this.pending.set(requestId, { ...prediction, at: this.clock.now() });
    if (this.pending.size > this.maxPending) this.pending.delete(this.pending.keys().next().value as string);
  }

  /**
   * Joins the true label of an earlier prediction. Returns false when the request is unknown
   * (never recorded, or dropped as too old).
   */
  recordOutcome(requestId: string, label: Label): boolean {
    const p = this.pending.get(requestId);
    if (p === undefined) return false;
    if (typeof label !== 'number' && typeof label !== 'string')
      throw invalidArgument('Monitor.recordOutcome', 'label must be a number or a string', label);
    this.pending.delete(requestId);
    const key = `${p.model}\u0000${p.version}`;
    let o = this.outcomes.get(key);
    if (o === undefined) {
      o = { predicted: [], truth: [], scores: [], next: 0 };
      this.outcomes.set(key, o);
    }
    if (o.predicted.length < this.outcomeWindow) {
      o.predicted.push(p.predicted);
      o.truth.push(label);
      o.scores.push(p.score);
    } else {
      o.predicted[o.next] = p.predicted;
      o.truth[o.next] = label;
      o.scores[o.next] = p.score;
    }
    o.next = (o.next + 1) % this.outcomeWindow;
    return true;
  }

  /**
   * Accuracy, F1 and ROC AUC of each version on its most recent labeled predictions, with the
   * Evaluator's metric functions. `positiveLabel` makes F1 binary (default: macro F1).
   */
  performance(options: { positiveLabel?: Label } = {}): LivePerformance[] {
    const out: LivePerformance[] = [];
    for (const [key, o] of this.outcomes) {
      const [model, version] = key.split('\u0000') as [string, string];
      if (o.truth.length === 0) continue;
      const binary = options.positiveLabel !== undefined;
      const result: LivePerformance = {
        model,
        version,
        labeled: o.truth.length,
        accuracy: accuracy(o.truth, o.predicted),
        f1: f1(
          o.truth,
          o.predicted,
          binary
            ? { average: 'binary', positiveLabel: options.positiveLabel, zeroDivision: 0 }
            : { average: 'macro', zeroDivision: 0 },
        ) as number,
      };
      if (binary && o.scores.every((s) => s !== undefined)) {
        const positives = o.truth.map((t) => (t === options.positiveLabel ? 1 : 0));
        if (positives.some((v) => v === 1) && positives.some((v) => v === 0))
          result.rocAuc = rocAuc(positives, o.scores as number[]);
      }
      out.push(result);
    }
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  }

  /** Forgets series with no record for `seriesIdleMs`, so names seen once do not stay forever. */
  private letIdleGo(now: number): void {
    for (const [key, s] of this.series) if (now - s.last > this.idleSlots) this.series.delete(key);
  }

  /** Every version's window, as plain JSON (series idle for `seriesIdleMs` are let go first). */
  snapshot(): SeriesSnapshot[] {
    const now = Math.floor(this.clock.now() / this.intervalMs);
    this.letIdleGo(now);
    const out: SeriesSnapshot[] = [];
    for (const s of this.series.values()) out.push(this.summarize(s, now));
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
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
    const now = Math.floor(this.clock.now() / this.intervalMs);
    const slots = Math.max(1, this.historySlots);
    const out: SeriesHistory[] = [];
    for (const s of this.series.values()) {
      if (model !== undefined && s.model !== model) continue;
      out.push({
        model: s.model,
        version: s.version,
        intervalMs: this.intervalMs,
        points: s.history.points(s.buckets, now - 1, slots, this.intervalMs),
      });
    }
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  }

  private summarize(s: Series, now: number): SeriesSnapshot {
    const merged = new QuantileSketch(this.relativeAccuracy);
    let requests = 0;
    let errors = 0;
    let rows = 0;
    let batched = 0;
    let screened = 0;
    let violations = 0;
    let scored = 0;
    let outliers = 0;
    const scores = s.screen === undefined ? undefined : new QuantileSketch(this.relativeAccuracy);
    for (const b of s.buckets) {
      // The window: the current interval and the ones before it, windowMs in all.
      if (b.slot < 0 || b.slot > now || b.slot <= now - this.slots) continue;
      merged.merge(b.sketch);
      requests += b.requests;
      errors += b.errors;
      rows += b.rows;
      batched += b.batched;
      screened += b.screened;
      violations += b.violations;
      scored += b.scored;
      outliers += b.outliers;
      if (b.scores !== undefined) scores?.merge(b.scores);
    }
    const t = s.screen;
    const screen: ScreenSnapshot | undefined =
      t === undefined
        ? undefined
        : {
            records: screened,
            qualityViolations: violations,
            qualityViolationRate: screened === 0 ? 0 : violations / screened,
            scored,
            outliers,
            outlierRate: scored === 0 ? 0 : outliers / scored,
            outlierScore: {
              p50: scores!.quantile(0.5),
              p90: scores!.quantile(0.9),
              p99: scores!.quantile(0.99),
            },
            totals: {
              records: t.records,
              qualityViolations: t.violations,
              scored: t.scored,
              outliers: t.outliers,
              findings: [...t.findings].map(([key, count]) => {
                const [feature, rule] = key.split('\u0000') as [string, string];
                return { feature, rule, count };
              }),
            },
          };
    return {
      model: s.model,
      version: s.version,
      windowMs: this.windowMs,
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      throughput: requests / (this.windowMs / 1000),
      latencyMs: {
        p50: merged.quantile(0.5),
        p90: merged.quantile(0.9),
        p99: merged.quantile(0.99),
        mean: merged.count === 0 ? undefined : merged.sum / merged.count,
        max: merged.count === 0 ? undefined : merged.max,
        relativeError: this.relativeAccuracy,
      },
      ...(batched === 0 ? {} : { meanBatchSize: rows / batched }),
      ...(screen === undefined ? {} : { screen }),
    };
  }

  /** Adds (or replaces) an alert rule. */
  addAlert(rule: AlertRule): void {
    if (typeof rule !== 'object' || rule === null || typeof rule.name !== 'string' || rule.name === '')
      throw invalidArgument('Monitor.addAlert', 'a rule needs a name', rule);
    if (typeof rule.metric !== 'function' && !METRICS.has(rule.metric))
      throw invalidArgument(
        'Monitor.addAlert',
        `metric must be a function or one of ${[...METRICS].join(', ')}`,
        rule.metric,
      );
    if ((rule.above === undefined) === (rule.below === undefined))
      throw invalidArgument('Monitor.addAlert', 'give exactly one of above and below', rule);
    const threshold = (rule.above ?? rule.below)!;
    if (!Number.isFinite(threshold))
      throw invalidArgument('Monitor.addAlert', 'the threshold must be a finite number', threshold);
    if (rule.resolveAt !== undefined) {
      const wrongSide = rule.above !== undefined ? rule.resolveAt > rule.above : rule.resolveAt < rule.below!;
      if (wrongSide)
        throw invalidArgument(
          'Monitor.addAlert',
          'resolveAt must lie on the healthy side of the threshold',
          rule.resolveAt,
        );
    }
    this.rules.set(rule.name, rule);
  }

  removeAlert(name: string): void {
    this.rules.delete(name);
    for (const key of [...this.active.keys()]) if (key.startsWith(`${name}\u0000`)) this.active.delete(key);
  }

  /** The alerts firing now. */
  alerts(): AlertEvent[] {
    return [...this.active.values()];
  }

  /** Evaluates every rule on the current windows, emitting `alert` and `resolved` as states change. */
  check(): AlertEvent[] {
    const snapshots = this.snapshot();
    const at = this.clock.now();
    const drifts = new Map<string, DriftReport>();
    let performance: LivePerformance[] | undefined;
    for (const rule of this.rules.values()) {
      for (const s of snapshots) {
        if (rule.model !== undefined && rule.model !== s.model) continue;
        if (rule.version !== undefined && rule.version !== s.version) continue;
        const key = `${rule.name}\u0000${s.model}\u0000${s.version}`;
        let value: number | undefined;
        let support = s.requests;
        if (rule.metric === 'driftShare') {
          // Drift belongs to the model's inputs, whatever version answered them.
          const report = this.watches.has(s.model) ? (drifts.get(s.model) ?? this.drift(s.model)) : undefined;
          if (report !== undefined) drifts.set(s.model, report);
          value = report?.share;
          support = report?.currentRows ?? 0;
        } else if (rule.metric === 'liveAccuracy') {
          performance ??= this.performance();
          const p = performance.find((x) => x.model === s.model && x.version === s.version);
          value = p?.accuracy;
          support = p?.labeled ?? 0;
        } else if (rule.metric === 'qualityViolationRate') {
          value = s.screen?.qualityViolationRate;
          support = s.screen?.records ?? 0;
        } else if (rule.metric === 'estimatedAccuracy') {
          // Like drift, the estimate belongs to the model's answers, whatever version gave them.
          const est = this.estimateOf(s.model);
          value = est?.accuracy.value;
          support = est?.rows ?? 0;
        } else if (rule.metric === 'outlierRate') {
          value = s.screen?.outlierRate;
          support = s.screen?.scored ?? 0;
        } else value = metricValue(rule, s);
        const firing = this.active.get(key);
        if (value === undefined || support < (rule.minRequests ?? 20)) continue;
        const threshold = (rule.above ?? rule.below)!;
        const resolveAt = rule.resolveAt ?? threshold;
        const metric = typeof rule.metric === 'string' ? rule.metric : rule.name;
        if (firing === undefined) {
          const breach = rule.above !== undefined ? value > rule.above : value < rule.below!;
          if (breach) {
            const event: AlertEvent = {
              rule: rule.name,
              model: s.model,
              version: s.version,
              value,
              threshold,
              at,
              message: `${s.model} version ${s.version}: ${metric} is ${fmt(value)}, ${rule.above !== undefined ? 'above' : 'below'} ${threshold} (${context(rule, support, this.windowMs)})`,
            };
            this.active.set(key, event);
            const rows = this.recentRows(s.model);
            this.emit('alert', rows === undefined ? event : { ...event, rows });
          }
        } else {
          const healthy = rule.above !== undefined ? value <= resolveAt : value >= resolveAt;
          if (healthy) {
            this.active.delete(key);
            this.emit('resolved', {
              ...firing,
              value,
              at,
              message: `${s.model} version ${s.version}: ${metric} is back to ${fmt(value)}`,
            });
          }
        }
      }
    }
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

function metricValue(rule: AlertRule, s: SeriesSnapshot): number | undefined {
  switch (rule.metric) {
    case 'errorRate':
      return s.errorRate;
    case 'throughput':
      return s.throughput;
    case 'requests':
      return s.requests;
    case 'p50LatencyMs':
      return s.latencyMs.p50;
    case 'p90LatencyMs':
      return s.latencyMs.p90;
    case 'p99LatencyMs':
      return s.latencyMs.p99;
    case 'qualityViolationRate':
      return s.screen?.qualityViolationRate;
    case 'outlierRate':
      return s.screen?.outlierRate;
    default:
      return (rule.metric as (s: SeriesSnapshot) => number | undefined)(s);
  }
}

/** What a verdict rests on, in words. */
function context(rule: AlertRule, support: number, windowMs: number): string {
  if (rule.metric === 'driftShare') return `${support} rows in the drift window`;
  if (rule.metric === 'liveAccuracy') return `${support} labeled predictions`;
  if (rule.metric === 'qualityViolationRate')
    return `${support} records screened in the last ${windowMs / 1000} s`;
  if (rule.metric === 'estimatedAccuracy') return `${support} recent answers, labels not yet known`;
  if (rule.metric === 'outlierRate') return `${support} records scored in the last ${windowMs / 1000} s`;
  return `${support} requests in the last ${windowMs / 1000} s`;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

function outputsKey(model: string): string {
  return `${model}\u0000outputs`;
}

/**
 * Rows of an input of any rank, each row's values in row-major order (a `[batch, 1, 8, 8]`
 * image gives 64 a row, as its CSV columns do), from a tensor, an onnxruntime tensor or the
 * nested arrays `predict` takes.
 */
