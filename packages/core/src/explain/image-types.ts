/**
 * The options and the answer of `explainImage`: types only, so the region code (image-regions.ts)
 * reads them without importing image.ts.
 */
import type { AbortSignalLike } from '../model/model';
import type { Tensor } from '../tensor/tensor';
import type { ImageLayout } from './image-input';
import type { ExplainedOutput } from './types';

export interface ExplainImageOptions extends ExplainedOutput {
  /**
   * The column of the output explained (default: the only column; column 1 for two columns;
   * above two, the class the model gives the image the highest value, so a classifier's
   * heat map explains its answer).
   */
  class?: number;
  /** The image input (default: the model's only input; models with other inputs are refused). */
  input?: string;
  /**
   * How the input holds pixels (default from its shape, else the image's: rank 4 is `'NHWC'`
   * when its last dimension looks like channels (1–4) and its second does not or is larger,
   * else `'NCHW'`; rank 3 is `'NHW'`). A rank-2 input
   * (`[batch, C·H·W]`, an MLP on pixels) is an image only with `'flat'`, `height` and `width`.
   */
  layout?: ImageLayout;
  /** Image height, for `layout: 'flat'` only. */
  height?: number;
  /** Image width, for `layout: 'flat'` only. */
  width?: number;
  /**
   * Side of the square patch occluded, or `[height, width]` (default: an eighth of the shorter
   * side, at least 1 pixel). At most the image's size.
   */
  patchSize?: number | readonly [number, number];
  /**
   * Step between patches, or `[down, across]` (default: the patch size, so patches tile the
   * image). A smaller stride overlaps patches and smooths the map at the cost of more calls.
   * A last row and column of patches always touches the bottom and right edges.
   */
  stride?: number | readonly [number, number];
  /**
   * What an occluded pixel becomes (default 0): a number, `'mean'` (each channel's mean over
   * the image: occlusion that removes detail, not brightness), one value per channel, or a
   * whole image in the input's layout (a blurred copy, say, for blurred-patch occlusion).
   */
  baseline?: number | 'mean' | ArrayLike<number>;
  /**
   * Superpixel masking instead of sliding patches: one label per pixel (`height × width`,
   * row-major, integers); each label's pixels are occluded together. Any segmentation works
   * (SLIC computed elsewhere, a grid, a face parser's parts).
   */
  segments?: ArrayLike<number>;
  /** Images per `predict` call (default: as many as fit in 2^20 values; 1 for a model whose batch is fixed at 1). */
  batchSize?: number;
  /** Stops the computation: it rejects with `ABORTED` and returns nothing computed so far. */
  signal?: AbortSignalLike;
}

/** One occluded region and how much hiding it lowered the explained value. */
export interface ImageRegion {
  /** Bounding box of the region, in pixels. */
  top: number;
  left: number;
  height: number;
  width: number;
  /** The segment's label (method `'segments'` only). */
  segment?: number;
  /** Pixels in the region. */
  pixels: number;
  /** score − the value with the region occluded: positive when the region supported the answer. */
  drop: number;
}

/** The result of `explainImage`. */
export interface ImageExplanation {
  /** `'occlusion'` (sliding patches) or `'segments'` (superpixel masking). */
  method: 'occlusion' | 'segments';
  /** The output explained and its column. */
  output: string;
  class: number;
  layout: ImageLayout;
  height: number;
  width: number;
  channels: number;
  /** The explained value for the image as given. */
  score: number;
  /**
   * `[height, width]`: each pixel's mean `drop` over the regions covering it (Captum's
   * `Occlusion`): positive where hiding the pixel lowers the value, 0 where it changes nothing.
   */
  heatmap: Tensor<'float64'>;
  /** Every region occluded, in the order evaluated (patches row by row; segments by label). */
  regions: ImageRegion[];
  /** Images evaluated: one per region, plus the image itself. */
  evaluations: number;
}
