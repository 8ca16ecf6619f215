/**
 * explain, kmeansBackground, permutationImportance and partialDependence against
 * test/golden/make_explain_golden.py: brute-force interventional Shapley values (numpy; with
 * equal and with weighted backgrounds), shap.kmeans rebuilt on scikit-learn's KMeans, and
 * scikit-learn 1.2's permutation_importance
 * (on the row orders it drew, replayed) and partial_dependence.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricName } from '../evaluate/types';
import { kmeansBackground } from './background';
import { explain } from './explain';
import { permutationImportance } from './importance';
import { goldenModel, records } from './models.case';
import { partialDependence } from './partial-dependence';

interface ShapCase {
  name: string;
  model: string;
  link: 'identity' | 'logit';
  features: string[];
  rows: number[][];
  background: number[][];
  baseValue: number;
  values: number[][];
  /** A weighted background (shap.kmeans' cluster sizes), when given. */
  weights?: number[];
}
interface KmeansCase {
  name: string;
  k: number;
  rows: number[][];
  means: number[][];
  centroids: number[][];
  weights: number[];
}
interface ImportanceCase {
  name: string;
  metric: MetricName;
  rows: number[][];
  labels: number[];
  orders: number[][];
  importances: number[][];
  mean: number[];
  std: number[];
}
interface PdCase {
  name: string;
  model: string;
  feature: string;
  gridResolution: number;
  percentiles: [number, number];
  rows: number[][];
  grid: number[];
  average: number[];
  individual: number[][];
}

const golden: {
  shapley: ShapCase[];
  kmeans: KmeansCase[];
  permutationImportance: ImportanceCase[];
  partialDependence: PdCase[];
} = JSON.parse(readFileSync(new URL('../../test/golden/explain.golden.json', import.meta.url), 'utf8'));

const TOL = 1e-9;

function closeAll(actual: readonly number[], expected: readonly number[], path: string): void {
  expect(actual.length, `${path}: length`).toBe(expected.length);
  expected.forEach((e, i) => {
    expect(Math.abs(actual[i]! - e), `${path}[${i}]: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(
      TOL * Math.max(1, Math.abs(e)),
    );
  });
}

describe('explain: Shapley values against brute force', () => {
  for (const c of golden.shapley) {
    for (const method of ['exact', 'kernel'] as const) {
      it(`${c.name}: ${method}${method === 'kernel' ? ' (default budget enumerates every coalition)' : ''}`, async () => {
        const model = goldenModel(c.model);
        const ex = await explain(model, records(c.rows), {
          background: records(c.background),
          ...(c.weights === undefined ? {} : { backgroundWeights: c.weights }),
          method,
          link: c.link,
        });
        expect(ex.features).toEqual(c.features);
        expect(Math.abs(ex.baseValue - c.baseValue)).toBeLessThanOrEqual(TOL);
        c.values.forEach((expected, r) => {
          closeAll(
            c.features.map((f) => ex.values[r]![f]!),
            expected,
            `${c.name} row ${r}`,
          );
        });
      });
    }
  }

  it('a feature constant over the background and equal in the row gets exactly 0, without being evaluated', async () => {
    const c = golden.shapley[0]!;
    const model = goldenModel(c.model);
    const ex = await explain(model, records(c.rows.slice(0, 1)), {
      background: records(c.background),
      method: 'exact',
    });
    expect(ex.values[0]!.x4).toBe(0);
    // 4 varying features: 2^4 − 2 coalitions × 10 background rows, + the background + the row
    expect(ex.evaluations).toBe((2 ** 4 - 2) * 10 + 10 + 1);
  });
});

describe('kmeansBackground against shap.kmeans (scikit-learn KMeans, snapped centroids, cluster sizes)', () => {
  // clusters come in any order: compare them sorted by their first coordinate
  const sorted = (centroids: number[][], weights: number[]) =>
    centroids.map((c, i) => ({ c, w: weights[i]! })).sort((a, b) => a.c[0]! - b.c[0]!);
  for (const c of golden.kmeans) {
    it(c.name, () => {
      const rows = records(c.rows);
      const snapped = kmeansBackground(rows, c.k, { seed: 3 });
      const ours = sorted(
        snapped.rows.map((r) => Object.values(r) as number[]),
        snapped.weights,
      );
      const theirs = sorted(c.centroids, c.weights);
      // snapped coordinates are values of the data: equal exactly
      expect(ours).toEqual(theirs);
      const means = kmeansBackground(rows, c.k, { seed: 3, roundValues: false });
      const ourMeans = sorted(
        means.rows.map((r) => Object.values(r) as number[]),
        means.weights,
      );
      sorted(c.means, c.weights).forEach((expected, i) => {
        closeAll(ourMeans[i]!.c, expected.c, `${c.name} centroid ${i}`);
        expect(ourMeans[i]!.w).toBe(expected.w);
      });
    });
  }
});

describe('permutationImportance against scikit-learn on the same row orders', () => {
  for (const c of golden.permutationImportance) {
    it(c.name, async () => {
      const model = goldenModel(
        c.metric === 'r2Score' || c.metric === 'meanSquaredError' ? 'interaction' : 'logistic',
      );
      const regression = c.metric === 'r2Score' || c.metric === 'meanSquaredError';
      const imp = await permutationImportance(model, records(c.rows, c.labels), {
        metric: c.metric,
        repeats: c.orders.length,
        permutations: c.orders,
        ...(regression ? { task: 'regression' as const } : {}),
      });
      expect(imp.metric).toBe(c.metric);
      c.importances.forEach((row, j) => {
        closeAll(imp.importances[j]!, row, `${c.name} importances[${j}]`);
      });
      closeAll(imp.importancesMean, c.mean, `${c.name} mean`);
      closeAll(imp.importancesStd, c.std, `${c.name} std`);
    });
  }
});

describe('partialDependence against scikit-learn (brute)', () => {
  for (const c of golden.partialDependence) {
    it(c.name, async () => {
      const model = goldenModel(c.model);
      const pd = await partialDependence(model, records(c.rows), {
        feature: c.feature,
        gridResolution: c.gridResolution,
        percentiles: c.percentiles,
        kind: 'both',
      });
      closeAll(pd.grid, c.grid, `${c.name} grid`);
      closeAll(pd.average!, c.average, `${c.name} average`);
      c.individual.forEach((row, r) => {
        closeAll(pd.individual![r]!, row, `${c.name} individual[${r}]`);
      });
    });
  }
});
