import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { FakeClock, row, sumModel } from '../deploy/fakes.case';
import { ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import { functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';
import { Monitor } from './monitor';
import { Profile } from './profile';
import { QuantileSketch } from './sketch';

describe('QuantileSketch', () => {
  it('answers every quantile within its relative accuracy (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 1e5, noNaN: true }), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(0.005, 0.01, 0.05),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, alpha, q) => {
          const s = new QuantileSketch(alpha);
          for (const v of values) s.add(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
          const estimate = s.quantile(q)!;
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(alpha * exact * (1 + 1e-9));
        },
      ),
    );
  });

  it('merges: two halves answer as the whole', () => {
    const whole = new QuantileSketch();
    const a = new QuantileSketch();
    const b = new QuantileSketch();
    for (let i = 1; i <= 1000; i++) {
      whole.add(i / 7);
      (i % 2 ? a : b).add(i / 7);
    }
    a.merge(b);
    for (const q of [0, 0.5, 0.9, 0.99, 1]) expect(a.quantile(q)).toBe(whole.quantile(q));
    expect([a.count, a.min, a.max]).toEqual([1000, 1 / 7, 1000 / 7]);
    expect(new QuantileSketch().quantile(0.5)).toBeUndefined();
    expect(() => a.merge(new QuantileSketch(0.05))).toThrow(ModelshipError);
    expect(() => a.add(-1)).toThrow(/finite non-negative/);
  });
});

describe('Monitor', () => {
  it('keeps per-version windows that slide with time', () => {
    const clock = new FakeClock();
    const m = new Monitor({ windowMs: 10_000, intervalMs: 1_000, clock });
    for (let i = 0; i < 100; i++) m.record({ model: 'm', version: '1', latencyMs: i + 1, batchSize: 4 });
    m.record({ model: 'm', version: '2', latencyMs: 5, error: new Error('x') });
    let [v1, v2] = m.snapshot();
    expect(v1).toMatchObject({
      model: 'm',
      version: '1',
      requests: 100,
      errors: 0,
      errorRate: 0,
      throughput: 10,
      meanBatchSize: 4,
    });
    // The exact lower median of 1…100 is 50; the sketch is within 1% of it.
    expect(Math.abs(v1!.latencyMs.p50! - 50) / 50).toBeLessThanOrEqual(0.01);
    expect(Math.abs(v1!.latencyMs.p99! - 99) / 99).toBeLessThanOrEqual(0.01);
    expect(v1!.latencyMs.max).toBe(100);
    expect(v2).toMatchObject({ version: '2', requests: 1, errors: 1, errorRate: 1 });
    clock.advance(5_000);
    for (let i = 0; i < 50; i++) m.record({ model: 'm', version: '1', latencyMs: 1000 });
    [v1] = m.snapshot();
    expect(v1!.requests).toBe(150);
    clock.advance(6_000); // the first 100 leave the window
    [v1] = m.snapshot();
    expect(v1!.requests).toBe(50);
    expect(Math.abs(v1!.latencyMs.p50! - 1000) / 1000).toBeLessThanOrEqual(0.01);
    clock.advance(10_000);
    [v1] = m.snapshot();
    expect(v1).toMatchObject({ requests: 0, latencyMs: { p50: undefined } });
  });

  it('raises an alert on a breach and clears it past the hysteresis point', () => {
    const clock = new FakeClock();
    const m = new Monitor({ windowMs: 5_000, intervalMs: 1_000, clock });
    const events: string[] = [];
    m.on('alert', (a) => events.push(`alert ${a.version} ${a.value.toFixed(2)}`));
    m.on('resolved', (a) => events.push(`resolved ${a.version} ${a.value.toFixed(2)}`));
    m.addAlert({ name: 'errors', metric: 'errorRate', above: 0.1, resolveAt: 0.05, minRequests: 20 });
    for (let i = 0; i < 10; i++) m.record({ model: 'm', version: '1', latencyMs: 1, error: 'x' });
    m.check();
    expect(events).toEqual([]); // fewer than minRequests
    for (let i = 0; i < 40; i++) m.record({ model: 'm', version: '1', latencyMs: 1 });
    m.check();
    expect(events).toEqual(['alert 1 0.20']);
    expect(m.alerts()[0]!.message).toBe(
      'm version 1: errorRate is 0.2000, above 0.1 (50 requests in the last 5 s)',
    );
    clock.advance(5_000);
    for (let i = 0; i < 100; i++)
      m.record({ model: 'm', version: '1', latencyMs: 1, error: i < 8 ? 'x' : undefined });
    m.check(); // 8%: below the threshold but not below resolveAt
    expect(events).toEqual(['alert 1 0.20']);
    for (let i = 0; i < 100; i++) m.record({ model: 'm', version: '1', latencyMs: 1 });
    m.check(); // 4%
    expect(events).toEqual(['alert 1 0.20', 'resolved 1 0.04']);
    expect(m.alerts()).toEqual([]);
    expect(() => m.addAlert({ name: 'x', metric: 'errorRate', above: 0.1, resolveAt: 0.2 })).toThrow(
      /healthy side/,
    );
    expect(() => m.addAlert({ name: 'x', metric: 'nope' as never, above: 1 })).toThrow(/metric must be/);
  });

  it('watches a Deployer, and its alert rolls a canary back through a guard', async () => {
    const clock = new FakeClock();
    const m = new Monitor({ windowMs: 60_000, intervalMs: 1_000, clock });
    const d = new Deployer({ clock, random: () => 0.1 });
    m.attach(d);
    m.addAlert({ name: 'failing', metric: 'errorRate', above: 0.2, minRequests: 5, version: '2' });
    await d.deploy('m', sumModel('1', 1).model);
    const rolledBack: string[] = [];
    d.on('rolledBack', (e) => rolledBack.push(e.reason));
    await d.deploy('m', sumModel('2', 2, { fail: () => true }).model, {
      warmup: false,
      policy: { type: 'canary', weight: 0.5, guards: { minRequests: 5, check: m.guard('failing', 'm') } },
    });
    for (let i = 0; i < 12; i++) await d.predict('m', row(1, 1)).catch(() => undefined);
    const snap = m.snapshot();
    expect(snap.map((s) => [s.version, s.requests])).toEqual([
      ['1', expect.any(Number)],
      ['2', expect.any(Number)],
    ]);
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]).toMatch(
      /^m version 2: errorRate is 1, above 0\.2 \(\d+ requests in the last 60 s\)$/,
    );
    await d.close();
  });

  it('wraps a model and records its calls', async () => {
    const clock = new FakeClock();
    const m = new Monitor({ clock });
    const wrapped = m.wrap(sumModel('7', 0).model);
    await wrapped.predict(row(1, 2));
    await expect(wrapped.predict({ x: [[1]] })).rejects.toThrow();
    expect(m.snapshot()).toMatchObject([{ model: wrapped.name, version: '7', requests: 2, errors: 1 }]);
  });
});

