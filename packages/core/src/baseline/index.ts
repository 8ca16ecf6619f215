/**
 * `@modelship/core/baselines`: the classic models trained in TypeScript (logistic and linear
 * regression on ml-matrix, SGD, a linear SVM, decision trees and random forests), as `Model`s
 * that export themselves to ONNX. A subpath of its own, so ml-matrix (about 20 kB gzipped) reaches only
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
  type LinearClassifierFields,
  LinearClassifierModel,
  type OnnxExportOptions,
  type ScoreTransform,
} from './linear-classifier';
export {
  LinearRegression,
  type LinearRegressionJson,
  type LinearRegressionOptions,
} from './linear-regression';
export { type LinearRegressorFields, LinearRegressorModel } from './linear-regressor';
export { LinearSVC, type LinearSVCJson, type LinearSVCOptions } from './linear-svc';
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
export type {
  SgdClassifierLoss,
  SgdLearningRate,
  SgdOptions,
  SgdPenalty,
  SgdRegressorLoss,
} from './sgd';
export { SGDClassifier, type SGDClassifierJson, type SGDClassifierOptions } from './sgd-classifier';
export { SGDRegressor, type SGDRegressorJson, type SGDRegressorOptions } from './sgd-regressor';
export type { TreeJson, TreeOptions, TreeParams } from './tree-common';
export type { TreeOnnxOptions } from './tree-onnx';
