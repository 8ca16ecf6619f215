import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accuracy, f1, precision, recall, rocAuc } from './index';

const binaryWithScores = fc
  .array(fc.tuple(fc.constantFrom(0, 1), fc.integer({ min: -50, max: 50 })), { minLength: 2, maxLength: 200 })
  .filter((rows) => new Set(rows.map((r) => r[0])).size === 2);

describe('metric properties', () => {
  it('ROC AUC is unchanged by a strictly increasing transform of the scores', () => {
    fc.assert(
      fc.property(binaryWithScores, (rows) => {
        const y = rows.map((r) => r[0]);
        const s = rows.map((r) => r[1] / 10);
        const t = s.map((v) => Math.exp(v / 3) * 7 - 2);
        expect(rocAuc(y, t)).toBeCloseTo(rocAuc(y, s), 12);
      }),
    );
  });

  it('AUC(y, s) = 1 − AUC(y, −s), ties included', () => {
    fc.assert(
      fc.property(binaryWithScores, (rows) => {
        const y = rows.map((r) => r[0]);
        const s = rows.map((r) => r[1]);
        expect(
          rocAuc(y, s) +
            rocAuc(
              y,
              s.map((v) => -v),
            ),
        ).toBeCloseTo(1, 12);
      }),
    );
  });

  it('F1 is the harmonic mean of precision and recall', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 1)), { minLength: 1, maxLength: 100 }),
        (rows) => {
          const y = rows.map((r) => r[0]);
          const p = rows.map((r) => r[1]);
          const P = precision(y, p) as number;
          const R = recall(y, p) as number;
          const F = f1(y, p) as number;
          expect(F).toBeCloseTo(P + R === 0 ? 0 : (2 * P * R) / (P + R), 12);
        },
      ),
    );
  });

  it('micro-F1 equals accuracy for single-label multiclass', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), {
          minLength: 1,
          maxLength: 100,
        }),
        (rows) => {
          const y = rows.map((r) => r[0]);
          const p = rows.map((r) => r[1]);
          expect(f1(y, p, { average: 'micro' }) as number).toBeCloseTo(accuracy(y, p), 12);
        },
      ),
    );
  });
});

describe('bad input gets a typed error', () => {
  it('names the problem', () => {
    expect(() => accuracy([1, 2], [1])).toThrow(
      'accuracy: inputs have inconsistent numbers of samples: [2, 1]',
    );
    expect(() => rocAuc([0, 1], [0.5, Number.NaN])).toThrow(
      'rocAuc: yScore[1] is NaN; finite numbers are required',
    );
    expect(() => f1([0, 1], [0, 1], { avrage: 'macro' } as never)).toThrow(/f1: unknown option 'avrage'/);
    expect(() => f1([0, 1], [0, 1], { average: 'mean' as never })).toThrow(/average must be one of/);
    expect(() => f1(['a', 1] as never, [1, 1])).toThrow('f1: yTrue mixes string and number labels');
    expect(() =>
      rocAuc(
        [0, 1, 2],
        [
          [0.5, 0.5, 0],
          [0.2, 0.2, 0.2],
          [0, 0, 1],
        ],
        { multiClass: 'ovr' },
      ),
    ).toThrow(
      /row 1 of yScore sums to 0.6000000000000001; multiclass scores must be probabilities that sum to 1/,
    );
    expect(() => rocAuc([1, 1, 1], [0.2, 0.3, 0.4])).toThrow(
      expect.objectContaining({ code: 'METRIC_UNDEFINED' }),
    );
  });
});
