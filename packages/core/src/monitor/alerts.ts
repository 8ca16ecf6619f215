/**
 * Alert rules over the Monitor's windows: each a metric of a version's window (or of its
 * model's drift, live or estimated accuracy) against a threshold, firing and clearing with
 * hysteresis, one alert per rule and version.
 */
import type { PerformanceEstimate } from '../anomaly/cbpe';
import { invalidArgument } from '../errors';
import type { DriftReport } from './drift';
import type { LivePerformance } from './outcomes';
import type { SeriesSnapshot } from './series';

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

/** What rules read beyond a version's window: the model's drift and accuracy, and its recent rows. */
export interface AlertSignals {
  windowMs: number;
  /** The model's input drift, undefined without a drift watch. */
  drift(model: string): DriftReport | undefined;
  performance(): LivePerformance[];
  /** The model's estimated performance, undefined without a watch or before 20 rows. */
  estimate(model: string): PerformanceEstimate | undefined;
  /** The rows of the model's drift watch, copied into an alert as it fires. */
  recentRows(model: string): Record<string, unknown>[] | undefined;
}

/** The rules and the alerts firing now, keyed by rule, model and version. */
export class Alerts {
  private readonly rules = new Map<string, AlertRule>();
  private readonly active = new Map<string, AlertEvent>();

  /** Adds (or replaces) an alert rule. */
  add(rule: AlertRule): void {
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

  /** Removes a rule and the alerts it fired. */
  remove(name: string): void {
    this.rules.delete(name);
    for (const key of [...this.active.keys()]) if (key.startsWith(`${name}\u0000`)) this.active.delete(key);
  }

  /** The alerts firing now. */
  firing(): AlertEvent[] {
    return [...this.active.values()];
  }

  /**
   * Evaluates every rule on `snapshots` (the windows at time `at`), calling `emit` with
   * `alert` and `resolved` as states change, in rule and series order.
   */
  check(
    snapshots: readonly SeriesSnapshot[],
    at: number,
    signals: AlertSignals,
    emit: (kind: 'alert' | 'resolved', event: AlertEvent) => void,
  ): void {
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
          const report = drifts.get(s.model) ?? signals.drift(s.model);
          if (report !== undefined) drifts.set(s.model, report);
          value = report?.share;
          support = report?.currentRows ?? 0;
        } else if (rule.metric === 'liveAccuracy') {
          performance ??= signals.performance();
          const p = performance.find((x) => x.model === s.model && x.version === s.version);
          value = p?.accuracy;
          support = p?.labeled ?? 0;
        } else if (rule.metric === 'qualityViolationRate') {
          value = s.screen?.qualityViolationRate;
          support = s.screen?.records ?? 0;
        } else if (rule.metric === 'estimatedAccuracy') {
          // Like drift, the estimate belongs to the model's answers, whatever version gave them.
          const est = signals.estimate(s.model);
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
              message: `${s.model} version ${s.version}: ${metric} is ${fmt(value)}, ${rule.above !== undefined ? 'above' : 'below'} ${threshold} (${context(rule, support, signals.windowMs)})`,
            };
            this.active.set(key, event);
            const rows = signals.recentRows(s.model);
            emit('alert', rows === undefined ? event : { ...event, rows });
          }
        } else {
          const healthy = rule.above !== undefined ? value <= resolveAt : value >= resolveAt;
          if (healthy) {
            this.active.delete(key);
            emit('resolved', {
              ...firing,
              value,
              at,
              message: `${s.model} version ${s.version}: ${metric} is back to ${fmt(value)}`,
            });
          }
        }
      }
    }
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
