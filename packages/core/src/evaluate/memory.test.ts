/**
 * What `evaluate` keeps per row on a big table (labels as codes, float32 scores as float32, the
 * curves at their thinned points only) gives the values the arrays of numbers gave, bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryCurve } from '../metrics/curve-core';
import { prFromCurve, rocFromCurve } from '../metrics/curves';
import { brierScore, logLoss } from '../metrics/probabilistic';
import { functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';
import { seededRandom } from './bootstrap';
import { Collected, ScoreBuffer } from './collect';
import { evaluate } from './evaluate';
import { meanStandardError, normalInterval } from './intervals';
import { LabelColumn } from './label-column';
import { scorer } from './metric-set';
import { CURVE_POINTS, curves } from './report';
import { type Scored, score } from './scored';
import type { Row } from './types';

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** Float32 scores: many distinct (the 32-bit key sort), few distinct (the table), ±0, negatives. */
function scores32(n: number, seed: number, distinct: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => {
    const r = random();
    if (r < 0.02) return 0;
    if (r < 0.04) return -0;
    const v = distinct > 0 ? Math.floor(random() * distinct) / distinct : random();
    return r < 0.3 ? -v * 3 : v;
  });
}

describe('binary curve of float32 scores', () => {
  it('equals the curve of the same numbers as float64, counts and thresholds bit for bit', () => {
    for (const [n, distinct, seed] of [
      [100_000, 0, 1],
      [70_000, 0, 2],
      [50_000, 40, 3],
      [3, 0, 4],
      [1, 0, 5],
    ] as const) {
      const s = scores32(n, seed, distinct);
      const random = seededRandom(seed + 10);
      const positive = Uint8Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
      const narrow = binaryCurve(positive, s, undefined);
      const wide = binaryCurve(positive, Float64Array.from(s), undefined);
      expect(sameBits(narrow.tps, wide.tps), `tps ${n}`).toBe(true);
      expect(sameBits(narrow.fps, wide.fps), `fps ${n}`).toBe(true);
      expect(sameBits(narrow.thresholds, wide.thresholds), `thresholds ${n}`).toBe(true);
    }
  });

  it('keeps −0 as the threshold only when every zero is −0 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, -0, 1.5, -2, 0.25), fc.boolean()), {
          minLength: 1,
          maxLength: 50,
        }),
        (rows) => {
          const s = Float32Array.from(rows, ([v]) => v);
          const positive = Uint8Array.from(rows, ([, p]) => (p ? 1 : 0));
          const a = binaryCurve(positive, s, undefined);
          const b = binaryCurve(positive, Float64Array.from(s), undefined);
          return sameBits(a.tps, b.tps) && sameBits(a.fps, b.fps) && sameBits(a.thresholds, b.thresholds);
        },
      ),
    );
  });
});

/** Evenly spaced indices that keep the first and last point (report.ts's thinning). */
function thin(length: number): number[] {
  if (length <= CURVE_POINTS) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: CURVE_POINTS }, (_, j) => Math.round((j * (length - 1)) / (CURVE_POINTS - 1)));
}

describe("the report's curves", () => {
  it('are rocFromCurve and prFromCurve at the thinned points, bit for bit', () => {
    for (const [n, distinct] of [
      [20_000, 0],
      [20_000, 300],
      [500, 0],
      [4, 0],
    ] as const) {
      const p = Float64Array.from(scores32(n, n + distinct, distinct), (v) => Math.abs(v) / 3);
      const random = seededRandom(n);
      const y = Uint8Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
      const s = {
        task: 'binary',
        n,
        yTrue: Array.from(y),
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
      } satisfies Scored;
      const report = curves(s, [])!;
      const curve = binaryCurve(y, p, undefined);
      const roc = rocFromCurve(curve, true);
      const ri = thin(roc.fpr.length);
      expect(
        sameBits(
          report.roc[0]!.fpr,
          ri.map((i) => roc.fpr[i]!),
        ),
      ).toBe(true);
      expect(
        sameBits(
          report.roc[0]!.tpr,
          ri.map((i) => roc.tpr[i]!),
        ),
      ).toBe(true);
      expect(
        sameBits(
          report.roc[0]!.thresholds,
          ri.map((i) => roc.thresholds[i]!),
        ),
      ).toBe(true);
      const pr = prFromCurve(curve);
      const pi = thin(pr.precision.length);
      expect(
        sameBits(
          report.pr[0]!.precision,
          pi.map((i) => pr.precision[i]!),
        ),
      ).toBe(true);
      expect(
        sameBits(
          report.pr[0]!.recall,
          pi.map((i) => pr.recall[i]!),
        ),
      ).toBe(true);
      expect(
        sameBits(
          report.pr[0]!.thresholds,
          pi.map((i) => (i < pr.thresholds.length ? pr.thresholds[i]! : Number.NaN)),
        ),
      ).toBe(true);
    }
  });
});

