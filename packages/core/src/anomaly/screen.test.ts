import { describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { FakeClock, row, seeded, sumModel } from '../deploy/fakes.case';
import type { Row } from '../evaluate/types';
import { Monitor } from '../monitor/monitor';
import { Profile } from '../monitor/profile';
import { IsolationForest } from './isolation-forest';
import { DataQualityChecker } from './quality';
import { InputRejectedError, InputScreen, type ScreenReport } from './screen';

// The reference population: x0 in [0, 1), x1 in [0, 2).
const random = seeded(11);
const reference = Array.from({ length: 400 }, () => ({ x0: random(), x1: 2 * random() }));
const profile = Profile.fromDataset(reference);
const forest = IsolationForest.fit(reference, { seed: 1 });
forest.inferThreshold(
  Array.from({ length: 400 }, () => ({ x0: random(), x1: 2 * random() })),
  { fpr: 0.02 },
);

describe('InputScreen', () => {
  it('reads tensor rows in feature order and reports findings and scores', () => {
    const screen = new InputScreen({
      quality: new DataQualityChecker(profile, { rangeTolerance: 0 }),
      outliers: { detector: forest },
    });
    const r = screen.screen({
      x: { dtype: 'float32', shape: [3, 2], data: new Float32Array([0.5, 1, 5, 6, 0.5, Number.NaN]) },
    });
    expect(r.records).toBe(3);
    expect(r.findings.map((f) => [f.record, f.feature, f.rule])).toEqual([
      [1, 'x0', 'out_of_range'],
      [1, 'x1', 'out_of_range'],
      [2, 'x1', 'missing'],
    ]);
    expect(r.violatingRecords).toBe(2);
    // record 2 cannot be scored (x1 is NaN): its quality finding says why
    expect(r.scores.map((s) => s.record)).toEqual([0, 1]);
    expect(r.scores[1]!.score).toBeGreaterThan(r.scores[0]!.score);
    expect(r.scores[1]!.outlier).toBe(true);
    expect(r.outliers).toBe(1);
    expect(r.flag).toBe(false);
  });

  it("scores a batch's rows together, each exactly as the detector scores it alone", () => {
    const screen = new InputScreen({ outliers: { detector: forest }, features: ['x1', 'x0'] });
    const rows = Array.from({ length: 21 }, (_, i) => [2 * random() + (i === 4 ? 9 : 0), random()]);
    rows[7] = [Number.NaN, 0.5];
    const scoresOf = (report: ScreenReport) => report.scores.map((s) => [s.record, s.score]);
    const alone = (ids: number[]) =>
      ids.filter((i) => i !== 7).map((i) => [i, forest.score({ x0: rows[i]![1]!, x1: rows[i]![0]! })]);
    const tensor = (n: number) => ({
      x: { dtype: 'float64' as const, shape: [n, 2], data: Float64Array.from(rows.slice(0, n).flat()) },
    });
    // more rows than before, then fewer: the buffers grow and are reused
    for (const n of [3, 21, 9, 21])
      expect(scoresOf(screen.screen(tensor(n)))).toEqual(alone([...Array(n).keys()]));
    const records: Row[] = rows.map(([x1, x0]) => ({ x0: x0!, x1: x1! }));
    records[2] = { x0: 0.5 }; // no x1: not scored, like the NaN in record 7
    const report = screen.screen(undefined, records);
    expect(scoresOf(report)).toEqual(alone([...Array(21).keys()]).filter(([i]) => i !== 2));
    expect(report.outliers).toBe(1);
  });

  it('checks records when given, and refuses in reject mode naming record, field and rule', () => {
    const screen = new InputScreen({
      quality: new DataQualityChecker(profile, { features: { x1: { mode: 'reject' } } }),
    });
    expect(screen.screen(undefined, [{ x0: 0.2, x1: 1 }]).findings).toEqual([]);
    let error: unknown;
    try {
      screen.screen(undefined, [
        { x0: 0.2, x1: 1 },
        { x0: 0.2, x1: 'high' },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputRejectedError);
    expect(error).toMatchObject({ code: 'INPUT_REJECTED' });
    expect((error as Error).message).toMatch(
      /^record 1, field 'x1': wrong type \(received "high", expected a finite number in \[/,
    );
  });

  it('flags outliers and refuses them in reject mode', () => {
    const flag = new InputScreen({ outliers: { detector: forest, mode: 'flag' } });
    expect(flag.screen(row(0.5, 1)).flag).toBe(false);
    expect(flag.screen(row(30, 40)).flag).toBe(true);
    const reject = new InputScreen({ outliers: { detector: forest, mode: 'reject' } });
    expect(() => reject.screen(row(30, 40))).toThrow(
      expect.objectContaining({
        code: 'INPUT_REJECTED',
        message: expect.stringMatching(
          /^record 0 is an outlier: isolation-forest score 0\.\d+ reaches the threshold/,
        ),
      }),
    );
  });

  it('refuses options it cannot honour, at construction', () => {
    const bad = (o: unknown, m: RegExp) =>
      expect(() => new InputScreen(o as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(m) }),
      );
    bad({}, /give quality, outliers, performance or several/);
    bad({ outliers: { detector: {} } }, /fitted detector/);
    bad(
      {
        outliers: {
          detector: IsolationForest.fit(reference, { nEstimators: 3, contamination: 0.1 }),
          sampleRate: 0,
        },
      },
      /sampleRate/,
    );
    const noThreshold = IsolationForest.fit(reference, { nEstimators: 3 });
    noThreshold.threshold = undefined;
    bad({ outliers: { detector: noThreshold, mode: 'reject' } }, /needs a detector with a threshold/);
    bad(
      { outliers: { detector: forest }, features: ['x0'] },
      /detector's features x1 are not among features/,
    );
  });
});

describe('a Deployer with an input screen', () => {
  it('counts per version, hands the report to onScreen and the prediction event, and refuses in reject mode', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 0).model);
    d.screen(
      'm',
      new InputScreen({
        quality: new DataQualityChecker(profile, { mode: 'flag', features: { x1: { mode: 'reject' } } }),
        outliers: { detector: forest },
      }),
    );
    const events: (ScreenReport | undefined)[] = [];
    d.on('prediction', (e) => events.push(e.screen));
    const reports: ScreenReport[] = [];
    const out = await d.predict('m', row(40, 1), { onScreen: (r) => reports.push(r) });
    expect(out.y!.data[0]).toBe(41); // flagged, still answered
    expect(reports[0]!.flag).toBe(true);
    expect(reports[0]!.findings[0]).toMatchObject({ feature: 'x0', rule: 'out_of_range', mode: 'flag' });
    await expect(d.predict('m', row(0.5, 9))).rejects.toMatchObject({ code: 'INPUT_REJECTED' });
    await d.predict('m', row(0.5, 1));
    expect(events.map((e) => e?.violatingRecords)).toEqual([1, 1, 0]);
    const outliers = [row(40, 1), row(0.5, 9), row(0.5, 1)].filter((r) =>
      forest.isOutlier(Array.from(r.x.data)),
    ).length;
    expect(forest.isOutlier([0.5, 1])).toBe(false);
    expect(d.status('m').versions[0]!.screen).toEqual({
      records: 3,
      qualityViolations: 2,
      scored: 3,
      outliers,
    });
    // a refused request is reported once, as a failure
    expect(d.status('m').versions[0]!.requests).toBe(2);
    await d.close();
  });

  it('rolls back a canary fed a different population (maxOutlierRate)', async () => {
    const d = new Deployer({ random: seeded(5) });
    await d.deploy('m', sumModel('1', 1).model);
    d.screen('m', new InputScreen({ outliers: { detector: forest } }));
    const rolledBack: string[] = [];
    d.on('rolledBack', (e) => rolledBack.push(e.reason));
    await d.deploy('m', sumModel('2', 2).model, {
      policy: { type: 'canary', weight: 0.5, guards: { maxOutlierRate: 0.2, minRequests: 20 } },
    });
    // half the requests come from far outside the reference population
    for (let i = 0; i < 400 && rolledBack.length === 0; i++)
      await d.predict('m', i % 2 === 0 ? row(20 + i, -30) : row(0.5, 1), { routingKey: `k${i}` });
    // half of the candidate's records are outliers: it goes, the primary stays
    expect(rolledBack[0]).toMatch(/% of records are outliers, above maxOutlierRate 0\.2 \(\d+ of \d+\)/);
    expect(d.status('m').primary).toBe('1');
    await d.close();
  });

  it('feeds the Monitor: window rates, score quantiles, findings by feature and rule, alerts', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const monitor = new Monitor({ clock });
    monitor.attach(d);
    await d.deploy('m', sumModel('1', 0).model);
    d.screen(
      'm',
      new InputScreen({
        quality: new DataQualityChecker(profile, { rangeTolerance: 0 }),
        outliers: { detector: forest },
      }),
    );
    monitor.addAlert({ name: 'outliers', metric: 'outlierRate', above: 0.1, minRequests: 10 });
    const alerts: string[] = [];
    monitor.on('alert', (a) => alerts.push(a.message));
    for (let i = 0; i < 20; i++) await d.predict('m', i % 4 === 0 ? row(40, 50) : row(0.3, 0.7));
    const s = monitor.snapshot()[0]!.screen!;
    expect(s.records).toBe(20);
    expect(s.qualityViolations).toBe(5);
    expect(s.scored).toBe(20);
    expect(s.outliers).toBe(5);
    expect(s.outlierRate).toBe(0.25);
    expect(s.outlierScore.p99).toBeGreaterThan(forest.threshold!);
    expect(s.totals.findings).toEqual([
      { feature: 'x0', rule: 'out_of_range', count: 5 },
      { feature: 'x1', rule: 'out_of_range', count: 5 },
    ]);
    monitor.check();
    expect(alerts).toEqual([
      expect.stringMatching(
        /m version 1: outlierRate is 0\.25(00)?, above 0\.1 \(20 records scored in the last 60 s\)/,
      ),
    ]);
    await d.close();
  });
});

