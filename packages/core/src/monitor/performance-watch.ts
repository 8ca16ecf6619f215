/**
 * A performance watch (CBPE): the scores of one model's recent answers in a ring of fixed size,
 * from which a fitted estimator tells its accuracy before the labels arrive.
 */
import { type PerformanceEstimate, type PerformanceEstimator, positiveScores } from '../anomaly/cbpe';
import { classScores, type MulticlassPerformanceEstimator } from '../anomaly/cbpe-multiclass';
import { invalidArgument } from '../errors';

/** One model's recent scores (see {@link Monitor.watchPerformance}). */
export class PerformanceWatch {
  readonly output: string | undefined;
  /** Scores per row: 1 (the positive class) or the classes of a multiclass estimator. */
  readonly width: number;
  private readonly scores: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(
    readonly estimator: PerformanceEstimator | MulticlassPerformanceEstimator,
    options: { output?: string; windowRows?: number },
  ) {
    const where = 'Monitor.watchPerformance';
    if (typeof estimator?.estimate !== 'function')
      throw invalidArgument(where, 'expected a fitted PerformanceEstimator', estimator);
    const windowRows = options.windowRows ?? 1000;
    if (!Number.isInteger(windowRows) || windowRows < 20)
      throw invalidArgument(where, 'windowRows must be an integer ≥ 20', windowRows);
    if (options.output !== undefined && typeof options.output !== 'string')
      throw invalidArgument(where, 'output must be an output name', options.output);
    this.output = options.output;
    this.width = 'classes' in estimator ? estimator.classes : 1;
    this.scores = new Float64Array(windowRows * this.width);
  }

  /** Keeps the scores of a prediction's outputs, over the oldest once the ring is full. */
  observe(outputs: unknown): void {
    const w = this.width;
    const rows = w === 1 ? positiveScores(outputs, this.output) : classScores(outputs, w, this.output);
    const slots = this.scores.length / w;
    for (let i = 0; i < rows.length / w; i++) {
      for (let j = 0; j < w; j++) this.scores[this.next * w + j] = rows[i * w + j]!;
      this.next = (this.next + 1) % slots;
      if (this.filled < slots) this.filled++;
    }
  }

  /** The estimate over the scores kept now; undefined before 20 rows. */
  estimate(): PerformanceEstimate | undefined {
    if (this.filled < 20) return undefined;
    const scores = this.scores.subarray(0, this.filled * this.width);
    return 'classes' in this.estimator
      ? this.estimator.estimate({ data: scores, shape: [this.filled, this.width] })
      : this.estimator.estimate(scores);
  }
}
