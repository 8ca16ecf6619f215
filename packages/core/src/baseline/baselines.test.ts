/**
 * Baseline models against scikit-learn 1.2 (test/golden/make_baselines_golden.py): the same
 * data, the same objective, coefficients and predictions at the optimum; JSON round trips;
 * the models going through the Evaluator; every bad input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareModels } from '../evaluate/compare';
import { evaluate } from '../evaluate/evaluate';
import { tensor } from '../tensor/tensor';
import { close } from './close.case';
import { LinearRegression } from './linear-regression';
import { type ClassLabel, LogisticRegression } from './logistic-regression';

interface Case {
  name: string;
  model: 'logistic' | 'linear';
  options: { C?: number; alpha?: number; fitIntercept: boolean };
  data: string;
  y: (number | string)[];
  sampleWeight: number[] | null;
  classes?: ClassLabel[];
  coef: number[][];
  intercept: number[];
  proba?: number[][];
  optimum?: { coef: number[][]; intercept: number[] };
  predict: (number | string)[];
  score?: number;
}
const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/baselines.golden.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  data: Record<string, { X: number[][]; test: number[][]; testLabels?: number[] }>;
  cases: Case[];
};

// The fit stops at a gradient of 1e-10 on the mean loss; the golden optimum is scikit-learn's
// answer polished by BFGS to 1e-10–5e-9. scikit-learn's own lbfgs stops on a relative change of
// the objective, 1e-3 (iris) to 1e-7 away in the coefficients.
const COEF_RTOL = 1e-6;
const COEF_ATOL = 1e-7;
const SKLEARN_ATOL = 1e-3;

describe(`baseline models against scikit-learn ${golden.sklearn}`, () => {
  for (const c of golden.cases.filter((x) => x.model === 'logistic')) {
    it(`LogisticRegression: ${c.name}`, async () => {
      const { X, test } = golden.data[c.data]!;
      const model = LogisticRegression.fit(X, c.y, {
        C: c.options.C,
        fitIntercept: c.options.fitIntercept,
        ...(c.sampleWeight === null ? {} : { sampleWeight: c.sampleWeight }),
      });
      expect(model.converged).toBe(true);
      expect(model.classes).toEqual(c.classes);
      // The optimum of scikit-learn's objective, tightly.
      close(model.coef.flat(), c.optimum!.coef.flat(), COEF_RTOL, COEF_ATOL, 'coef at the optimum');
      close([...model.intercept], c.optimum!.intercept, COEF_RTOL, COEF_ATOL, 'intercept at the optimum');
      // scikit-learn's own answer, which stops with gradients of 3e-8 to 1.4e-5 left.
      close(model.coef.flat(), c.coef.flat(), 0, SKLEARN_ATOL, "scikit-learn's coef_");
      close(model.predictProba(test).flat(), c.proba!.flat(), 0, 1e-4, "scikit-learn's predict_proba");
      // Through the Model interface: float32 inputs and outputs.
      const out = await model.predict({ features: tensor('float32', test) });
      const label = Array.from(out.label!.data as ArrayLike<bigint | string>, (v) =>
        typeof v === 'bigint' ? Number(v) : v,
      );
      expect(label).toEqual(c.predict);
      const probs = Array.from(
        out[c.classes!.length === 2 ? 'probability' : 'probabilities']!.data as Float32Array,
      );
      const own = model.predictProba(test);
      const expected = c.classes!.length === 2 ? own.map((p) => p[1]!) : own.flat();
      close(probs, expected, 1e-6, 1e-7, 'float32 probabilities');
    });
  }

  for (const c of golden.cases.filter((x) => x.model === 'linear')) {
    it(`LinearRegression: ${c.name}`, async () => {
      const { X, test } = golden.data[c.data]!;
      const model = LinearRegression.fit(X, c.y as number[], {
        alpha: c.options.alpha,
        fitIntercept: c.options.fitIntercept,
        ...(c.sampleWeight === null ? {} : { sampleWeight: c.sampleWeight }),
      });
      close([...model.coef], c.coef[0]!, 1e-9, 1e-9, 'coef');
      close([model.intercept], c.intercept, 1e-9, 1e-9, 'intercept');
      close(model.predictValues(test), c.predict as number[], 1e-9, 1e-9, 'predict');
      const out = await model.predict({ features: tensor('float32', test) });
      close(
        Array.from(out.prediction!.data as Float32Array),
        c.predict as number[],
        1e-5,
        1e-4,
        'float32 prediction',
      );
    });
  }

  it('scores the same accuracy as scikit-learn through the Evaluator, and compares two baselines', async () => {
    const c = golden.cases.find((x) => x.name === 'iris, multinomial')!;
    const { X, test, testLabels } = golden.data.iris!;
    const model = LogisticRegression.fit(X, c.y);
    const rows = test.map((r, i) => ({ f0: r[0], f1: r[1], f2: r[2], f3: r[3], label: testLabels![i] }));
    const report = await evaluate(model, rows, { bootstrap: false });
    expect(report.metrics.accuracy!.value).toBeCloseTo(c.score!, 12);
    // A heavily regularised baseline against the default one, on the binary set: paired tests.
    const b = golden.data.classification!;
    const y = golden.cases[0]!.y;
    const strong = LogisticRegression.fit(b.X, y, { name: 'strong' });
    const weak = LogisticRegression.fit(b.X, y, { name: 'weak', C: 1e-4 });
    const binaryRows = b.test.map((r, i) => ({
      f0: r[0],
      f1: r[1],
      f2: r[2],
      f3: r[3],
      f4: r[4],
      label: b.testLabels![i],
    }));
    const comparison = await compareModels(weak, strong, binaryRows, {
      bootstrap: { resamples: 200, seed: 1 },
    });
    expect(comparison.b.metrics.accuracy!.value).toBeCloseTo(golden.cases[0]!.score!, 12);
    const auc = comparison.tests.find((t) => t.metric === 'rocAuc')!;
    expect(auc.method).toBe('delong');
    expect(auc.difference).toBeCloseTo(auc.b - auc.a, 15);
    expect(auc.pValue).toBeGreaterThan(0);
    expect(auc.pValue).toBeLessThanOrEqual(1);
  });

  it('saves to JSON and reads back to identical predictions', async () => {
    const c = golden.cases.find((x) => x.name === 'binary, string labels')!;
    const { X, test } = golden.data[c.data]!;
    const model = LogisticRegression.fit(X, c.y, { name: 'fraud-baseline', version: '3' });
    const again = LogisticRegression.fromJSON(JSON.parse(JSON.stringify(model)));
    expect(again.name).toBe('fraud-baseline');
    expect(again.version).toBe('3');
    expect(again.signature).toEqual(model.signature);
    expect(again.signature.outputs[1]!.dtype).toBe('string');
    const inputs = { features: tensor('float32', test) };
    expect(await again.predict(inputs)).toEqual(await model.predict(inputs));
    const linear = LinearRegression.fit(golden.data.regression!.X, golden.cases.at(-1)!.y as number[], {
      alpha: 2,
    });
    const linearAgain = LinearRegression.fromJSON(JSON.parse(JSON.stringify(linear)));
    const rInputs = { features: tensor('float32', golden.data.regression!.test) };
    expect(await linearAgain.predict(rInputs)).toEqual(await linear.predict(rInputs));
  });

  it('refuses bad training data and bad documents with clear errors', async () => {
    const X = [
      [1, 2],
      [3, 4],
      [5, 7],
    ];
    expect(() => LogisticRegression.fit([], [])).toThrow('X must have at least one row');
    expect(() => LogisticRegression.fit([[1, 2], [3]], [0, 1])).toThrow(
      'row 1 of X has 1 values; row 0 has 2',
    );
    expect(() => LogisticRegression.fit(X, [0, 1])).toThrow('X has 3 rows but y has 2 values');
    expect(() =>
      LogisticRegression.fit(
        [
          [1, Number.NaN],
          [3, 4],
        ],
        [0, 1],
      ),
    ).toThrow('X[0][1] is NaN');
    expect(() => LogisticRegression.fit(X, [1, 1, 1])).toThrow('needs at least two classes; y holds 1');
    expect(() => LogisticRegression.fit(X, [0, 'a', 1])).toThrow('all numbers or all strings');
    expect(() => LogisticRegression.fit(X, [0, null as never, 1])).toThrow(
      'labels must be finite numbers or strings',
    );
    expect(() => LogisticRegression.fit(X, [0, 1, 0], { C: 0 })).toThrow(
      'C must be a positive finite number',
    );
    expect(() => LogisticRegression.fit(X, [0, 1, 0], { sampleWeight: [1, 2] })).toThrow(
      'one weight per row (3)',
    );
    expect(() => LogisticRegression.fit(X, [0, 1, 0], { sampleWeight: [1, -1, 1] })).toThrow(
      'weights must be finite and ≥ 0',
    );
    expect(() => LogisticRegression.fit(X, [0, 1, 0], { maxIter: 0 })).toThrow(
      'maxIter must be a positive integer',
    );
    expect(() => LogisticRegression.fit({ data: [1, 2, 3], shape: [2, 2] }, [0, 1])).toThrow(
      'X.data must hold n·k = 4 values',
    );
    expect(() => LinearRegression.fit(X, [1, Number.POSITIVE_INFINITY, 2])).toThrow('y[1] is Infinity');
    expect(() => LinearRegression.fit(X, [1, 2, 3], { alpha: -1 })).toThrow(
      'alpha must be a non-negative finite number',
    );
    const model = LogisticRegression.fit(X, [0, 1, 1]);
    await expect(model.predict({ features: tensor('float32', [[1, 2, 3]]) })).rejects.toMatchObject({
      code: 'INPUT_SHAPE_MISMATCH',
    });
    expect(() => model.predictProba([[1]])).toThrow('rows have 1 values; the model takes 2');
    expect(() =>
      LogisticRegression.fromJSON({ format: 'modelship-baseline', kind: 'linearRegression', version: 1 }),
    ).toThrow('not a version 1 modelship logistic regression');
    const json = model.toJSON();
    expect(() => LogisticRegression.fromJSON({ ...json, coef: [[1], [2]] })).toThrow(
      'coef must be 1 equal rows',
    );
    expect(() => LogisticRegression.fromJSON({ ...json, intercept: [] })).toThrow(
      'intercept must be 1 finite numbers',
    );
    expect(() =>
      LinearRegression.fromJSON({ ...LinearRegression.fit(X, [1, 2, 3]).toJSON(), coef: ['x'] }),
    ).toThrow('coef must be a non-empty list of finite numbers');
  });
});
