/**
 * `@modelship/core/anomaly`: data-quality checks, outlier detectors (Mahalanobis, isolation
 * forest) and performance estimation without labels (CBPE, isotonic calibration). A subpath of its
 * own, so ml-matrix and these classes reach only the bundles that use them; the `InputScreen` a
 * Deployer runs is in the main entry.
 */
export {
  ESTIMATED_METRICS,
  expectedRocAuc,
  PerformanceEstimator,
  type PerformanceEstimatorJson,
  type PerformanceEstimatorOptions,
  positiveScores,
} from './cbpe';
export {
  classScores,
  type MulticlassEstimatorJson,
  MulticlassPerformanceEstimator,
  type ScoreRows,
} from './cbpe-multiclass';
export { higherQuantile, MAX_REFERENCE_SCORES } from './detector';
export { detectorFromJSON } from './from-json';
export {
  averagePathLength,
  IsolationForest,
  type IsolationForestJson,
  type IsolationForestOptions,
} from './isolation-forest';
export { type IsotonicJson, type IsotonicOptions, IsotonicRegression } from './isotonic';
export { MahalanobisDetector, type MahalanobisJson, type MahalanobisOptions } from './mahalanobis';
export type { NumericRows } from './matrix';
export {
  DataQualityChecker,
  type DataQualityOptions,
  type FeatureQualityOptions,
  QUALITY_RULES,
} from './quality';
