export {
  ESTIMATED_METRICS,
  type EstimatedMetric,
  expectedRocAuc,
  type MetricEstimate,
  type PerformanceEstimate,
  PerformanceEstimator,
  type PerformanceEstimatorJson,
  type PerformanceEstimatorOptions,
  positiveScores,
} from './cbpe';
export {
  type DetectorJsonBase,
  higherQuantile,
  MAX_REFERENCE_SCORES,
  type OutlierDetector,
} from './detector';
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
  type QualityFinding,
  type QualityMode,
  type QualityRule,
} from './quality';
export {
  flaggedSummary,
  InputRejectedError,
  InputScreen,
  type InputScreenOptions,
  type OutlierScore,
  type OutlierScreenOptions,
  type ScreenMode,
  type ScreenReport,
} from './screen';
