/**
 * Every model version's sliding window (series.ts), kept by name: a series is made on its
 * version's first record, at most `maxSeries` are kept, and one idle for `seriesIdleMs` is let go.
 */
import { invalidArgument } from '../errors';
import type { SeriesHistory } from './history';
import { type PredictionRecord, Series, type SeriesSnapshot } from './series';
import { QuantileSketch } from './sketch';

/** The window options of `MonitorOptions`, with the same defaults. */
interface WindowOptions {
  windowMs?: number;
  intervalMs?: number;
  historyMs?: number;
  relativeAccuracy?: number;
  maxSeries?: number;
  seriesIdleMs?: number;
}

/** The series of every version the Monitor has seen. */
export class Windows {
  readonly windowMs: number;
  readonly intervalMs: number;
  readonly historyMs: number;
  readonly relativeAccuracy: number;
  private readonly slots: number;
  private readonly historySlots: number;
  private readonly maxSeries: number;
  private readonly idleSlots: number;
  private readonly series = new Map<string, Series>();

  constructor(options: WindowOptions) {
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
    this.maxSeries = options.maxSeries ?? 1000;
    if (!Number.isSafeInteger(this.maxSeries) || this.maxSeries < 1)
      throw invalidArgument('Monitor', 'maxSeries must be a positive integer', this.maxSeries);
    const idleMs = options.seriesIdleMs ?? 3_600_000;
    if (!(idleMs > 0)) throw invalidArgument('Monitor', 'seriesIdleMs must be positive', idleMs);
    this.idleSlots = Math.ceil(Math.max(idleMs, this.windowMs) / this.intervalMs);
    new QuantileSketch(this.relativeAccuracy); // validates the accuracy
  }

  /**
   * Counts `r` at clock time `at`: O(1), no allocation once its version has been seen. False
   * when `r` would start one series too many (idle ones let go first) and was dropped.
   */
  record(r: PredictionRecord, at: number): boolean {
    const key = `${r.model}\u0000${r.version}`;
    let s = this.series.get(key);
    const slot = Math.floor(at / this.intervalMs);
    if (s === undefined) {
      if (typeof r.model !== 'string' || typeof r.version !== 'string')
        throw invalidArgument('Monitor.record', 'model and version must be strings', r);
      if (this.series.size >= this.maxSeries) {
        this.letIdleGo(slot);
        if (this.series.size >= this.maxSeries) return false;
      }
      s = new Series(r.model, r.version, this.slots + 1, this.relativeAccuracy, this.historySlots);
      this.series.set(key, s);
    }
    s.add(r, slot, this.relativeAccuracy);
    return true;
  }

  /** Forgets series with no record for `seriesIdleMs`, so names seen once do not stay forever. */
  private letIdleGo(now: number): void {
    for (const [key, s] of this.series) if (now - s.last > this.idleSlots) this.series.delete(key);
  }

  /** Every version's window at clock time `at` (idle series are let go first), sorted. */
  snapshot(at: number): SeriesSnapshot[] {
    const now = Math.floor(at / this.intervalMs);
    this.letIdleGo(now);
    const out: SeriesSnapshot[] = [];
    for (const s of this.series.values())
      out.push(s.summarize(now, this.slots, this.windowMs, this.relativeAccuracy));
    return out.sort((a, b) => a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  }

  /** Each version's finished intervals over the last `historyMs` at clock time `at` (only `model`'s, when given). */
  history(at: number, model: string | undefined): SeriesHistory[] {
    const now = Math.floor(at / this.intervalMs);
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
}
