/**
 * explainImage on the committed ONNX digit models through @modelship/node: a rank-4 CNN
 * (digits_cnn.onnx, [batch, 1, 8, 8]) and an MLP on flat pixels (digits.onnx, [batch, 64]).
 */
import { readFileSync } from 'node:fs';
import { explainImage, loadModel, tensor, toArray } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir, modelPath } from './fixtures';

const digits = readFileSync(`${fixturesDir}data/digits-test.csv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1, 4)
  .map((line) => line.split(',').slice(0, 64).map(Number));

describe('explainImage on ONNX digit models', () => {
  let cnn: Awaited<ReturnType<typeof loadModel>>;
  let mlp: Awaited<ReturnType<typeof loadModel>>;
  beforeAll(async () => {
    cnn = await loadModel(modelPath('digits_cnn'));
    mlp = await loadModel(modelPath('digits'));
  });
  afterAll(async () => {
    await cnn.dispose();
    await mlp.dispose();
  });

  it('CNN: each patch drop is the probability lost by that occluded image predicted alone; blank pixels get exactly 0', async () => {
    const pixels = digits[0]!;
    const image = tensor('float32', pixels, [1, 1, 8, 8]);
    const ex = await explainImage(cnn, image, { patchSize: 2, stride: 1 });
    const probabilities = toArray((await cnn.predict({ image })).probabilities!) as number[];
    const top = probabilities.indexOf(Math.max(...probabilities));
    expect(ex).toMatchObject({ layout: 'NCHW', class: top, output: 'probabilities', evaluations: 50 });
    expect(ex.score).toBeCloseTo(probabilities[top]!, 6);
    for (const r of ex.regions) {
      const occluded = Float32Array.from(pixels);
      for (let y = r.top; y < r.top + r.height; y++)
        for (let x = r.left; x < r.left + r.width; x++) occluded[y * 8 + x] = 0;
      const alone = toArray(
        (await cnn.predict({ image: tensor('float32', occluded, [1, 1, 8, 8]) })).probabilities!,
      ) as number[];
      expect(Math.abs(r.drop - (ex.score - alone[top]!))).toBeLessThan(1e-6);
    }
    // a patch of blank pixels hidden by a 0 baseline is the same image: exactly no drop
    for (const r of ex.regions) {
      let ink = 0;
      for (let y = r.top; y < r.top + r.height; y++)
        for (let x = r.left; x < r.left + r.width; x++) ink += pixels[y * 8 + x]!;
      if (ink === 0) expect(r.drop).toBe(0);
      else expect(r.drop).not.toBe(0);
    }
  });

  it('MLP on flat pixels: with 1-pixel patches the heat map is nonzero exactly where the ink is', async () => {
    for (const pixels of digits) {
      const ex = await explainImage(mlp, pixels, { layout: 'flat', height: 8, width: 8, patchSize: 1 });
      expect(ex.heatmap.shape).toEqual([8, 8]);
      const hot = [...ex.heatmap.data].flatMap((v, p) => (v !== 0 ? [p] : []));
      const ink = pixels.flatMap((v, p) => (v !== 0 ? [p] : []));
      expect(hot).toEqual(ink);
      // the pixels that support the answer outweigh those against it
      expect(ex.heatmap.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
  });
});
