import { describe, expect, it } from 'vitest';
import { type ExplanationReport, renderExplanationHtml } from './html';

const features = Array.from({ length: 15 }, (_, j) => `x${j}`);
// Feature j contributes (j − 7) / 100: x0 the most negative, x14 the most positive.
const values = Object.fromEntries(features.map((f, j) => [f, (j - 7) / 100]));
const total = Object.values(values).reduce((a, b) => a + b, 0);

const report: ExplanationReport = {
  model: { name: 'm<1>', version: '2' },
  samples: 30,
  output: 'score',
  seed: 4,
  importance: {
    metric: 'r2Score',
    baseline: 0.9,
    features,
    importances: features.map((_, j) => [j / 10, j / 10]),
    importancesMean: features.map((_, j) => j / 10 - 0.2),
    importancesStd: features.map(() => 0.01),
  },
  partialDependence: [{ feature: 'x3', grid: [0, 1, 2], average: [0.5, 0.25, -1] }],
  shapley: {
    method: 'exact',
    features,
    baseValue: 0.5,
    predictions: [0.5 + total],
    values: [values],
    evaluations: 10,
    notes: [],
    rows: [7],
    data: [
      Object.fromEntries(features.map((f, j) => [f, j === 0 ? 'a very long category name' : j * 1.23456])),
    ],
    background: 30,
  },
};

describe('renderExplanationHtml', () => {
  const page = renderExplanationHtml(report);

  it('is one page without scripts or links, names escaped', () => {
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|src=/);
    expect(page).toContain('<title>m&#60;1&#62; · explanation</title>');
    expect(page).not.toContain('m<1>');
  });

  it('draws the 15 importance bars largest first, negative means in grey', () => {
    const bars = [...page.matchAll(/<g class="imp"><title>(x\d+): /g)].map((m) => m[1]);
    expect(bars).toEqual([...features].reverse());
    expect(page.match(/fill="#9ca3af" rx="2"/g)).toHaveLength(2); // x0 and x1 lower r2Score when shuffled
    expect(page).toContain('drop in r2Score');
  });

  it('keeps the 11 largest contributions and sums the rest into one step', () => {
    const steps = [...page.matchAll(/<g class="step">.*?<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(steps).toHaveLength(12);
    // |x − 7| largest first: x0 and x14 (0.07), x1 and x13 (0.06), …; ties keep column order.
    expect(steps.slice(0, 4)).toEqual(['x0 = a very long cat…', 'x14 = 17.28', 'x1 = 1.235', 'x13 = 16.05']);
    expect(steps[11]).toBe('4 other features');
    expect(page).toContain('Row 7 · prediction 0.5000');
  });

  it('plots the dependence on the shared scale and leaves out what was not computed', () => {
    expect(page).toContain('aria-label="partial dependence on x3"');
    const bare = renderExplanationHtml({ model: { name: 'm', version: '1' }, samples: 3 });
    expect(bare).not.toContain('<svg');
    expect(bare).toContain('3 rows');
  });
});
