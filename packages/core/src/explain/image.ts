import { invalidArgument, ModelshipError } from '../errors';
import { checkOptions } from '../metrics/labels';
import { throwIfAborted } from '../model/abort';
import type { Model } from '../model/model';
import type { TensorInput } from '../tensor/coerce';
import { checkRunOptions, explainedOutput, outputRows } from './batches';
import { imageInput } from './image-input';
import { baselineImage, forEachPixel, patches, segmentRegions } from './image-regions';
import type { ExplainImageOptions, ImageExplanation } from './image-types';

export type { ImageLayout } from './image-input';
export type { ExplainImageOptions, ImageExplanation, ImageRegion } from './image-types';

/** Values per `predict` call by default: as many images as fit in 2^20 values (4 MiB of float32). */
const VALUES_PER_CALL = 2 ** 20;

const OPTIONS = [
  'input',
  'layout',
  'height',
  'width',
  'patchSize',
  'stride',
  'baseline',
  'segments',
  'output',
  'class',
  'batchSize',
  'signal',
];

/**
 * Which pixels of an image drove a model's answer, by occlusion: each patch (or segment) is
 * replaced by a baseline in turn and the drop of the explained value is its attribution
 * (Zeiler & Fergus's occlusion, Captum's `Occlusion`). Black-box: the occluded images are
 * stacked into a few batched `predict` calls written into one reused buffer, so it works for
 * every image `Model`, ONNX or not, in Node, a page or a worker.
 *
 * @example
 * const ex = await explainImage(model, image, { patchSize: 16, stride: 8 });
 * ex.heatmap;            // [H, W]: where hiding the pixels lowered the class's probability
 * ex.regions[0].drop;    // the first patch's own drop
 */
export async function explainImage(
  model: Model,
  image: TensorInput,
  options: ExplainImageOptions = {},
): Promise<ImageExplanation> {
  const where = 'explainImage';
  if (typeof options !== 'object' || options === null)
    throw invalidArgument(where, 'options must be an object', options);
  checkOptions(where, options, OPTIONS);
  checkRunOptions(model, options, where);
  const img = imageInput(model, image, options, where);
  const { height: H, width: W, channels: C, pixels } = img;
  const segmented = options.segments !== undefined;
  if (segmented && (options.patchSize !== undefined || options.stride !== undefined))
    throw invalidArgument(
      where,
      'patchSize and stride are for patches; with segments, the segments are the regions',
      options.patchSize ?? options.stride,
    );
  const regions = segmented ? segmentRegions(img, options.segments!, where) : patches(img, options, where);
  const base = baselineImage(img, options.baseline, where);
  const output = explainedOutput(model, options.output, where);
  if (img.maxBatch !== Number.POSITIVE_INFINITY && img.maxBatch !== 1)
    throw invalidArgument(
      where,
      `input '${img.spec.name}' has a fixed batch of ${img.maxBatch}; one image at a time needs a batch dimension or a batch of 1`,
      img.maxBatch,
    );
  const size = pixels.length;
  const total = regions.length + 1;
  const batch = Math.min(
    total,
    img.maxBatch,
    options.batchSize ?? Math.max(1, Math.floor(VALUES_PER_CALL / size)),
  );

  let column = options.class;
  let score = Number.NaN;
  const Storage = img.spec.dtype === 'float32' ? Float32Array : Float64Array;
  let buffer: Float32Array | Float64Array | undefined;
  for (let start = 0; start < total; start += batch) {
    throwIfAborted(options.signal);
    const n = Math.min(batch, total - start);
    // a worker pool may transfer (detach) the buffer it was given: make a new one then
    if (buffer === undefined || buffer.length < n * size) buffer = new Storage(batch * size);
    const b = buffer;
    for (let r = 0; r < n; r++) {
      const at = r * size;
      b.set(pixels, at);
      const region = regions[start + r - 1];
      if (region !== undefined)
        forEachPixel(region, W, (p) => {
          for (let c = 0; c < C; c++) {
            const i = img.at(c, p);
            b[at + i] = base[i]!;
          }
        });
    }
    const inputs = {
      [img.spec.name]: { dtype: img.spec.dtype, shape: [n, ...img.sample], data: b.subarray(0, n * size) },
    };
    const out = await model.predict(inputs, { signal: options.signal, outputs: [output] });
    const { data, width } = outputRows(out, output, n, where);
    if (column === undefined) column = width === 1 ? 0 : width === 2 ? 1 : argmax(data, width);
    if (column >= width)
      throw invalidArgument(
        where,
        `class must be below ${width}, the values per image of output '${output}'`,
        column,
      );
    for (let r = 0; r < n; r++) {
      const value = Number(data[r * width + column]);
      const i = start + r;
      if (!Number.isFinite(value))
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `${where}: output '${output}' is ${value} for ${i === 0 ? 'the image' : `the image with region ${i - 1} occluded`}; only finite values can be compared`,
        );
      if (i === 0) score = value;
      else regions[i - 1]!.drop = score - value;
    }
  }
  throwIfAborted(options.signal);

  const sum = new Float64Array(H * W);
  const count = new Float64Array(H * W);
  for (const region of regions)
    forEachPixel(region, W, (p) => {
      sum[p] = sum[p]! + region.drop;
      count[p] = count[p]! + 1;
    });
  for (let p = 0; p < sum.length; p++) if (count[p]! > 0) sum[p] = sum[p]! / count[p]!;
  return {
    method: segmented ? 'segments' : 'occlusion',
    output,
    class: column!,
    layout: img.layout,
    height: H,
    width: W,
    channels: C,
    score,
    heatmap: { dtype: 'float64', shape: [H, W], data: sum },
    regions: regions.map(({ list: _, ...region }) => region),
    evaluations: total,
  };
}

/** The column of the first row with the highest value. */
function argmax(data: ArrayLike<number | bigint | boolean>, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (Number(data[j]) > Number(data[best])) best = j;
  return best;
}
