import type { Label } from '../metrics/labels';
import type { AbortSignalLike } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';

/** What a model is evaluated as: decided from its output and the labels unless given. */
export type Task = 'binary' | 'multiclass' | 'regression';

/** One example: feature columns (or model inputs by name) and the label column. */
export type Row = Record<string, unknown>;

/** A column-oriented data set: one equally long array per column. */
export type Columns = Record<string, ArrayLike<unknown>>;

/**
 * Data to evaluate on: an array of rows, an object of columns, or any iterable or async
 * iterable of rows (a CSV or JSONL file read as a stream, a database cursor). An iterable is
 * read once, batch by batch, so it need not fit in memory twice.
 */
export type Dataset = readonly Row[] | Columns | Iterable<Row> | AsyncIterable<Row>;

/** The metrics the Evaluator knows, named as the metric functions. */
export type MetricName =
  | 'accuracy'
  | 'balancedAccuracy'
  | 'precision'
  | 'recall'
  | 'f1'
  | 'matthewsCorrcoef'
  | 'cohenKappa'
  | 'rocAuc'
  | 'averagePrecision'
  | 'logLoss'
  | 'brierScore'
  | 'meanSquaredError'
  | 'meanAbsoluteError'
  | 'r2Score';

/** How model scores are read: probabilities, logits to squash, or plain ranking scores. */
export type ScoreKind = 'probabilities' | 'logits' | 'scores';

/**
 * Progress of an evaluation, reported after every batch (`predict`), as each metric is scored
 * with its analytic interval (`metrics`), and during the bootstrap (`bootstrap`).
 */
export interface EvaluateProgress {
  phase: 'predict' | 'metrics' | 'bootstrap';
  /** Rows scored so far (`predict`), metrics done (`metrics`) or resamples done (`bootstrap`). */
  done: number;
  /** Rows or resamples expected, when known. */
  total: number | undefined;
}

/** What the Evaluator needs of a pipeline: records to model inputs, errors naming the record from `offset`. */
export interface RecordTransform {
  transform(records: readonly Row[], options?: { offset?: number }): ModelInputs;
}

/** How a data set's rows become model inputs and labels. */
export interface DataOptions {
  /** The label column (default `'label'`). */
  label?: string;
  /**
   * The columns assembled, in this order, into the model's one input of shape `[batch, k]`
   * (default: every column of the first row except the label). Ignored when the rows carry
   * the model's inputs by name.
   */
  features?: readonly string[];
  /** Builds the model inputs of a batch yourself, for anything the defaults cannot express. */
  toInputs?: (rows: readonly Row[]) => ModelInputs;
  /**
   * A fitted `Pipeline` that turns each batch of rows (records, as clients send them) into the
   * model's input, so a model served with a pipeline is evaluated on the same records.
   */
  pipeline?: RecordTransform;
}

/** How model outputs become predictions. */
export interface OutputOptions {
  /**
   * The output holding scores, probabilities or regression values (default: the float output
   * whose name contains "prob", else the first float output).
   */
  output?: string;
  /** An output that holds predicted labels directly (an int64 `label` output, say). */
  labelOutput?: string;
  /** `'binary'`, `'multiclass'` or `'regression'` (default: inferred from output width and labels). */
  task?: Task;
  /** The class of each score column, in order (default `0, 1, …, k-1`; for one score column, the data's two labels). */
  classes?: readonly Label[];
  /** The positive class of a binary task (default: the greater class, as scikit-learn). */
  positiveLabel?: Label;
  /** Binary decision threshold on the positive class's score (default 0.5; 0 for logits). */
  threshold?: number;
  /** What the scores are (default: probabilities when they lie in [0, 1] and rows sum to 1, else scores). */
  scores?: ScoreKind;
  /** Averaging of precision, recall and F1 for multiclass tasks (default `'macro'`). */
  average?: 'macro' | 'weighted' | 'micro';
}

