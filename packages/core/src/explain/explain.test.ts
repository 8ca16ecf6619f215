import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { functionModel } from '../model/function-model';
import { Pipeline } from '../pipeline/pipeline';
import { impute, oneHot } from '../pipeline/transforms';
import { tensor } from '../tensor/tensor';
import { kmeansBackground, sampleRows } from './background';
import { explain } from './explain';
import { failure, goldenModel, records } from './models.case';
import type { ExplainOptions, Explanation } from './types';

/** A 12-feature model with interactions up to fourth order, counting its calls. */
function model12(onCall?: (rows: number, data: Float64Array) => void) {
  return functionModel(
    ({ features }) => {
      const x = features!.data as Float64Array;
      const n = features!.shape[0]!;
      onCall?.(n, x);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = (j: number): number => x[i * 12 + j]!;
        let s = 0;
        for (let j = 0; j < 12; j++) s += 0.1 * (j + 1) * r(j);
        out[i] =
          s +
          r(0) * r(1) * r(2) +
          r(3) * r(4) * r(5) * r(6) +
          Math.sin(r(7)) * r(8) +
          Math.max(r(9), r(10), r(11));
      }
      return { value: tensor('float64', out, [n]) };
    },
    {
      name: 'm12',
      signature: {
        inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', 12] }],
        outputs: [{ name: 'value', dtype: 'float64', shape: ['batch'] }],
      },
    },
  );
}

function randomRows(n: number, m: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return records(
    Array.from({ length: n }, () =>
      Array.from({ length: m }, () => Math.round((random() * 4 - 2) * 1e4) / 1e4),
    ),
  );
}

const rows12 = randomRows(2, 12, 1);
const background12 = randomRows(8, 12, 2);

function sumError(ex: Explanation): number {
  return Math.max(
    ...ex.values.map((v, r) =>
      Math.abs(Object.values(v).reduce((a, b) => a + b, 0) - (ex.predictions[r]! - ex.baseValue)),
    ),
  );
}

function maxError(ex: Explanation, exact: Explanation): number {
  let worst = 0;
  ex.values.forEach((v, r) => {
    for (const f of ex.features) worst = Math.max(worst, Math.abs(v[f]! - exact.values[r]![f]!));
  });
  return worst;
}

async function rejects(work: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await failure(work);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
}

describe('explain: sampled budgets', () => {
  /** Mean over three seeds of the largest error against exact values, per budget; checks the sum on every run. */
  async function errorsByBudget(budgets: readonly Partial<ExplainOptions>[]): Promise<number[]> {
    const model = model12();
    const exact = await explain(model, rows12, { background: background12, method: 'exact' });
    const errors: number[] = [];
    for (const budget of budgets) {
      let err = 0;
      for (const seed of [1, 2, 3]) {
        const ex = await explain(model, rows12, { background: background12, ...budget, seed });
        expect(sumError(ex)).toBeLessThanOrEqual(1e-9);
        err += maxError(ex, exact);
      }
      errors.push(err / 3);
    }
    return errors;
  }

  it('KernelSHAP below the full budget: the values sum to f(x) − base exactly and approach the exact values as nsamples grows', async () => {
    const errors = await errorsByBudget([40, 400, 2072].map((nsamples) => ({ method: 'kernel', nsamples })));
    expect(errors[0]).toBeGreaterThan(errors[1]!);
    expect(errors[1]).toBeGreaterThan(errors[2]!);
    // 2^12 − 2 coalitions: every one is enumerated, so KernelSHAP is exact
    const [full] = await errorsByBudget([{ method: 'kernel', nsamples: 4094 }]);
    expect(full).toBeLessThanOrEqual(1e-9);
  });

  it('the default KernelSHAP budget is 2·M + 2048 coalitions per row', async () => {
    const model = model12();
    const ex = await explain(model, rows12.slice(0, 1), { background: background12, method: 'kernel' });
    expect(ex.evaluations).toBe(2072 * 8 + 8 + 1);
  });

  it('permutation: antithetic orders sum to f(x) − base exactly and approach the exact values as maxEvals grows', async () => {
    const errors = await errorsByBudget(
      [25, 250, 5000].map((maxEvals) => ({ method: 'permutation', maxEvals })),
    );
    expect(errors[0]).toBeGreaterThan(errors[1]!);
    expect(errors[1]).toBeGreaterThan(errors[2]!);
  });

  it('the same seed gives the same values; another seed other values', async () => {
    const model = model12();
    const run = (method: 'kernel' | 'permutation', seed: number) =>
      explain(model, rows12, { background: background12, method, seed, nsamples: 300, maxEvals: 100 });
    for (const method of ['kernel', 'permutation'] as const) {
      const a = await run(method, 7);
      const b = await run(method, 7);
      const c = await run(method, 8);
      expect(a.values).toEqual(b.values);
      expect(a.values).not.toEqual(c.values);
    }
  });

  it('picks exact up to 10 features and kernel above', async () => {
    expect(
      (await explain(model12(), rows12.slice(0, 1), { background: background12.slice(0, 2) })).method,
    ).toBe('kernel');
    const c = goldenModel('linear');
    const five = records([[1, 2, 3, 4, 5]]);
    expect((await explain(c, five, { background: records([[0, 0, 0, 0, 0]]) })).method).toBe('exact');
  });
});

