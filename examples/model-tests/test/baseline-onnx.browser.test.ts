/**
 * Baselines trained in a page (Debian's Chromium) and exported with `toOnnx()`: onnxruntime-web
 * runs the file to the TypeScript model's answers, and `loadModel` of the default (ZipMap)
 * export serves them with the class labels in its signature. Train in a page, ship the file.
 */
import { loadModel } from '@modelship/browser';
import { LinearSVC, SGDClassifier, SGDRegressor } from '@modelship/core/baselines';
import * as ort from 'onnxruntime-web';
import { describe, expect, test } from 'vitest';

// Three blobs in 4 dimensions and a noisy linear target, from a small seeded generator.
let s = 7;
const u = () => {
  s = (s * 1103515245 + 12345) % 2147483648;
  return s / 2147483648;
};
const X = Array.from({ length: 300 }, (_, i) =>
  [0, 1, 2, 3].map((j) => u() * 2 - 1 + ((i % 3) - 1) * (j % 2 ? 1.5 : -1)),
);
const y = X.map((_, i) => ['setosa', 'versicolor', 'virginica'][i % 3]!);
const target = X.map((r) => 2 * r[0]! - r[1]! + 0.5 * r[3]! + 0.1 * (u() - 0.5));
const test_ = X.slice(0, 40);
const feed = (name: string) => ({
  [name]: new ort.Tensor('float32', Float32Array.from(test_.flat()), [test_.length, 4]),
});

async function raw(bytes: Uint8Array, input: string) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    return await session.run(feed(input));
  } finally {
    await session.release();
  }
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(
      1e-5 * Math.max(1, Math.abs(expected[i]!)),
    );
}

describe('baselines exported to ONNX, run by onnxruntime-web', () => {
  test('SGDClassifier (log loss, one-vs-all) and LinearSVC: labels and scores as in TypeScript', async () => {
    expect(typeof window).toBe('object');
    for (const model of [
      SGDClassifier.fit(X, y, { loss: 'log_loss', randomState: 1, input: 'x' }),
      LinearSVC.fit(X, y, { input: 'x' }),
    ]) {
      const ours = await model.predict({
        x: { dtype: 'float32', shape: [40, 4], data: Float32Array.from(test_.flat()) },
      });
      const name = model.signature.outputs[0]!.name;
      const out = await raw(model.toOnnx({ zipmap: false }), 'x');
      expect(out.label!.data).toEqual(ours.label!.data);
      close(out[name]!.data as Float32Array, ours[name]!.data as Float32Array);
      // Most rows land in their own blob: the fit learned something.
      expect((ours.label!.data as string[]).filter((v, i) => v === y[i]).length).toBeGreaterThan(30);

      const served = await loadModel(model.toOnnx(), { executionProviders: ['wasm'] });
      try {
        expect(served.signature.outputs[1]!.labels).toEqual(['setosa', 'versicolor', 'virginica']);
        const p = await served.predict({
          x: { dtype: 'float32', shape: [40, 4], data: Float32Array.from(test_.flat()) },
        });
        expect(p.label!.data).toEqual(ours.label!.data);
        close(p[name]!.data as Float32Array, ours[name]!.data as Float32Array);
      } finally {
        await served.dispose();
      }
    }
  });

  test('SGDRegressor: predictions as in TypeScript', async () => {
    const model = SGDRegressor.fit(X, target, { randomState: 2 });
    const ours = await model.predict({
      features: { dtype: 'float32', shape: [40, 4], data: Float32Array.from(test_.flat()) },
    });
    const out = await raw(model.toOnnx(), 'features');
    close(out.prediction!.data as Float32Array, ours.prediction!.data as Float32Array);
    // The fit found the target: small errors against the noise-free part.
    const p = ours.prediction!.data as Float32Array;
    const worst = Math.max(...target.slice(0, 40).map((v, i) => Math.abs(v - p[i]!)));
    expect(worst).toBeLessThan(0.2);
  });
});
