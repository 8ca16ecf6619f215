import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily, HistogramFamily } from '../src/server/metric-families';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

describe('metric families', () => {
  it('render exactly what prom-client renders for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const hist = new HistogramFamily('x_seconds', 'help text', ['model', 'version'], BUCKETS, ours);
    const count = new CounterFamily('x_total', 'count "help"', ['route', 'code'], ours);
    const pHist = new Histogram({
      name: 'x_seconds',
      help: 'help text',
      labelNames: ['model', 'version'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const pCount = new Counter({
      name: 'x_total',
      help: 'count "help"',
      labelNames: ['route', 'code'],
      registers: [theirs],
    });
    // Values on bucket bounds, between them, below the first and above the last.
    const values = [0, 0.0005, 0.0007, 0.001, 0.3, 2.5, 9.99, 10, 11, 1e6];
    const a = hist.child({ model: 'fraud', version: '1' });
    const b = hist.child({ model: 'with "quote"\\', version: '2' });
    for (const v of values) {
      a.observe(v);
      pHist.observe({ model: 'fraud', version: '1' }, v);
    }
    b.observe(0.02);
    pHist.observe({ model: 'with "quote"\\', version: '2' }, 0.02);
    const ok = count.child({ route: 'inference', code: '200' });
    for (let i = 0; i < 3; i++) {
      ok.inc();
      pCount.inc({ route: 'inference', code: '200' });
    }
    count.child({ route: 'health', code: '404' }).inc();
    pCount.inc({ route: 'health', code: '404' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_seconds_bucket{le="+Inf",model="fraud",version="1"} 10');
  });

  it('hands out one child per label set and resets with the registry', async () => {
    const r = new Registry();
    const c = new CounterFamily('y_total', 'h', ['route'], r);
    expect(c.child({ route: 'a' })).toBe(c.child({ route: 'a' }));
    c.child({ route: 'a' }).inc();
    r.resetMetrics();
    expect(await r.metrics()).toContain('y_total{route="a"} 0');
  });

  it('refuses label sets that do not match and buckets that do not increase', () => {
    const r = new Registry();
    const h = new HistogramFamily('z_seconds', 'h', ['model'], [1, 2], r);
    expect(() => h.child({ version: '1' })).toThrow(/labels must be exactly model/);
    expect(() => h.child({ model: '1', extra: '2' })).toThrow(TypeError);
    expect(() => new HistogramFamily('w', 'h', ['m'], [2, 1], r)).toThrow(/strictly increasing/);
    expect(() => new HistogramFamily('v', 'h', ['m'], [], r)).toThrow(TypeError);
  });

  it('ignores values that are not finite instead of poisoning the sum', async () => {
    const r = new Registry();
    const h = new HistogramFamily('q_seconds', 'h', ['m'], [1], r);
    const c = h.child({ m: 'a' });
    c.observe(Number.NaN);
    c.observe(0.5);
    const text = await r.metrics();
    expect(text).toContain('q_seconds_sum{m="a"} 0.5');
    expect(text).toContain('q_seconds_count{m="a"} 1');
  });
});