/** Bootstrap settings for confidence intervals. */
export interface BootstrapOptions {
  /** Resamples drawn (default 1000). */
  resamples?: number;
  /** Seed of the resampling generator (default 0): the same seed gives the same intervals. */
  seed?: number;
  /** Coverage of the intervals (default 0.95). */
  confidence?: number;
  /**
   * How intervals are made (default `'auto'`): `'resample'` draws `resamples` bootstrap
   * resamples of the rows (percentile intervals); `'analytic'` uses Wilson's interval for
   * proportions, DeLong's variance for ROC AUC and the delta method for the other metrics,
   * in a pass or two over the data; `'auto'` resamples up to 100,000 rows and is analytic
   * above (see docs/evaluating.md for the measurements behind the choice).
   */
  method?: 'auto' | 'resample' | 'analytic';
}

export interface EvaluateOptions extends DataOptions, OutputOptions {
  /** Metrics to compute (default: those that fit the task and the scores). */
  metrics?: readonly MetricName[];
  /** Rows per `predict` call (default: about 1 MiB of input by the model's signature, 256 to 65,536 rows). */
  batchSize?: number;
  /** Confidence intervals by bootstrap (default on), or `false` for point estimates only. */
  bootstrap?: BootstrapOptions | false;
  /** Calibration bins of equal width over [0, 1] (default 10). */
  calibrationBins?: number;
  /** Rows expected, for progress of an iterable data set whose length is unknown. */
  total?: number;
  /** Stops the evaluation: it rejects with `ABORTED`. */
  signal?: AbortSignalLike;
  onProgress?: (progress: EvaluateProgress) => void;
}

/** A metric's value and its bootstrap confidence interval. */
export interface MetricValue {
  value: number;
  /** Interval bounds; absent when the bootstrap is off or no resample could score the metric. */
  low?: number;
  high?: number;
}

/** One row of the per-class table. */
export interface ClassStats {
  label: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Samples whose true label is this class. */
  support: number;
}

/** A ROC curve of one class against the rest (the positive class for a binary task). */
export interface RocCurveReport {
  label: Label;
  fpr: number[];
  tpr: number[];
  thresholds: number[];
  auc: number;
}

/** A precision-recall curve of one class against the rest. */
export interface PrCurveReport {
  label: Label;
  precision: number[];
  recall: number[];
  thresholds: number[];
  averagePrecision: number;
}

/** One calibration bin: predicted probability against observed frequency. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  /** Samples whose predicted probability falls in the bin. */
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  meanPredicted: number;
  /** Share of those samples that were positive (binary) or correctly classified (multiclass). */
  observed: number;
}

export interface CalibrationReport {
  /** `'positive'`: the positive class's probability (binary); `'top-label'`: the highest probability (multiclass). */
  of: 'positive' | 'top-label';
  bins: CalibrationBin[];
  /** Σ count/n · |observed − meanPredicted| over the bins. */
  expectedCalibrationError: number;
}

/** Summary of regression errors. */
export interface ResidualSummary {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** The result of {@link evaluate}: plain JSON, ready to write or render. */
export interface EvaluationReport {
  model: { name: string; version: string };
  task: Task;
  samples: number;
  /** The output scored, and how its values were read. */
  output: string;
  scores: ScoreKind | 'labels';
  /** Classes in score-column order (classification). */
  classes?: Label[];
  positiveLabel?: Label;
  threshold?: number;
  average?: 'macro' | 'weighted' | 'micro';
  metrics: Partial<Record<MetricName, MetricValue>>;
  /**
   * How the intervals were made, or `null` when they were off; `method: 'analytic'` when they
   * came from theory rather than resamples (then `resamples` and `seed` were not used).
   */
  bootstrap: { resamples: number; seed: number; confidence: number; method?: 'analytic' } | null;
  perClass?: ClassStats[];
  confusion?: { labels: Label[]; matrix: number[][] };
  roc?: RocCurveReport[];
  pr?: PrCurveReport[];
  calibration?: CalibrationReport;
  residuals?: ResidualSummary;
  /** Why a metric or a part of the report was left out, in words. */
  notes: string[];
  durationMs: number;
}
