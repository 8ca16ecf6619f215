export type { AlertEvent, AlertRule, MonitorEvents } from './alerts';
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
export type { WatchDriftOptions } from './drift-watch';
export type { HistoryPoint, SeriesHistory } from './history';
export { Monitor, type MonitorOptions } from './monitor';
export type { LivePerformance, PendingPrediction } from './outcomes';
export {
  type CategoricalFeature,
  type FeatureProfile,
  type FeatureType,
  type NumericFeature,
  Profile,
  type ProfileOptions,
} from './profile';
export type { PredictionRecord, ScreenSnapshot, SeriesSnapshot } from './series';
export { QuantileSketch } from './sketch';
