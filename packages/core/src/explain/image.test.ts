import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { functionModel } from '../model/function-model';
import type { Dim } from '../tensor/spec';
import { tensor } from '../tensor/tensor';
import { explainImage } from './image';
import { failure } from './models.case';

/**
 * A model of `[batch, ...shape]` float64 images whose value is Σ weight · pixel over the given
 * (index, weight) pairs of one image's values: it depends on those values and nothing else.
 * Counts its calls and records each call's batch size and input buffer.
 */
function weightedModel(
  shape: readonly Dim[],
  weights: ReadonlyMap<number, number>,
  options: { outputs?: number; batch?: Dim } = {},
) {
  const k = options.outputs ?? 1;
  const calls: { n: number; buffer: ArrayBufferLike }[] = [];
  const model = functionModel(
    ({ image }) => {
      const x = image!.data as Float64Array;
      const n = image!.shape[0]!;
      const size = x.length / n;
      calls.push({ n, buffer: x.buffer });
      const out = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (const [at, w] of weights) s += w * x[i * size + at]!;
        // with several outputs, column j is s·(j + 1) − j: class k − 1 is the highest when s > 1
        for (let j = 0; j < k; j++) out[i * k + j] = s * (j + 1) - j;
      }
      return { value: tensor('float64', out, k === 1 ? [n] : [n, k]) };
    },
    {
      name: 'region',
      signature: {
        inputs: [{ name: 'image', dtype: 'float64', shape: [options.batch ?? 'batch', ...shape] }],
        outputs: [{ name: 'value', dtype: 'float64', shape: k === 1 ? ['batch'] : ['batch', k] }],
      },
    },
  );
  return Object.assign(model, { calls });
}

/** A 6×6 one-channel image (NCHW) with values 1..36 and a model reading rows 2–3, columns 1–2 only. */
const W6 = new Map([
  [2 * 6 + 1, 1],
  [2 * 6 + 2, 2],
  [3 * 6 + 1, 3],
  [3 * 6 + 2, 4],
]);
const image6 = tensor(
  'float64',
  Array.from({ length: 36 }, (_, i) => i + 1),
  [1, 1, 6, 6],
);

