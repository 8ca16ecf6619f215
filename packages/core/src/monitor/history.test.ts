import { describe, expect, it } from 'vitest';
import { FakeClock } from '../deploy/fakes.case';
import { Monitor } from './monitor';

describe('Monitor.history', () => {
  it('keeps one point per interval for historyMs, beyond the window, gaps as zeros', () => {
    const clock = new FakeClock();
    const monitor = new Monitor({ windowMs: 3_000, intervalMs: 1_000, historyMs: 10_000, clock });
    // 12 intervals: interval i gets i requests (none in interval 5), each taking (i + 1) ms,
    // and one error in interval 7.
    for (let i = 0; i < 12; i++) {
      for (let k = 0; k < (i === 5 ? 0 : i); k++)
        monitor.record({
          model: 'm',
          version: '1',
          latencyMs: i + 1,
          ...(i === 7 && k === 0 ? { error: new Error('x') } : {}),
        });
      clock.advance(1_000);
    }
    clock.advance(-1); // still in interval 11
    const [h] = monitor.history();
    expect(monitor.history()).toHaveLength(1);
    expect(h!.intervalMs).toBe(1_000);
    // The last 10 finished intervals, 1 to 10, oldest first (11 is still filling); the window
    // (3 s) alone would hold 3.
    expect(h!.points.map((p) => p.t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => i * 1_000));
    expect(h!.points.map((p) => p.requests)).toEqual([1, 2, 3, 4, 0, 6, 7, 8, 9, 10]);
    expect(h!.points.map((p) => p.throughput)).toEqual([1, 2, 3, 4, 0, 6, 7, 8, 9, 10]);
    expect(h!.points.map((p) => p.errors)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(h!.points[6]!.errorRate).toBeCloseTo(1 / 7, 12);
    expect(h!.points[4]!.p99LatencyMs).toBeUndefined();
    // Every latency of interval i was i + 1 ms: the sketch answers within its 1%.
    for (const p of h!.points) {
      if (p.requests === 0) continue;
      const ms = p.t / 1_000 + 1;
      expect(Math.abs(p.p50LatencyMs! - ms)).toBeLessThanOrEqual(0.01 * ms);
      expect(Math.abs(p.p99LatencyMs! - ms)).toBeLessThanOrEqual(0.01 * ms);
    }
    expect(monitor.history('other')).toEqual([]);
  });

  it('reaches back to the oldest interval after a quiet spell, and refuses bad options', () => {
    const clock = new FakeClock();
    const monitor = new Monitor({ windowMs: 2_000, intervalMs: 1_000, historyMs: 60_000, clock });
    monitor.record({ model: 'm', version: '1', latencyMs: 1 });
    clock.advance(30_000);
    monitor.record({ model: 'm', version: '1', latencyMs: 1 });
    clock.advance(1_000);
    const points = monitor.history('m')[0]!.points;
    expect(points).toHaveLength(60);
    expect(points.filter((p) => p.requests > 0).map((p) => p.t)).toEqual([0, 30_000]);
    expect(() => new Monitor({ historyMs: -1 })).toThrow(/historyMs/);
    expect(() => monitor.history(3 as never)).toThrow(/model must be a string/);
  });
});
