/**
 * Set-wise metrics and the per-class table score the k² (true, predicted) pairs weighted by
 * their row counts instead of the n rows: the values must be the full arrays', bit for bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accuracy,
  balancedAccuracy,
  cohenKappa,
  confusionMatrix,
  f1,
  matthewsCorrcoef,
  precision,
  recall,
} from '../metrics/classification';
import { type Label, uniqueSorted } from '../metrics/labels';
import { scorer } from './metric-set';
import { confusion, perClass } from './report';
import type { Scored } from './scored';

function scored(yTrue: Label[], yPred: Label[], classes: Label[], task: 'binary' | 'multiclass'): Scored {
  return {
    task,
    n: yTrue.length,
    yTrue,
    kind: 'labels',
    classes,
    positive: task === 'binary' ? classes[1] : undefined,
    threshold: undefined,
    yPred,
    positiveScores: undefined,
    matrix: undefined,
    probabilities: false,
    truth: undefined,
    estimate: undefined,
    average: 'macro',
  };
}

const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a) === JSON.stringify(b) && sameNumbers(a, b);
function sameNumbers(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (Array.isArray(a)) return a.every((v, i) => sameNumbers(v, (b as unknown[])[i]));
  if (typeof a === 'object' && a !== null)
    return Object.entries(a).every(([k, v]) => sameNumbers(v, (b as Record<string, unknown>)[k]));
  return a === b;
}

describe('set-wise metrics from the label pairs', () => {
  it('equal the metric functions on the full arrays, bit for bit (binary and multiclass, property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.tuple(fc.nat(4), fc.nat(4)), { minLength: 1, maxLength: 400 }),
        fc.boolean(),
        (k, pairs, strings) => {
          const name = (v: number): Label => (strings ? `c${v % k}` : v % k);
          const yTrue = pairs.map(([t]) => name(t));
          const yPred = pairs.map(([, p]) => name(p));
          const binary = k === 2;
          const classes = binary ? [name(0), name(1)] : uniqueSorted(yTrue, yPred);
          if (!binary && classes.length < 2) return;
          const s = scored(yTrue, yPred, classes, binary ? 'binary' : 'multiclass');
          const opts = binary
            ? { average: 'binary' as const, positiveLabel: classes[1] }
            : { average: 'macro' as const, labels: classes };
          const expected: [string, () => number][] = [
            ['accuracy', () => accuracy(yTrue, yPred)],
            ['balancedAccuracy', () => balancedAccuracy(yTrue, yPred)],
            ['matthewsCorrcoef', () => matthewsCorrcoef(yTrue, yPred)],
            ['cohenKappa', () => cohenKappa(yTrue, yPred)],
            ['precision', () => precision(yTrue, yPred, opts) as number],
            ['recall', () => recall(yTrue, yPred, opts) as number],
            ['f1', () => f1(yTrue, yPred, opts) as number],
          ];
          for (const [metric, value] of expected) {
            let want: unknown;
            try {
              want = value();
            } catch (e) {
              want = (e as Error).message;
            }
            let got: unknown;
            try {
              got = scorer(metric as never, s)();
            } catch (e) {
              got = (e as Error).message;
            }
            expect(Object.is(got, want), `${metric}: ${String(got)} vs ${String(want)}`).toBe(true);
          }
          const labels = uniqueSorted(classes, yTrue, yPred);
          const none = { average: 'none' as const, labels };
          const support = labels.map((l) => yTrue.filter((y) => y === l).length);
          const table = labels.map((label, i) => ({
            label,
            precision: (precision(yTrue, yPred, none) as number[])[i],
            recall: (recall(yTrue, yPred, none) as number[])[i],
            f1: (f1(yTrue, yPred, none) as number[])[i],
            support: support[i],
          }));
          expect(same(perClass(s), table)).toBe(true);
          expect(
            same(confusion(s), { labels, matrix: confusionMatrix(yTrue, yPred, { labels }).matrix }),
          ).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});