async function rejects(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await failure(work);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

describe('explainImage: occlusion', () => {
  it('is nonzero exactly on the region the model reads, by exactly weight · pixel', async () => {
    const model = weightedModel([1, 6, 6], W6);
    const ex = await explainImage(model, image6, { patchSize: 1 });
    expect(ex).toMatchObject({
      method: 'occlusion',
      output: 'value',
      class: 0,
      layout: 'NCHW',
      height: 6,
      width: 6,
      channels: 1,
      evaluations: 37,
    });
    expect(ex.score).toBe(1 * 14 + 2 * 15 + 3 * 20 + 4 * 21);
    expect(ex.heatmap.shape).toEqual([6, 6]);
    const want = new Float64Array(36);
    for (const [at, w] of W6) want[at] = w * (at + 1);
    expect(ex.heatmap.data).toEqual(want);
    expect(ex.regions).toHaveLength(36);
    expect(ex.regions[2 * 6 + 1]).toEqual({ top: 2, left: 1, height: 1, width: 1, pixels: 1, drop: 14 });
    // 37 images of 36 values fit one call
    expect(model.calls.map((c) => c.n)).toEqual([37]);
  });

  it('averages overlapping patches as computed by hand (3×3 image, 2×2 patches, stride 1)', async () => {
    // f = x[0,0] + 2·x[1,1]; the image is 1..9, so f = 1 + 2·5 = 11
    const model = weightedModel(
      [3, 3],
      new Map([
        [0, 1],
        [4, 2],
      ]),
    );
    const image = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ];
    const ex = await explainImage(model, image, { patchSize: 2, stride: 1 });
    expect(ex.layout).toBe('NHW');
    expect(ex.score).toBe(11);
    // window (0,0) hides both pixels read: drop 11; the other three hide x[1,1] only: drop 10
    expect(ex.regions.map((r) => [r.top, r.left, r.drop])).toEqual([
      [0, 0, 11],
      [0, 1, 10],
      [1, 0, 10],
      [1, 1, 10],
    ]);
    // each pixel: the mean drop of the windows covering it
    expect([...ex.heatmap.data]).toEqual([11, 10.5, 10, 10.5, 10.25, 10, 10, 10, 10]);

    // baseline 'mean' (5): hiding x[0,0] = 1 raises it to 5 (f +4); hiding x[1,1] = 5 changes nothing
    const mean = await explainImage(model, image, { patchSize: 2, stride: 1, baseline: 'mean' });
    expect(mean.regions.map((r) => r.drop)).toEqual([-4, 0, 0, 0]);
    expect([...mean.heatmap.data]).toEqual([-4, -2, 0, -2, -1, 0, 0, 0, 0]);
  });

  it('places a last row and column of patches flush with the edges', async () => {
    const model = weightedModel([1, 5, 5], new Map([[24, 1]]));
    const image = tensor('float64', new Float64Array(25).fill(1), [1, 1, 5, 5]);
    const ex = await explainImage(model, image, { patchSize: 2, stride: 2 });
    const tops = [...new Set(ex.regions.map((r) => r.top))];
    expect(tops).toEqual([0, 2, 3]);
    expect(ex.regions).toHaveLength(9);
    // pixel (4,4) is covered by the one patch at (3,3): its drop 1; pixels (3,3)… by more patches
    const heat = ex.heatmap.data;
    expect(heat[24]).toBe(1);
    expect(heat[0]).toBe(0);
    // every pixel is covered by a patch: no pixel is left out of the map
    expect(ex.regions.reduce((s, r) => s + r.pixels, 0)).toBeGreaterThanOrEqual(25);
  });

  it('reads NHWC inputs, occludes every channel of a patch, and takes a baseline per channel', async () => {
    // [batch, 4, 4, 3]; the model reads the green channel of pixel (2, 3), times 3
    const at = (2 * 4 + 3) * 3 + 1;
    const model = weightedModel([4, 4, 3], new Map([[at, 3]]));
    const data = Float64Array.from({ length: 48 }, (_, i) => (i % 7) / 7);
    const ex = await explainImage(model, tensor('float64', data, [4, 4, 3]), {
      patchSize: 1,
      baseline: [0, 0.5, 0],
    });
    expect(ex).toMatchObject({ layout: 'NHWC', channels: 3, height: 4, width: 4 });
    const want = new Float64Array(16);
    want[2 * 4 + 3] = 3 * (data[at]! - 0.5);
    expect(ex.heatmap.data).toEqual(want);
    // a whole baseline image (a "blurred" copy): the green value at (2, 3) becomes 0.25
    const blurred = new Float64Array(48).fill(0.25);
    const whole = await explainImage(model, tensor('float64', data, [4, 4, 3]), {
      patchSize: 1,
      baseline: blurred,
    });
    expect(whole.heatmap.data[2 * 4 + 3]).toBeCloseTo(3 * (data[at]! - 0.25), 14);
  });

  it('takes layout over the guess from the shape', async () => {
    // [batch, 4, 4, 3] reads as NHWC; told NCHW it is 4 channels of 4×3
    const model = weightedModel([4, 4, 3], new Map([[0, 1]]));
    const image = tensor('float64', new Float64Array(48).fill(1), [4, 4, 3]);
    expect((await explainImage(model, image, { patchSize: 1 })).heatmap.shape).toEqual([4, 4]);
    const told = await explainImage(model, image, { patchSize: 1, layout: 'NCHW' });
    expect(told).toMatchObject({ layout: 'NCHW', channels: 4, height: 4, width: 3 });
    expect(told.heatmap.shape).toEqual([4, 3]);
    // value 0 is channel 0 of pixel (0, 0) in NCHW: only that pixel matters
    expect([...told.heatmap.data]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reads a flat [batch, C·H·W] input with layout flat, height and width', async () => {
    const model = weightedModel([16], new Map([[5, 2]]));
    const pixels = Array.from({ length: 16 }, (_, i) => i);
    const ex = await explainImage(model, [pixels], { layout: 'flat', height: 4, width: 4, patchSize: 1 });
    expect(ex).toMatchObject({ layout: 'flat', channels: 1, height: 4, width: 4, score: 10 });
    expect([...ex.heatmap.data].map((v, p) => [p, v]).filter(([, v]) => v !== 0)).toEqual([[5, 10]]);
  });

  it('explains the class the model ranks first unless told, and any class asked for', async () => {
    const model = weightedModel([1, 6, 6], W6, { outputs: 3 });
    const top = await explainImage(model, image6, { patchSize: 3 });
    // score s = 188 > 1: column 2 (3s − 2) is the highest
    expect(top.class).toBe(2);
    expect(top.score).toBe(3 * 188 - 2);
    const first = await explainImage(model, image6, { patchSize: 3, class: 0 });
    expect(first.score).toBe(188);
    // column 2 moves three times as much as column 0 when a patch is hidden
    top.regions.forEach((r, i) => {
      expect(r.drop).toBe(3 * first.regions[i]!.drop);
    });
    await rejects(
      explainImage(model, image6, { class: 3 }),
      'INVALID_ARGUMENT',
      /class must be below 3, the values per image of output 'value', received 3/,
    );
  });

  it('stacks the occluded images into calls of batchSize, all written into one buffer', async () => {
    const model = weightedModel([1, 6, 6], W6);
    const ex = await explainImage(model, image6, { patchSize: 1, batchSize: 5 });
    expect(model.calls.map((c) => c.n)).toEqual([5, 5, 5, 5, 5, 5, 5, 2]);
    expect(new Set(model.calls.map((c) => c.buffer)).size).toBe(1);
    const once = await explainImage(weightedModel([1, 6, 6], W6), image6, { patchSize: 1 });
    expect(ex.heatmap.data).toEqual(once.heatmap.data);
  });

  it('calls a model whose batch is fixed at 1 one image at a time', async () => {
    const model = weightedModel([1, 6, 6], W6, { batch: 1 });
    const ex = await explainImage(model, image6, { patchSize: 3 });
    expect(ex.evaluations).toBe(5);
    expect(model.calls.map((c) => c.n)).toEqual([1, 1, 1, 1, 1]);
  });

  it('equals weight · pixel for any linear model with 1-pixel patches (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 25, maxLength: 25 }),
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 25, maxLength: 25 }),
        async (x, w) => {
          const model = weightedModel([5, 5], new Map(w.map((v, i) => [i, v])));
          const ex = await explainImage(model, x, { patchSize: 1, batchSize: 7 });
          x.forEach((v, p) => {
            expect(ex.heatmap.data[p]).toBeCloseTo(w[p]! * v, 9);
          });
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('explainImage: segments (superpixel masking)', () => {
  it('occludes each segment whole and spreads its drop over its pixels', async () => {
    const model = weightedModel([1, 6, 6], W6);
    // three segments: columns 0–1, 2–3, 4–5
    const segments = Array.from({ length: 36 }, (_, p) => Math.floor((p % 6) / 2) * 10);
    const ex = await explainImage(model, image6, { segments });
    expect(ex.method).toBe('segments');
    expect(ex.evaluations).toBe(4);
    expect(ex.regions).toEqual([
      // columns 0–1 hold x[2,1] = 14 and x[3,1] = 20: 1·14 + 3·20
      { top: 0, left: 0, height: 6, width: 2, segment: 0, pixels: 12, drop: 74 },
      // columns 2–3 hold x[2,2] = 15 and x[3,2] = 21: 2·15 + 4·21
      { top: 0, left: 2, height: 6, width: 2, segment: 10, pixels: 12, drop: 114 },
      { top: 0, left: 4, height: 6, width: 2, segment: 20, pixels: 12, drop: 0 },
    ]);
    for (let p = 0; p < 36; p++) expect(ex.heatmap.data[p]).toBe([74, 114, 0][Math.floor((p % 6) / 2)]);
  });
});

describe('explainImage: bad input', () => {
  const model = weightedModel([1, 6, 6], W6);

  it('refuses inputs that are not images', async () => {
    const tabular = weightedModel([3], new Map([[0, 1]]));
    await rejects(
      explainImage(tabular, [[1, 2, 3]]),
      'INVALID_ARGUMENT',
      /input 'image' has shape \[batch, 3\], not an image: an image input is \[batch, C, H, W\], \[batch, H, W, C\] or \[batch, H, W\], or \[batch, C·H·W\] with layout 'flat', height and width/,
    );
    await rejects(
      explainImage(tabular, [[1, 2, 3]], { layout: 'flat', height: 2, width: 2 }),
      'INVALID_ARGUMENT',
      /holds 3 values per image, not a multiple of height × width = 4/,
    );
    await rejects(
      explainImage(model, image6, { layout: 'flat', height: 6, width: 6 }),
      'INVALID_ARGUMENT',
      /layout 'flat' needs rank 2/,
    );
  });

  it('refuses a patch larger than the image, and bad patch, stride, baseline and segments', async () => {
    await rejects(
      explainImage(model, image6, { patchSize: 7 }),
      'INVALID_ARGUMENT',
      /patchSize 7×7 is larger than the image \(6×6\); use a patch of at most 6×6, received 7/,
    );
    await rejects(
      explainImage(model, image6, { patchSize: 0 }),
      'INVALID_ARGUMENT',
      /patchSize must be a positive integer/,
    );
    await rejects(explainImage(model, image6, { stride: [1, 1.5] }), 'INVALID_ARGUMENT', /stride must be/);
    await rejects(
      explainImage(model, image6, { baseline: Number.NaN }),
      'INVALID_ARGUMENT',
      /baseline must be a finite number, received NaN/,
    );
    await rejects(
      explainImage(model, image6, { baseline: [1, 2] }),
      'INVALID_ARGUMENT',
      /baseline must be a number, 'mean', 1 value \(one per channel\) or a whole image of 36 values/,
    );
    await rejects(
      explainImage(model, image6, { segments: [1, 2, 3] }),
      'INVALID_ARGUMENT',
      /segments must hold one label per pixel \(6×6 = 36\)/,
    );
    await rejects(
      explainImage(model, image6, { segments: new Array(36).fill(0), patchSize: 2 }),
      'INVALID_ARGUMENT',
      /patchSize and stride are for patches/,
    );
    await rejects(
      explainImage(model, image6, { patch: 2 } as never),
      'INVALID_ARGUMENT',
      /unknown option 'patch'/,
    );
  });

  it('refuses NaN pixels, a wrong image shape or dtype, before any call', async () => {
    const nan = Float64Array.from(image6.data);
    nan[7] = Number.NaN;
    await rejects(
      explainImage(model, tensor('float64', nan, [1, 1, 6, 6])),
      'INPUT_NOT_FINITE',
      /explainImage: the image's value 7 is NaN; pixels must be finite numbers/,
    );
    await rejects(
      explainImage(model, tensor('float64', new Float64Array(25), [1, 1, 5, 5])),
      'INPUT_SHAPE_MISMATCH',
      /input 'image' takes \[batch, 1, 6, 6\] and the image has shape \[1, 5, 5\]/,
    );
    await rejects(
      explainImage(model, tensor('float64', new Float64Array(72), [2, 1, 6, 6])),
      'INVALID_ARGUMENT',
      /the image must be one image/,
    );
    await rejects(
      explainImage(model, tensor('float32', new Float32Array(36), [1, 1, 6, 6])),
      'INPUT_DTYPE_MISMATCH',
      /input 'image' is float64 and the image is "float32"/,
    );
    expect(model.calls).toHaveLength(0);
  });

  it('refuses a value the model answers NaN for', async () => {
    const nanModel = functionModel(
      ({ image }) => ({ value: tensor('float64', new Float64Array(image!.shape[0]!).fill(Number.NaN)) }),
      {
        signature: {
          inputs: [{ name: 'image', dtype: 'float64', shape: ['batch', 2, 2] }],
          outputs: [{ name: 'value', dtype: 'float64', shape: ['batch'] }],
        },
      },
    );
    await rejects(
      explainImage(nanModel, [
        [1, 2],
        [3, 4],
      ]),
      'INFERENCE_FAILED',
      /output 'value' is NaN for the image;/,
    );
  });

  it('stops with ABORTED when cancelled, before or between calls', async () => {
    const before = new AbortController();
    before.abort();
    await rejects(explainImage(model, image6, { signal: before.signal }), 'ABORTED', /aborted/);
    expect(model.calls).toHaveLength(0);

    const during = new AbortController();
    const counted = weightedModel([1, 6, 6], W6);
    const stopping = functionModel(
      async (inputs) => {
        const out = await counted.predict(inputs);
        if (counted.calls.length === 2) during.abort(new Error('user left'));
        return out;
      },
      { signature: counted.signature },
    );
    await rejects(
      explainImage(stopping, image6, { patchSize: 1, batchSize: 4, signal: during.signal }),
      'ABORTED',
      /the operation was aborted: user left/,
    );
    expect(counted.calls).toHaveLength(2);
  });
});