describe('Monitor: bounded series', () => {
  it('keeps at most maxSeries series, drops records past it, and lets idle series go', () => {
    const clock = new FakeClock();
    const m = new Monitor({ clock, windowMs: 10_000, intervalMs: 1000, maxSeries: 3, seriesIdleMs: 60_000 });
    for (let i = 0; i < 2000; i++) m.record({ model: `made-up-${i}`, version: '1', latencyMs: 1 });
    expect(m.snapshot().map((s) => s.model)).toEqual(['made-up-0', 'made-up-1', 'made-up-2']);
    expect(m.droppedRecords).toBe(1997);
    // A series already kept still records.
    m.record({ model: 'made-up-1', version: '1', latencyMs: 1 });
    expect(m.snapshot().find((s) => s.model === 'made-up-1')!.requests).toBe(2);
    // Past seriesIdleMs without a record, a series is let go and its place taken.
    clock.advance(40_000);
    m.record({ model: 'made-up-1', version: '1', latencyMs: 1 });
    clock.advance(25_000);
    m.record({ model: 'fraud', version: '4', latencyMs: 1 });
    expect(m.snapshot().map((s) => `${s.model}/${s.version}`)).toEqual(['fraud/4', 'made-up-1/1']);
    expect(m.droppedRecords).toBe(1997);
    expect(() => new Monitor({ maxSeries: 0 })).toThrow('maxSeries must be a positive integer');
  });
});

describe('Monitor: drift of live inputs', () => {
  it("measures the drift of a deployment's recent input rows against a reference profile", async () => {
    const model = functionModel(
      ({ x }) => ({ y: tensor('float32', new Float32Array(x!.shape[0]!), [x!.shape[0]!]) }),
      {
        name: 'm',
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
        },
      },
    );
    const random = seededRandom(9);
    const draw = (n: number, shift: number) =>
      Array.from({ length: n }, () => [random() * 10 + shift, random() * 3] as [number, number]);
    const profile = Profile.fromDataset(draw(800, 0).map(([amount, tenure]) => ({ amount, tenure })));
    const d = new Deployer();
    await d.deploy('m', model, { warmup: false });
    const m = new Monitor();
    m.attach(d);
    m.watchDrift('m', profile, { windowRows: 400 });
    for (const r of draw(400, 0)) await d.predict('m', { x: [r] });
    expect(m.drift('m').datasetDrift).toBe(false);
    // The last 400 rows shift in amount: the window forgets the earlier ones.
    for (let i = 0; i < 40; i++) await d.predict('m', { x: draw(10, 3) });
    m.addAlert({ name: 'inputs moved', metric: 'driftShare', above: 0.4, resolveAt: 0.1, minRequests: 100 });
    const report = m.drift('m');
    expect(m.check().map((a) => a.message)).toEqual([
      'm version 1: driftShare is 0.5000, above 0.4 (400 rows in the drift window)',
    ]);
    expect(report.currentRows).toBe(400);
    expect(report.features.map((f) => [f.feature, f.drifted])).toEqual([
      ['amount', true],
      ['tenure', false],
    ]);
    expect(() => m.drift('other')).toThrow(/no drift watch for model 'other'/);
    // Prediction drift: the outputs against a profile of reference predictions (all 0 here, and
    // the model answers 0 too, so no drift; a profile of 1s sees it).
    m.watchDrift('m', Profile.fromDataset(Array.from({ length: 300 }, () => ({ y: 0 }))), {
      output: 'y',
      windowRows: 100,
    });
    for (let i = 0; i < 10; i++) await d.predict('m', { x: draw(10, 0) });
    expect(m.predictionDrift('m')).toMatchObject({ currentRows: 100, datasetDrift: false });
    m.watchDrift('m', Profile.fromDataset(Array.from({ length: 300 }, (_, i) => ({ y: i % 2 }))), {
      output: 'y',
      windowRows: 100,
    });
    for (let i = 0; i < 10; i++) await d.predict('m', { x: draw(10, 0) });
    expect(m.predictionDrift('m').features[0]).toMatchObject({ feature: 'y', method: 'z', drifted: true });
    await d.close();
  });
});

