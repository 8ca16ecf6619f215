/**
 * Baselines exported with `toOnnx()` run on onnxruntime-web's wasm backend (its Node build, on
 * every run; examples/model-tests/test/baseline-onnx.browser.test.ts repeats this in Chromium):
 * raw `InferenceSession.run` and the browser `loadModel` give the TypeScript model's answers.
 */
import { LinearSVC, SGDClassifier, SGDRegressor } from '@modelship/core/baselines';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';

let s = 11;
const u = () => {
  s = (s * 1103515245 + 12345) % 2147483648;
  return s / 2147483648;
};
const X = Array.from({ length: 240 }, (_, i) =>
  [0, 1, 2].map((j) => u() * 2 - 1 + ((i % 3) - 1) * (j === 1 ? 1.5 : -1)),
);
const y = X.map((_, i) => [10, 20, 30][i % 3]!);
const target = X.map((r) => r[0]! - 2 * r[2]! + 0.05 * u());
const rows = X.slice(0, 30);
const x = () => ({ dtype: 'float32' as const, shape: [30, 3], data: Float32Array.from(rows.flat()) });

function close(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(
      1e-5 * Math.max(1, Math.abs(expected[i]!)),
    );
}

describe('baselines exported to ONNX on onnxruntime-web (wasm)', () => {
  it('classifiers: labels and scores or probabilities as the TypeScript model', async () => {
    for (const model of [SGDClassifier.fit(X, y, { loss: 'log_loss' }), LinearSVC.fit(X, y)]) {
      const ours = await model.predict({ features: x() });
      const name = model.signature.outputs[0]!.name;
      const session = await ort.InferenceSession.create(model.toOnnx({ zipmap: false }));
      const out = await session.run({
        features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [30, 3]),
      });
      await session.release();
      expect(out.label!.data).toEqual(ours.label!.data);
      close(out[name]!.data as Float32Array, ours[name]!.data as Float32Array);
      const served = await loadModel(model.toOnnx());
      try {
        expect(served.signature.outputs[1]!.labels).toEqual([10, 20, 30]);
        const p = await served.predict({ features: x() });
        expect(p.label!.data).toEqual(ours.label!.data);
        close(p[name]!.data as Float32Array, ours[name]!.data as Float32Array);
      } finally {
        await served.dispose();
      }
    }
  });

  it('SGDRegressor: predictions as the TypeScript model', async () => {
    const model = SGDRegressor.fit(X, target);
    const ours = (await model.predict({ features: x() })).prediction!.data as Float32Array;
    const served = await loadModel(model.toOnnx());
    try {
      expect(served.signature).toEqual(model.signature);
      close((await served.predict({ features: x() })).prediction!.data as Float32Array, ours);
    } finally {
      await served.dispose();
    }
  });
});
