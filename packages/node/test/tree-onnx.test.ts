/**
 * Trees and forests trained in TypeScript, exported with `toOnnx()`, run by raw
 * onnxruntime-node: the same labels and the same probabilities (to float32) as the TypeScript
 * model, the regressor's predictions bit for bit; the default (ZipMap) file loads in Modelship
 * with the class labels on its signature; a row at the float32 just above a split goes where
 * the TypeScript tree sends it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '@modelship/core';
import {
  type ClassLabel,
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  RandomForestClassifier,
} from '@modelship/core/baselines';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Deployer, FileSystemRepository, loadModel } from '../src/index';

const golden = JSON.parse(
  readFileSync(new URL('../../core/test/golden/trees.golden.json', import.meta.url), 'utf8'),
) as { data: Record<string, { X: number[][]; test: number[][]; y: ClassLabel[] }> };

const run = async (bytes: Uint8Array, rows: number[][], fetches?: string[]) => {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
    return fetches ? await session.run({ features: x }, fetches) : await session.run({ features: x });
  } finally {
    await session.release();
  }
};

const plain = (data: unknown) =>
  Array.from(data as ArrayLike<bigint | string>, (v) => (typeof v === 'bigint' ? Number(v) : v));

type Classifier = DecisionTreeClassifier | RandomForestClassifier;

async function sameAnswers(model: Classifier, rows: number[][]) {
  const ours = await model.predict({ features: tensor('float32', rows) });
  // The ZipMap-free file: label and the probability tensor from raw onnxruntime.
  const raw = await run(model.toOnnx({ zipmap: false }), rows);
  expect(plain(raw.label!.data)).toEqual(plain(ours.label!.data));
  const p = raw.probabilities!.data as Float32Array;
  const q = ours.probabilities!.data as Float32Array;
  expect(raw.probabilities!.dims).toEqual([rows.length, model.classes.length]);
  let worst = 0;
  for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
  expect(worst).toBeLessThanOrEqual(1e-6);
  // The default file, as skl2onnx writes it (ZipMap): raw onnxruntime gives the same labels...
  const bytes = model.toOnnx();
  const zipped = await run(bytes, rows, ['label']);
  expect(plain(zipped.label!.data)).toEqual(plain(ours.label!.data));
  // ...and Modelship serves the probabilities as the tensor, with the labels on the signature.
  const loaded = await loadModel(bytes, { name: 'exported' });
  try {
    const spec = loaded.signature.outputs.find((o) => o.name === 'probabilities')!;
    expect(spec.labels).toEqual(model.classes);
    expect(loaded.signature.inputs[0]!.name).toBe('features');
    const out = await loaded.predict({ features: tensor('float32', rows) });
    expect(plain(out.label!.data)).toEqual(plain(ours.label!.data));
    expect(Array.from(out.probabilities!.data as Float32Array)).toEqual(Array.from(p));
  } finally {
    await loaded.dispose();
  }
  return ours;
}

describe('trees and forests exported to ONNX', () => {
  it('DecisionTreeClassifier, binary int labels and three string labels: raw onnxruntime answers as the model', async () => {
    const b = golden.data.binary!;
    await sameAnswers(DecisionTreeClassifier.fit(b.X, b.y), b.test);
    await sameAnswers(DecisionTreeClassifier.fit(b.X, b.y, { maxDepth: 3 }), b.test);
    const t = golden.data.three!;
    const entropy = DecisionTreeClassifier.fit(t.X, t.y, { criterion: 'entropy', minSamplesLeaf: 4 });
    const ours = await sameAnswers(entropy, t.test);
    expect(ours.label!.dtype).toBe('string');
    // Negative integer labels stay as they are.
    const shifted = b.y.map((v) => (v as number) - 5);
    await sameAnswers(DecisionTreeClassifier.fit(b.X, shifted, { maxDepth: 4 }), b.test);
  });

  it('RandomForestClassifier: one ensemble of all trees, leaf weights 1/n', async () => {
    const f = golden.data['forest make_classification']!;
    const forest = RandomForestClassifier.fit(f.X, f.y, { nEstimators: 10, seed: 2 });
    await sameAnswers(forest, f.test);
    const b = golden.data.binary!;
    await sameAnswers(RandomForestClassifier.fit(b.X, b.y, { nEstimators: 5, maxDepth: 6, seed: 1 }), b.test);
  });

  it('DecisionTreeRegressor: TreeEnsembleRegressor with prediction [batch], bit for bit', async () => {
    const r = golden.data.regression!;
    const tree = DecisionTreeRegressor.fit(r.X, r.y as number[], { minSamplesLeaf: 3 });
    const ours = await tree.predict({ features: tensor('float32', r.test) });
    const raw = await run(tree.toOnnx(), r.test);
    expect(raw.prediction!.dims).toEqual([r.test.length]);
    expect(Array.from(raw.prediction!.data as Float32Array)).toEqual(
      Array.from(ours.prediction!.data as Float32Array),
    );
    const loaded = await loadModel(tree.toOnnx());
    expect(loaded.signature.outputs).toEqual([{ name: 'prediction', dtype: 'float32', shape: ['batch'] }]);
    await loaded.dispose();
  });

  it("writes each threshold as the largest float32 not above scikit-learn's float64 midpoint", async () => {
    // The midpoint of float32(0.1) and float32(0.2) is 0.15000000223517418; rounded to float32 it
    // would be 0.15000000596046448, and a row of exactly that value would go left in ONNX but
    // right in the model (and in scikit-learn).
    const tree = DecisionTreeRegressor.fit([[0.1], [0.2]], [1, 2]);
    const rows = [[0.14999999105930328], [0.15000000596046448], [0.1], [0.2]];
    const raw = await run(tree.toOnnx(), rows);
    expect(Array.from(raw.prediction!.data as Float32Array)).toEqual([1, 2, 1, 2]);
    expect(tree.predictValues(rows)).toEqual([1, 2, 1, 2]);
    const negative = DecisionTreeClassifier.fit([[-0.2], [-0.1]], ['a', 'b']);
    const rawNegative = await run(negative.toOnnx({ zipmap: false }), [
      [-0.15000000596046448],
      [-0.14999999105930328],
    ]);
    expect(rawNegative.label!.data).toEqual(
      negative.predictLabels([[-0.15000000596046448], [-0.14999999105930328]]),
    );
  });

  it('a repository serves a forest as model.onnx and as model.json with the same answers', async () => {
    const t = golden.data.three!;
    const forest = RandomForestClassifier.fit(t.X, t.y, { nEstimators: 6, seed: 9 });
    const root = mkdtempSync(join(tmpdir(), 'modelship-trees-'));
    mkdirSync(join(root, 'forest', '1'), { recursive: true });
    mkdirSync(join(root, 'forest', '2'), { recursive: true });
    writeFileSync(join(root, 'forest', '1', 'model.onnx'), forest.toOnnx());
    writeFileSync(join(root, 'forest', '2', 'model.json'), JSON.stringify(forest));
    writeFileSync(join(root, 'forest', 'config.json'), JSON.stringify({ versionPolicy: { all: true } }));
    const deployer = new Deployer();
    const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
    repository.attach(deployer);
    try {
      await repository.start();
      const rows = t.test.slice(0, 20);
      const ours = await forest.predict({ features: tensor('float32', rows) });
      for (const version of ['1', '2']) {
        const out = await deployer.predict('forest', { features: tensor('float32', rows) }, { version });
        expect(out.label!.data).toEqual(ours.label!.data);
        const p = out.probabilities!.data as Float32Array;
        const q = ours.probabilities!.data as Float32Array;
        for (let i = 0; i < q.length; i++) expect(Math.abs(p[i]! - q[i]!)).toBeLessThanOrEqual(1e-6);
      }
    } finally {
      await repository.stop();
      await deployer.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
