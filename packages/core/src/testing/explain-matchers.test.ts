import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { explain } from '../explain/explain';
import { functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';
import { failure } from './failure.case';
import { meanAbsAttributions } from './index';
import './setup';

const FEATURES = ['amount', 'age', 'gender', 'tenure'];
const WEIGHTS = [2, 0.5, 0, 0.05];

/** A linear score over four features; it ignores gender. */
const scorer = functionModel(
  ({ features }) => {
    const x = features!.data as Float64Array;
    const n = features!.shape[0]!;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) out[i] = out[i]! + WEIGHTS[j]! * x[i * 4 + j]!;
    return { score: tensor('float64', out, [n]) };
  },
  {
    name: 'scorer',
    version: '3',
    signature: {
      inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', 4] }],
      outputs: [{ name: 'score', dtype: 'float64', shape: ['batch'] }],
    },
  },
);

function people(n: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => Object.fromEntries(FEATURES.map((f) => [f, random() * 2 - 1])));
}

const rows = people(20, 1);
const background = people(30, 2);

describe('toDependOn', () => {
  it('passes negated for a feature the model ignores, and for a feature it uses', async () => {
    await expect(scorer).not.toDependOn('gender', rows, { background });
    await expect(scorer).toDependOn('amount', rows, { background });
    // tenure's share is small (weight 0.05 of 2.55): under a 5% bound, over a 1% one
    await expect(scorer).not.toDependOn('tenure', rows, { background, maxShare: 0.05 });
    await expect(scorer).toDependOn('tenure', rows, { background });
  });

  it('a failure prints the attribution table: rank, feature, mean |value|, share', async () => {
    const ex = await explain(scorer, rows, { background });
    const table = meanAbsAttributions(ex);
    expect(table.map((t) => t.feature)).toEqual(['amount', 'age', 'tenure', 'gender']);
    // gender's weight is 0: its values are 0 up to rounding
    expect(table[3]!.feature).toBe('gender');
    expect(table[3]!.meanAbs).toBeLessThan(1e-12);
    expect(table.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 12);
    const amount = table[0]!;
    const message = await failure(() => expect(scorer).not.toDependOn('amount', rows, { background }));
    const lines = message.split('\n');
    expect(lines[0]).toBe(
      `expected model 'scorer' (version 3) not to depend on 'amount', but 'amount' carries ${(amount.share * 100).toFixed(1)}% of the mean |attribution| over 20 rows (exact Shapley values); the bound is 1.0%:`,
    );
    expect(lines[1]).toMatch(/^ {2}rank +feature +mean \|value\| +share$/);
    expect(lines[2]).toBe(
      `  1     amount   ${amount.meanAbs.toFixed(4)}        ${(amount.share * 100).toFixed(1)}%  ←`,
    );
    expect(lines[5]).toMatch(/^ {2}4 +gender +\S+ +0\.0%$/);
    const positive = await failure(() => expect(scorer).toDependOn('gender', rows, { background }));
    expect(positive.split('\n')[0]).toBe(
      "expected model 'scorer' (version 3) to depend on 'gender', but 'gender' carries 0.0% of the mean |attribution| over 20 rows (exact Shapley values); the bound is 1.0%:",
    );
    expect(positive).toMatch(/ {2}4 +gender +\S+ +0\.0% +←/);
  });

  it('refuses unknown features, bad bounds and a missing background with typed errors', async () => {
    const error = (await failure(() => expect(scorer).not.toDependOn('sex', rows, { background }))) as string;
    expect(error).toMatch(
      /toDependOn: 'sex' is not one of the explained features \('amount', 'age', 'gender', 'tenure'\)/,
    );
    await expect(
      expect(scorer).not.toDependOn('gender', rows, { background, maxShare: 2 }),
    ).rejects.toSatisfy(
      (e: unknown) =>
        ModelshipError.isInstance(e) &&
        e.code === 'INVALID_ARGUMENT' &&
        /maxShare must be a number from 0 to 1/.test(e.message),
    );
    await expect(expect(scorer).not.toDependOn('gender', rows, {} as never)).rejects.toThrow(
      /background rows are required/,
    );
  });
});

describe('toHaveTopFeatures', () => {
  it('passes when the named features lead, in any order, or are within the top k', async () => {
    await expect(scorer).toHaveTopFeatures(['amount', 'age'], rows, { background });
    await expect(scorer).toHaveTopFeatures(['age', 'amount'], rows, { background });
    await expect(scorer).toHaveTopFeatures(['tenure'], rows, { background, k: 3 });
    await expect(scorer).not.toHaveTopFeatures(['gender'], rows, { background, k: 3 });
  });

  it('a failure names the leaders, where the named ones rank, and prints the table', async () => {
    const message = await failure(() =>
      expect(scorer).toHaveTopFeatures(['amount', 'gender'], rows, { background }),
    );
    const lines = message.split('\n');
    expect(lines[0]).toBe(
      "expected 'amount', 'gender' among the top 2 features of model 'scorer' (version 3), but the top 2 by mean |attribution| over 20 rows are 'amount', 'age' ('gender' ranks 4):",
    );
    expect(lines[1]).toMatch(/^ {2}rank +feature +mean \|value\| +share$/);
    expect(lines[2]).toMatch(/^ {2}1 +amount +\d\.\d{4} +\d+\.\d% +←$/);
    expect(lines[3]).toMatch(/^ {2}2 +age +\d\.\d{4} +\d+\.\d%$/);
    expect(lines[5]).toMatch(/^ {2}4 +gender +\S+ +0\.0% +←$/);
    const negated = await failure(() =>
      expect(scorer).not.toHaveTopFeatures(['age'], rows, { background, k: 2 }),
    );
    expect(negated.split('\n')[0]).toBe(
      "expected 'age' not to be among the top 2 features of model 'scorer' (version 3), but the top 2 by mean |attribution| over 20 rows are 'amount', 'age':",
    );
  });

  it('refuses an empty list, a k below it and unknown names', async () => {
    await expect(expect(scorer).toHaveTopFeatures([], rows, { background })).rejects.toThrow(
      /toHaveTopFeatures: the features must be a non-empty array of names/,
    );
    await expect(
      expect(scorer).toHaveTopFeatures(['amount', 'age'], rows, { background, k: 1 }),
    ).rejects.toThrow(/k must be an integer ≥ the 2 features named/);
    await expect(expect(scorer).toHaveTopFeatures(['income'], rows, { background })).rejects.toThrow(
      /'income' is not one of the explained features/,
    );
  });
});
