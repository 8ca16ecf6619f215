/**
 * Screening requests before they reach a model: data-quality findings from a reference profile
 * and outlier scores from a fitted detector, each counted, flagged in the answer, or refused.
 * A Deployer runs a deployment's screen on every request (`deployer.screen(name, screen)`),
 * counts what it found per version for guards and the Monitor, and hands the report to the
 * caller (`onScreen`), which a server turns into a response parameter and header.
 */
import { InputError, invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import { inputRows } from '../monitor/tensor-rows';
import type { ModelInputs } from '../tensor/coerce';
import { type PerformanceEstimator, positiveScores } from './cbpe';
import { classScores, type MulticlassPerformanceEstimator } from './cbpe-multiclass';
import type { OutlierDetector } from './detector';
import { readVector } from './matrix';
import type { DataQualityChecker, QualityFinding } from './quality';

export type ScreenMode = 'count' | 'flag' | 'reject';

export interface OutlierScreenOptions {
  detector: OutlierDetector;
  /** What an outlier does (default `count`). A detector without a threshold only scores. */
  mode?: ScreenMode;
  /** Share of requests scored, in (0, 1] (default 1). */
  sampleRate?: number;
}

export interface InputScreenOptions {
  /** Data-quality checks (their modes are per feature, set on the checker). */
  quality?: DataQualityChecker;
  outliers?: OutlierScreenOptions;
  /**
   * The feature each value of a tensor row stands for, in order, for requests that come as
   * tensors rather than records (default: the detector's features, else the profile's).
   */
  features?: readonly string[];
  /** The input whose rows are screened (default: the model's only input, else the first). */
  input?: string;
  /**
   * The checks are of records (the raw fields a pipeline takes), not of a tensor's columns:
   * only requests that come with their `records` are screened (default false).
   */
  records?: boolean;
  /** Source of randomness for `sampleRate` (default Math.random). */
  random?: () => number;
  /**
   * Estimates each version's accuracy from its answers, before labels arrive (CBPE): the
   * deployment counts the expected share of correct answers per version, which the guard
   * `minEstimatedAccuracy` judges. `output` names the probability output (see `positiveScores`).
   */
  performance?: { estimator: PerformanceEstimator | MulticlassPerformanceEstimator; output?: string };
}

/** One record the outlier detector scored. */
export interface OutlierScore {
  record: number;
  score: number;
  /** True when the score reached the detector's threshold. */
  outlier: boolean;
}

/** What screening one request found. */
export interface ScreenReport {
  /** Records (rows) in the request. */
  records: number;
  /** Data-quality findings, in record and feature order. */
  findings: QualityFinding[];
  /** Records with at least one finding. */
  violatingRecords: number;
  /** Outlier scores, when the request was scored. */
  scores: OutlierScore[];
  /** Records whose score reached the threshold. */
  outliers: number;
  /** True when a finding or an outlier asks to be flagged in the answer. */
  flag: boolean;
  /** What an outlier does in this screen (undefined without a detector). */
  outlierMode: ScreenMode | undefined;
}

/**
 * What an answer carries when a screen flags it: the findings in `flag` mode and, when outliers
 * are flagged, the records at or above the threshold with their scores. A server puts it in
 * the response's `parameters.screen` (Open Inference Protocol) or `screen` (records).
 */
export function flaggedSummary(report: ScreenReport): {
  findings: Omit<QualityFinding, 'mode'>[];
  outliers: { record: number; score: number }[];
} {
  return {
    findings: report.findings
      .filter((f) => f.mode === 'flag')
      .map(({ record, feature, rule, value, expected }) => ({ record, feature, rule, value, expected })),
    outliers:
      report.outlierMode === 'flag'
        ? report.scores.filter((s) => s.outlier).map(({ record, score }) => ({ record, score }))
        : [],
  };
}

const MODES: readonly ScreenMode[] = ['count', 'flag', 'reject'];

/** Raised by a screen in `reject` mode; servers answer it with 400. */
export class InputRejectedError extends InputError {
  constructor(
    message: string,
    readonly report: ScreenReport,
  ) {
    super('INPUT_REJECTED', message, {
      details: { findings: report.findings.filter((f) => f.mode === 'reject'), outliers: report.outliers },
    });
    this.name = 'InputRejectedError';
  }
}

export class InputScreen {
  readonly quality: DataQualityChecker | undefined;
  readonly detector: OutlierDetector | undefined;
  readonly outlierMode: ScreenMode;
  readonly sampleRate: number;
  readonly features: readonly string[];
  readonly input: string | undefined;
  readonly records: boolean;
  readonly performance:
    | { estimator: PerformanceEstimator | MulticlassPerformanceEstimator; output?: string }
    | undefined;
  private readonly random: () => number;
  /** For tensor rows: where the checked features and the detector's features sit in a row. */
  private qualityColumns: Int32Array | undefined;
  private detectorColumns: Int32Array | undefined;
  /** The rows a request's detector features are read into and their scores, grown as requests need. */
  private values = new Float64Array(0);
  private scored = new Float64Array(0);

  constructor(options: InputScreenOptions) {
    const where = 'InputScreen';
    if (typeof options !== 'object' || options === null)
      throw invalidArgument(where, 'options must be an object', options);
    const { quality, outliers, performance } = options;
    if (quality === undefined && outliers === undefined && performance === undefined)
      throw invalidArgument(where, 'give quality, outliers, performance or several', options);
    if (performance !== undefined && typeof performance?.estimator?.estimate !== 'function')
      throw invalidArgument(
        where,
        'performance.estimator must be a fitted PerformanceEstimator',
        performance,
      );
    this.performance = performance;
    if (quality !== undefined && typeof (quality as Partial<DataQualityChecker>).check !== 'function')
      throw invalidArgument(where, 'quality must be a DataQualityChecker', quality);
    if (outliers !== undefined) {
      if (
        typeof outliers !== 'object' ||
        outliers === null ||
        typeof outliers.detector?.score !== 'function' ||
        typeof outliers.detector.scoreRows !== 'function'
      )
        throw invalidArgument(
          where,
          'outliers.detector must be a fitted detector (score, scoreRows)',
          outliers,
        );
      if (outliers.mode !== undefined && !MODES.includes(outliers.mode))
        throw invalidArgument(where, `outliers.mode must be one of ${MODES.join(', ')}`, outliers.mode);
      if ((outliers.mode ?? 'count') !== 'count' && outliers.detector.threshold === undefined)
        throw invalidArgument(
          where,
          `outliers.mode '${outliers.mode}' needs a detector with a threshold (inferThreshold)`,
          outliers.mode,
        );
      const rate = outliers.sampleRate ?? 1;
      if (!(typeof rate === 'number' && rate > 0 && rate <= 1))
        throw invalidArgument(where, 'outliers.sampleRate must lie in (0, 1]', rate);
    }
    this.quality = quality;
    this.detector = outliers?.detector;
    this.outlierMode = outliers?.mode ?? 'count';
    this.sampleRate = outliers?.sampleRate ?? 1;
    this.features =
      options.features ?? this.detector?.features ?? quality?.profile.features.map((f) => f.name) ?? [];
    if (!Array.isArray(this.features) || this.features.some((f) => typeof f !== 'string'))
      throw invalidArgument(where, 'features must be an array of names', this.features);
    if (this.detector !== undefined) {
      const missing = this.detector.features.filter((f) => !this.features.includes(f));
      if (options.features !== undefined && missing.length > 0)
        throw invalidArgument(
          where,
          `the detector's features ${missing.join(', ')} are not among features`,
          options.features,
        );
    }
    this.qualityColumns = quality?.columnsOf(this.features);
    if (this.detector !== undefined) {
      const at = new Map(this.features.map((f, i) => [f, i]));
      this.detectorColumns = Int32Array.from(this.detector.features, (f) => at.get(f) ?? -1);
    }
    if (options.input !== undefined && typeof options.input !== 'string')
      throw invalidArgument(where, 'input must be an input name', options.input);
    this.input = options.input;
    if (options.records !== undefined && typeof options.records !== 'boolean')
      throw invalidArgument(where, 'records must be a boolean', options.records);
    this.records = options.records === true;
    this.random = options.random ?? Math.random;
  }

  /**
   * Screens a request: its `records` (field → value, as a pipeline receives them) when given,
   * else the rows of its tensor input read in `features` order. Throws `INPUT_REJECTED` when a
   * finding or an outlier is in `reject` mode; returns the report otherwise.
   */
  screen(inputs: ModelInputs | undefined, records?: readonly Row[]): ScreenReport {
    let n: number;
    let findings: QualityFinding[];
    /** Writes record r's detector features into `into` from `at` (NaN where one cannot be read). */
    let read: (r: number, into: Float64Array, at: number) => void;
    const det = this.detector;
    if (records !== undefined) {
      if (!Array.isArray(records))
        throw invalidArgument('InputScreen.screen', 'records must be an array', records);
      n = records.length;
      findings = this.quality?.check(records) ?? [];
      read = (r, into, at) => {
        const record = records[r];
        // a record the detector cannot read scores NaN: its quality findings say why
        if (
          typeof record !== 'object' ||
          record === null ||
          readVector(record, det!.features, into, at) !== undefined
        )
          into[at] = Number.NaN;
      };
    } else if (this.records) {
      // checks of raw fields cannot read an encoded tensor: a request without records is not screened
      n = 0;
      findings = [];
      read = () => {};
    } else {
      const { data, rows, width } = inputRows(inputs, this.input);
      n = rows;
      findings = this.quality?.checkFlat(data, rows, width, this.qualityColumns!) ?? [];
      read = (r, into, at) => {
        const columns = this.detectorColumns!;
        for (let j = 0; j < columns.length; j++) {
          const c = columns[j]!;
          const v = c < 0 || c >= width ? Number.NaN : data[r * width + c];
          into[at + j] = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN;
        }
      };
    }
    let violating = 0;
    let flag = false;
    let reject: QualityFinding | undefined;
    let last = -1;
    for (const f of findings) {
      if (f.record !== last) {
        violating++;
        last = f.record;
      }
      if (f.mode === 'flag') flag = true;
      else if (f.mode === 'reject') reject ??= f;
    }
    const scores: OutlierScore[] = [];
    let outliers = 0;
    if (det !== undefined && (this.sampleRate >= 1 || this.random() < this.sampleRate)) {
      const threshold = det.threshold;
      // the request's rows scored together (an isolation forest walks them tree by tree)
      const d = det.features.length;
      if (this.values.length < n * d) this.values = new Float64Array(n * d);
      if (this.scored.length < n) this.scored = new Float64Array(n);
      for (let r = 0; r < n; r++) read(r, this.values, r * d);
      const all = det.scoreRows(this.values, n, this.scored);
      for (let r = 0; r < n; r++) {
        const s = all[r]!;
        if (Number.isNaN(s)) continue;
        const outlier = threshold !== undefined && s >= threshold;
        if (outlier) outliers++;
        scores.push({ record: r, score: s, outlier });
      }
      if (outliers > 0 && this.outlierMode === 'flag') flag = true;
    }
    const report: ScreenReport = {
      records: n,
      findings,
      violatingRecords: violating,
      scores,
      outliers,
      flag,
      outlierMode: det === undefined ? undefined : this.outlierMode,
    };
    if (reject !== undefined)
      throw new InputRejectedError(
        `record ${reject.record}, field '${reject.feature}': ${reject.rule.replaceAll('_', ' ')} (received ${show(reject.value)}, expected ${reject.expected})`,
        report,
      );
    if (outliers > 0 && this.outlierMode === 'reject') {
      const first = scores.find((s) => s.outlier)!;
      throw new InputRejectedError(
        `record ${first.record} is an outlier: ${det!.kind} score ${Number(first.score.toPrecision(4))} reaches the threshold ${Number(det!.threshold!.toPrecision(4))}`,
        report,
      );
    }
    return report;
  }

  /**
   * The expected number of correct answers among a response's rows and the rows counted (CBPE's
   * expected accuracy, summed), or undefined without an estimator or a readable probability output.
   */
  expectedCorrect(outputs: unknown): { correct: number; rows: number } | undefined {
    const perf = this.performance;
    if (perf === undefined) return undefined;
    const est = perf.estimator;
    if ('classes' in est) {
      const k = est.classes;
      const scores = classScores(outputs, k, perf.output);
      const n = scores.length / k;
      if (n === 0) return undefined;
      const c = est.calibrate({ data: scores, shape: [n, k] });
      let correct = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (scores[i * k + j]! > scores[i * k + best]!) best = j;
        correct += c[i * k + best]!;
      }
      return { correct, rows: n };
    }
    const scores = positiveScores(outputs, perf.output);
    if (scores.length === 0) return undefined;
    let correct = 0;
    for (const s of scores) {
      const p = est.calibrated(s);
      correct += s >= est.threshold ? p : 1 - p;
    }
    return { correct, rows: scores.length };
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return typeof v;
}
