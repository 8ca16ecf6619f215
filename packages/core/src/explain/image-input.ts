import { describe, InputError, invalidArgument } from '../errors';
import type { Model } from '../model/model';
import { coerceInput } from '../tensor/coerce';
import { type Dim, formatShape, type TensorSpec } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';

/**
 * How an image input holds its pixels: `[batch, C, H, W]`, `[batch, H, W, C]`, `[batch, H, W]`
 * (one channel), or `[batch, C·H·W]` in CHW order (`'flat'`, as the pipeline's image layout).
 */
export type ImageLayout = 'NCHW' | 'NHWC' | 'NHW' | 'flat';

const LAYOUTS: readonly ImageLayout[] = ['NCHW', 'NHWC', 'NHW', 'flat'];
const RANKS: Record<ImageLayout, number> = { NCHW: 4, NHWC: 4, NHW: 3, flat: 2 };

/** The image input of a model and the one image explained, read against it. */
export interface ImageInput {
  spec: TensorSpec & { dtype: 'float32' | 'float64' };
  layout: ImageLayout;
  channels: number;
  height: number;
  width: number;
  /** One image's shape, without the batch dimension. */
  sample: number[];
  /** The image's values in the input's dtype and layout. */
  pixels: Float32Array | Float64Array;
  /** Images per call the model takes at most (1 when its batch dimension is fixed at 1). */
  maxBatch: number;
  /** The index of channel `c` of pixel `p` (`p = y·W + x`) in one image. */
  at(c: number, p: number): number;
}

export interface ImageInputOptions {
  input?: string;
  layout?: ImageLayout;
  height?: number;
  width?: number;
}

/** A small number in a dimension, as channel counts are (gray, RGB, RGBA). */
function channelLike(d: Dim | undefined): boolean {
  return typeof d === 'number' && d >= 1 && d <= 4;
}

/**
 * NCHW or NHWC from which of dimensions 1 and 3 looks like channels (the smaller when both do):
 * the spec's, else the image's.
 */
function rank4Layout(specDims: readonly Dim[], sample: readonly number[]): ImageLayout | undefined {
  for (const dims of [specDims, [null, ...sample]]) {
    const [first, last] = [dims[1], dims[3]];
    if (channelLike(first) && (!channelLike(last) || (first as number) < (last as number))) return 'NCHW';
    if (channelLike(last) && (!channelLike(first) || (last as number) < (first as number))) return 'NHWC';
  }
  return undefined;
}

