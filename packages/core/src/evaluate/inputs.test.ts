import { describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { detectDrift } from '../monitor/drift';
import { Monitor } from '../monitor/monitor';
import { Profile } from '../monitor/profile';
import type { Dim } from '../tensor/spec';
import { type Tensor, tensor } from '../tensor/tensor';
import { addNoise, scale, shift } from '../testing/transforms';
import { evaluate } from './evaluate';
import { rowShapeOf } from './inputs';
import type { Row } from './types';

/**
 * A 2×2 "image" classifier on a [batch, 1, 2, 2] input: p = sigmoid(top row − bottom row).
 * It keeps the shapes and values it was called with, so the tests see how rows filled it.
 */
function imageModel(shape: Dim[] | null = ['batch', 1, 2, 2]) {
  const seen: Tensor[] = [];
  const model = functionModel(
    ({ image }) => {
      seen.push(image!);
      const x = image!.data as Float32Array;
      const n = image!.shape[0]!;
      const p = new Float32Array(n);
      for (let i = 0; i < n; i++)
        p[i] = 1 / (1 + Math.exp(-(x[4 * i]! + x[4 * i + 1]! - x[4 * i + 2]! - x[4 * i + 3]!)));
      return { probability: tensor('float32', p) };
    },
    {
      name: 'image',
      signature: {
        inputs: [{ name: 'image', dtype: 'float32', shape }],
        outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
  return { model, seen };
}

// Pixels p0..p3 in row-major order: (0,0), (0,1), (1,0), (1,1).
const rows: Row[] = [
  { p0: 3, p1: 2, p2: 0, p3: 1, label: 1 },
  { p0: 0, p1: 1, p2: 4, p3: 2, label: 0 },
  { p0: 1, p1: 1, p2: 0, p3: 0, label: 0 },
  { p0: 0, p1: 0, p2: 1, p3: 2, label: 0 },
  { p0: 5, p1: 0, p2: 0, p3: 0, label: 1 },
];
const pixels = (r: Row) => [r.p0, r.p1, r.p2, r.p3] as number[];

/** The promise rejects with a ModelshipError of this code whose message matches. */
async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await expect(p).rejects.toSatisfy(
    (e: unknown) => ModelshipError.isInstance(e) && e.code === code && message.test(e.message),
  );
}

describe('rowShapeOf', () => {
  it('fills fixed per-row dimensions, or the free width of a [batch, k] input', () => {
    const spec = (shape: Dim[] | null) => ({ name: 'x', dtype: 'float32' as const, shape });
    expect(rowShapeOf(spec(['batch', 1, 8, 8]), 64)).toEqual([1, 8, 8]);
    expect(rowShapeOf(spec([null, 3, 2, 2]), 12)).toEqual([3, 2, 2]);
    expect(rowShapeOf(spec(['batch', 12]), 12)).toEqual([12]);
    expect(rowShapeOf(spec(['batch', 'k']), 7)).toEqual([7]);
    expect(rowShapeOf(spec(['batch']), 1)).toEqual([]);
    expect(rowShapeOf(spec(['batch', 1, 8, 8]), 63)).toBeUndefined();
    expect(rowShapeOf(spec(['batch', 1, 'h', 'w']), 64)).toBeUndefined();
    expect(rowShapeOf(spec(['batch']), 2)).toBeUndefined();
    expect(rowShapeOf(spec([]), 1)).toBeUndefined();
    expect(rowShapeOf(spec(null), 4)).toBeUndefined();
  });
});

describe('rows into a rank-4 image input', () => {
  it('feature columns fill [batch, 1, 2, 2] in row-major order', async () => {
    const { model, seen } = imageModel();
    const report = await evaluate(model, rows, { bootstrap: false, batchSize: 2 });
    expect(seen.map((t) => t.shape)).toEqual([
      [2, 1, 2, 2],
      [2, 1, 2, 2],
      [1, 1, 2, 2],
    ]);
    expect(Array.from(seen[0]!.data as Float32Array)).toEqual([3, 2, 0, 1, 0, 1, 4, 2]);
    // Row 2 (1 + 1 − 0 − 0 > 0) is predicted 1 against label 0; the rest are right.
    expect(report.samples).toBe(5);
    expect(report.metrics.accuracy!.value).toBe(0.8);
    expect(report.confusion!.matrix).toEqual([
      [2, 1],
      [0, 2],
    ]);
  });

  it("a row's flat array, or nested array, under the input's name fills it the same way", async () => {
    const byColumns = await evaluate(imageModel().model, rows, { bootstrap: false });
    const flat = imageModel();
    const flatReport = await evaluate(
      flat.model,
      rows.map((r) => ({ image: pixels(r), label: r.label })),
      { bootstrap: false },
    );
    expect(flat.seen[0]!.shape).toEqual([5, 1, 2, 2]);
    const nested = imageModel();
    const nestedReport = await evaluate(
      nested.model,
      rows.map((r) => {
        const p = pixels(r);
        return { image: [[p.slice(0, 2), p.slice(2)]], label: r.label };
      }),
      { bootstrap: false },
    );
    expect(nested.seen[0]!.shape).toEqual([5, 1, 2, 2]);
    expect(Array.from(nested.seen[0]!.data as Float32Array)).toEqual(rows.flatMap(pixels));
    expect(flatReport.metrics).toEqual(byColumns.metrics);
    expect(nestedReport.metrics).toEqual(byColumns.metrics);
  });

  it('what cannot fit is DATASET_INVALID naming the input, its shape and the count', async () => {
    await rejects(
      evaluate(
        imageModel().model,
        rows.map((r) => ({ ...r, p4: 0 })),
      ),
      'DATASET_INVALID',
      /model input 'image' has shape \[batch, 1, 2, 2\] and takes 4 values per row but the data set has 5 feature columns \('p0', 'p1', 'p2', 'p3', 'p4'\)/,
    );
    await rejects(
      evaluate(imageModel(['batch', 1, 'h', 'w']).model, rows),
      'DATASET_INVALID',
      /model input 'image' has shape \[batch, 1, h, w\]; 4 feature columns cannot fill it \(its dimensions after the first are not all fixed\)/,
    );
    await rejects(
      evaluate(imageModel(null).model, rows),
      'DATASET_INVALID',
      /model input 'image' has shape \[\*\]; 4 feature columns cannot fill it \(its rank is unknown\)/,
    );
    await rejects(
      evaluate(
        imageModel().model,
        rows.map((r, i) => ({ image: i === 0 ? [...pixels(r), 9] : pixels(r), label: r.label })),
      ),
      'DATASET_INVALID',
      /row 0, input 'image' has 5 values \(shape \[5\]\); model input 'image' has shape \[batch, 1, 2, 2\] and takes 4 values per row/,
    );
    await rejects(
      evaluate(
        imageModel().model,
        rows.map((r, i) => ({ image: i === 3 ? [pixels(r)] : pixels(r), label: r.label })),
      ),
      'DATASET_INVALID',
      /row 3, input 'image' has shape \[1, 4\]; row 0 had \[4\]/,
    );
  });
});

describe('row transforms on image rows', () => {
  it('addNoise, shift and scale reach every element of an array column, nesting kept', () => {
    const images = rows.map((r) => {
      const p = pixels(r);
      return { image: [[p.slice(0, 2), p.slice(2)]], flat: Float32Array.from(p), label: r.label };
    });
    const shifted = shift('image', 1)(images);
    expect(shifted[0]!.image).toEqual([
      [
        [4, 3],
        [1, 2],
      ],
    ]);
    const scaled = scale('flat', 2)(images);
    expect(scaled[1]!.flat).toBeInstanceOf(Float32Array);
    expect(Array.from(scaled[1]!.flat as Float32Array)).toEqual([0, 2, 8, 4]);
    const noisy = addNoise(0.5, { seed: 1 })(images);
    const moved = (noisy[0]!.image as number[][][]).flat(2);
    expect(moved).toHaveLength(4);
    expect(moved.every((v, i) => v !== pixels(rows[0]!)[i])).toBe(true);
    expect(noisy[0]!.label).toBe(1);
    expect(() => shift('image', 1)([{ image: ['a'] }])).toThrow(/column 'image' must hold numbers/);
  });
});

describe('drift on image inputs', () => {
  it("rows carrying the image under the input's name profile and drift as one feature per pixel", () => {
    const asImages = rows.map((r) => ({ image: pixels(r), label: r.label }));
    const profile = Profile.fromDataset(asImages, { exclude: ['label'] });
    expect(profile.features.map((f) => [f.name, f.type, f.count])).toEqual([
      ['image[0]', 'numeric', 5],
      ['image[1]', 'numeric', 5],
      ['image[2]', 'numeric', 5],
      ['image[3]', 'numeric', 5],
    ]);
    // The same statistics as the pixel columns give.
    const byColumns = Profile.fromDataset(rows, { exclude: ['label'] });
    expect(profile.features.map((f) => (f.type === 'numeric' ? f.mean : Number.NaN))).toEqual(
      byColumns.features.map((f) => (f.type === 'numeric' ? f.mean : Number.NaN)),
    );
    // Nested [1][2][2] images read the same, in row-major order.
    const nested = asImages.map((r) => ({ image: [[r.image.slice(0, 2), r.image.slice(2)]] }));
    const same = detectDrift(profile, nested);
    expect(same.features.map((f) => [f.feature, f.count])).toEqual([
      ['image[0]', 5],
      ['image[1]', 5],
      ['image[2]', 5],
      ['image[3]', 5],
    ]);
    expect(same.driftedFeatures).toBe(0);
    // Records sent to a pipeline server carry the image the same way.
    const monitor = new Monitor();
    monitor.watchDrift('image', profile, { records: true });
    monitor.observeRecords('image', asImages);
    const live = monitor.drift('image');
    expect(live.currentRows).toBe(5);
    expect(live.features.map((f) => f.count)).toEqual([5, 5, 5, 5]);
  });

  it('a Monitor reads each image row as its pixel columns, from tensors and nested arrays', async () => {
    const profile = Profile.fromDataset(rows, { exclude: ['label'] });
    expect(profile.features.map((f) => f.name)).toEqual(['p0', 'p1', 'p2', 'p3']);
    const deployer = new Deployer();
    const monitor = new Monitor();
    monitor.attach(deployer);
    monitor.watchDrift('image', profile);
    try {
      await deployer.deploy('image', imageModel().model, { warmup: false });
      const nested = rows.map((r) => {
        const p = pixels(r);
        return [p.slice(0, 2), p.slice(2)];
      });
      // Nested arrays, as predict takes them: [5][1][2][2].
      await deployer.predict('image', { image: nested.map((img) => [img]) });
      // A tensor of the same rows.
      await deployer.predict('image', {
        image: tensor('float32', rows.flatMap(pixels), [5, 1, 2, 2]),
      });
      const report = monitor.drift('image');
      expect(report.currentRows).toBe(10);
      expect(report.features.map((f) => [f.feature, f.type, f.count])).toEqual([
        ['p0', 'numeric', 10],
        ['p1', 'numeric', 10],
        ['p2', 'numeric', 10],
        ['p3', 'numeric', 10],
      ]);
      // The same rows twice over: nothing drifted.
      expect(report.driftedFeatures).toBe(0);
    } finally {
      await deployer.close();
    }
  });
});
