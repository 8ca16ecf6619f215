/**
 * The Evaluator's report against scikit-learn 1.2 computing the same things from the same
 * scores (test/golden/make_evaluate_golden.py): metrics, per-class table, confusion matrix,
 * ROC and precision-recall curves, calibration bins, residuals.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { functionModel } from '../model/function-model';
import type { Tensor } from '../tensor/tensor';
import { evaluate } from './evaluate';
import { CURVE_POINTS } from './report';
import type { EvaluationReport, Row } from './types';

interface Curve {
  [k: string]: (number | null)[];
}
interface Case {
  name: string;
  task: 'binary' | 'multiclass' | 'regression';
  threshold?: number;
  rows: Row[];
  metrics: Record<string, number>;
  perClass?: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
  confusion?: number[][];
  roc?: Curve[];
  pr?: Curve[];
  calibration?: {
    count: number[];
    observed: (number | null)[];
    meanPredicted: (number | null)[];
    ece: number;
  };
  residuals?: Record<string, number>;
}

const golden: { sklearn: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../../test/golden/evaluate.golden.json', import.meta.url), 'utf8'),
);

const REL = 1e-9;

function close(actual: number | undefined, expected: number | null, path: string): void {
  if (expected === null) {
    expect(Number.isNaN(actual), `${path}: expected NaN, got ${actual}`).toBe(true);
    return;
  }
  expect(typeof actual, path).toBe('number');
  expect(Math.abs(actual! - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    REL * Math.max(1, Math.abs(expected)),
  );
}

function closeAll(actual: readonly number[], expected: readonly (number | null)[], path: string): void {
  expect(actual.length, `${path}: length`).toBe(expected.length);
  expected.forEach((e, i) => {
    close(actual[i], e, `${path}[${i}]`);
  });
}

/** The report keeps at most CURVE_POINTS points, evenly spaced: the same indices, picked from scikit-learn's curve. */
function thinned<T>(values: readonly T[]): T[] {
  const n = values.length;
  if (n <= CURVE_POINTS) return [...values];
  return Array.from(
    { length: CURVE_POINTS },
    (_, j) => values[Math.round((j * (n - 1)) / (CURVE_POINTS - 1))]!,
  );
}

/** A model that returns the scores its row carries, so the test checks the Evaluator alone. */
function passThrough(c: Case) {
  const input = c.task === 'binary' ? 'score' : c.task === 'multiclass' ? 'p' : 'estimate';
  const k = c.task === 'multiclass' ? (c.rows[0]!.p as number[]).length : undefined;
  const shape = k === undefined ? ['batch'] : ['batch', k];
  return functionModel(({ [input]: x }) => ({ out: x as Tensor }), {
    name: c.name,
    signature: {
      inputs: [{ name: input, dtype: 'float64', shape }],
      outputs: [{ name: 'out', dtype: 'float64', shape }],
    },
  });
}

describe(`evaluate against scikit-learn ${golden.sklearn}`, () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      const report: EvaluationReport = await evaluate(passThrough(c), c.rows, {
        bootstrap: false,
        batchSize: 97, // not a divisor of any case's size: the last batch is partial
        ...(c.threshold === undefined ? {} : { threshold: c.threshold }),
      });
      expect(report.task).toBe(c.task);
      expect(report.samples).toBe(c.rows.length);
      expect(Object.keys(report.metrics).sort()).toEqual(Object.keys(c.metrics).sort());
      for (const [name, value] of Object.entries(c.metrics)) {
        close(report.metrics[name as keyof typeof report.metrics]!.value, value, `metrics.${name}`);
      }
      if (c.task === 'regression') {
        for (const [k, v] of Object.entries(c.residuals!))
          close(report.residuals![k as 'mean'], v, `residuals.${k}`);
        return;
      }
      expect(report.scores).toBe('probabilities');
      const pc = c.perClass!;
      expect(report.perClass!.map((r) => r.support)).toEqual(pc.support);
      closeAll(
        report.perClass!.map((r) => r.precision),
        pc.precision,
        'perClass.precision',
      );
      closeAll(
        report.perClass!.map((r) => r.recall),
        pc.recall,
        'perClass.recall',
      );
      closeAll(
        report.perClass!.map((r) => r.f1),
        pc.f1,
        'perClass.f1',
      );
      expect(report.confusion!.matrix).toEqual(c.confusion);
      expect(report.roc!.length).toBe(c.roc!.length);
      c.roc!.forEach((curve, i) => {
        for (const key of ['fpr', 'tpr', 'thresholds'] as const)
          closeAll(report.roc![i]![key], thinned(curve[key]!), `roc[${i}].${key}`);
      });
      c.pr!.forEach((curve, i) => {
        closeAll(report.pr![i]!.precision, thinned(curve.precision!), `pr[${i}].precision`);
        closeAll(report.pr![i]!.recall, thinned(curve.recall!), `pr[${i}].recall`);
        // scikit-learn's thresholds have one value fewer; the report marks the last point NaN.
        closeAll(report.pr![i]!.thresholds, thinned([...curve.thresholds!, null]), `pr[${i}].thresholds`);
      });
      const cal = report.calibration!;
      expect(cal.bins.map((b) => b.count)).toEqual(c.calibration!.count);
      closeAll(
        cal.bins.map((b) => b.observed),
        c.calibration!.observed,
        'calibration.observed',
      );
      closeAll(
        cal.bins.map((b) => b.meanPredicted),
        c.calibration!.meanPredicted,
        'calibration.meanPredicted',
      );
      close(cal.expectedCalibrationError, c.calibration!.ece, 'calibration.ece');
    });
  }
});
