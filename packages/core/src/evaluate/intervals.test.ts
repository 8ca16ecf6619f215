import { describe, expect, it } from 'vitest';
import type { Label } from '../metrics/labels';
import { functionModel } from '../model/function-model';
import type { Tensor } from '../tensor/tensor';
import {
  ANALYTIC_ABOVE_ROWS,
  analyticFor,
  type BootstrapPlan,
  bootstrapPlan,
  seededRandom,
} from './bootstrap';
import { evaluate } from './evaluate';
import { wilsonInterval } from './intervals';
import { defaultMetrics, type Scorer, scorer } from './metric-set';
import { delong } from './paired-tests';
import { scoreMetrics } from './report';
import type { Scored } from './scored';
import type { MetricName } from './types';

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** A binary evaluation's scored data, as `score` would build it from probabilities. */
function binary(y: Uint8Array, p: Float64Array): Scored {
  const yTrue: Label[] = Array.from(y);
  return {
    task: 'binary',
    n: y.length,
    yTrue,
    kind: 'probabilities',
    classes: [0, 1],
    positive: 1,
    threshold: 0.5,
    yPred: Array.from(p, (v) => (v >= 0.5 ? 1 : 0)),
    positiveScores: p,
    matrix: undefined,
    probabilities: true,
    truth: undefined,
    estimate: undefined,
    average: 'macro',
  };
}

function regression(y: Float64Array, e: Float64Array): Scored {
  return {
    ...binary(new Uint8Array(0), new Float64Array(0)),
    task: 'regression',
    n: y.length,
    yTrue: Array.from(y),
    kind: 'scores',
    classes: [],
    positive: undefined,
    threshold: undefined,
    yPred: [],
    positiveScores: undefined,
    probabilities: false,
    truth: y,
    estimate: e,
  };
}

function multiclass(y: Int32Array, m: Float64Array, average: 'macro' | 'weighted'): Scored {
  const k = m.length / y.length;
  return {
    ...binary(new Uint8Array(0), new Float64Array(0)),
    task: 'multiclass',
    n: y.length,
    yTrue: Array.from(y),
    classes: Array.from({ length: k }, (_, j) => j),
    positive: undefined,
    yPred: Array.from(y, (_, i) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (m[i * k + j]! > m[i * k + best]!) best = j;
      return best;
    }),
    positiveScores: undefined,
    matrix: m,
    average,
  };
}

/** Scores with ties (rounded to a coarse grid) and a fifth to a third of positives. */
function binaryData(n: number, seed: number, grid = 50): { y: Uint8Array; p: Float64Array } {
  const random = seededRandom(seed);
  const y = new Uint8Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = random() < 0.3 ? 1 : 0;
    const z = normal(random) + (y[i] ? 1.2 : 0) - 0.8;
    p[i] = Math.round(grid / (1 + Math.exp(-z))) / grid;
  }
  return { y, p };
}

/** The infinitesimal jackknife by brute force: each row's derivative by finite differences of the weighted scorer. */
function bruteForceStandardError(score: Scorer, n: number): number {
  const w = new Float64Array(n).fill(1);
  const h = 1e-6;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    w[i] = 1 + h;
    const up = score(w);
    w[i] = 1 - h;
    const down = score(w);
    w[i] = 1;
    variance += ((up - down) / (2 * h)) ** 2;
  }
  return Math.sqrt(variance);
}

const Z = 1.959963984540054;

/** The half-width of a symmetric (unclipped) normal interval, i.e. z times the standard error. */
function halfWidth(score: Scorer, value: number): number {
  const i = score.interval!(value, Z)!;
  return (i.high - i.low) / 2;
}