describe('LabelColumn', () => {
  it('keeps labels as codes, widening past 256 and 65,536 labels, and gives them back', () => {
    const column = new LabelColumn();
    const labels: (number | string)[] = [];
    for (let i = 0; i < 70_000; i++) {
      const v = `c${i % 100 === 0 ? i : i % 7}`;
      column.push(v);
      labels.push(v);
    }
    expect(column.codeView()).toBeInstanceOf(Uint16Array);
    expect(column.toArray()).toEqual(labels);
    const wide = new LabelColumn(false);
    for (let i = 0; i < 70_000; i++) wide.push(i);
    expect(wide.codeView()).toBeInstanceOf(Int32Array);
    expect(wide.at(69_999)).toBe(69_999);
    expect(wide.table.length).toBe(70_000);
  });

  it('holds a regression target of many distinct numbers as the numbers', () => {
    const column = new LabelColumn();
    const values = Array.from({ length: 70_000 }, (_, i) => i / 3);
    for (const v of values) column.push(v);
    expect(column.codeView()).toBeUndefined();
    expect(sameBits(column.numbers()!, values)).toBe(true);
    expect(column.mixed).toBe(false);
    column.push('x');
    expect(column.mixed).toBe(true);
  });

  it('finds mixed labels and treats −0 as 0, keeping the first seen (as uniqueSorted does)', () => {
    const column = new LabelColumn();
    for (const v of [-0, 0, 1, 0]) column.push(v);
    expect(column.table.length).toBe(2);
    expect(Object.is(column.table[0], -0)).toBe(true);
    expect(column.mixed).toBe(false);
    column.push('a');
    expect(column.mixed).toBe(true);
  });
});

describe('ScoreBuffer', () => {
  it('keeps float32 outputs as float32 and widens, values unchanged, when a double arrives', () => {
    const b = new ScoreBuffer();
    const first = Float32Array.from({ length: 3000 }, (_, i) => i / 7);
    b.pushAll(first);
    expect(b.view()).toBeInstanceOf(Float32Array);
    b.push(0.1);
    expect(b.view()).toBeInstanceOf(Float64Array);
    b.pushAll(Float64Array.of(1 / 3));
    b.pushAll([true, false]);
    const want = [...Array.from(first), 0.1, 1 / 3, 1, 0];
    expect(sameBits(b.view(), want)).toBe(true);
  });
});

describe('evaluate on float32 and float64 scores', () => {
  it('gives the same report whether the model answers in float32 or the same numbers as float64', async () => {
    const model = (dtype: 'float32' | 'float64') =>
      functionModel(
        ({ features }) => {
          const x = features!.data as Float32Array;
          const n = features!.shape[0]!;
          const p = new Float32Array(n);
          for (let i = 0; i < n; i++) p[i] = 1 / (1 + Math.exp(-(2 * x[2 * i]! - x[2 * i + 1]!)));
          return { probability: tensor(dtype, dtype === 'float32' ? p : Float64Array.from(p)) };
        },
        {
          name: 'm',
          signature: {
            inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
            outputs: [{ name: 'probability', dtype, shape: ['batch'] }],
          },
        },
      );
    const random = seededRandom(3);
    const rows: Row[] = Array.from({ length: 3000 }, () => {
      const a = random() * 4 - 2;
      const b = random() * 4 - 2;
      return { a, b, label: random() < 1 / (1 + Math.exp(-(2 * a - b))) ? 'yes' : 'no' };
    });
    for (const options of [
      { bootstrap: { resamples: 50, seed: 1 } },
      { bootstrap: { resamples: 1000, method: 'analytic' as const } },
      { positiveLabel: 'no', bootstrap: false as const },
    ]) {
      const a = await evaluate(model('float32'), rows, { ...options, batchSize: 700 });
      const b = await evaluate(model('float64'), rows, { ...options, batchSize: 700 });
      a.durationMs = 0;
      b.durationMs = 0;
      b.model = a.model;
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      expect(a.metrics.logLoss).toBeDefined();
    }
  });
});

describe('losses summed row by row', () => {
  it('give logLoss and brierScore of the arrays, bit for bit, and their standard errors', () => {
    const random = seededRandom(9);
    for (const [classes, positiveLabel] of [
      [['a', 'b'], undefined],
      [['b', 'a'], undefined],
      [['a', 'b'], 'a'],
      [[0, 1], 0],
    ] as const) {
      const collected = new Collected({ scores: 'p', labels: undefined }, 't');
      collected.width = 1;
      for (let i = 0; i < 5000; i++) {
        collected.labels.push(classes[random() < 0.3 ? 1 : 0]);
        collected.scores.push(random() < 0.01 ? 0 : random());
      }
      const s = score(collected, { classes: [...classes], positiveLabel }, 't');
      expect(s.codes).toBeDefined();
      const p1 = s.positive === s.classes[1] ? s.positiveScores! : s.positiveScores!.map((v) => 1 - v);
      expect(Object.is(scorer('logLoss', s)(), logLoss(s.yTrue, p1, { labels: s.classes }))).toBe(true);
      expect(
        Object.is(
          scorer('brierScore', s)(),
          brierScore(s.yTrue, s.positiveScores!, { positiveLabel: s.positive }),
        ),
      ).toBe(true);
      const EPS = 2.220446049250313e-16;
      const losses = Float64Array.from(p1, (v, i) => {
        const p = Math.min(Math.max(v, EPS), 1 - EPS);
        return -Math.log(s.yTrue[i] === s.classes[1] ? p : 1 - p);
      });
      const brier = Float64Array.from(
        s.positiveScores!,
        (v, i) => (v - (s.yTrue[i] === s.positive ? 1 : 0)) ** 2,
      );
      const z = 1.959963984540054;
      const ll = scorer('logLoss', s);
      const br = scorer('brierScore', s);
      expect(ll.interval!(ll(), z)).toEqual(normalInterval(ll(), meanStandardError(losses), z, 0, Infinity));
      expect(br.interval!(br(), z)).toEqual(normalInterval(br(), meanStandardError(brier), z, 0, 1));
    }
  });
});
