/**
 * One model version's traffic in the Monitor's sliding window: a ring of interval buckets (a
 * latency sketch and counts of requests, errors, rows and screen findings each), summed into a
 * snapshot on demand. Recording is O(1) and allocates nothing once the series exists.
 */
import type { ScreenReport } from '../anomaly/screen';
import { HistoryRing } from './history';
import { QuantileSketch } from './sketch';

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

export class Series {
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

  /** Counts `r` in the interval `slot` (clock time / interval). */
  add(r: PredictionRecord, slot: number, relativeAccuracy: number): void {
    this.last = slot;
    const b = this.buckets[slot % this.buckets.length]!;
    if (b.slot !== slot) {
      this.history.keep(b);
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
    if (r.screen !== undefined) this.addScreen(b, r.screen, relativeAccuracy);
  }

  private addScreen(b: Bucket, report: ScreenReport, relativeAccuracy: number): void {
    if (this.screen === undefined)
      this.screen = { records: 0, violations: 0, scored: 0, outliers: 0, findings: new Map() };
    const t = this.screen;
    b.screened += report.records;
    b.violations += report.violatingRecords;
    b.scored += report.scores.length;
    b.outliers += report.outliers;
    t.records += report.records;
    t.violations += report.violatingRecords;
    t.scored += report.scores.length;
    t.outliers += report.outliers;
    if (report.scores.length > 0) {
      b.scores ??= new QuantileSketch(relativeAccuracy);
      for (const x of report.scores) if (x.score > 0) b.scores.add(x.score);
    }
    for (const f of report.findings) {
      const key = `${f.feature}\u0000${f.rule}`;
      t.findings.set(key, (t.findings.get(key) ?? 0) + 1);
    }
  }

  /**
   * The window that ends with interval `now`: `slots` intervals, `windowMs` long, its latency
   * quantiles within `relativeAccuracy`.
   */
  summarize(now: number, slots: number, windowMs: number, relativeAccuracy: number): SeriesSnapshot {
    const merged = new QuantileSketch(relativeAccuracy);
    let requests = 0;
    let errors = 0;
    let rows = 0;
    let batched = 0;
    let screened = 0;
    let violations = 0;
    let scored = 0;
    let outliers = 0;
    const scores = this.screen === undefined ? undefined : new QuantileSketch(relativeAccuracy);
    for (const b of this.buckets) {
      // The window: the current interval and the ones before it, windowMs in all.
      if (b.slot < 0 || b.slot > now || b.slot <= now - slots) continue;
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
    const t = this.screen;
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
      model: this.model,
      version: this.version,
      windowMs: windowMs,
      requests,
      errors,
      errorRate: requests === 0 ? 0 : errors / requests,
      throughput: requests / (windowMs / 1000),
      latencyMs: {
        p50: merged.quantile(0.5),
        p90: merged.quantile(0.9),
        p99: merged.quantile(0.99),
        mean: merged.count === 0 ? undefined : merged.sum / merged.count,
        max: merged.count === 0 ? undefined : merged.max,
        relativeError: relativeAccuracy,
      },
      ...(batched === 0 ? {} : { meanBatchSize: rows / batched }),
      ...(screen === undefined ? {} : { screen }),
    };
  }
}
