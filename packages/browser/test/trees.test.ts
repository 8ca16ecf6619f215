/**
 * Trees trained in TypeScript and exported with `toOnnx()`, run by onnxruntime-web's wasm
 * backend (its Node build; examples/model-tests/test/trees.browser.test.ts repeats this in
 * Chromium): raw sessions answer as the model, and the browser loader serves the default
 * (ZipMap) file with the class labels.
 */
import { readFileSync } from 'node:fs';
import { tensor } from '@modelship/core';
import { type ClassLabel, DecisionTreeRegressor, RandomForestClassifier } from '@modelship/core/baselines';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';

const golden = JSON.parse(
  readFileSync(new URL('../../core/test/golden/trees.golden.json', import.meta.url), 'utf8'),
) as { data: Record<string, { X: number[][]; test: number[][]; y: ClassLabel[] }> };

async function raw(bytes: Uint8Array, rows: number[][]) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const x = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
    return await session.run({ features: x });
  } finally {
    await session.release();
  }
}

describe('trees exported to ONNX, on onnxruntime-web (wasm)', () => {
  it('a three-class string-label forest: same labels, probabilities to 1e-6, labels on the signature', async () => {
    const d = golden.data.three!;
    const forest = RandomForestClassifier.fit(d.X, d.y, { nEstimators: 8, seed: 3 });
    const ours = await forest.predict({ features: tensor('float32', d.test) });
    const out = await raw(forest.toOnnx({ zipmap: false }), d.test);
    expect(out.label!.data).toEqual(ours.label!.data);
    const p = out.probabilities!.data as Float32Array;
    const q = ours.probabilities!.data as Float32Array;
    expect(Math.max(...Array.from(q, (v, i) => Math.abs(v - p[i]!)))).toBeLessThanOrEqual(1e-6);
    const served = await loadModel(forest.toOnnx());
    try {
      expect(served.signature.outputs.find((o) => o.name === 'probabilities')!.labels).toEqual(
        forest.classes,
      );
      const again = await served.predict({ features: tensor('float32', d.test) });
      expect(again.label!.data).toEqual(ours.label!.data);
      expect(Array.from(again.probabilities!.data as Float32Array)).toEqual(Array.from(p));
    } finally {
      await served.dispose();
    }
  });

  it('a binary forest and a regression tree', async () => {
    const b = golden.data.binary!;
    const forest = RandomForestClassifier.fit(b.X, b.y, { nEstimators: 5, seed: 1 });
    const ours = await forest.predict({ features: tensor('float32', b.test) });
    const out = await raw(forest.toOnnx({ zipmap: false }), b.test);
    expect(out.label!.data).toEqual(ours.label!.data);
    const r = golden.data.regression!;
    const tree = DecisionTreeRegressor.fit(r.X, r.y as number[], { minSamplesLeaf: 2 });
    const pred = await tree.predict({ features: tensor('float32', r.test) });
    const rawPred = await raw(tree.toOnnx(), r.test);
    expect(Array.from(rawPred.prediction!.data as Float32Array)).toEqual(
      Array.from(pred.prediction!.data as Float32Array),
    );
  });
});
