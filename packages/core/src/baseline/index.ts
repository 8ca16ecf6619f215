/**
 * `@modelship/core/baselines`: logistic and linear regression trained in TypeScript on
 * ml-matrix, decision trees and random forests, as `Model`s that export themselves to ONNX. A subpath of its own, so ml-matrix (about 20 kB gzipped) reaches only
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
export type { TreeArrays } from './cart';
export {
  DecisionTreeClassifier,
  type DecisionTreeClassifierJson,
  type DecisionTreeClassifierOptions,
  DecisionTreeRegressor,
  type DecisionTreeRegressorJson,
  type DecisionTreeRegressorOptions,
} from './decision-tree';
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
export {
  RandomForestClassifier,
  type RandomForestClassifierJson,
  type RandomForestClassifierOptions,
} from './random-forest';
export type { TreeJson, TreeOptions, TreeParams } from './tree-common';
export type { TreeOnnxOptions } from './tree-onnx';
