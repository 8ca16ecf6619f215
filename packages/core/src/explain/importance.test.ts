import { describe, expect, it } from 'vitest';
import { seededRandom } from '../evaluate/bootstrap';
import { permutationImportance } from './importance';
import { failure, goldenModel, records } from './models.case';

function data(n: number, seed: number) {
  const random = seededRandom(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: 6 }, () => random() * 4 - 2));
  // labels from the logistic model's own weights: x3 has weight 0, x5 the largest
  const w = [1.2, -0.8, 0.5, 0, 1.5, -2.0];
  const y = x.map((r) => (r.reduce((s, v, j) => s + w[j]! * v, -0.3) + (random() - 0.5) > 0 ? 1 : 0));
  return records(x, y);
}

async function code(work: Promise<unknown>): Promise<string> {
  const e = await failure(work);
  return `${e.code}: ${e.message}`;
}

describe('permutationImportance', () => {
  const rows = data(120, 4);
  const model = goldenModel('logistic');

  it('ranks the features the model uses; one it ignores scores exactly 0', async () => {
    const imp = await permutationImportance(model, rows, { metric: 'rocAuc', seed: 1 });
    expect(imp.features).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5']);
    expect(imp.importances.every((r) => r.length === 5)).toBe(true);
    expect(imp.importances[3]).toEqual([0, 0, 0, 0, 0]);
    expect(imp.importancesStd[3]).toBe(0);
    const best = imp.importancesMean.indexOf(Math.max(...imp.importancesMean));
    expect(imp.features[best]).toBe('x5');
    expect(imp.baseline).toBeGreaterThan(0.8);
  });

  it('is seeded: the same seed gives the same shuffles, another seed others', async () => {
    const a = await permutationImportance(model, rows, { metric: 'logLoss', seed: 3, repeats: 3 });
    const b = await permutationImportance(model, rows, { metric: 'logLoss', seed: 3, repeats: 3 });
    const c = await permutationImportance(model, rows, { metric: 'logLoss', seed: 4, repeats: 3 });
    expect(a.importances).toEqual(b.importances);
    expect(a.importances).not.toEqual(c.importances);
    // a loss: shuffling the strongest feature raises it, which is a positive importance
    expect(a.importancesMean[5]).toBeGreaterThan(0);
  });

  it('defaults to accuracy for classification, as estimator.score', async () => {
    const imp = await permutationImportance(model, rows, { repeats: 1 });
    expect(imp.metric).toBe('accuracy');
  });

  it('groups shuffle their columns together', async () => {
    const imp = await permutationImportance(model, rows, {
      metric: 'rocAuc',
      groups: { strong: ['x4', 'x5'] },
      repeats: 2,
    });
    expect(imp.features).toEqual(['x0', 'x1', 'x2', 'x3', 'strong']);
  });

  it('refuses bad input with typed errors', async () => {
    expect(await code(permutationImportance(model, rows, { metric: 'auc' as never }))).toMatch(
      /INVALID_ARGUMENT: .*unknown metric 'auc'/,
    );
    expect(await code(permutationImportance(model, rows, { repeats: 2, permutations: [[0, 1]] }))).toMatch(
      /permutations must be an array of 2 row orders/,
    );
    expect(
      await code(permutationImportance(model, rows.slice(0, 3), { repeats: 1, permutations: [[0, 0, 1]] })),
    ).toMatch(/permutations\[0\] must be a permutation of the 3 row indices/);
    expect(await code(permutationImportance(model, [{ ...rows[0]!, x1: Number.NaN }, rows[1]!]))).toMatch(
      /DATASET_INVALID: .*row 0, column 'x1' is NaN/,
    );
    expect(await code(permutationImportance(model, rows, { metric: 'r2Score' }))).toMatch(
      /r2Score is a regression metric/,
    );
    const controller = new AbortController();
    controller.abort();
    expect(await code(permutationImportance(model, rows, { signal: controller.signal }))).toMatch(/^ABORTED/);
  });
});
