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
export {
  type AlertEvent,
  type AlertRule,
  Monitor,
  type MonitorEvents,
  type MonitorOptions,
  type PredictionRecord,
  type SeriesSnapshot,
} from './monitor';
export { QuantileSketch } from './sketch';
