/**
 * SGDClassifier, SGDRegressor and LinearSVC against scikit-learn 1.2
 * (test/golden/make_linear_golden.py): unshuffled SGD to rounding, shuffled SGD's accuracy within
 * noise over seeds, LinearSVC's objective and decision function at liblinear's tolerance and at
 * the polished optimum; JSON round trips; every bad input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { close } from './close.case';
import { LinearSVC } from './linear-svc';
import { baselineFromJSON } from './load';
import { SGDClassifier, type SGDClassifierOptions } from './sgd-classifier';
import { SGDRegressor, type SGDRegressorOptions } from './sgd-regressor';

interface Data {
  X: number[][];
  y: number[];
  test: number[][];
  testY: number[];
}
interface SgdCase {
  name: string;
  estimator: 'classifier' | 'regressor';
  data: string;
  options: Record<string, unknown>;
  sampleWeight: number[] | null;
  coef: number[][];
  intercept: number[];
  nIter: number;
  predict: number[];
  decision?: number[];
  proba?: number[][];
}
interface SvcCase {
  name: string;
  data: string;
  options: Record<string, number | boolean>;
  sampleWeight: number[] | null;
  classes: number[];
  coef: number[][];
  intercept: number[];
  decision: number[];
  predict: number[];
  objective: number[];
  optimum: { coef: number[][]; intercept: number[]; objective: number[] };
}
const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/linear.golden.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  data: Record<string, Data>;
  sgd: SgdCase[];
  shuffled: Record<string, { data: string; options: Record<string, unknown>; scores: number[] }>;
  svc: SvcCase[];
};

/** scikit-learn's snake_case options, camelCased. */
function camel(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), v]),
  );
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: readonly number[]) => {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};

describe(`SGD against scikit-learn ${golden.sklearn}, unshuffled`, () => {
  for (const c of golden.sgd) {
    it(`${c.estimator === 'classifier' ? 'SGDClassifier' : 'SGDRegressor'}: ${c.name}`, async () => {
      const d = golden.data[c.data]!;
      const options = {
        ...camel(c.options),
        shuffle: false,
        ...(c.sampleWeight === null ? {} : { sampleWeight: c.sampleWeight }),
      };
      if (c.estimator === 'classifier') {
        const model = SGDClassifier.fit(d.X, d.y, options as SGDClassifierOptions);
        expect(model.nIter).toBe(c.nIter);
        // The same arithmetic in the same order: equal to rounding.
        close(model.coef.flat(), c.coef.flat(), 1e-9, 1e-10, 'coef_');
        close([...model.intercept], c.intercept, 1e-9, 1e-10, 'intercept_');
        close(model.decisionFunction(d.test).flat(), c.decision!, 1e-9, 1e-9, 'decision_function');
        if (c.proba !== undefined)
          close(model.predictProba(d.test).flat(), c.proba.flat(), 1e-9, 1e-12, 'predict_proba');
        const out = await model.predict({ features: tensor('float32', d.test) });
        expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual(c.predict);
      } else {
        const model = SGDRegressor.fit(d.X, d.y, options as SGDRegressorOptions);
        expect(model.nIter).toBe(c.nIter);
        close([...model.coef], c.coef[0]!, 1e-9, 1e-10, 'coef_');
        close([model.intercept], c.intercept, 1e-9, 1e-10, 'intercept_');
        close(model.predictValues(d.test), c.predict, 1e-9, 1e-9, 'predict');
        const out = await model.predict({ features: tensor('float32', d.test) });
        close(Array.from(out.prediction!.data as Float32Array), c.predict, 1e-5, 1e-4, 'float32 prediction');
      }
    });
  }
});

