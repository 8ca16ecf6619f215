/** What a guard sees about one version's traffic over the current window. */
export interface WindowSnapshot {
  /** Requests answered (successes and failures). */
  requests: number;
  errors: number;
  /** `errors / requests`, 0 before any request. */
  errorRate: number;
  /** Latency quantiles in milliseconds over the most recent requests, `undefined` before any. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  /** Requests whose outputs were compared with the other version's. */
  compared: number;
  /** The mean disagreement of those comparisons, in [0, 1]. */
  disagreement: number;
  /** Records the deployment's input screen checked, and those with a data-quality finding. */
  screened: number;
  qualityViolations: number;
  /** `qualityViolations / screened`, 0 before any. */
  qualityViolationRate: number;
  /** Records the outlier detector scored, and those at or above its threshold. */
  scored: number;
  outliers: number;
  /** `outliers / scored`, 0 before any. */
  outlierRate: number;
  /** Rows whose answers the screen's performance estimator read, and their expected accuracy (CBPE; undefined before any). */
  estimatedRows: number;
  estimatedAccuracy: number | undefined;
}

/** The counts of one screened request, as {@link WindowStats.recordScreen} takes them. */
export interface ScreenCounts {
  records: number;
  violatingRecords: number;
  scores: { length: number };
  outliers: number;
}

const RING = 2048;

/**
 * Counters and a ring of the latest latencies for one version. Recording is O(1) and allocates
 * nothing; quantiles sort a copy of the ring only when a snapshot is asked for (guards, status).
 */
export class WindowStats {
  requests = 0;
  errors = 0;
  compared = 0;
  screened = 0;
  qualityViolations = 0;
  scored = 0;
  outliers = 0;
  estimatedRows = 0;
  private estimatedCorrect = 0;
  private disagreementSum = 0;
  private readonly ring = new Float64Array(RING);
  private filled = 0;
  private next = 0;

  record(latencyMs: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    this.ring[this.next] = latencyMs;
    this.next = (this.next + 1) % RING;
    if (this.filled < RING) this.filled++;
  }

  recordScreen(report: ScreenCounts): void {
    this.screened += report.records;
    this.qualityViolations += report.violatingRecords;
    this.scored += report.scores.length;
    this.outliers += report.outliers;
  }

  recordEstimate(e: { correct: number; rows: number }): void {
    this.estimatedCorrect += e.correct;
    this.estimatedRows += e.rows;
  }

  recordComparison(disagreement: number): void {
    this.compared++;
    this.disagreementSum += disagreement;
  }

  snapshot(): WindowSnapshot {
    // Nearest-rank quantiles of the latest (up to 2048) latencies; one sort serves both.
    const sorted = this.filled === 0 ? undefined : this.ring.slice(0, this.filled).sort();
    return {
      requests: this.requests,
      errors: this.errors,
      errorRate: this.requests === 0 ? 0 : this.errors / this.requests,
      p50Ms: sorted === undefined ? undefined : nearestRank(sorted, 0.5),
      p99Ms: sorted === undefined ? undefined : nearestRank(sorted, 0.99),
      compared: this.compared,
      disagreement: this.compared === 0 ? 0 : this.disagreementSum / this.compared,
      screened: this.screened,
      qualityViolations: this.qualityViolations,
      qualityViolationRate: this.screened === 0 ? 0 : this.qualityViolations / this.screened,
      scored: this.scored,
      outliers: this.outliers,
      outlierRate: this.scored === 0 ? 0 : this.outliers / this.scored,
      estimatedRows: this.estimatedRows,
      estimatedAccuracy: this.estimatedRows === 0 ? undefined : this.estimatedCorrect / this.estimatedRows,
    };
  }
}

function nearestRank(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A candidate's and the primary's traffic over the same window, for guards. */
export class GuardStats {
  readonly candidate = new WindowStats();
  readonly primary = new WindowStats();

  snapshot(): { candidate: WindowSnapshot; primary: WindowSnapshot } {
    return { candidate: this.candidate.snapshot(), primary: this.primary.snapshot() };
  }
}
