/**
 * Image preprocessing for pipelines: decoded pixels in, the model's image tensor out (resize,
 * channel order, scale, mean/std normalisation, NCHW or NHWC). Decoding itself (PNG, JPEG…)
 * is platform work: the browser package decodes with `createImageBitmap`, the node package
 * decodes PNG, and anything else can be passed in as a hook.
 */
import { InputError, invalidArgument } from '../errors';
import type { Tensor } from '../tensor/tensor';

/** Decoded pixels, row-major, channels interleaved (what `ImageData`, a canvas or sharp's raw output give). */
export interface Pixels {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA); default 4, as `ImageData`. */
  channels?: 1 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray | Float32Array;
}

/**
 * Turns what a record holds for an image (bytes, a base64 string, a Blob…) into pixels.
 *
 * The pipeline cannot know what clients put in a record, so a decoder is handed the field's
 * value as it is and checks it itself (an `INPUT_INVALID` error for what it cannot read).
 * Declared with a `never` parameter so that a decoder of any parameter type fits, e.g.
 * `decodePng(png: Uint8Array | string)` from `@modelship/node`, under `strict` too.
 */
export type ImageDecoder = (value: never) => Pixels | Promise<Pixels>;

/** How an image becomes the model's input (the options of {@link image}). */
export interface ImageSpec {
  /** The model input the `[batch, …]` image tensor feeds (default: the field's name). */
  input?: string;
  /** Model input size. */
  width: number;
  height: number;
  /**
   * `'stretch'` (default) resizes to width × height; `'cover'` scales the short side to fit and
   * crops the centre (torchvision's Resize + CenterCrop); `'contain'` scales the long side to
   * fit and pads the rest with `pad` (letterboxing).
   */
  resize?: 'stretch' | 'cover' | 'contain';
  /** Output channels: `'rgb'` (default), `'bgr'` or `'gray'` (ITU-R 601 luma). Alpha is dropped. */
  channels?: 'rgb' | 'bgr' | 'gray';
  /** Multiplies raw values first (default 1/255). */
  scale?: number;
  /** Per output channel, subtracted after `scale` (default 0). */
  mean?: readonly number[];
  /** Per output channel, divided by after `mean` (default 1). */
  std?: readonly number[];
  /** `'NCHW'` (default, PyTorch), `'NHWC'` (TensorFlow) or `'flat'` (`[batch, C·H·W]` in CHW order, for MLPs). */
  layout?: 'NCHW' | 'NHWC' | 'flat';
  /** Value of letterbox padding, in output units (default 0). */
  pad?: number;
}

/** A checked spec with its defaults. */
export type ImageOptions = Required<Omit<ImageSpec, 'input'>> & { input: string | undefined };

function channelsOf(spec: ImageOptions): number {
  return spec.channels === 'gray' ? 1 : 3;
}

