/**
 * The shapes a pipeline is made from and saved as: the spec `Pipeline.fit` takes, the JSON
 * `toJSON` writes, and the record a client sends. Types only, so describe.ts and wrap.ts read
 * them without importing the Pipeline class.
 */
import type { ImageOptions, ImageSpec } from './images';
import type { OutputLabel, OutputSpec } from './outputs';
import type { FittedTransform, TransformSpec } from './transforms';

/** A record, as a client sends it: field name to value. */
export type PipelineRecord = Readonly<Record<string, unknown>>;

export interface PipelineSpec {
  /** Transforms per field, applied in order; `[]` passes a numeric field through. */
  features?: Readonly<Record<string, TransformSpec | readonly TransformSpec[]>>;
  /**
   * Image fields: each becomes its own float32 model input (`[batch, C, H, W]` or NHWC),
   * resized and normalised as its {@link ImageSpec} says. Records hold decoded pixels, or
   * anything the wrapped model's `decodeImage` hook decodes.
   */
  images?: Readonly<Record<string, ImageSpec>>;
  /** The model input the assembled `[batch, k]` float32 tensor feeds (default `'features'`). */
  input?: string;
  /**
   * Answer fields from model outputs, for {@link Pipeline.wrap}: a bare string copies that
   * output, or an output transform (`threshold`, `argmax`, `topK`, `softmax`, `sigmoid`).
   * Default: every model output, as it is.
   */
  output?: Readonly<Record<string, string | OutputSpec>>;
  /** Class labels for `argmax` and `topK` that give none (as read from a labels file by `parseLabels`). */
  labels?: readonly OutputLabel[];
  /**
   * Let records served through {@link Pipeline.wrap} carry fields the pipeline does not read,
   * which are then ignored (default false: such a record is refused, naming the fields, since a
   * misspelt field would otherwise be imputed or missed without a word).
   */
  allowExtraFields?: boolean;
}

/** The serialised form of a pipeline. */
export interface PipelineJson {
  format: 'modelship-pipeline';
  version: 1;
  input: string;
  columns: { field: string; transforms: FittedTransform[] }[];
  output?: Record<string, string | OutputSpec>;
  labels?: OutputLabel[];
  images?: Record<string, ImageOptions>;
  allowExtraFields?: true;
}