describe('explain: properties', () => {
  it('on any linear model, exact and full-budget kernel values are w_j · (x_j − mean of the background’s x_j)', async () => {
    const num = fc.double({ min: -5, max: 5, noNaN: true });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 7 }).chain((m) =>
          fc.record({
            w: fc.array(num, { minLength: m, maxLength: m }),
            x: fc.array(num, { minLength: m, maxLength: m }),
            bg: fc.array(fc.array(num, { minLength: m, maxLength: m }), { minLength: 1, maxLength: 4 }),
          }),
        ),
        async ({ w, x, bg }) => {
          const m = w.length;
          const model = functionModel(
            ({ features }) => {
              const d = features!.data as Float64Array;
              const n = features!.shape[0]!;
              return {
                value: tensor(
                  'float64',
                  Array.from({ length: n }, (_, i) => w.reduce((s, wj, j) => s + wj * d[i * m + j]!, 0)),
                  [n],
                ),
              };
            },
            {
              signature: {
                inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', m] }],
                outputs: [{ name: 'value', dtype: 'float64', shape: ['batch'] }],
              },
            },
          );
          for (const method of ['exact', 'kernel'] as const) {
            const ex = await explain(model, records([x]), { background: records(bg), method });
            w.forEach((wj, j) => {
              const expected = wj * (x[j]! - bg.reduce((s, b) => s + b[j]!, 0) / bg.length);
              expect(Math.abs(ex.values[0]![`x${j}`]! - expected)).toBeLessThanOrEqual(
                1e-9 * Math.max(1, Math.abs(expected)) + 1e-12,
              );
            });
          }
        },
      ),
      { numRuns: 40, seed: 19 },
    );
  });
});