/** Checks an image spec (as given to `image()`, or read from pipeline JSON) and fills its defaults. */
export function checkImageSpec(given: unknown, where = 'image'): ImageOptions {
  const s = given as ImageSpec;
  if (typeof s !== 'object' || s === null) throw invalidArgument(where, 'options must be an object', given);
  for (const k of ['width', 'height'] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1 || s[k] > 16384)
      throw invalidArgument(where, `${k} must be an integer from 1 to 16384`, s[k]);
  const resize = s.resize ?? 'stretch';
  if (!['stretch', 'cover', 'contain'].includes(resize))
    throw invalidArgument(where, "resize must be 'stretch', 'cover' or 'contain'", resize);
  const channels = s.channels ?? 'rgb';
  if (!['rgb', 'bgr', 'gray'].includes(channels))
    throw invalidArgument(where, "channels must be 'rgb', 'bgr' or 'gray'", channels);
  const layout = s.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC' && layout !== 'flat')
    throw invalidArgument(where, "layout must be 'NCHW', 'NHWC' or 'flat'", layout);
  const scale = s.scale ?? 1 / 255;
  const pad = s.pad ?? 0;
  for (const [k, v] of [
    ['scale', scale],
    ['pad', pad],
  ] as const)
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw invalidArgument(where, `${k} must be a finite number`, v);
  const n = channels === 'gray' ? 1 : 3;
  const mean = s.mean ?? new Array<number>(n).fill(0);
  const std = s.std ?? new Array<number>(n).fill(1);
  if (!Array.isArray(mean) || mean.length !== n || !mean.every(Number.isFinite))
    throw invalidArgument(
      where,
      `mean must be ${n} finite number${n === 1 ? '' : 's'}, one per output channel`,
      mean,
    );
  if (!Array.isArray(std) || std.length !== n || !std.every((v) => Number.isFinite(v) && v !== 0))
    throw invalidArgument(
      where,
      `std must be ${n} finite non-zero number${n === 1 ? '' : 's'}, one per output channel`,
      std,
    );
  if (s.input !== undefined && (typeof s.input !== 'string' || s.input === ''))
    throw invalidArgument(where, 'input must name a model input', s.input);
  return {
    input: s.input,
    width: s.width,
    height: s.height,
    resize: resize as ImageOptions['resize'],
    channels: channels as ImageOptions['channels'],
    scale,
    mean: [...mean],
    std: [...std],
    layout,
    pad,
  };
}

/** True for a decoded image; `checkPixels` says what is wrong with one that is not. */
export function isPixels(v: unknown): v is Pixels {
  const p = v as Pixels;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.width === 'number' &&
    typeof p.height === 'number' &&
    ArrayBuffer.isView(p.data)
  );
}

/** Checks decoded pixels: positive integer size, 1/3/4 channels, and data of width·height·channels values. */
export function checkPixels(p: unknown, where: string): Required<Pixels> {
  if (!isPixels(p))
    throw new InputError(
      'INPUT_INVALID',
      `${where} is not decoded pixels ({ width, height, data }); pass a decoder for encoded images`,
    );
  const channels = p.channels ?? 4;
  if (!Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width < 1 || p.height < 1)
    throw new InputError(
      'INPUT_INVALID',
      `${where} is ${p.width}×${p.height}; width and height must be positive integers`,
    );
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new InputError(
      'INPUT_INVALID',
      `${where} has ${String(channels)} channels; 1, 3 or 4 are supported`,
    );
  const want = p.width * p.height * channels;
  if (p.data.length !== want)
    throw new InputError(
      'INPUT_INVALID',
      `${where} holds ${p.data.length} values; ${p.width}×${p.height}×${channels} needs ${want}`,
    );
  return { width: p.width, height: p.height, channels, data: p.data };
}

/**
 * Bilinear resize with half-pixel centres and edge clamping: onnxruntime's `Resize`
 * (mode `linear`, `half_pixel`) and OpenCV's `INTER_LINEAR` on float data, without
 * antialiasing. Returns float values, channels as in the source.
 */
