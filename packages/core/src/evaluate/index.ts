export { type ColumnBlock, type CsvColumn, cellAt, rowAt } from './column-block';
export { type CompareModelsOptions, type ComparisonReport, compareModels, type PairedTest } from './compare';
export { CsvColumns, type CsvColumnsOptions, parseCsvColumns } from './csv-columns';
export { evaluate } from './evaluate';
export { renderComparisonHtml, renderReportHtml } from './html';
export { rowShapeOf, valuesPerRow } from './inputs';
export { type DeLongResult, delong, type McNemarResult, mcnemar } from './paired-tests';
export {
  binomialTestTwoSided,
  chiSquaredSf,
  erfc,
  gammaP,
  gammaQ,
  logGamma,
  normalCdf,
  normalQuantile,
  normalSf,
} from './special';
export { type CellValue, type CsvOptions, parseCsv, parseJsonl } from './text-formats';
export type {
  BootstrapOptions,
  CalibrationBin,
  CalibrationReport,
  ClassStats,
  Columns,
  DataOptions,
  Dataset,
  EvaluateOptions,
  EvaluateProgress,
  EvaluationReport,
  MetricName,
  MetricValue,
  OutputOptions,
  PrCurveReport,
  ResidualSummary,
  RocCurveReport,
  Row,
  ScoreKind,
  Task,
} from './types';
