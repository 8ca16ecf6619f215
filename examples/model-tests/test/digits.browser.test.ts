/**
 * The same kit in Vitest browser mode (Debian's Chromium): the digits model runs on
 * onnxruntime-web in the page, and the matchers test it there.
 */
import { loadModel, parseCsv, type Row } from '@modelship/browser';
import { addNoise } from '@modelship/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

let model: Awaited<ReturnType<typeof loadModel>>;
let holdout: Row[];

beforeAll(async () => {
  model = await loadModel('/models/digits.onnx', { executionProviders: ['wasm'] });
  holdout = [];
  const text = await (await fetch('/data/digits-test.csv')).text();
  for await (const row of parseCsv([text])) holdout.push(row);
});
afterAll(() => model.dispose());

describe('digits model in Chromium', () => {
  test('runs on onnxruntime-web in the page', () => {
    expect(typeof window).toBe('object');
    expect(model.diagnostics.executionProvider).toBe('wasm');
    expect(model).toHaveSignature({ inputs: [{ name: 'pixels', dtype: 'float32', shape: ['batch', 64] }] });
  });

  test('meets its accuracy bar on the test split', async () => {
    await expect(model).toMeetMetrics(holdout, { accuracy: { min: 0.97 }, f1: { min: 0.97 } });
  });

  test('ignores faint pixel noise', async () => {
    await expect(model).toBeInvariantTo(addNoise(0.02), holdout, { maxFlipRate: 0.01 });
  });

  test('outputs probabilities that sum to 1, the same as last time', async () => {
    const out = await model.predict({
      pixels: [
        holdout.slice(0, 1).flatMap((r) => Array.from({ length: 64 }, (_, i) => r[`p${i}`] as number)),
      ],
    });
    const p = out.probabilities!.data as Float32Array;
    expect([p.reduce((a, b) => a + b, 0)]).toBeCloseToTensor([1], { rtol: 1e-5 });
    expect(out.probabilities).toHaveShape([1, 10]);
    expect(out.probabilities).toMatchTensorSnapshot({ rtol: 1e-4, atol: 1e-6 });
  });
});
