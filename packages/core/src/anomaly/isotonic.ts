/**
 * Isotonic regression with scikit-learn's semantics (`IsotonicRegression`): rows sorted by x,
 * equal x merged into their weighted mean, the pool-adjacent-violators algorithm in
 * scikit-learn's order, points where the fit does not change dropped, and predictions
 * interpolated linearly between the kept points, clipped to the training range
 * (`out_of_bounds='clip'`).
 */
import { invalidArgument } from '../errors';

export interface IsotonicOptions {
  /** Fit a non-decreasing function (default) or a non-increasing one. */
  increasing?: boolean;
  /** Bounds of the fitted values (default none). */
  yMin?: number;
  yMax?: number;
  /** Per-row weights (default 1). */
  sampleWeight?: ArrayLike<number>;
}

export interface IsotonicJson {
  version: 1;
  kind: 'isotonic';
  x: number[];
  y: number[];
}

function finite(where: string, what: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== 'number' || !Number.isFinite(values[i]))
      throw invalidArgument(where, `${what}[${i}] must be a finite number`, values[i]);
}

/** Pool adjacent violators in place, as scikit-learn's `_inplace_contiguous_isotonic_regression`. */
function pava(y: Float64Array, w: Float64Array): void {
  const n = y.length;
  const target = new Int32Array(n);
  for (let i = 0; i < n; i++) target[i] = i;
  let i = 0;
  while (i < n) {
    let k = target[i]! + 1;
    if (k === n) break;
    if (y[i]! < y[k]!) {
      i = k;
      continue;
    }
    let sumWy = w[i]! * y[i]!;
    let sumW = w[i]!;
    for (;;) {
      const prev = y[k]!;
      sumWy += w[k]! * y[k]!;
      sumW += w[k]!;
      k = target[k]! + 1;
      if (k === n || prev < y[k]!) {
        y[i] = sumWy / sumW;
        w[i] = sumW;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1]!;
        break;
      }
    }
  }
  i = 0;
  while (i < n) {
    const k = target[i]! + 1;
    for (let j = i + 1; j < k; j++) y[j] = y[i]!;
    i = k;
  }
}

export class IsotonicRegression {
  private constructor(
    /** The x of the kept points, increasing. */
    readonly x: Float64Array,
    /** The fitted value at each kept point. */
    readonly y: Float64Array,
  ) {}

  static fit(x: ArrayLike<number>, y: ArrayLike<number>, options: IsotonicOptions = {}): IsotonicRegression {
    const where = 'IsotonicRegression.fit';
    const n = x?.length;
    if (!(n > 0)) throw invalidArgument(where, 'x must be a non-empty array of numbers', x);
    if (y?.length !== n) throw invalidArgument(where, `y must have ${n} values like x`, y);
    finite(where, 'x', x);
    finite(where, 'y', y);
    const sw = options.sampleWeight;
    if (sw !== undefined) {
      if (sw.length !== n) throw invalidArgument(where, `sampleWeight must have ${n} values like x`, sw);
      finite(where, 'sampleWeight', sw);
      for (let i = 0; i < n; i++)
        if (sw[i]! < 0) throw invalidArgument(where, `sampleWeight[${i}] must be ≥ 0`, sw[i]);
    }
    const increasing = options.increasing ?? true;
    // lexsort((y, x)): by x, then y
    const order = Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => x[a]! - x[b]! || y[a]! - y[b]! || a - b,
    );
    const ux: number[] = [];
    const uy: number[] = [];
    const uw: number[] = [];
    let cx = x[order[0]!]!;
    let cy = 0;
    let cw = 0;
    const resolution = 1e-15; // numpy's float64 resolution, as scikit-learn's _make_unique
    for (const j of order) {
      const wj = sw === undefined ? 1 : sw[j]!;
      if (x[j]! - cx >= resolution) {
        ux.push(cx);
        uw.push(cw);
        uy.push(cy / cw);
        cx = x[j]!;
        cw = wj;
        cy = y[j]! * wj;
      } else {
        cw += wj;
        cy += y[j]! * wj;
      }
    }
    ux.push(cx);
    uw.push(cw);
    uy.push(cy / cw);
    const m = ux.length;
    const fy = Float64Array.from(increasing ? uy : uy.slice().reverse());
    const fw = Float64Array.from(increasing ? uw : uw.slice().reverse());
    pava(fy, fw);
    if (!increasing) fy.reverse();
    const lo = options.yMin ?? Number.NEGATIVE_INFINITY;
    const hi = options.yMax ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < m; i++) fy[i] = Math.min(hi, Math.max(lo, fy[i]!));
    // keep the ends and every point where the fit changes on either side
    const kx: number[] = [];
    const ky: number[] = [];
    for (let i = 0; i < m; i++) {
      if (i === 0 || i === m - 1 || fy[i - 1] !== fy[i] || fy[i] !== fy[i + 1]) {
        kx.push(ux[i]!);
        ky.push(fy[i]!);
      }
    }
    return new IsotonicRegression(Float64Array.from(kx), Float64Array.from(ky));
  }

  /** The fitted function at `t`, clipped to the training range and interpolated linearly. */
  predictOne(t: number): number {
    const { x, y } = this;
    const n = x.length;
    if (n === 1) return y[0]!;
    if (t <= x[0]!) return y[0]!;
    if (t >= x[n - 1]!) return y[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (x[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const slope = (y[hi]! - y[lo]!) / (x[hi]! - x[lo]!);
    return y[lo]! + slope * (t - x[lo]!);
  }

  predict(t: ArrayLike<number>): Float64Array {
    const out = new Float64Array(t.length);
    for (let i = 0; i < t.length; i++) {
      const v = t[i]!;
      if (typeof v !== 'number' || Number.isNaN(v))
        throw invalidArgument('IsotonicRegression.predict', `t[${i}] must be a number`, v);
      out[i] = this.predictOne(v);
    }
    return out;
  }

  toJSON(): IsotonicJson {
    return { version: 1, kind: 'isotonic', x: Array.from(this.x), y: Array.from(this.y) };
  }

  static fromJSON(json: unknown): IsotonicRegression {
    const j = json as Partial<IsotonicJson> | null;
    const where = 'IsotonicRegression.fromJSON';
    if (typeof j !== 'object' || j === null || j.version !== 1 || j.kind !== 'isotonic')
      throw invalidArgument(where, 'not a version 1 isotonic regression', json);
    if (!Array.isArray(j.x) || !Array.isArray(j.y) || j.x.length === 0 || j.x.length !== j.y.length)
      throw invalidArgument(where, 'x and y must be arrays of one non-zero length', json);
    finite(where, 'x', j.x);
    finite(where, 'y', j.y);
    for (let i = 1; i < j.x.length; i++)
      if (!(j.x[i]! > j.x[i - 1]!)) throw invalidArgument(where, 'x must increase', j.x[i]);
    return new IsotonicRegression(Float64Array.from(j.x), Float64Array.from(j.y));
  }
}
