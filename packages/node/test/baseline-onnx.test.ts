/**
 * Every linear baseline exported with `toOnnx()`: raw onnxruntime-node runs the file to the
 * TypeScript model's answers (labels equal, scores and probabilities to 1e-5 in float32), and
 * `loadModel` of the default export (ending in ZipMap, as skl2onnx writes) reads the class
 * labels into its signature and predicts the same.
 */
import { readFileSync } from 'node:fs';
import {
  LinearRegression,
  LinearSVC,
  LogisticRegression,
  SGDClassifier,
  SGDRegressor,
} from '@modelship/core/baselines';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';

const golden = JSON.parse(
  readFileSync(new URL('../../core/test/golden/linear.golden.json', import.meta.url), 'utf8'),
) as { data: Record<string, { X: number[][]; y: number[]; test: number[][] }> };
const { binary, iris, regression } = golden.data as Record<
  'binary' | 'iris' | 'regression',
  { X: number[][]; y: number[]; test: number[][] }
>;
const strings = binary!.y.map((v) => (v === 1 ? 'fraud' : 'legit'));

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst, `${what}: worst relative miss`).toBeLessThanOrEqual(1e-5);
}

async function raw(bytes: Uint8Array, input: string, rows: number[][]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual([input]);
    return await session.run({
      [input]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]),
    });
  } finally {
    await session.release();
  }
}

const classifiers = [
  ['LogisticRegression, binary', () => LogisticRegression.fit(binary.X, binary.y), binary],
  [
    'LogisticRegression, string labels',
    () => LogisticRegression.fit(binary.X, strings, { input: 'x' }),
    binary,
  ],
  ['LogisticRegression, multinomial', () => LogisticRegression.fit(iris.X, iris.y), iris],
  [
    'SGDClassifier log_loss, binary',
    () => SGDClassifier.fit(binary.X, binary.y, { loss: 'log_loss' }),
    binary,
  ],
  ['SGDClassifier log_loss, one-vs-all', () => SGDClassifier.fit(iris.X, iris.y, { loss: 'log_loss' }), iris],
  ['SGDClassifier hinge, one-vs-all', () => SGDClassifier.fit(iris.X, iris.y), iris],
  [
    'SGDClassifier modified_huber, string labels',
    () => SGDClassifier.fit(binary.X, strings, { loss: 'modified_huber' }),
    binary,
  ],
  ['LinearSVC, binary', () => LinearSVC.fit(binary.X, binary.y, { C: 0.5 }), binary],
  ['LinearSVC, one-vs-rest', () => LinearSVC.fit(iris.X, iris.y), iris],
] as const;

describe('linear baselines exported to ONNX', () => {
  for (const [name, train, data] of classifiers) {
    it(`${name}: raw onnxruntime and loadModel answer as the TypeScript model`, async () => {
      const model = train();
      const input = model.input;
      const C = model.classes.length;
      const ours = await model.predict({
        [input]: {
          dtype: 'float32',
          shape: [data.test.length, data.test[0]!.length],
          data: Float32Array.from(data.test.flat()),
        },
      });
      const first = model.signature.outputs[0]!.name; // scores, probability or probabilities
      const scoreName = first === 'scores' ? 'scores' : 'probabilities';
      // The TypeScript model's [n, C] matrix: two classes give [-z, z] or [1 − p, p], as skl2onnx.
      const own = ours[first]!.data as Float32Array;
      const expected =
        C > 2
          ? own
          : Float32Array.from(Array.from(own).flatMap((v) => (first === 'scores' ? [-v, v] : [1 - v, v])));
      const out = await raw(model.toOnnx({ zipmap: false }), input, data.test);
      expect(out.label!.dims).toEqual([data.test.length]);
      const labels = Array.from(out.label!.data as ArrayLike<bigint | string>);
      expect(labels).toEqual(Array.from(ours.label!.data as ArrayLike<bigint | string>));
      expect(out[scoreName]!.dims).toEqual([data.test.length, C]);
      close(out[scoreName]!.data as Float32Array, expected, `${scoreName} from raw onnxruntime`);

      // The default export ends in ZipMap: loadModel serves the tensor with the labels.
      const loaded = await loadModel(model.toOnnx());
      try {
        expect(loaded.signature.outputs).toEqual([
          {
            name: 'label',
            dtype: typeof model.classes[0] === 'string' ? 'string' : 'int64',
            shape: ['batch'],
          },
          { name: scoreName, dtype: 'float32', shape: [null, C], labels: model.classes },
        ]);
        const served = await loaded.predict({
          [input]: {
            dtype: 'float32',
            shape: [data.test.length, data.test[0]!.length],
            data: Float32Array.from(data.test.flat()),
          },
        });
        expect(Array.from(served.label!.data as ArrayLike<bigint | string>)).toEqual(labels);
        expect(served[scoreName]!.data).toEqual(out[scoreName]!.data);
      } finally {
        await loaded.dispose();
      }
    });
  }

  for (const [name, train] of [
    ['LinearRegression (ridge)', () => LinearRegression.fit(regression.X, regression.y, { alpha: 1 })],
    ['SGDRegressor', () => SGDRegressor.fit(regression.X, regression.y, { loss: 'huber', epsilon: 2 })],
  ] as const) {
    it(`${name}: raw onnxruntime and loadModel predict as the TypeScript model`, async () => {
      const model = train();
      const x = {
        dtype: 'float32' as const,
        shape: [regression.test.length, 4],
        data: Float32Array.from(regression.test.flat()),
      };
      const ours = (await model.predict({ features: x })).prediction!.data as Float32Array;
      const out = await raw(model.toOnnx(), 'features', regression.test);
      expect(out.prediction!.dims).toEqual([regression.test.length]);
      close(out.prediction!.data as Float32Array, ours, 'prediction');
      const loaded = await loadModel(model.toOnnx());
      try {
        expect(loaded.signature).toEqual(model.signature);
        close(
          (await loaded.predict({ features: x })).prediction!.data as Float32Array,
          ours,
          'loaded prediction',
        );
      } finally {
        await loaded.dispose();
      }
    });
  }
});
