/**
 * Anomaly detection in a page (Debian's Chromium): data-quality checks, an isolation forest and
 * a Mahalanobis detector fitted in the browser screen what a Deployer serves from the digits
 * model on onnxruntime-web, and the in-page Monitor counts it; the forest scores in WebAssembly
 * there, as without it; CBPE estimates accuracy there too.
 */
import { Deployer, InputScreen, loadModel, Monitor, Profile, parseCsv, type Row } from '@modelship/browser';
import {
  DataQualityChecker,
  IsolationForest,
  MahalanobisDetector,
  PerformanceEstimator,
} from '@modelship/core/anomaly';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const pixels = Array.from({ length: 64 }, (_, i) => `p${i}`);
let rows: Row[];
const deployer = new Deployer();
const monitor = new Monitor();
monitor.attach(deployer);

beforeAll(async () => {
  rows = [];
  const text = await (await fetch('/data/digits-test.csv')).text();
  for await (const row of parseCsv([text])) rows.push(row);
  await deployer.deploy('digits', await loadModel('/models/digits.onnx', { executionProviders: ['wasm'] }), {
    version: '1',
  });
});
afterAll(() => deployer.close());

describe('anomaly detection in Chromium', () => {
  test('screens requests, counts bad records and outliers in the page Monitor', async () => {
    expect(typeof window).toBe('object');
    const reference = rows.slice(0, 200);
    const quality = new DataQualityChecker(Profile.fromDataset(reference, { exclude: ['label'] }), {
      rangeTolerance: 0,
    });
    const forest = IsolationForest.fit(reference, { features: pixels, seed: 1 });
    forest.inferThreshold(rows.slice(200, 300), { fpr: 0.05 });
    const mahalanobis = MahalanobisDetector.fit(reference, { features: pixels, singular: 'drop' });
    expect(mahalanobis.components).toBeLessThan(64); // the border pixels never vary
    deployer.screen('digits', new InputScreen({ quality, outliers: { detector: forest }, features: pixels }));
    const live = rows.slice(300, 340).map((r, i) => pixels.map((p) => (i % 4 === 0 ? 16 : (r[p] as number))));
    for (const x of live) await deployer.predict('digits', { pixels: [x] });
    const screen = monitor.snapshot()[0]!.screen!;
    const expectedBad = live.filter((x) => quality.checkRows([x], pixels).length > 0).length;
    expect(screen.records).toBe(40);
    expect(screen.qualityViolations).toBe(expectedBad);
    expect(expectedBad).toBeGreaterThanOrEqual(10); // every fourth is all-16 ink
    expect(screen.outliers).toBe(live.filter((x) => forest.isOutlier(x)).length);
    expect(forest.isOutlier(live[0]!)).toBe(true);
    expect(mahalanobis.score(live[0]!)).toBeGreaterThan(mahalanobis.score(live[1]!));
  });

  test('scores an isolation forest in WebAssembly, with the same scores as without it', () => {
    const reference = rows.slice(0, 200);
    const forest = IsolationForest.fit(reference, { features: pixels, seed: 2 });
    const kernel = (f: IsolationForest) =>
      ((f as unknown as { kernel: object }).kernel.constructor as { name: string }).name;
    expect(kernel(forest)).toBe('WasmForest');
    const g = globalThis as { WebAssembly?: unknown };
    const saved = g.WebAssembly;
    g.WebAssembly = undefined; // as on a page whose policy refuses it
    let js: IsolationForest;
    try {
      js = IsolationForest.fromJSON(forest.toJSON());
    } finally {
      g.WebAssembly = saved;
    }
    expect(kernel(js)).toBe('CompleteTrees');
    const values = Float64Array.from(rows.slice(200, 445).flatMap((r) => pixels.map((p) => r[p] as number)));
    const batch = Array.from(forest.scoreRows(values, 245));
    expect(Array.from(js.scoreRows(values, 245))).toEqual(batch);
    for (let i = 0; i < 245; i += 13) {
      const x = values.slice(i * 64, i * 64 + 64);
      expect([forest.scoreValues(x), js.scoreValues(x)]).toEqual([batch[i], batch[i]]);
    }
  });

  test('estimates accuracy without labels (CBPE) as in Node', () => {
    let s = 3;
    const u = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648;
    };
    const scores = Array.from({ length: 1000 }, () => u());
    const labels = scores.map((p) => (u() < p ? 1 : 0));
    const est = PerformanceEstimator.fit({ scores, labels });
    const e = est.estimate(scores.slice(0, 300));
    expect(e.rows).toBe(300);
    expect(Math.abs(e.accuracy.value - 0.75)).toBeLessThan(0.05); // E[max(p, 1 − p)] for uniform p
  });
});