describe('SGD shuffled: the score over ten seeds within noise of scikit-learn’s', () => {
  for (const [name, s] of Object.entries(golden.shuffled)) {
    it(name, () => {
      const d = golden.data[s.data]!;
      const ours = Array.from({ length: 10 }, (_, seed) => {
        if (name === 'squared_error') {
          const m = SGDRegressor.fit(d.X, d.y, { ...camel(s.options), randomState: seed });
          const p = m.predictValues(d.test);
          const my = mean(d.testY);
          const ssr = p.reduce((a, v, i) => a + (d.testY[i]! - v) ** 2, 0);
          const sst = d.testY.reduce((a, v) => a + (v - my) ** 2, 0);
          return 1 - ssr / sst;
        }
        const m = SGDClassifier.fit(d.X, d.y, { ...camel(s.options), randomState: seed });
        const z = m.decisionFunction(d.test) as number[];
        return z.filter((v, i) => (v > 0 ? 1 : 0) === d.testY[i]).length / z.length;
      });
      // Different seeds give different fits: the two means differ by less than three standard errors.
      const se = Math.sqrt(variance(ours) / 10 + variance(s.scores) / 10);
      expect(Math.abs(mean(ours) - mean(s.scores))).toBeLessThanOrEqual(3 * se + 1e-3);
      // And the order differs from run to run of the seed: two seeds, two fits.
      expect(new Set(ours).size).toBeGreaterThan(1);
    });
  }
});

/** LinearSVC's primal: ½‖w‖² + Σ Cᵢ max(0, 1 − y w·x)², x with the scaled intercept column. */
function svcObjective(
  d: Data,
  coef: readonly number[],
  intercept: number,
  positive: number,
  C: number,
  scaling: number,
  sw: number[] | null,
): number {
  let obj = 0.5 * coef.reduce((a, v) => a + v * v, 0) + 0.5 * (intercept / scaling) ** 2;
  d.X.forEach((row, i) => {
    const t = d.y[i] === positive ? 1 : -1;
    const z = row.reduce((a, v, j) => a + v * coef[j]!, intercept);
    const m = Math.max(0, 1 - t * z);
    obj += C * (sw?.[i] ?? 1) * m * m;
  });
  return obj;
}

describe(`LinearSVC against scikit-learn ${golden.sklearn}`, () => {
  for (const c of golden.svc) {
    it(c.name, async () => {
      const d = golden.data[c.data]!;
      const options = {
        ...camel(c.options),
        ...(c.sampleWeight === null ? {} : { sampleWeight: c.sampleWeight }),
      };
      const C = (c.options.C as number | undefined) ?? 1;
      const scaling = (c.options.intercept_scaling as number | undefined) ?? 1;
      const fi = c.options.fit_intercept !== false;
      const model = LinearSVC.fit(d.X, d.y, options);
      expect(model.converged).toBe(true);
      expect(model.classes).toEqual(c.classes);
      const K = model.coef.length;
      for (let k = 0; k < K; k++) {
        const positive = c.classes[K === 1 ? 1 : k]!;
        const ours = svcObjective(
          d,
          model.coef[k]!,
          fi ? model.intercept[k]! : 0,
          positive,
          C,
          fi ? scaling : Infinity,
          c.sampleWeight,
        );
        // Both stop at liblinear's tolerance (1e-4 on the projected gradient): the objective
        // within that of the optimum, relative, as scikit-learn's own is.
        const best = c.optimum.objective[k]!;
        expect(Math.abs(c.objective[k]! - best) / best).toBeLessThan(2e-5);
        expect((ours - best) / best).toBeLessThan(2e-5);
        expect(ours).toBeGreaterThanOrEqual(best * (1 - 1e-12));
      }
      const dec = model.decisionFunction(d.test).flat();
      close(dec, c.decision, 0, 5e-3, "scikit-learn's decision_function");
      const out = await model.predict({ features: tensor('float32', d.test) });
      expect(Array.from(out.label!.data as BigInt64Array, Number)).toEqual(c.predict);
      // Run to a tight tolerance, both reach the polished optimum.
      const tight = LinearSVC.fit(d.X, d.y, { ...options, tol: 1e-10, maxIter: 100000 });
      close(tight.coef.flat(), c.optimum.coef.flat(), 1e-6, 1e-7, 'coef at the optimum');
      close([...tight.intercept], c.optimum.intercept, 1e-6, 1e-7, 'intercept at the optimum');
    });
  }
});