describe('Monitor: drift of records (raw fields before a pipeline)', () => {
  it('keeps the watched fields of records and ignores input tensors', () => {
    const random = seededRandom(4);
    const rows = (n: number, shift: number) =>
      Array.from({ length: n }, () => ({
        amount: random() * 10 + shift,
        country: random() < 0.5 ? 'FR' : 'DE',
      }));
    const m = new Monitor();
    m.watchDrift('m', Profile.fromDataset(rows(500, 0)), { records: true, windowRows: 200 });
    // Tensors of the transformed input never reach a records watch.
    m.observeInputs('m', { features: tensor('float32', new Float32Array(20), [10, 2]) });
    expect(m.drift('m')).toMatchObject({ currentRows: 0, datasetDrift: false });
    m.observeRecords(
      'm',
      rows(200, 0).map((r) => ({ ...r, extra: 'ignored' })),
    );
    const calm = m.drift('m');
    expect(calm.currentRows).toBe(200);
    expect(calm.datasetDrift).toBe(false);
    m.observeRecords('m', rows(200, 6));
    expect(m.drift('m').features.map((f) => [f.feature, f.drifted])).toEqual([
      ['amount', true],
      ['country', false],
    ]);
    m.observeRecords('other', rows(5, 0)); // no watch: nothing kept, no error
    expect(() => m.observeRecords('m', {} as never)).toThrow('records must be an array');
    expect(() => m.watchDrift('m', Profile.fromDataset(rows(10, 0)), { records: 'yes' as never })).toThrow(
      'records must be a boolean',
    );
    expect(() => m.watchDrift('m', Profile.fromDataset(rows(10, 0)), { records: true, output: 'y' })).toThrow(
      'cannot go with output',
    );
  });
});

describe('Monitor: live performance from late labels', () => {
  it('joins labels to earlier predictions and scores the most recent ones', () => {
    const m = new Monitor({ outcomeWindow: 4, maxPending: 3 });
    const preds: [string, number, number][] = [
      ['a', 1, 0.9],
      ['b', 0, 0.2],
      ['c', 1, 0.6],
    ];
    for (const [id, predicted, score] of preds)
      m.recordPrediction(id, { model: 'fraud', version: '2', predicted, score });
    m.recordPrediction('d', { model: 'fraud', version: '2', predicted: 0, score: 0.4 }); // drops 'a' (maxPending 3)
    expect(m.recordOutcome('a', 1)).toBe(false);
    expect(m.recordOutcome('b', 0)).toBe(true);
    expect(m.recordOutcome('c', 0)).toBe(true);
    expect(m.recordOutcome('d', 1)).toBe(true);
    expect(m.recordOutcome('d', 1)).toBe(false); // joined once
    const [p] = m.performance({ positiveLabel: 1 });
    // truth [0, 0, 1], predicted [0, 1, 0], scores [0.2, 0.6, 0.4]
    expect(p).toEqual({ model: 'fraud', version: '2', labeled: 3, accuracy: 1 / 3, f1: 0, rocAuc: 0.5 });
    for (const [id, label] of [
      ['e', 1],
      ['f', 1],
    ] as const) {
      m.recordPrediction(id, { model: 'fraud', version: '2', predicted: 1, score: 0.95 });
      m.recordOutcome(id, label);
    }
    // The window keeps the 4 most recent (b fell out): c, d, e, f with truth 0, 1, 1, 1 and
    // predictions 1, 0, 1, 1.
    expect(m.performance({ positiveLabel: 1 })[0]).toMatchObject({ labeled: 4, accuracy: 0.5 });
    expect(() => m.recordPrediction('', { model: 'm', version: '1', predicted: 1 })).toThrow(/requestId/);
    // An alert on live accuracy needs the version to have traffic in the window and enough labels.
    m.record({ model: 'fraud', version: '2', latencyMs: 1 });
    m.addAlert({ name: 'worse', metric: 'liveAccuracy', below: 0.8, minRequests: 4 });
    expect(m.check().map((a) => a.rule)).toEqual(['worse']);
  });
});