describe('explain: batching', () => {
  it('stacks coalitions into calls of at most batchSize rows, reusing its row objects', async () => {
    const sizes: number[] = [];
    const model = model12((n) => sizes.push(n));
    const ex = await explain(model, rows12.slice(0, 1), {
      background: background12,
      method: 'exact',
      features: ['x0', 'x1', 'x2', 'x3', 'x4'],
      toInputs: (rows) => ({
        features: tensor(
          'float64',
          rows.flatMap((r) => Array.from({ length: 12 }, (_, j) => (j < 5 ? (r[`x${j}`] as number) : 0))),
          [rows.length, 12],
        ),
      }),
      batchSize: 100,
    });
    expect(ex.features).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    // background (8 rows), the row (1), then 30 coalitions × 8 background rows = 240 → 100, 100, 40
    expect(sizes).toEqual([8, 1, 100, 100, 40]);
    expect(ex.evaluations).toBe(249);
  });

  it("rows' coalitions share calls until a call is full", async () => {
    const sizes: number[] = [];
    const model = model12((n) => sizes.push(n));
    await explain(model, rows12, { background: background12, method: 'kernel', nsamples: 500 });
    // 2 rows × 500 coalitions × 8 background rows = 8000 rows: calls carry whole coalitions
    // (at most ⌊4096 / 8⌋ = 512 of them), shared out evenly over the ⌈1000 / 512⌉ = 2 calls
    expect(sizes).toEqual([8, 2, 4000, 4000]);
    const linear = goldenModel('linear');
    const rows = randomRows(10, 5, 9);
    await explain(linear, rows, { background: randomRows(10, 5, 10), method: 'exact' });
    // 10 rows × 30 coalitions × 10 background rows: one call
    expect([linear.calls, linear.rows]).toEqual([3, 10 + 10 + 3000]);
  });

  it('writes the coalition rows of a [batch, k] input into one reused buffer', async () => {
    const buffers: ArrayBufferLike[] = [];
    const model = model12((_n, data) => buffers.push(data.buffer));
    await explain(model, rows12, {
      background: background12,
      method: 'kernel',
      nsamples: 500,
      batchSize: 1000,
    });
    // background and rows fit in a first small buffer; then 2 rows × 4000 coalition rows in calls of 1000
    expect(buffers).toHaveLength(2 + 8);
    expect(new Set(buffers.slice(2)).size).toBe(1);
  });

  it('the same values whatever the batch size, when rows that share calls vary in different features', async () => {
    // 'b' is constant over the background: it varies for rows 0 and 2, not for rows 1 and 3. A
    // block that held row 0's coalitions (b from the row) and then takes row 1's must give b back
    // to the background (it once kept row 0's b for row 1, and the values of rows 1 and 3
    // depended on the batch size)
    const model = functionModel(
      ({ features }) => {
        const x = features!.data as Float64Array;
        const n = features!.shape[0]!;
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = x[i * 3]! + 10 * x[i * 3 + 1]! * x[i * 3 + 2]!;
        return { value: tensor('float64', out, [n]) };
      },
      {
        name: 'abc',
        signature: {
          inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', 3] }],
          outputs: [{ name: 'value', dtype: 'float64', shape: ['batch'] }],
        },
      },
    );
    const background = [0.1, 0.2, 0.3, 0.4].map((v) => ({ a: v, c: v * 2, b: 0.5 }));
    const rows = [
      { a: 1, c: 1, b: 3 },
      { a: 2, c: 3, b: 0.5 },
      { a: 1, c: 2, b: 3 },
      { a: 2, c: 5, b: 0.5 },
    ];
    for (const method of ['exact', 'kernel'] as const) {
      const want = await explain(model, rows, { background, method, nsamples: 5 });
      // row 1 alone: a + 10·c·b with b at 0.5 in every row, so φ_b = 0 and φ_a, φ_c are exact
      expect(want.values[1]!.a).toBeCloseTo(2 - 0.25, 12);
      expect(want.values[1]!.b).toBe(0);
      expect(want.values[1]!.c).toBeCloseTo(5 * (3 - 0.5), 12);
      for (let batchSize = 4; batchSize <= 60; batchSize += 4) {
        const got = await explain(model, rows, { background, method, nsamples: 5, batchSize });
        expect([method, batchSize, got.values]).toEqual([method, batchSize, want.values]);
      }
    }
  });
});

describe('explain: calls in flight', () => {
  /** The interaction model answering after a timer, as a pool of `instances` would; `failOn` rejects that call. */
  function pooled(instances: number, failOn?: number) {
    const inner = goldenModel('interaction');
    const state = { inFlight: 0, most: 0, calls: 0 };
    const model = Object.assign(Object.create(inner) as typeof inner, {
      instances,
      predict: async (
        inputs: Parameters<typeof inner.predict>[0],
        options?: Parameters<typeof inner.predict>[1],
      ) => {
        const call = ++state.calls;
        state.most = Math.max(state.most, ++state.inFlight);
        try {
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (call === failOn) throw new ModelshipError('INFERENCE_FAILED', `call ${call} failed`);
          return await inner.predict(inputs, options);
        } finally {
          state.inFlight--;
        }
      },
    });
    return { model, state };
  }
  const rows = randomRows(2, 8, 51);
  const background = randomRows(10, 8, 52);

  it("keeps one call per instance in flight plus one being written, each with its own buffer; the values don't change", async () => {
    const sequential = await explain(goldenModel('interaction'), rows, { background, batchSize: 200 });
    for (const instances of [1, 3]) {
      const { model, state } = pooled(instances);
      const ex = await explain(model, rows, { background, batchSize: 200 });
      // double buffering: while the instances run, the next call's rows go into another buffer
      expect(state.most).toBe(instances + 1);
      expect(state.calls).toBeGreaterThan(10);
      expect(ex.values).toEqual(sequential.values);
    }
  });

  it('a failed call rejects explain with its error once the calls in flight have ended', async () => {
    const { model, state } = pooled(3, 4);
    const error = await failure(explain(model, rows, { background, batchSize: 200 }));
    expect(error.code).toBe('INFERENCE_FAILED');
    expect(error.message).toBe('call 4 failed');
    expect(state.inFlight).toBe(0);
    // no call starts after the failure is seen: at most the three already in flight beside it
    expect(state.calls).toBeLessThanOrEqual(7);
  });
});