describe('an alert hands the window of recent rows to a retraining hook', () => {
  it('copies the drift watch’s rows, oldest first, into the alert event', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const monitor = new Monitor({ clock });
    monitor.attach(d);
    await d.deploy('m', sumModel('1', 0).model);
    monitor.watchDrift('m', profile, { windowRows: 30 });
    monitor.addAlert({ name: 'drift', metric: 'driftShare', above: 0.4, minRequests: 30 });
    const alerts: { rows?: Record<string, unknown>[] }[] = [];
    monitor.on('alert', (a) => alerts.push(a));
    for (let i = 0; i < 40; i++) await d.predict('m', row(5 + i, 9));
    expect(monitor.recentRows('m')!.map((r) => r.x0)).toEqual(Array.from({ length: 30 }, (_, i) => 15 + i));
    monitor.check();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rows).toHaveLength(30);
    expect(alerts[0]!.rows![0]).toEqual({ x0: 15, x1: 9 });
    expect(alerts[0]!.rows![29]).toEqual({ x0: 44, x1: 9 });
    expect(monitor.recentRows('other')).toBeUndefined();
    await d.close();
  });
});

describe('a wrapped model with a screen, without a Deployer', () => {
  it('screens, counts in the Monitor, hands reports to onScreen and refuses in reject mode', async () => {
    const clock = new FakeClock();
    const monitor = new Monitor({ clock });
    const reports: ScreenReport[] = [];
    const wrapped = monitor.wrap(sumModel('1', 0).model, {
      screen: new InputScreen({
        quality: new DataQualityChecker(profile, { rangeTolerance: 0 }),
        outliers: { detector: forest, mode: 'reject' },
      }),
      onScreen: (r) => reports.push(r),
    });
    const out = await wrapped.predict(row(1.05, 1)); // just past the reference's x0 range
    expect(out.y!.data[0]).toBeCloseTo(2.05, 5);
    expect(reports[0]).toMatchObject({ violatingRecords: 1, outliers: 0, flag: false });
    await expect(wrapped.predict(row(30, 40))).rejects.toMatchObject({
      code: 'INPUT_REJECTED',
      message: expect.stringMatching(/^record 0 is an outlier/),
    });
    await wrapped.predict(row(0.5, 1));
    const s = monitor.snapshot()[0]!;
    expect(s.requests).toBe(3);
    expect(s.errors).toBe(1);
    expect(s.screen).toMatchObject({ records: 3, qualityViolations: 2, scored: 3, outliers: 1 });
    expect(s.screen!.totals.findings).toEqual([
      { feature: 'x0', rule: 'out_of_range', count: 2 },
      { feature: 'x1', rule: 'out_of_range', count: 1 },
    ]);
    expect(() => monitor.wrap(sumModel('1', 0).model, { screen: {} as InputScreen })).toThrow(
      /screen must be an InputScreen/,
    );
  });
});

