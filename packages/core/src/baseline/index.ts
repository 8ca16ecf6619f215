/**
 * `@modelship/core/baselines`: logistic and linear regression trained in TypeScript on
 * ml-matrix, as `Model`s. A subpath of its own, so ml-matrix (about 20 kB gzipped) reaches only
 * the bundles that train or load a baseline.
 */

export {
  encodeOnnxModel,
  type OnnxAttributeValue,
  type OnnxElementType,
  type OnnxModelSpec,
  type OnnxNodeSpec,
  type OnnxTensorSpec,
  type OnnxValueSpec,
} from '../load/onnx-writer';
export type { DesignMatrix } from './design';
export {
  LinearRegression,
  type LinearRegressionJson,
  type LinearRegressionOptions,
} from './linear-regression';
export { baselineFromJSON } from './load';
export {
  type ClassLabel,
  LogisticRegression,
  type LogisticRegressionJson,
  type LogisticRegressionOptions,
} from './logistic-regression';