describe('explain: players', () => {
  it('groups columns into one player whose value is the group coalition’s Shapley value', async () => {
    const model = goldenModel('linear');
    const rows = records([[1, 2, 3, 4, 5]]);
    const background = records([
      [0, 0, 0, 0, 0],
      [1, -1, 2, 0.5, 3],
    ]);
    const plain = await explain(model, rows, { background });
    const grouped = await explain(model, rows, { background, groups: { first: ['x0', 'x1'] } });
    expect(grouped.features).toEqual(['x2', 'x3', 'x4', 'first']);
    // a linear model is additive: the group's value is the sum of its members' values
    expect(grouped.values[0]!.first).toBeCloseTo(plain.values[0]!.x0! + plain.values[0]!.x1!, 12);
    expect(grouped.values[0]!.x3).toBeCloseTo(plain.values[0]!.x3!, 12);
  });

  it('with a pipeline, each record field is one player (a one-hot country is one feature)', async () => {
    const training = [
      { amount: 10, country: 'fr' },
      { amount: 20, country: 'de' },
      { amount: 30, country: 'it' },
    ];
    const pipeline = Pipeline.fit(training, { features: { amount: [], country: oneHot() } });
    expect(pipeline.width).toBe(4);
    // value = amount + 100 · [the second one-hot column]
    const model = functionModel(
      ({ features }) => {
        const x = features!.data as Float32Array;
        const n = features!.shape[0]!;
        return {
          value: tensor(
            'float64',
            Array.from({ length: n }, (_, i) => x[i * 4]! + 100 * x[i * 4 + 2]!),
            [n],
          ),
        };
      },
      {
        signature: {
          inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 4] }],
          outputs: [{ name: 'value', dtype: 'float64', shape: ['batch'] }],
        },
      },
    );
    const probe = await model.predict(
      pipeline.transform([
        { amount: 0, country: 'de' },
        { amount: 0, country: 'fr' },
      ]),
    );
    const [de, fr] = Array.from(probe.value!.data as Float64Array);
    const ex = await explain(model, [{ amount: 25, country: 'de' }], { background: training, pipeline });
    expect(ex.features).toEqual(['amount', 'country']);
    const meanCountry = (fr! + de! + 0) / 3; // 'it' scores 0 as well as 'fr' or 'de', whichever column is not 100
    expect(ex.values[0]!.amount).toBeCloseTo(25 - 20, 9);
    expect(ex.values[0]!.country).toBeCloseTo(de! - meanCountry, 9);
    expect(Math.max(de!, fr!)).toBe(100);
  });

  it("with a pipeline, a missing value is the pipeline's to impute; NaN is still refused", async () => {
    const training = [{ amount: 10 }, { amount: 30 }];
    const pipeline = Pipeline.fit(training, { features: { amount: impute('mean') } });
    const model = functionModel(({ features }) => ({ value: features! }), {
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 1] }],
        outputs: [{ name: 'value', dtype: 'float32', shape: ['batch', 1] }],
      },
    });
    // the missing amount is imputed as 20, the background's mean is 20: nothing to attribute
    const ex = await explain(model, [{ amount: null }, { amount: 40 }], { background: training, pipeline });
    expect(ex.values[0]!.amount).toBe(0);
    expect(ex.values[1]!.amount).toBe(20);
    await rejects(
      explain(model, [{ amount: Number.NaN }], { background: training, pipeline }),
      'DATASET_INVALID',
      /column 'amount' is NaN; write a missing value as null/,
    );
  });

  it('explains the chosen class of a multiclass output', async () => {
    // three scores per row: column c is (c + 1) · x_c
    const model = functionModel(
      ({ features }) => {
        const x = features!.data as Float64Array;
        const n = features!.shape[0]!;
        const out = new Float64Array(n * 3);
        for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = (c + 1) * x[i * 3 + c]!;
        return { scores: tensor('float64', out, [n, 3]) };
      },
      {
        signature: {
          inputs: [{ name: 'features', dtype: 'float64', shape: ['batch', 3] }],
          outputs: [{ name: 'scores', dtype: 'float64', shape: ['batch', 3] }],
        },
      },
    );
    const rows = records([[1, 1, 1]]);
    const background = records([[0, 0, 0]]);
    const ex = await explain(model, rows, { background, class: 2 });
    expect(ex.values[0]).toEqual({ x0: 0, x1: 0, x2: 3 });
    await rejects(
      explain(model, rows, { background }),
      'INVALID_ARGUMENT',
      /3 values per row; choose the class explained with class \(0–2\)/,
    );
    await rejects(
      explain(model, rows, { background, class: 3 }),
      'INVALID_ARGUMENT',
      /class must be below 3/,
    );
  });

  it('topFeatures ranks by absolute contribution', async () => {
    const ex = await explain(goldenModel('linear'), records([[1, 1, 1, 1, 1]]), {
      background: records([[0, 0, 0, 0, 0]]),
    });
    // contributions are the weights: 0.7, −1.3, 0.25, 2.0, −0.5
    expect(ex.topFeatures(0, 3)).toEqual([
      { feature: 'x3', value: 2 },
      { feature: 'x1', value: -1.3 },
      { feature: 'x0', value: 0.7 },
    ]);
    expect(() => ex.topFeatures(1)).toThrow(/row must be an index below 1/);
  });
});