export function resizeBilinear(
  src: Pixels,
  width: number,
  height: number,
): Required<Pixels> & { data: Float32Array } {
  const p = checkPixels(src, 'resizeBilinear: the image');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw invalidArgument('resizeBilinear', 'width and height must be positive integers', [width, height]);
  const c = p.channels;
  const out = new Float32Array(width * height * c);
  const axis = (size: number, inSize: number) => {
    const lo = new Int32Array(size);
    const hi = new Int32Array(size);
    const t = new Float64Array(size);
    const ratio = inSize / size;
    for (let i = 0; i < size; i++) {
      const x = Math.min(inSize - 1, Math.max(0, (i + 0.5) * ratio - 0.5));
      lo[i] = Math.floor(x);
      hi[i] = Math.min(lo[i]! + 1, inSize - 1);
      t[i] = x - lo[i]!;
    }
    return { lo, hi, t };
  };
  const xs = axis(width, p.width);
  const ys = axis(height, p.height);
  const d = p.data;
  const row = p.width * c;
  for (let y = 0; y < height; y++) {
    const r0 = ys.lo[y]! * row;
    const r1 = ys.hi[y]! * row;
    const ty = ys.t[y]!;
    for (let x = 0; x < width; x++) {
      const c0 = xs.lo[x]! * c;
      const c1 = xs.hi[x]! * c;
      const tx = xs.t[x]!;
      const at = (y * width + x) * c;
      for (let k = 0; k < c; k++) {
        const top = d[r0 + c0 + k]! + (d[r0 + c1 + k]! - d[r0 + c0 + k]!) * tx;
        const bottom = d[r1 + c0 + k]! + (d[r1 + c1 + k]! - d[r1 + c0 + k]!) * tx;
        out[at + k] = top + (bottom - top) * ty;
      }
    }
  }
  return { width, height, channels: c, data: out };
}

/** Where the resized picture lands in the output frame, and its size, for each resize mode. */
function placement(p: Pixels, spec: ImageOptions): { w: number; h: number; left: number; top: number } {
  if (spec.resize === 'stretch') return { w: spec.width, h: spec.height, left: 0, top: 0 };
  const pick = spec.resize === 'cover' ? Math.max : Math.min;
  const k = pick(spec.width / p.width, spec.height / p.height);
  const w = Math.max(1, Math.round(p.width * k));
  const h = Math.max(1, Math.round(p.height * k));
  return { w, h, left: Math.floor((spec.width - w) / 2), top: Math.floor((spec.height - h) / 2) };
}

/**
 * A batch of decoded images as the model's float32 image tensor, `[n, C, H, W]` (NCHW) or
 * `[n, H, W, C]` (NHWC): each resized as `spec.resize` says, its channels picked, then
 * `(value · scale − mean) / std` per channel. `record` numbers the images in errors.
 */
export function imageTensor(
  images: readonly unknown[],
  given: ImageSpec | ImageOptions,
  offset = 0,
): Tensor<'float32'> {
  const spec = checkImageSpec(given);
  if (!Array.isArray(images)) throw invalidArgument('imageTensor', 'images must be an array', images);
  const C = channelsOf(spec);
  const { width: W, height: H } = spec;
  const out = new Float32Array(images.length * C * H * W);
  const nchw = spec.layout !== 'NHWC';
  const padded = new Float64Array(C);
  for (let c = 0; c < C; c++) padded[c] = spec.pad;
  images.forEach((image, n) => {
    const p = checkPixels(image, `record ${offset + n}: the image`);
    const { w, h, left, top } = placement(p, spec);
    const r = resizeBilinear(p, w, h);
    const rgb = p.channels >= 3;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sy = y - top;
        const sx = x - left;
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (let c = 0; c < C; c++) {
          let v: number;
          if (!inside) v = padded[c]!;
          else {
            const at = (sy * w + sx) * p.channels;
            let raw: number;
            if (spec.channels === 'gray')
              raw = rgb
                ? 0.299 * r.data[at]! + 0.587 * r.data[at + 1]! + 0.114 * r.data[at + 2]!
                : r.data[at]!;
            else if (!rgb) raw = r.data[at]!;
            else raw = r.data[at + (spec.channels === 'bgr' ? 2 - c : c)]!;
            v = (raw * spec.scale - spec.mean[c]!) / spec.std[c]!;
          }
          const to = nchw ? ((n * C + c) * H + y) * W + x : ((n * H + y) * W + x) * C + c;
          out[to] = v;
        }
      }
    }
  });
  return {
    dtype: 'float32',
    shape:
      spec.layout === 'flat'
        ? [images.length, C * H * W]
        : nchw
          ? [images.length, C, H, W]
          : [images.length, H, W, C],
    data: out,
  };
}
