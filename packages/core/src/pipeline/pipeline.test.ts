/** Fitted transforms against scikit-learn 1.2 (test/golden/make_pipeline_golden.py), JSON round trips and errors. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelshipError } from '../errors';
import { Pipeline, type PipelineJson } from './pipeline';
import { clip, impute, log, minMax, oneHot, ordinal, robustScale, standardize } from './transforms';

type Rec = Record<string, number | string | null>;
const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/pipeline.golden.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  records: Rec[];
  test: Rec[];
  impute_mean: number;
  impute_median: number;
  impute_most_frequent: number;
  amount_median_standardize: { mean: number; scale: number; test: number[] };
  age_minmax: { test: number[] };
  age_robust: { center: number; scale: number; test: number[] };
  flat_standardize: { scale: number; test: number[] };
  flat_minmax: { test: number[] };
  country_onehot: { categories: string[]; test: number[][] };
};

/** float32 output against scikit-learn's float64: within float32 rounding. */
function closeF32(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    expect(Math.abs(actual[i]! - e), `[${i}] ${actual[i]} vs ${e}`).toBeLessThanOrEqual(
      1e-6 * Math.max(1, Math.abs(e)),
    );
  });
}

describe(`pipeline transforms against scikit-learn ${golden.sklearn}`, () => {
  const pipeline = Pipeline.fit(golden.records, {
    features: {
      amount: [impute('median'), standardize()],
      age: minMax([-1, 1]),
      flat: standardize(),
      country: oneHot({ unknown: 'ignore' }),
    },
  });

  it('learns the same statistics', () => {
    for (const strategy of ['mean', 'median', 'most_frequent'] as const) {
      const p = Pipeline.fit(golden.records, { features: { amount: impute(strategy) } });
      expect(p.toJSON().columns[0]!.transforms[0]!.state.fill, strategy).toBeCloseTo(
        golden[`impute_${strategy}`],
        12,
      );
    }
    const [amount, , flat, country] = pipeline.toJSON().columns;
    expect(amount!.transforms[1]!.state.mean).toBeCloseTo(golden.amount_median_standardize.mean, 10);
    expect(amount!.transforms[1]!.state.scale).toBeCloseTo(golden.amount_median_standardize.scale, 10);
    expect(flat!.transforms[0]!.state.scale).toBe(golden.flat_standardize.scale); // 1 for a constant column
    expect(country!.transforms[0]!.state.categories).toEqual(golden.country_onehot.categories);
    const robust = Pipeline.fit(golden.records, { features: { age: robustScale() } }).toJSON().columns[0]!
      .transforms[0]!.state;
    expect(robust).toEqual({ center: golden.age_robust.center, scale: golden.age_robust.scale });
  });

  it('transforms test records as scikit-learn does, unseen categories as zeros under ignore', () => {
    const { features } = pipeline.transform(golden.test);
    expect(features!.shape).toEqual([3, 3 + golden.country_onehot.categories.length]);
    expect(pipeline.featureNames()).toEqual([
      'amount',
      'age',
      'flat',
      ...golden.country_onehot.categories.map((c) => `country=${c}`),
    ]);
    const column = (j: number) =>
      Array.from({ length: 3 }, (_, i) => features!.data[i * pipeline.width + j]!);
    closeF32(column(0), golden.amount_median_standardize.test);
    closeF32(column(1), golden.age_minmax.test);
    closeF32(column(2), golden.flat_standardize.test);
    golden.country_onehot.test.forEach((row, i) => {
      expect(Array.from(features!.data.slice(i * pipeline.width + 3, (i + 1) * pipeline.width))).toEqual(row);
    });
    const minmaxFlat = Pipeline.fit(golden.records, { features: { flat: minMax() } }).transform(golden.test)
      .features!;
    closeF32(minmaxFlat.data, golden.flat_minmax.test);
  });

  it('serialises to JSON and reads back to the same transform, bit for bit', () => {
    const again = Pipeline.fromJSON(JSON.parse(JSON.stringify(pipeline)));
    expect(again.transform(golden.test).features!.data).toEqual(
      pipeline.transform(golden.test).features!.data,
    );
    expect(() => Pipeline.fromJSON({ format: 'x' })).toThrow(/not a version 1 modelship pipeline/);
  });

  it('refuses a damaged pipeline.json when it is read, naming the column and transform', () => {
    const good = JSON.parse(JSON.stringify(pipeline)) as PipelineJson;
    const damaged = (edit: (j: PipelineJson) => void) => {
      const j = JSON.parse(JSON.stringify(good)) as PipelineJson;
      edit(j);
      return () => Pipeline.fromJSON(j);
    };
    expect(damaged((j) => delete j.columns[0]!.transforms[1]!.state.scale)).toThrow(
      "column 'amount', transform 1 (standardize): state.scale must be a positive number",
    );
    expect(damaged((j) => (j.columns[0]!.transforms[1]!.state.mean = 'x'))).toThrow(
      'state.mean must be a finite number',
    );
    expect(damaged((j) => (j.columns[1]!.transforms[0]!.options.range = [1, 0]))).toThrow(
      "column 'age', transform 0 (minMax): options.range must be [low, high] with low < high",
    );
    expect(damaged((j) => (j.columns[3]!.transforms[0]!.state.categories = ['FR', 'FR']))).toThrow(
      'state.categories must be a non-empty list of distinct strings or of distinct numbers',
    );
    expect(damaged((j) => (j.columns[3]!.transforms[0]!.options.unknown = 'skip'))).toThrow(
      "options.unknown must be 'error' or 'ignore'",
    );
    expect(damaged((j) => (j.columns[0]!.transforms[0]!.kind = 'magic' as never))).toThrow(
      "column 'amount', transform 0 (magic): not a known transform",
    );
    expect(damaged((j) => j.columns[3]!.transforms.push(good.columns[0]!.transforms[1]!))).toThrow(
      'must be the last transform',
    );
    expect(damaged((j) => j.columns.push(good.columns[0]!))).toThrow("column 'amount' appears twice");
    expect(damaged((j) => (j.columns[0]!.field = '__proto__'))).toThrow('a column needs a field name');
    expect(damaged((j) => (j.columns = []))).toThrow('a pipeline needs a column');
    expect(damaged((j) => (j.input = 7 as never))).toThrow('input must name a model input');
    expect(damaged(() => {})()).toBeInstanceOf(Pipeline);
  });

  it('needs training records only when there is something to learn', () => {
    expect(() => Pipeline.fit([], { features: { age: standardize() } })).toThrow(
      'records must be a non-empty array',
    );
    const images = Pipeline.fit([], { images: { photo: { width: 2, height: 2 } } });
    expect(images.inputNames()).toEqual(['photo']);
    expect(() => Pipeline.fit([], {} as never)).toThrow('spec.features must map fields to transforms');
  });

  it('refuses records it cannot encode, naming the field and the record', () => {
    const strict = Pipeline.fit(golden.records, { features: { age: standardize(), country: oneHot() } });
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as ModelshipError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(codeOf(() => strict.transform([{ age: 30, country: 'PT' }]))).toBe(
      'INPUT_INVALID: record 0, field \'country\' is "PT", a category not seen in training (known: DE, ES, FR, IT)',
    );
    expect(codeOf(() => strict.transform([{ age: 30, country: 'FR' }, { country: 'FR' }]))).toBe(
      "INPUT_MISSING: record 1 has no field 'age'",
    );
    expect(codeOf(() => strict.transform([{ age: 'old', country: 'FR' }]))).toBe(
      'INPUT_INVALID: record 0, field \'age\' is "old"; standardize needs a finite number',
    );
    expect(
      codeOf(() => Pipeline.fit(golden.records, { features: { country: [oneHot(), standardize()] } })),
    ).toMatch(/oneHot must be its last transform/);
  });

  it('log, clip and ordinal encode as documented', () => {
    const p = Pipeline.fit(
      [
        { x: 0, c: 'b' },
        { x: 9, c: 'a' },
      ],
      {
        features: { x: [clip(0, 5), log()], c: ordinal({ unknownValue: -1 }) },
      },
    );
    expect(
      Array.from(
        p.transform([
          { x: 9, c: 'a' },
          { x: 0, c: 'z' },
        ]).features!.data,
      ),
    ).toEqual([Math.fround(Math.log(6)), 0, 0, -1]);
  });
});