describe('explain: background', () => {
  it('sampleRows draws k distinct rows, seeded; a background above 100 rows gets a note', async () => {
    const rows = randomRows(150, 5, 3);
    const a = sampleRows(rows, 100, { seed: 1 });
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect(a.every((r) => rows.includes(r))).toBe(true);
    expect(sampleRows(rows, 100, { seed: 1 })).toEqual(a);
    expect(sampleRows(rows, 100, { seed: 2 })).not.toEqual(a);
    expect(sampleRows(rows.slice(0, 3), 100)).toEqual(rows.slice(0, 3));
    const model = goldenModel('linear');
    const x = rows.slice(0, 1);
    expect((await explain(model, x, { background: a })).notes).toEqual([]);
    expect((await explain(model, x, { background: rows })).notes).toEqual([
      'the background has 150 rows: every coalition costs 150 model rows; 100 rows usually suffice (sampleRows(background, 100))',
    ]);
    expect(() => sampleRows(rows, 0)).toThrow(/k must be a positive integer/);
  });
});

describe('explain: weighted backgrounds and kmeansBackground', () => {
  it('a weight of 2 is the row counted twice: every method, both the matrix and the record path', async () => {
    const model = goldenModel('interaction');
    const rows = randomRows(2, 8, 31);
    const bg = randomRows(5, 8, 32);
    const doubled = [bg[0]!, ...bg, bg[3]!, bg[3]!];
    const weights = [2, 1, 1, 3, 1];
    for (const method of ['exact', 'kernel', 'permutation'] as const) {
      // batchSize 4 < 5 background rows: coalitions go through the row-by-row path
      for (const batchSize of [4096, 4]) {
        const common = { method, seed: 5, batchSize };
        const weighted = await explain(model, rows, {
          background: bg,
          backgroundWeights: weights,
          ...common,
        });
        const counted = await explain(model, rows, { background: doubled, ...common });
        expect(Math.abs(weighted.baseValue - counted.baseValue)).toBeLessThanOrEqual(1e-12);
        weighted.values.forEach((v, r) => {
          for (const f of weighted.features)
            expect(
              Math.abs(v[f]! - counted.values[r]![f]!),
              `${method} ${batchSize} row ${r} ${f}`,
            ).toBeLessThanOrEqual(1e-12);
        });
      }
    }
    // weights are normalised: scaling them changes nothing
    const a = await explain(model, rows, { background: bg, backgroundWeights: weights });
    const b = await explain(model, rows, { background: bg, backgroundWeights: weights.map((w) => w * 0.25) });
    expect(b.values[1]!.x3).toBeCloseTo(a.values[1]!.x3!, 12);
  });

  it('backgroundWeights must be one finite weight ≥ 0 per background row, not all 0', async () => {
    const model = goldenModel('linear');
    const rows = records([[1, 2, 3, 4, 5]]);
    const background = records([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1],
    ]);
    const cases: [unknown, RegExp][] = [
      [[1], /backgroundWeights has 1 weights for 2 background rows; give one per row/],
      [[1, -1], /backgroundWeights\[1\] must be a finite number ≥ 0/],
      [[1, Number.NaN], /backgroundWeights\[1\] must be a finite number ≥ 0/],
      [[0, 0], /backgroundWeights must not all be 0/],
      ['1,1', /backgroundWeights must be an array of numbers/],
    ];
    for (const [backgroundWeights, message] of cases)
      await rejects(
        explain(model, rows, { background, backgroundWeights: backgroundWeights as number[] }),
        'INVALID_ARGUMENT',
        message,
      );
  });

  it('kmeansBackground: k weighted centroids made of data values, seeded; weights are cluster sizes', () => {
    const rows: Row[] = [
      ...randomRows(40, 3, 41).map((r) => ({ ...r, label: 0 })),
      ...randomRows(25, 3, 42).map((r) => ({ x0: (r.x0 as number) + 50, x1: r.x1, x2: r.x2, label: 1 })),
    ];
    const summary = kmeansBackground(rows, 2, { seed: 7 });
    expect(summary.rows).toHaveLength(2);
    expect([...summary.weights].sort((a, b) => a - b)).toEqual([25, 40]);
    // the label is not a feature; every coordinate is a value its column takes in the data
    for (const c of summary.rows) {
      expect(Object.keys(c)).toEqual(['x0', 'x1', 'x2']);
      for (const f of ['x0', 'x1', 'x2']) expect(rows.some((r) => r[f] === c[f])).toBe(true);
    }
    expect(kmeansBackground(rows, 2, { seed: 7 })).toEqual(summary);
    // unsnapped, a centroid is its cluster's mean
    const means = kmeansBackground(rows, 2, { seed: 7, roundValues: false });
    const far = means.rows.find((r) => (r.x0 as number) > 25)!;
    const mean = rows.slice(40).reduce((s, r) => s + (r.x0 as number), 0) / 25;
    expect(far.x0).toBeCloseTo(mean, 12);
    // no more rows than k: every row is its own centroid of weight 1
    expect(kmeansBackground(rows.slice(0, 3), 5)).toEqual({
      rows: rows.slice(0, 3).map(({ label: _, ...r }) => r),
      weights: [1, 1, 1],
    });
    // fewer distinct rows than k: the empty clusters are dropped
    const twice = [...rows.slice(0, 2), ...rows.slice(0, 2)];
    const distinct = kmeansBackground(twice, 3, { roundValues: false });
    expect(distinct.weights).toEqual([2, 2]);
  });

  it('kmeansBackground imputes missing values with the column mean (as shap) and refuses what it cannot average', () => {
    const rows = [{ a: 1, b: 10 }, { a: 3, b: null }, { a: Number.NaN, b: 30 }, { b: 20 }, { a: 2, b: 20 }];
    // a's missing values become 2 (the mean of 1, 3, 2), b's 20; with k = n each row is a centroid
    const summary = kmeansBackground(rows, 5);
    expect(summary.rows).toEqual([
      { a: 1, b: 10 },
      { a: 3, b: 20 },
      { a: 2, b: 30 },
      { a: 2, b: 20 },
      { a: 2, b: 20 },
    ]);
    expect(() =>
      kmeansBackground(
        [
          { a: 1, city: 'Paris' },
          { a: 2, city: 'Lyon' },
        ],
        1,
      ),
    ).toThrow(
      /kmeansBackground: row 0, column 'city' is .*Paris.*; k-means needs finite numbers \(summarise other columns with sampleRows\)/,
    );
    expect(() => kmeansBackground([{ a: null }, { a: null }], 1)).toThrow(/column 'a' has no values/);
    expect(() => kmeansBackground(rows, 0)).toThrow(/k must be a positive integer/);
    expect(() => kmeansBackground(rows, 2, { roundValues: 'yes' as unknown as boolean })).toThrow(
      /roundValues must be true or false/,
    );
    expect(() => kmeansBackground(rows, 2, { seeds: 1 } as never)).toThrow(/seeds/);
  });
});

