/**
 * A mergeable quantile sketch for latencies with a stated relative-error bound (the DDSketch
 * construction): values fall into logarithmic buckets of ratio γ = (1 + α)/(1 − α), and a
 * quantile is answered with its bucket's midpoint, within a relative α of the true value.
 * Adding is O(1) with no allocation; two sketches merge by adding their counts.
 */
import { invalidArgument } from '../errors';

/** Values below this are counted in one bucket (their quantile reads as 0). */
const MIN_VALUE = 1e-6;
/** Buckets cover [1e-6, 1e9]: a microsecond to eleven days in milliseconds. */
const MAX_VALUE = 1e9;

export class QuantileSketch {
  readonly relativeAccuracy: number;
  private readonly logGamma: number;
  private readonly offset: number;
  private readonly counts: Float64Array;
  private zero = 0;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  /** @param relativeAccuracy - α: every quantile is within α·value of the truth (default 0.01). */
  constructor(relativeAccuracy = 0.01) {
    if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
      throw invalidArgument(
        'QuantileSketch',
        'relativeAccuracy must lie strictly between 0 and 1',
        relativeAccuracy,
      );
    this.relativeAccuracy = relativeAccuracy;
    const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(gamma);
    this.offset = Math.ceil(Math.log(MIN_VALUE) / this.logGamma);
    this.counts = new Float64Array(Math.ceil(Math.log(MAX_VALUE) / this.logGamma) - this.offset + 2);
  }

  /** Records a value (negative and non-finite values are refused). */
  add(value: number, weight = 1): void {
    if (!(value >= 0) || !Number.isFinite(value))
      throw invalidArgument('QuantileSketch.add', 'value must be a finite non-negative number', value);
    this.count += weight;
    this.sum += value * weight;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value < MIN_VALUE) {
      this.zero += weight;
      return;
    }
    const i = Math.min(this.counts.length - 1, Math.ceil(Math.log(value) / this.logGamma) - this.offset);
    this.counts[i] = this.counts[i]! + weight;
  }

  /** Adds another sketch's counts (both must have the same accuracy). */
  merge(other: QuantileSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy)
      throw invalidArgument(
        'QuantileSketch.merge',
        'sketches must share their relativeAccuracy',
        other.relativeAccuracy,
      );
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = this.counts[i]! + other.counts[i]!;
    this.zero += other.zero;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /** Empties the sketch, keeping its storage. */
  reset(): void {
    this.counts.fill(0);
    this.zero = 0;
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1) as the lower quantile of the recorded values (the value of rank
   * ⌊q·(n − 1)⌋), within a relative `relativeAccuracy`; `undefined` when empty.
   */
  quantile(q: number): number | undefined {
    if (!(q >= 0 && q <= 1)) throw invalidArgument('QuantileSketch.quantile', 'q must lie in [0, 1]', q);
    if (this.count === 0) return undefined;
    const rank = Math.floor(q * (this.count - 1));
    if (rank < this.zero) return 0;
    let seen = this.zero;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen > rank) {
        // The bucket (γ^(k−1), γ^k] answers with 2γ^k/(γ+1): within α of anything in it.
        const k = i + this.offset;
        const gamma = Math.exp(this.logGamma);
        const value = (2 * Math.exp(k * this.logGamma)) / (gamma + 1);
        return Math.min(this.max, Math.max(this.min, value));
      }
    }
    return this.max;
  }
}
