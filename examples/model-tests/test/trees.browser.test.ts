/**
 * Train in the page, ship the file (Debian's Chromium): a decision tree, a random forest and a
 * regression tree fitted in TypeScript, exported with `toOnnx()`, run by raw onnxruntime-web
 * with the model's answers, and the default (ZipMap) file served by Modelship's browser loader
 * with the class labels on its signature.
 */
import { loadModel } from '@modelship/browser';
import { tensor } from '@modelship/core';
import {
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  RandomForestClassifier,
} from '@modelship/core/baselines';
import * as ort from 'onnxruntime-web';
import { describe, expect, test } from 'vitest';

// Seeded data: 600 rows × 6 features, three classes from a non-linear rule, and a target.
let state = 11;
const rand = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const X = Array.from({ length: 600 }, () => Array.from({ length: 6 }, () => Math.fround(rand() * 4 - 2)));
const species = ['ant', 'bee', 'cat'];
const y = X.map((r) => species[r[0]! * r[1]! + r[2]! > 0.5 ? 2 : r[3]! > 0 ? 1 : 0]!);
const target = X.map((r) => r[0]! ** 2 - r[4]! + 0.1 * rand());
const train = X.slice(0, 450);
const test_ = X.slice(450);

async function raw(bytes: Uint8Array, rows: number[][]) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
    return await session.run({ features: x });
  } finally {
    await session.release();
  }
}

async function sameAnswers(model: DecisionTreeClassifier | RandomForestClassifier) {
  const ours = await model.predict({ features: tensor('float32', test_) });
  const out = await raw(model.toOnnx({ zipmap: false }), test_);
  expect(out.label!.data).toEqual(ours.label!.data);
  const p = out.probabilities!.data as Float32Array;
  const q = ours.probabilities!.data as Float32Array;
  expect(p.length).toBe(q.length);
  let worst = 0;
  for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
  expect(worst).toBeLessThanOrEqual(1e-6);
  const served = await loadModel(model.toOnnx(), { executionProviders: ['wasm'] });
  try {
    expect(served.signature.outputs.find((o) => o.name === 'probabilities')!.labels).toEqual(species);
    const again = await served.predict({ features: tensor('float32', test_) });
    expect(again.label!.data).toEqual(ours.label!.data);
    expect(Array.from(again.probabilities!.data as Float32Array)).toEqual(Array.from(p));
  } finally {
    await served.dispose();
  }
}

describe('trees trained in Chromium, run by onnxruntime-web', () => {
  test('DecisionTreeClassifier: same labels and probabilities', async () => {
    expect(typeof window).toBe('object');
    await sameAnswers(DecisionTreeClassifier.fit(train, y.slice(0, 450), { minSamplesLeaf: 3 }));
  });

  test('RandomForestClassifier: one ensemble, same labels and probabilities', async () => {
    await sameAnswers(RandomForestClassifier.fit(train, y.slice(0, 450), { nEstimators: 10, seed: 1 }));
  });

  test('DecisionTreeRegressor: the same predictions, bit for bit', async () => {
    const tree = DecisionTreeRegressor.fit(train, target.slice(0, 450), { maxDepth: 8 });
    const ours = await tree.predict({ features: tensor('float32', test_) });
    const out = await raw(tree.toOnnx(), test_);
    expect(Array.from(out.prediction!.data as Float32Array)).toEqual(
      Array.from(ours.prediction!.data as Float32Array),
    );
  });
});