describe('explain: bad input', () => {
  const model = goldenModel('linear');
  const rows = records([[1, 2, 3, 4, 5]]);
  const background = records([[0, 0, 0, 0, 0]]);

  it('a background with other columns than the rows', async () => {
    await rejects(
      explain(model, rows, { background: records([[0, 0, 0, 0]]) }),
      'DATASET_INVALID',
      /the background lacks 'x4'/,
    );
    await rejects(
      explain(model, rows, { background: [{ ...background[0]!, extra: 1 }] }),
      'DATASET_INVALID',
      /has columns the rows do not \('extra'\)/,
    );
  });

  it('NaN or missing values in the rows or the background', async () => {
    await rejects(
      explain(model, [{ ...rows[0]!, x2: Number.NaN }], { background }),
      'DATASET_INVALID',
      /the rows row 0, column 'x2' is NaN/,
    );
    await rejects(
      explain(model, rows, { background: [...background, { x0: 1, x1: 1, x2: 1, x3: 1 }] }),
      'DATASET_INVALID',
      /the background row 1 has no column 'x4'/,
    );
  });

  it('unknown features and groups', async () => {
    await rejects(
      explain(model, rows, { background, features: ['x0', 'nope'] }),
      'DATASET_INVALID',
      /unknown feature 'nope'/,
    );
    await rejects(
      explain(model, rows, { background, groups: { g: ['x0', 'zz'] } }),
      'DATASET_INVALID',
      /group 'g' names unknown feature 'zz'/,
    );
    await rejects(
      explain(model, rows, { background, groups: { a: ['x0'], b: ['x0', 'x1'] } }),
      'INVALID_ARGUMENT',
      /column 'x0' is in groups 'a' and 'b'/,
    );
  });

  it('budgets too small name the minimum', async () => {
    const m = model12();
    await rejects(
      explain(m, rows12, { background: background12, method: 'kernel', nsamples: 12 }),
      'INVALID_ARGUMENT',
      /at least M \+ 1 = 13 coalitions/,
    );
    await rejects(
      explain(m, rows12, { background: background12, method: 'permutation', maxEvals: 24 }),
      'INVALID_ARGUMENT',
      /at least 2·M \+ 1 = 25/,
    );
    const wide = records([Array.from({ length: 21 }, (_, j) => j)]);
    await rejects(
      explain(m, wide, { background: wide, method: 'exact' }),
      'INVALID_ARGUMENT',
      /at most 20 features; there are 21/,
    );
  });

  it("link 'logit' on outputs that are not probabilities", async () => {
    await rejects(
      explain(model, rows, { background, link: 'logit' }),
      'INVALID_ARGUMENT',
      /strictly between 0 and 1/,
    );
  });

  it('options: unknown names, bad methods, missing background', async () => {
    await rejects(
      explain(model, rows, { background, nsample: 5 } as never),
      'INVALID_ARGUMENT',
      /unknown option 'nsample'/,
    );
    await rejects(
      explain(model, rows, { background, method: 'tree' } as never),
      'INVALID_ARGUMENT',
      /method must be one of/,
    );
    await rejects(explain(model, rows, {} as never), 'INVALID_ARGUMENT', /background rows are required/);
    await rejects(explain(model, [], { background }), 'DATASET_INVALID', /the rows has no rows/);
  });

  it('a cancelled explanation rejects with ABORTED and returns nothing', async () => {
    const controller = new AbortController();
    let calls = 0;
    const m = model12(() => {
      calls++;
      if (calls === 3) controller.abort(new Error('client went away'));
    });
    await rejects(
      explain(m, rows12, {
        background: background12,
        method: 'kernel',
        nsamples: 100,
        batchSize: 50,
        signal: controller.signal,
      }),
      'ABORTED',
      /client went away/,
    );
    expect(calls).toBe(3);
    calls = 0;
    await rejects(
      explain(m, rows12, { background: background12, signal: controller.signal }),
      'ABORTED',
      /aborted/,
    );
    expect(calls).toBe(0);
  });
});
