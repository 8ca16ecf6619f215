/**
 * The dashboard in real headless Chromium (Debian's): a canary deployment with traffic, a
 * firing alert and drifting inputs, rendered from the page's own polling of `/v2/monitor`.
 * The screenshot lands in test/screenshots/dashboard.png for a person to look at.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IsolationForest } from '@modelship/core/anomaly';
import {
  createServer,
  DataQualityChecker,
  Deployer,
  InputScreen,
  loadModel,
  Monitor,
  PerformanceEstimator,
  Profile,
  type Row,
  readCsv,
} from '@modelship/node';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fixturesDir, modelPath } from './fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));

describe('dashboard', () => {
  it('shows health, versions, the traffic split, alerts and drift at a glance', async () => {
    const deployer = new Deployer({
      random: (() => {
        let i = 0;
        return () => (i++ * 0.37) % 1;
      })(),
    });
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud_baseline')), {
      version: '1',
      replace: false,
    });
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), {
      version: '2',
      policy: { type: 'canary', weight: 0.3 },
    });
    const monitor = new Monitor({ windowMs: 60_000, intervalMs: 1_000 });
    monitor.attach(deployer);
    const rows: Row[] = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r);
    const features = Array.from({ length: 12 }, (_, i) => `f${i}`);
    monitor.watchDrift('fraud', Profile.fromDataset(rows.slice(0, 250), { exclude: ['label'] }), {
      features,
      windowRows: 200,
    });
    monitor.addAlert({ name: 'slow', metric: 'p99LatencyMs', above: 0.001, minRequests: 10, version: '2' });
    // Live traffic: the held-out rows, with f3 and f7 moved.
    for (const r of rows.slice(250, 450)) {
      const x = features.map((f) => (r[f] as number) + (f === 'f3' || f === 'f7' ? 2.5 : 0));
      await deployer.predict('fraud', { features: [x] });
    }
    monitor.check();
    const server = createServer(deployer, { monitor, serverName: 'fraud service', closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${url}/dashboard`);
      await page.waitForSelector('.tile');
      await expect.poll(() => page.textContent('#status')).toBe('1 alert firing');
      const text = (await page.textContent('main'))!;
      expect(text).toContain('fraud v1');
      expect(text).toContain('fraud v2');
      expect(text).toContain('fraud traffic split');
      expect(text).toMatch(/■ v1 70%\s+■ v2 30%/);
      expect(text).toContain('fraud version 2: p99LatencyMs is');
      expect(text).toMatch(/200 recent rows · 2 of 12 features drifted/);
      const drifted = await page.$$eval('td b', (els) =>
        els.map((e) => e.closest('tr')!.querySelector('td')!.textContent),
      );
      expect(drifted.sort()).toEqual(['f3 drifted', 'f7 drifted']);
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard.png`, fullPage: true });
      expect(readFileSync(`${shots}dashboard.png`).byteLength).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('shows bad records, outliers and accuracy estimated before labels, per version', async () => {
    const rows: Row[] = [];
    for await (const r of readCsv(`${fixturesDir}data/fraud.csv`)) rows.push(r);
    const features = Array.from({ length: 12 }, (_, i) => `f${i}`);
    const reference = rows.slice(0, 250);
    const model = await loadModel(modelPath('fraud'));
    const scores = (
      await model.predict({ features: reference.map((r) => features.map((f) => r[f] as number)) })
    ).probability!.data as Float32Array;
    const estimator = PerformanceEstimator.fit(
      { scores: Array.from(scores), labels: reference.map((r) => r.label as number) },
      { calibrate: false },
    );
    const forest = IsolationForest.fit(reference, { features, seed: 1 });
    forest.inferThreshold(rows.slice(250, 350), { fpr: 0.01 });
    const deployer = new Deployer();
    await deployer.deploy('fraud', model, { version: '1' });
    const quality = new DataQualityChecker(Profile.fromDataset(reference, { exclude: ['label'] }), {
      rangeTolerance: 0,
    });
    deployer.screen(
      'fraud',
      new InputScreen({
        quality,
        outliers: { detector: forest },
        performance: { estimator },
        features,
      }),
    );
    const monitor = new Monitor({ windowMs: 60_000, intervalMs: 1_000 });
    monitor.attach(deployer);
    monitor.watchPerformance('fraud', estimator);
    // Live traffic: held-out rows, every fifth with f3 far outside the reference.
    const live = rows
      .slice(350, 500)
      .map((r, i) =>
        Object.fromEntries(features.map((f) => [f, (r[f] as number) + (f === 'f3' && i % 5 === 0 ? 40 : 0)])),
      );
    for (const r of live)
      await deployer.predict('fraud', { features: [features.map((f) => r[f] as number)] });
    const findings = quality.check(live);
    const badShare = new Set(findings.map((f) => f.record)).size / live.length;
    const f3 = findings.filter((f) => f.feature === 'f3' && f.rule === 'out_of_range').length;
    expect(f3).toBeGreaterThanOrEqual(30);
    const server = createServer(deployer, { monitor, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const state = (await (await fetch(`${url}/v2/monitor`)).json()) as {
        series: { screen: { qualityViolationRate: number; outlierRate: number } }[];
        estimated: { fraud: { accuracy: { value: number } } };
      };
      expect(state.series[0]!.screen.qualityViolationRate).toBeCloseTo(badShare, 12);
      expect(state.series[0]!.screen.outlierRate).toBe(
        live.filter((r) => forest.isOutlier(r)).length / live.length,
      );
      expect(state.estimated.fraud.accuracy.value).toBeGreaterThan(0.5);
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      await page.goto(`${url}/dashboard`);
      await page.waitForSelector('.tile');
      expect(await page.textContent('#status')).toBe('unusual inputs: fraud');
      const text = (await page.textContent('main'))!;
      expect(text).toContain(`${(badShare * 100).toFixed(1)}%bad records`);
      expect(text).toMatch(/\d+\.\d%outliers/);
      expect(text).toMatch(/\d+\.\d%est\. accuracy ±\d+\.\d/);
      expect(text).toContain(`f3 out of range ×${f3}`);
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard-screen.png`, fullPage: true });
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('draws the last minutes from the server-side history, with axes, on a page opened now', async () => {
    // Ten minutes of traffic already recorded before the page opens: a ramp from 1 to 10 req/s
    // with errors in minute 7 and slower answers in the last two minutes.
    let now = 0;
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const monitor = new Monitor({ clock });
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1', warmup: false });
    for (let second = 0; second < 600; second++) {
      now = second * 1000;
      const rate = 1 + Math.floor(second / 60);
      for (let k = 0; k < rate; k++)
        monitor.record({
          model: 'fraud',
          version: '1',
          latencyMs: second >= 480 ? 40 : 4,
          ...(second >= 420 && second < 480 && k === 0 ? { error: new Error('x') } : {}),
        });
    }
    now = 600_000;
    const server = createServer(deployer, { monitor, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const history = (await (await fetch(`${url}/v2/monitor/history`)).json()) as {
        history: { model: string; intervalMs: number; points: { t: number; throughput: number }[] }[];
      };
      const [h] = history.history;
      expect(h!.intervalMs).toBe(5_000);
      expect(h!.points).toHaveLength(180); // 15 minutes of 5 s intervals
      expect(h!.points.at(-1)!.t).toBe(595_000); // the last finished interval
      // Five minutes before any traffic, then the ramp: 1 req/s in the first minute, 10 in the last.
      expect(h!.points.slice(0, 60).every((p) => p.throughput === 0)).toBe(true);
      expect(h!.points[60]).toMatchObject({ t: 0, throughput: 1 });
      expect(h!.points[179]!.throughput).toBe(10);

      const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
      await page.goto(`${url}/dashboard`);
      await page.waitForSelector('.tile svg path');
      const charts = await page.$$eval('.tile svg', (svgs) =>
        svgs.map((svg) => ({
          labels: [...svg.querySelectorAll('text')].map((t) => t.textContent),
          segments: (svg.querySelector('path')!.getAttribute('d')!.match(/[ML]/g) ?? []).length,
          errorBars: svg.querySelectorAll('rect').length,
        })),
      );
      expect(charts).toHaveLength(2);
      // Throughput: y axis 0, 5, 10 req/s; the time axis from 15 minutes ago to now; one point
      // per interval (the ramp), and a red bar for each interval with errors (minute 7: 12).
      expect(charts[0]!.labels).toEqual(['0', '5', '10', '−15 min', '−7 min', 'now', 'req/s (errors red)']);
      expect(charts[0]!.segments).toBe(180);
      expect(charts[0]!.errorBars).toBe(12);
      // p99 latency: 4 ms, then 40 ms in the last two minutes (axis to 50), drawn only where
      // there was traffic.
      expect(charts[1]!.labels).toEqual(['0', '25', '50', '−15 min', '−7 min', 'now', 'p99 latency, ms']);
      expect(charts[1]!.segments).toBe(120);
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard-history.png`, fullPage: true });
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