describe('attaching a screen checks it against the model', () => {
  it('refuses a screen whose rows do not fit the input, and screens records only when told they are records', async () => {
    const d = new Deployer();
    await d.deploy('m', sumModel('1', 0).model); // input x [batch, 2]
    const three = Profile.fromDataset([
      { a: 1, b: 2, c: 3 },
      { a: 2, b: 3, c: 4 },
    ]);
    expect(() => d.screen('m', new InputScreen({ quality: new DataQualityChecker(three) }))).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(
          "the screen reads 3 features per row but input 'x' [batch, 2] of model 'm' has 2 values per row",
        ),
      }),
    );
    expect(() =>
      d.screen('m', new InputScreen({ quality: new DataQualityChecker(profile), input: 'y' })),
    ).toThrow(/model 'm' has no input 'y' \(inputs: x\)/);
    // records: the checks read the fields clients send, so a tensor request is not screened
    d.screen(
      'm',
      new InputScreen({ quality: new DataQualityChecker(three, { rangeTolerance: 0 }), records: true }),
    );
    const reports: ScreenReport[] = [];
    await d.predict('m', row(100, 100), { onScreen: (r) => reports.push(r) });
    await d.predict('m', row(1, 1), { records: [{ a: 9, b: 2, c: 3 }], onScreen: (r) => reports.push(r) });
    expect(reports.map((r) => [r.records, r.findings.map((f) => f.feature)])).toEqual([
      [0, []],
      [1, ['a']],
    ]);
    await d.close();
  });
});
