/**
 * Decision trees against scikit-learn 1.2 (test/golden/make_trees_golden.py): the same tree,
 * node for node, and the same predictions, on data checked to have no tied split candidates;
 * JSON round trips; the models through the Model interface; every bad input.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { presort, type TreeArrays } from './cart';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './decision-tree';
import { baselineFromJSON } from './load';
import type { ClassLabel } from './logistic-regression';
import { RandomForestClassifier } from './random-forest';
import type { TreeJson } from './tree-common';

interface Case {
  name: string;
  kind: 'classifier' | 'regressor';
  data: string;
  params: Record<string, number | string>;
  sampleWeight: number[] | null;
  tree: TreeJson;
  predict: ClassLabel[];
  classes?: ClassLabel[];
  proba?: number[][];
}
const treesGolden = JSON.parse(
  readFileSync(new URL('../../test/golden/trees.golden.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  data: Record<string, { X: number[][]; test: number[][]; y: ClassLabel[]; testLabels?: number[] }>;
  cases: Case[];
  forests: { name: string; data: string; nEstimators: number; accuracy: number[] }[];
};

const camel = (p: Record<string, number | string>) =>
  Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), v]),
  );

function fitCase(c: Case) {
  const { X, y } = treesGolden.data[c.data]!;
  const options = { ...camel(c.params), ...(c.sampleWeight ? { sampleWeight: c.sampleWeight } : {}) };
  return c.kind === 'classifier'
    ? DecisionTreeClassifier.fit(X, y, options)
    : DecisionTreeRegressor.fit(X, y as number[], options);
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], rtol: number, what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst, what).toBeLessThanOrEqual(rtol);
}

describe(`decision trees against scikit-learn ${treesGolden.sklearn}`, () => {
  for (const c of treesGolden.cases) {
    it(`${c.kind === 'classifier' ? 'DecisionTreeClassifier' : 'DecisionTreeRegressor'}: ${c.name}`, async () => {
      const model = fitCase(c);
      const t = model.tree;
      // The same tree: structure and thresholds exactly, sums to rounding.
      expect(Array.from(t.left)).toEqual(c.tree.left);
      expect(Array.from(t.right)).toEqual(c.tree.right);
      expect(Array.from(t.feature)).toEqual(c.tree.feature);
      expect(Array.from(t.threshold)).toEqual(c.tree.threshold);
      expect(Array.from(t.nNodeSamples)).toEqual(c.tree.nNodeSamples);
      expectClose(t.weightedNNodeSamples, c.tree.weightedNNodeSamples, 1e-12, 'weighted_n_node_samples');
      expectClose(t.value, c.tree.value, 1e-12, 'value');
      expectClose(t.impurity, c.tree.impurity, 1e-9, 'impurity');
      const { test } = treesGolden.data[c.data]!;
      if (model instanceof DecisionTreeClassifier) {
        expect(model.classes).toEqual(c.classes);
        expect(model.predictLabels(test)).toEqual(c.predict);
        expectClose(model.predictProba(test).flat(), c.proba!.flat(), 1e-12, 'predict_proba');
        const out = await model.predict({ features: tensor('float32', test) });
        const labels = Array.from(out.label!.data as ArrayLike<bigint | string>, (v) =>
          typeof v === 'bigint' ? Number(v) : v,
        );
        expect(labels).toEqual(c.predict);
        expectClose(out.probabilities!.data as Float32Array, c.proba!.flat(), 1e-7, 'float32 probabilities');
        expect(model.signature.outputs[1]!.labels).toEqual(c.classes);
      } else {
        expectClose(model.predictValues(test), c.predict as number[], 1e-12, 'predict');
        const out = await model.predict({ features: tensor('float32', test) });
        expectClose(out.prediction!.data as Float32Array, c.predict as number[], 1e-7, 'float32 prediction');
      }
    });
  }

  it('splits at the float64 midpoint of float32 values and compares float32 rows against it', () => {
    // float32(0.1) and float32(0.2): the midpoint 0.15000000223517418 is no float32; the float32
    // values either side of it are 0.14999999105930328 and 0.15000000596046448.
    const tree = DecisionTreeRegressor.fit([[0.1], [0.2]], [1, 2]);
    expect(tree.tree.threshold[0]).toBe(0.15000000223517418);
    expect(tree.predictValues([[0.14999999105930328], [0.15000000596046448], [0.15]])).toEqual([1, 2, 2]);
  });

  it('grows past its first node capacity: a full tree on 1,500 distinct rows fits every target', () => {
    const X = Array.from({ length: 1500 }, (_, i) => [Math.fround(Math.sin(i) * 100), (i * 7919) % 1500]);
    const y = X.map((_, i) => i * 0.5);
    const tree = DecisionTreeRegressor.fit(X, y);
    expect(tree.tree.nodeCount).toBe(2 * 1500 - 1);
    expect(tree.tree.left.length).toBe(2999);
    expect(tree.predictValues(X)).toEqual(y);
  });

  it('presorts with typed-array keys: rows by value, ties by row, negatives and −0 in order', () => {
    const x = Float32Array.from([3, -1, 0, -0, 2.5, -7.25, 3, 1e-30]);
    const { order } = presort(x, 8, 1);
    // −0 before +0 (the scan treats them as one value, as scikit-learn's comparisons do).
    expect(Array.from(order)).toEqual([5, 1, 3, 2, 7, 4, 0, 6]);
    // The comparator path (past 2^21 rows) gives the same order.
    const big = new Float32Array(2 ** 21 + 3);
    big.set(x);
    const o = presort(big, big.length, 1).order;
    expect(Array.from(o.subarray(0, 2))).toEqual([5, 1]);
  });

  it('saves to JSON and reads back (also through baselineFromJSON) to identical predictions', async () => {
    const c = treesGolden.cases.find((x) => x.name.startsWith('gini, three string classes'))!;
    const model = fitCase(c) as DecisionTreeClassifier;
    const again = baselineFromJSON(JSON.parse(JSON.stringify(model)), { name: 'copy' });
    expect(again).toBeInstanceOf(DecisionTreeClassifier);
    expect(again.name).toBe('copy');
    expect(again.signature).toEqual(model.signature);
    const inputs = { features: tensor('float32', treesGolden.data[c.data]!.test) };
    expect(await again.predict(inputs)).toEqual(await model.predict(inputs));
    const r = treesGolden.cases.find((x) => x.kind === 'regressor')!;
    const reg = fitCase(r) as DecisionTreeRegressor;
    const regAgain = DecisionTreeRegressor.fromJSON(JSON.parse(JSON.stringify(reg)));
    const rInputs = { features: tensor('float32', treesGolden.data[r.data]!.test) };
    expect(await regAgain.predict(rInputs)).toEqual(await reg.predict(rInputs));
    expect(regAgain.params).toEqual({ ...reg.params });
  });

  it('refuses bad training data, bad parameters and bad documents with clear errors', async () => {
    const X = [
      [1, 2],
      [3, 4],
      [5, 7],
    ];
    const code = { code: 'INVALID_ARGUMENT' };
    expect(() => DecisionTreeClassifier.fit([[1, 2], [3]], [0, 1])).toThrow(
      'row 1 of X has 1 values; row 0 has 2',
    );
    expect(() =>
      DecisionTreeClassifier.fit(
        [
          [1, Number.NaN],
          [3, 4],
        ],
        [0, 1],
      ),
    ).toThrow('X[0][1] is NaN');
    expect(() =>
      DecisionTreeClassifier.fit(
        [
          [1, 1e39],
          [3, 4],
        ],
        [0, 1],
      ),
    ).toThrow("X[0][1] is 1e+39, beyond float32's range");
    expect(() => DecisionTreeClassifier.fit(X, [0, 1])).toThrow('X has 3 rows but y has 2 values');
    expect(() => DecisionTreeClassifier.fit(X, [1, 1, 1])).toThrow('needs at least two classes; y holds 1');
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { criterion: 'squared_error' as never })).toThrow(
      "criterion must be 'gini' or 'entropy'",
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { maxDepth: 0 })).toThrow(
      'maxDepth must be a positive integer or null',
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { minSamplesSplit: 1 })).toThrow(
      'minSamplesSplit must be an integer ≥ 2 or a fraction in (0, 1)',
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { minSamplesLeaf: 1.5 })).toThrow(
      'minSamplesLeaf must be an integer ≥ 1 or a fraction in (0, 1)',
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { maxFeatures: 3 })).toThrow(
      "maxFeatures must be an integer in [1, 2], a fraction in (0, 1), 'sqrt', 'log2' or null",
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { minImpurityDecrease: -1 })).toThrow(
      'minImpurityDecrease must be a non-negative finite number',
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { sampleWeight: [1, -1, 1] })).toThrow(
      'weights must be finite and ≥ 0',
    );
    expect(() => DecisionTreeClassifier.fit(X, [0, 1, 0], { seed: 0.5 })).toThrow(
      expect.objectContaining(code),
    );
    expect(() => DecisionTreeRegressor.fit(X, [1, Number.POSITIVE_INFINITY, 2])).toThrow('y[1] is Infinity');
    expect(() => DecisionTreeRegressor.fit(X, [1, 2, 3], { criterion: 'gini' as never })).toThrow(
      "criterion must be 'squared_error'",
    );
    const model = DecisionTreeClassifier.fit(X, [0, 1, 1]);
    await expect(model.predict({ features: tensor('float32', [[1, 2, 3]]) })).rejects.toMatchObject({
      code: 'INPUT_SHAPE_MISMATCH',
    });
    expect(() => model.predictProba([[1]])).toThrow('rows have 1 values; the model takes 2');
    expect(() => model.predictLabels([[1, Number.NaN]])).toThrow('X[0][1] is NaN');
    const json = model.toJSON();
    expect(() => DecisionTreeClassifier.fromJSON({ ...json, kind: 'decisionTreeRegressor' })).toThrow(
      'not a version 1 modelship decisionTreeClassifier',
    );
    expect(() => DecisionTreeClassifier.fromJSON({ ...json, classes: [1, 0] })).toThrow(
      'classes must be distinct and sorted',
    );
    expect(() =>
      DecisionTreeClassifier.fromJSON({ ...json, tree: { ...json.tree, right: [1, -1, -1] } }),
    ).toThrow('tree node 0 has a bad child 1');
    expect(() =>
      DecisionTreeClassifier.fromJSON({ ...json, tree: { ...json.tree, feature: [5, -2, -2] } }),
    ).toThrow('tree node 0 must be a leaf (−1, −1) or split a feature in [0, 2)');
    expect(() => DecisionTreeClassifier.fromJSON({ ...json, tree: { ...json.tree, value: [1] } })).toThrow(
      'tree.value must be 6 finite numbers',
    );
  });
});

describe(`RandomForestClassifier against scikit-learn ${treesGolden.sklearn}`, () => {
  // scikit-learn's random draws cannot be reproduced: both sides are fitted with ten seeds and
  // the mean test accuracies must agree within the noise of the two means, 3 standard errors
  // of their difference (s.e. from the spread over seeds on each side; at least one test row).
  for (const f of treesGolden.forests) {
    it(`test accuracy within noise of scikit-learn's over 10 seeds: ${f.name}`, () => {
      const { X, y, test, testLabels } = treesGolden.data[f.data]!;
      const ours = Array.from({ length: 10 }, (_, seed) => {
        const forest = RandomForestClassifier.fit(X, y, { nEstimators: f.nEstimators, seed });
        const predicted = forest.predictLabels(test);
        return predicted.filter((p, i) => p === testLabels![i]).length / test.length;
      });
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const variance = (a: number[]) => a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1);
      const se = Math.sqrt(variance(ours) / 10 + variance(f.accuracy) / 10);
      const noise = Math.max(3 * se, 1 / test.length);
      expect(
        Math.abs(mean(ours) - mean(f.accuracy)),
        `ours ${mean(ours)}, scikit-learn ${mean(f.accuracy)}`,
      ).toBeLessThanOrEqual(noise);
      // Different seeds grow different forests; one seed, the same forest.
      const a = RandomForestClassifier.fit(X, y, { nEstimators: 3, seed: 4 });
      const b = RandomForestClassifier.fit(X, y, { nEstimators: 3, seed: 4 });
      const c = RandomForestClassifier.fit(X, y, { nEstimators: 3, seed: 5 });
      expect(b.toJSON()).toEqual(a.toJSON());
      expect(c.toJSON().trees).not.toEqual(a.toJSON().trees);
    });
  }

  it('averages the trees, draws sqrt(k) features per node, saves and refuses bad parameters', async () => {
    const { X, y, test } = treesGolden.data['forest wine']!;
    const forest = RandomForestClassifier.fit(X, y, { nEstimators: 7, seed: 3, name: 'wine' });
    expect(forest.estimators).toHaveLength(7);
    expect(forest.params.maxFeatures).toBe('sqrt');
    // Each tree's leaves are its class counts on a bootstrap sample: fewer distinct rows at the root.
    for (const t of forest.estimators) {
      expect(t.nNodeSamples[0]).toBeLessThan(X.length);
      expect(t.weightedNNodeSamples[0]).toBe(X.length);
    }
    const proba = forest.predictProba(test.slice(0, 5));
    for (const row of proba) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    const again = baselineFromJSON(JSON.parse(JSON.stringify(forest)));
    expect(again).toBeInstanceOf(RandomForestClassifier);
    const inputs = { features: tensor('float32', test) };
    expect(await again.predict(inputs)).toEqual(await forest.predict(inputs));
    // Without bootstrap and with every feature, every tree is the same tree.
    const same = RandomForestClassifier.fit(X, y, { nEstimators: 2, bootstrap: false, maxFeatures: null });
    expect(treeJson(same.estimators[1]!)).toEqual(treeJson(same.estimators[0]!));
    expect(() => RandomForestClassifier.fit(X, y, { nEstimators: 0 })).toThrow(
      'nEstimators must be a positive integer',
    );
    expect(() => RandomForestClassifier.fit(X, y, { bootstrap: 'yes' as never })).toThrow(
      'bootstrap must be a boolean',
    );
    expect(() => RandomForestClassifier.fromJSON({ ...forest.toJSON(), trees: [] })).toThrow(
      'trees must list at least one tree',
    );
  });
});

const treeJson = (t: TreeArrays) =>
  JSON.stringify(Object.values(t).map((v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)));