describe('analytic intervals', () => {
  it("Wilson's interval matches its textbook values", () => {
    // 81 of 263 (Agresti & Coull 1998 style check, computed by the formula in closed form).
    const i = wilsonInterval(81, 263, Z)!;
    expect(i.low).toBeCloseTo(0.2553, 4);
    expect(i.high).toBeCloseTo(0.3662, 4);
    expect(wilsonInterval(0, 10, Z)!.low).toBe(0);
    expect(wilsonInterval(0, 10, Z)!.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(0, 0, Z)).toBeUndefined();
  });

  it("binary ROC AUC's standard error is DeLong's, computed on the shared rank order", () => {
    const { y, p } = binaryData(3000, 5);
    const s = binary(y, p);
    const auc = scorer('rocAuc', s);
    const expected = Math.sqrt(delong(y, p, p).varianceA);
    expect(halfWidth(auc, auc()) / Z).toBeCloseTo(expected, 12);
  });

  it('the delta-method errors equal the derivative by each row, found by brute force', () => {
    const { y, p } = binaryData(400, 9, 20);
    const s = binary(y, p);
    for (const name of [
      'averagePrecision',
      'f1',
      'matthewsCorrcoef',
      'balancedAccuracy',
      'logLoss',
    ] as const) {
      const sc = scorer(name, s);
      const value = sc();
      const brute = bruteForceStandardError(sc, s.n);
      // logLoss's error divides by n − 1, the derivative's sum by n.
      const se = halfWidth(sc, value) / Z;
      expect(se, name).toBeCloseTo(name === 'logLoss' ? brute * Math.sqrt(400 / 399) : brute, 6);
    }
    const random = seededRandom(3);
    const k = 3;
    const yc = new Int32Array(300);
    const m = new Float64Array(300 * k);
    for (let i = 0; i < 300; i++) {
      yc[i] = Math.floor(random() * k);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const e = Math.exp(normal(random) + (j === yc[i] ? 1 : 0));
        m[i * k + j] = e;
        sum += e;
      }
      for (let j = 0; j < k; j++) m[i * k + j] = Math.round((m[i * k + j]! / sum) * 40) / 40;
    }
    for (const average of ['macro', 'weighted'] as const) {
      const sc = scorer('rocAuc', multiclass(yc, m, average));
      expect(halfWidth(sc, sc(new Float64Array(300).fill(1))) / Z, average).toBeCloseTo(
        bruteForceStandardError(sc, 300),
        6,
      );
    }
    const ry = new Float64Array(200);
    const re = new Float64Array(200);
    for (let i = 0; i < 200; i++) {
      ry[i] = normal(random) * 3;
      re[i] = ry[i]! * 0.8 + normal(random);
    }
    const r2 = scorer('r2Score', regression(ry, re));
    expect(halfWidth(r2, r2()) / Z).toBeCloseTo(bruteForceStandardError(r2, 200), 6);
  });

  it('covers the true value 95% of the time over 1,000 simulated evaluations', () => {
    // Binary data from a known model; the truth of each metric is its value on 300,000 rows.
    const population = binaryData(300_000, 1, 1000);
    // The ten binary metrics a report shows by default.
    const names = defaultMetrics(binary(population.y, population.p));
    expect(names).toHaveLength(10);
    const truth = scoreMetrics(binary(population.y, population.p), names, null, []);
    const plan: BootstrapPlan = { resamples: 1, seed: 0, confidence: 0.95, method: 'analytic' };
    const covered = new Map<MetricName, number>(names.map((n) => [n, 0]));
    const simulations = 1000;
    for (let sim = 0; sim < simulations; sim++) {
      const { y, p } = binaryData(1000, 100 + sim, 1000);
      const out = scoreMetrics(binary(y, p), names, plan, []);
      for (const name of names) {
        const m = out[name]!;
        if (m.low! <= truth[name]!.value && truth[name]!.value <= m.high!)
          covered.set(name, covered.get(name)! + 1);
      }
    }
    // 95% of 1,000 has a standard deviation of 0.69 points: three of them either side.
    for (const name of names) {
      const rate = covered.get(name)! / simulations;
      expect(rate, name).toBeGreaterThanOrEqual(0.929);
      expect(rate, name).toBeLessThanOrEqual(0.971);
    }
  }, 60_000);
});

describe('choosing the method', () => {
  const passThrough = functionModel(({ score }) => ({ probability: score as Tensor }), {
    name: 'scores',
    signature: {
      inputs: [{ name: 'score', dtype: 'float64', shape: ['batch'] }],
      outputs: [{ name: 'probability', dtype: 'float64', shape: ['batch'] }],
    },
  });

  it("'auto' resamples up to 100,000 rows and is analytic above", () => {
    const plan = bootstrapPlan({}, 'test')!;
    expect(plan.method).toBe('auto');
    expect(analyticFor(plan, ANALYTIC_ABOVE_ROWS)).toBe(false);
    expect(analyticFor(plan, ANALYTIC_ABOVE_ROWS + 1)).toBe(true);
    expect(analyticFor({ ...plan, method: 'resample' }, 10 ** 7)).toBe(false);
    expect(analyticFor({ ...plan, method: 'analytic' }, 10)).toBe(true);
    expect(() => bootstrapPlan({ method: 'jackknife' as 'auto' }, 'evaluate')).toThrow(
      /bootstrap.method must be 'auto', 'resample' or 'analytic'/,
    );
  });

  it('an analytic report says so and agrees with the resampled intervals', async () => {
    const { y, p } = binaryData(5000, 21, 1000);
    const data = { score: p, label: y };
    const metrics: MetricName[] = ['accuracy', 'f1', 'rocAuc', 'averagePrecision', 'logLoss'];
    const analytic = await evaluate(passThrough, data, { metrics, bootstrap: { method: 'analytic' } });
    const resampled = await evaluate(passThrough, data, { metrics, bootstrap: { resamples: 2000, seed: 4 } });
    expect(analytic.bootstrap).toEqual({ resamples: 1000, seed: 0, confidence: 0.95, method: 'analytic' });
    expect(resampled.bootstrap).toEqual({ resamples: 2000, seed: 4, confidence: 0.95 });
    for (const name of metrics) {
      const a = analytic.metrics[name]!;
      const r = resampled.metrics[name]!;
      expect(a.value, name).toBe(r.value);
      const width = r.high! - r.low!;
      // Two estimates of the same interval: the bounds agree to a tenth of its width.
      expect(Math.abs(a.low! - r.low!), name).toBeLessThan(width / 10);
      expect(Math.abs(a.high! - r.high!), name).toBeLessThan(width / 10);
    }
  });
});
