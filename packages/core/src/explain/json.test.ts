import { describe, expect, it } from 'vitest';
import { explain } from './explain';
import { explanationToJSON } from './json';
import { failure, goldenModel, records } from './models.case';

describe('explanationToJSON', () => {
  it('is the explanation as plain data that survives JSON and owes nothing to the original', async () => {
    const model = goldenModel('linear');
    const rows = records([
      [1, 2, 3, 4, 5],
      [0, -1, 0.5, 2, 1],
    ]);
    const background = records([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1],
    ]);
    const ex = await explain(model, rows, { background, method: 'exact' });
    const json = explanationToJSON(ex);
    expect(Object.keys(json)).toEqual([
      'method',
      'features',
      'baseValue',
      'predictions',
      'values',
      'evaluations',
      'notes',
    ]);
    expect(json.method).toBe('exact');
    expect(json.features).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    // linear model: φ_j = w_j · (x_j − mean background x_j), the base is f(mean background)
    expect(json.baseValue).toBeCloseTo(0.1 + 0.5 * (0.7 - 1.3 + 0.25 + 2.0 - 0.5), 12);
    expect(json.values[0]!.x3).toBeCloseTo(2.0 * (4 - 0.5), 12);
    expect(json.values[1]!.x1).toBeCloseTo(-1.3 * (-1 - 0.5), 12);
    expect(json.predictions).toEqual(ex.predictions);
    expect(json.evaluations).toBe(ex.evaluations);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    // a copy: changing the JSON form leaves the explanation alone
    json.values[0]!.x0 = 99;
    json.features.push('extra');
    json.predictions[0] = -1;
    expect(ex.values[0]!.x0).not.toBe(99);
    expect(ex.features).toHaveLength(5);
    expect(ex.predictions[0]).not.toBe(-1);
    expect('topFeatures' in json).toBe(false);
  });

  it('keeps a feature named like an Object.prototype key as an own property', () => {
    const json = explanationToJSON({
      method: 'exact',
      features: ['__proto__', 'constructor'],
      baseValue: 0,
      predictions: [3],
      values: [
        Object.fromEntries([
          ['__proto__', 1],
          ['constructor', 2],
        ]),
      ],
      evaluations: 4,
      notes: [],
      topFeatures: () => [],
    });
    expect(Object.keys(json.values[0]!)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(json.values[0])).toBe('{"__proto__":1,"constructor":2}');
  });

  it('refuses what is not an explanation, naming what it needs', async () => {
    for (const bad of [undefined, null, 3, { method: 'exact' }, { values: [], predictions: [1] }]) {
      const e = await failure((async () => explanationToJSON(bad as never))());
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/^explanationToJSON: the argument must be an explanation/);
    }
  });
});
