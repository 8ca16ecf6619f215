export { classScoreRows } from './class-scores';
export {
  type DriftMethod,
  type DriftOptions,
  type DriftReport,
  detectDrift,
  type FeatureDrift,
} from './drift';
export {
  chiSquareDrift,
  chiSquareTest,
  fillZeros,
  jensenShannonDistance,
  type KsResult,
  kolmogorovSf,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  twoProportionZTest,
  wassersteinDistance,
} from './drift-stats';
export type { HistoryPoint, SeriesHistory } from './history';
export {
  type AlertEvent,
  type AlertRule,
  type LivePerformance,
  Monitor,
  type MonitorEvents,
  type MonitorOptions,
  type PendingPrediction,
  type PredictionRecord,
  type ScreenSnapshot,
  type SeriesSnapshot,
  type WatchDriftOptions,
} from './monitor';
export {
  type CategoricalFeature,
  type FeatureProfile,
  type FeatureType,
  type NumericFeature,
  Profile,
  type ProfileOptions,
} from './profile';
export { QuantileSketch } from './sketch';
