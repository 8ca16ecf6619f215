export type { AnswerFieldSpec, RecordFieldSpec, RecordSignature } from './describe';
export {
  checkImageSpec,
  type ImageDecoder,
  type ImageSpec,
  imageTensor,
  isPixels,
  type Pixels,
  resizeBilinear,
} from './images';
export {
  argmax,
  type OutputLabel,
  type OutputSpec,
  parseLabels,
  sigmoid,
  softmax,
  threshold,
  topK,
  value,
} from './outputs';
export { Pipeline, type PipelineJson, type PipelineRecord, type PipelineSpec } from './pipeline';
export {
  bucketize,
  clip,
  type FieldValue,
  type FittedTransform,
  hash,
  impute,
  log,
  minMax,
  oneHot,
  ordinal,
  robustScale,
  standardize,
  type TransformSpec,
} from './transforms';
export { type Answer, PipelineModel, type WrapOptions, type WrappedPipeline } from './wrap';