describe('SGD and LinearSVC models', () => {
  const d = golden.data.binary!;
  const labels = d.y.map((v) => (v === 1 ? 'fraud' : 'legit'));

  it('answer their outputs through the Model interface, with string labels and probabilities', async () => {
    const log = SGDClassifier.fit(d.X, labels, { loss: 'log_loss', randomState: 3 });
    expect(log.classes).toEqual(['fraud', 'legit']);
    expect(log.signature.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
      ['probability', 'float32', ['batch']],
      ['label', 'string', ['batch']],
    ]);
    const out = await log.predict({ features: tensor('float32', d.test) });
    const p = log.predictProba(d.test);
    close(
      Array.from(out.probability!.data as Float32Array),
      p.map((r) => r[1]!),
      1e-6,
      1e-7,
      'probability',
    );
    expect(out.label!.data).toEqual(p.map((r) => (r[1]! > r[0]! ? 'legit' : 'fraud')));
    const svm = LinearSVC.fit(golden.data.iris!.X, golden.data.iris!.y);
    expect(svm.signature.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['scores', ['batch', 3]],
      ['label', ['batch']],
    ]);
    const s = await svm.predict({ features: tensor('float32', golden.data.iris!.test) });
    close(
      Array.from(s.scores!.data as Float32Array),
      svm.decisionFunction(golden.data.iris!.test).flat(),
      1e-6,
      1e-6,
      'scores',
    );
    expect(() => svm.predictProba(d.test)).toThrow('probabilities exist for log-loss models only');
    const hinge = SGDClassifier.fit(d.X, d.y);
    expect([hinge.nIter, hinge.converged]).toEqual([expect.any(Number), true]);
    // The epochs ran out while tol was watched: not converged, as scikit-learn warns.
    expect(SGDClassifier.fit(d.X, d.y, { maxIter: 2 }).converged).toBe(false);
    expect(SGDClassifier.fit(d.X, d.y, { maxIter: 2, tol: null }).converged).toBe(true);
    expect(() => hinge.predictProba(d.test)).toThrow("loss 'log_loss' or 'modified_huber' only");
  });

  it('save to JSON and read back (also through baselineFromJSON) to identical answers', async () => {
    const iris = golden.data.iris!;
    const regression = golden.data.regression!;
    const models = [
      SGDClassifier.fit(d.X, labels, { loss: 'log_loss', name: 'sgd', version: '2' }),
      SGDClassifier.fit(iris.X, iris.y, { loss: 'modified_huber' }),
      LinearSVC.fit(d.X, d.y, { C: 0.5 }),
      SGDRegressor.fit(regression.X, regression.y, { penalty: 'elasticnet' }),
    ];
    const tests = [d.test, iris.test, d.test, regression.test];
    for (const [m, model] of models.entries()) {
      const json = JSON.parse(JSON.stringify(model));
      const again = baselineFromJSON(json);
      expect(again.constructor).toBe(model.constructor);
      expect(again.name).toBe(model.name);
      expect(again.version).toBe(model.version);
      expect(again.signature).toEqual(model.signature);
      const inputs = { features: tensor('float32', tests[m]!) };
      expect(await again.predict(inputs)).toEqual(await model.predict(inputs));
      expect(JSON.parse(JSON.stringify(again))).toEqual(json);
    }
    expect(() => SGDClassifier.fromJSON({ ...models[0]!.toJSON(), loss: 'nope' })).toThrow(
      'loss must be one of',
    );
    expect(() => SGDRegressor.fromJSON({ ...models[3]!.toJSON(), coef: [] })).toThrow(
      'coef must be a non-empty list',
    );
    expect(() => LinearSVC.fromJSON(models[0]!.toJSON())).toThrow('not a version 1 modelship linear SVC');
    expect(() => baselineFromJSON({ kind: 'tree' })).toThrow("kind must be one of 'logisticRegression'");
  });

  it('refuse bad data and bad parameters with typed errors', () => {
    const X = [
      [1, 2],
      [3, 4],
      [5, 7],
    ];
    const y = [0, 1, 0];
    const bad = (f: () => unknown, message: string) =>
      expect(f).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) }),
      );
    for (const train of [SGDClassifier.fit, LinearSVC.fit] as const) {
      bad(
        () =>
          train(
            [
              [1, Number.NaN],
              [3, 4],
            ],
            [0, 1],
          ),
        'X[0][1] is NaN',
      );
      bad(() => train([[1, 2], [3]], [0, 1]), 'row 1 of X has 1 values; row 0 has 2');
      bad(() => train(X, [1, 1, 1]), 'needs at least two classes; y holds 1');
      bad(() => train(X, [0, 1]), 'X has 3 rows but y has 2 values');
      bad(() => train(X, 'y' as never), 'y must be an array of labels');
    }
    bad(() => SGDRegressor.fit(X, [1, Number.POSITIVE_INFINITY, 2]), 'y[1] is Infinity');
    bad(() => SGDClassifier.fit(X, y, { loss: 'squared_error' as never }), "loss must be one of 'hinge'");
    bad(
      () => SGDRegressor.fit(X, [1, 2, 3], { loss: 'hinge' as never }),
      "loss must be one of 'squared_error'",
    );
    bad(
      () => SGDClassifier.fit(X, y, { penalty: 'l3' as never }),
      "penalty must be one of 'l2', 'l1', 'elasticnet'",
    );
    bad(() => SGDClassifier.fit(X, y, { alpha: -1 }), 'alpha must be a non-negative finite number');
    bad(() => SGDClassifier.fit(X, y, { alpha: 0 }), "alpha must be > 0 with learningRate 'optimal'");
    bad(() => SGDClassifier.fit(X, y, { l1Ratio: 2 }), 'l1Ratio must be between 0 and 1');
    bad(
      () => SGDClassifier.fit(X, y, { learningRate: 'constant' }),
      "eta0 must be > 0 with learningRate 'constant'",
    );
    bad(() => SGDClassifier.fit(X, y, { learningRate: 'fast' as never }), 'learningRate must be one of');
    bad(() => SGDClassifier.fit(X, y, { maxIter: 0 }), 'maxIter must be a positive integer');
    bad(() => SGDClassifier.fit(X, y, { nIterNoChange: 1.5 }), 'nIterNoChange must be a positive integer');
    bad(() => SGDClassifier.fit(X, y, { tol: Number.NaN }), 'tol must be a non-negative finite number');
    bad(() => SGDClassifier.fit(X, y, { shuffle: 'yes' as never }), 'shuffle must be a boolean');
    bad(() => SGDClassifier.fit(X, y, { randomState: 0.5 }), 'randomState must be an integer');
    bad(() => SGDClassifier.fit(X, y, { sampleWeight: [1, -1, 1] }), 'weights must be finite and ≥ 0');
    bad(() => SGDRegressor.fit(X, [1, 2, 3], { powerT: Number.NaN }), 'powerT must be a finite number');
    bad(
      () =>
        SGDRegressor.fit([[1e300], [5e299]], [1, 2], {
          learningRate: 'constant',
          eta0: 1,
          penalty: null,
        }),
      'the fit diverged',
    );
    bad(() => LinearSVC.fit(X, y, { C: 0 }), 'C must be a positive finite number');
    bad(
      () => LinearSVC.fit(X, y, { interceptScaling: -1 }),
      'interceptScaling must be a positive finite number',
    );
    bad(() => LinearSVC.fit(X, y, { maxIter: 2.5 }), 'maxIter must be a positive integer');
    const m = SGDClassifier.fit(X, y);
    bad(() => m.decisionFunction([[1, 2, 3]]), 'rows have 3 values; the model takes 2');
    bad(() => m.toOnnx({ zipmap: 1 as never }), 'zipmap must be a boolean');
  });
});
