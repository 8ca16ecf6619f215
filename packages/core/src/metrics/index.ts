export {
  type AccuracyOptions,
  type Average,
  accuracy,
  balancedAccuracy,
  type ConfusionMatrixOptions,
  cohenKappa,
  confusionMatrix,
  f1,
  fbeta,
  matthewsCorrcoef,
  precision,
  recall,
  type SetWiseOptions,
  type ZeroDivision,
} from './classification';
export { type CurveOptions, precisionRecallCurve, rocCurve } from './curves';
export type { Label, LabelArray, Weights } from './labels';
export { brierScore, logLoss, topKAccuracy } from './probabilistic';
export { averagePrecision, type RocAucOptions, rocAuc, type ScoreMatrix } from './ranking';
export { meanAbsoluteError, meanSquaredError, r2Score } from './regression';