/** Reads the model's image input and checks the image against it. */
export function imageInput(
  model: Model,
  image: unknown,
  options: ImageInputOptions,
  where: string,
): ImageInput {
  const inputs = model.signature.inputs;
  if (options.input === undefined && inputs.length !== 1)
    throw invalidArgument(
      where,
      `model '${model.name}' has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}); the image explained must be its only input`,
      options.input,
    );
  const spec = options.input === undefined ? inputs[0]! : inputs.find((i) => i.name === options.input);
  if (spec === undefined)
    throw invalidArgument(
      where,
      `input must name an input of model '${model.name}' (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
      options.input,
    );
  if (inputs.length !== 1)
    throw invalidArgument(
      where,
      `model '${model.name}' has ${inputs.length} inputs; only models whose one input is the image can be explained`,
      options.input,
    );
  const name = `input '${spec.name}'`;
  if (spec.dtype !== 'float32' && spec.dtype !== 'float64')
    throw invalidArgument(where, `${name} must be a float32 or float64 image to be occluded`, spec.dtype);
  if (options.layout !== undefined && !LAYOUTS.includes(options.layout))
    throw invalidArgument(
      where,
      `layout must be one of ${LAYOUTS.map((l) => `'${l}'`).join(', ')}`,
      options.layout,
    );
  const rank = spec.shape?.length ?? 0;
  const layoutRank = options.layout === undefined ? undefined : RANKS[options.layout];
  if (
    spec.shape === null ||
    (layoutRank ?? rank) !== rank ||
    rank < 2 ||
    rank > 4 ||
    (rank === 2 && options.layout !== 'flat')
  )
    throw invalidArgument(
      where,
      `${name} has shape ${formatShape(spec.shape)}, not an image: an image input is [batch, C, H, W], [batch, H, W, C] or [batch, H, W]${options.layout === undefined ? ", or [batch, C·H·W] with layout 'flat', height and width" : `; layout '${options.layout}' needs rank ${layoutRank}`}`,
      spec.shape === null ? undefined : formatShape(spec.shape),
    );
  const flat = rank === 2;
  if (!flat && (options.height !== undefined || options.width !== undefined))
    throw invalidArgument(
      where,
      "height and width are only given with layout 'flat' (other layouts carry them)",
      options.height ?? options.width,
    );

  const t = coerceInput(image, spec) as Tensor;
  if (typeof t !== 'object' || t === null || !Array.isArray(t.shape) || t.data === undefined)
    throw invalidArgument(
      where,
      'the image must be a tensor, a typed array or nested arrays of numbers',
      image,
    );
  const dims = spec.shape.slice(1);
  const fixed = dims.every((d) => typeof d === 'number');
  let sample: number[];
  if (t.shape.length === rank && t.shape[0] === 1) sample = t.shape.slice(1);
  else if (t.shape.length === rank - 1) sample = [...t.shape];
  else if (
    t.shape.length === 1 &&
    fixed &&
    t.data.length === dims.reduce<number>((a, d) => a * (d as number), 1)
  )
    sample = dims as number[];
  else
    throw invalidArgument(
      where,
      `the image must be one image for ${name} ${formatShape(spec.shape)}: shape [1, ${dims.map((d) => d ?? '?').join(', ')}] or [${dims.map((d) => d ?? '?').join(', ')}]`,
      formatShape(t.shape),
    );
  dims.forEach((d, i) => {
    if (typeof d === 'number' && sample[i] !== d)
      throw new InputError(
        'INPUT_SHAPE_MISMATCH',
        `${where}: ${name} takes ${formatShape(spec.shape)} and the image has shape ${formatShape(sample)}`,
        { details: { input: spec.name } },
      );
  });
  if (t.dtype !== spec.dtype)
    throw new InputError(
      'INPUT_DTYPE_MISMATCH',
      `${where}: ${name} is ${spec.dtype} and the image is ${describe(t.dtype)}`,
      { details: { input: spec.name } },
    );

  let layout: ImageLayout;
  let C: number;
  let H: number;
  let W: number;
  if (flat) {
    for (const k of ['height', 'width'] as const)
      if (!(Number.isInteger(options[k]) && options[k]! >= 1))
        throw invalidArgument(
          where,
          `${name} is flat [batch, C·H·W]: ${k} (a positive integer) is required`,
          options[k],
        );
    layout = 'flat';
    H = options.height!;
    W = options.width!;
    C = sample[0]! / (H * W);
    if (!Number.isInteger(C))
      throw invalidArgument(
        where,
        `${name} holds ${sample[0]} values per image, not a multiple of height × width = ${H * W}`,
        `${H}×${W}`,
      );
  } else if (rank === 3) {
    [layout, C, H, W] = ['NHW', 1, sample[0]!, sample[1]!];
  } else {
    const found = options.layout ?? rank4Layout(spec.shape, sample) ?? 'NCHW';
    layout = found;
    [C, H, W] =
      found === 'NHWC' ? [sample[2]!, sample[0]!, sample[1]!] : [sample[0]!, sample[1]!, sample[2]!];
  }
  if (C < 1 || H < 1 || W < 1) throw invalidArgument(where, 'the image is empty', formatShape(sample));

  const Storage = spec.dtype === 'float32' ? Float32Array : Float64Array;
  const pixels = new Storage(C * H * W);
  const data = t.data as ArrayLike<number>;
  for (let i = 0; i < pixels.length; i++) {
    const v = data[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InputError(
        'INPUT_NOT_FINITE',
        `${where}: the image's value ${i} is ${describe(v)}; pixels must be finite numbers`,
        { details: { input: spec.name, index: i } },
      );
    pixels[i] = v;
  }
  const first = spec.shape[0];
  const HW = H * W;
  return {
    spec: spec as ImageInput['spec'],
    layout,
    channels: C,
    height: H,
    width: W,
    sample,
    pixels,
    maxBatch: typeof first === 'number' ? first : Number.POSITIVE_INFINITY,
    at: layout === 'NHWC' ? (c, p) => p * C + c : (c, p) => c * HW + p,
  };
}
