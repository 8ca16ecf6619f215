/**
 * A version's traffic over the last minutes, one point per Monitor interval: what a dashboard
 * opened now draws, so it starts with the recent past instead of a flat line. Points are taken
 * from a window bucket when the bucket is reused, so recording stays O(1) and allocates only
 * once per interval.
 */
import type { QuantileSketch } from './sketch';

/** One interval of a version's traffic. */
export interface HistoryPoint {
  /** Start of the interval (ms, the Monitor's clock). */
  t: number;
  requests: number;
  errors: number;
  /** Requests per second over the interval. */
  throughput: number;
  errorRate: number;
  /** Latency quantiles over the interval (undefined without requests). */
  p50LatencyMs: number | undefined;
  p99LatencyMs: number | undefined;
}

/** {@link Monitor.history}'s answer for one version: the points oldest first, gaps filled with zeros. */
export interface SeriesHistory {
  model: string;
  version: string;
  intervalMs: number;
  points: HistoryPoint[];
}

/** What a window bucket holds; the Monitor's buckets have this shape. */
export interface HistoryBucket {
  slot: number;
  sketch: QuantileSketch;
  requests: number;
  errors: number;
}

interface Kept {
  slot: number;
  requests: number;
  errors: number;
  p50: number | undefined;
  p99: number | undefined;
}

/** The closed intervals of one version beyond its window buckets: a ring of `size` entries. */
export class HistoryRing {
  private readonly kept: Kept[];
  private next = 0;

  constructor(readonly size: number) {
    this.kept = Array.from({ length: size }, () => ({
      slot: -1,
      requests: 0,
      errors: 0,
      p50: undefined,
      p99: undefined,
    }));
  }

  /** Keeps a bucket about to be reused for a later interval. */
  keep(b: HistoryBucket): void {
    if (b.slot < 0 || b.requests === 0 || this.size === 0) return;
    const k = this.kept[this.next]!;
    k.slot = b.slot;
    k.requests = b.requests;
    k.errors = b.errors;
    k.p50 = b.sketch.quantile(0.5);
    k.p99 = b.sketch.quantile(0.99);
    this.next = (this.next + 1) % this.size;
  }

  /**
   * The `slots` intervals up to and including `now` (a slot number), oldest first, from the
   * kept intervals and the live buckets.
   */
  points(buckets: readonly HistoryBucket[], now: number, slots: number, intervalMs: number): HistoryPoint[] {
    const first = now - slots + 1;
    const bySlot = new Map<number, Kept>();
    for (const k of this.kept) if (k.slot >= first && k.slot <= now) bySlot.set(k.slot, k);
    for (const b of buckets) {
      if (b.slot < first || b.slot > now || b.requests === 0) continue;
      bySlot.set(b.slot, {
        slot: b.slot,
        requests: b.requests,
        errors: b.errors,
        p50: b.sketch.quantile(0.5),
        p99: b.sketch.quantile(0.99),
      });
    }
    const seconds = intervalMs / 1000;
    const out: HistoryPoint[] = [];
    for (let slot = first; slot <= now; slot++) {
      const k = bySlot.get(slot);
      out.push({
        t: slot * intervalMs,
        requests: k?.requests ?? 0,
        errors: k?.errors ?? 0,
        throughput: (k?.requests ?? 0) / seconds,
        errorRate: k === undefined || k.requests === 0 ? 0 : k.errors / k.requests,
        p50LatencyMs: k?.p50,
        p99LatencyMs: k?.p99,
      });
    }
    return out;
  }
}
