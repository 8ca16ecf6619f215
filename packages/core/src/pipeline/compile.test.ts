/**
 * The compiled plan against the reference: random pipelines over random records (bad values
 * included) give the same tensors, bit for bit, or the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipeline } from './pipeline';
import { compilePlan } from './plan';
import {
  applyTransform,
  bucketize,
  clip,
  type FieldValue,
  type FittedTransform,
  hash,
  impute,
  log,
  minMax,
  oneHot,
  ordinal,
  robustScale,
  standardize,
  type TransformSpec,
  widthOf,
} from './transforms';

/** What `Pipeline.transform` must do, written plainly with `applyTransform`. */
function reference(pipeline: Pipeline, records: readonly Record<string, unknown>[]): Float32Array {
  const { columns } = pipeline.toJSON();
  const width = pipeline.width;
  const data = new Float32Array(records.length * width);
  records.forEach((row, i) => {
    let at = i * width;
    for (const c of columns) {
      const own = Object.hasOwn(row, c.field);
      if (!own && !c.transforms.some((t) => t.kind === 'impute'))
        throw new Error(`record ${i} has no field '${c.field}'`);
      let v = (own ? row[c.field] : undefined) as FieldValue | number[];
      for (const t of c.transforms as FittedTransform[]) v = applyTransform(t, v as FieldValue, i, c.field);
      if (Array.isArray(v)) data.set(v, at);
      else {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new Error(
            `record ${i}, field '${c.field}' is ${JSON.stringify(v)}; a finite number is required`,
          );
        data[at] = v;
      }
      at += c.transforms.length === 0 ? 1 : widthOf(c.transforms.at(-1) as FittedTransform);
    }
  });
  return data;
}

function outcome(fn: () => Float32Array): { data: number[] } | { error: string } {
  try {
    return { data: Array.from(fn()) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const numeric = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -50, max: 50, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(null, Number.NaN, 0, -1, 'text', true, Number.POSITIVE_INFINITY) },
);
const category = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', 'd') },
  { weight: 1, arbitrary: fc.constantFrom(null, 'zz', 3, '') },
);
const numericChain = fc.constantFrom<TransformSpec[]>(
  [],
  [standardize()],
  [impute('median'), standardize()],
  [impute('mean'), minMax([-1, 1])],
  [impute('constant', 2), robustScale()],
  [log()],
  [impute('mean'), clip(-3, 3), log(10)],
  [clip(-1, 1)],
  [impute('mean'), bucketize({ bins: 3 })],
  [bucketize({ boundaries: [-1, 0, 1], encode: 'onehot' })],
);
const categoryChain = fc.constantFrom<TransformSpec[]>(
  [oneHot()],
  [oneHot({ unknown: 'ignore' })],
  [impute('most_frequent'), oneHot({ unknown: 'ignore', maxCategories: 2 })],
  [ordinal()],
  [ordinal({ unknownValue: -1 })],
  [hash({ buckets: 4 })],
);

describe('the compiled plan', () => {
  it('transforms exactly as applyTransform does, errors included', () => {
    fc.assert(
      fc.property(
        fc.array(numericChain, { minLength: 1, maxLength: 3 }),
        fc.array(categoryChain, { minLength: 0, maxLength: 2 }),
        fc.array(
          fc.tuple(
            fc.array(numeric, { minLength: 3, maxLength: 3 }),
            fc.array(category, { minLength: 2, maxLength: 2 }),
            fc.boolean(),
          ),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (nums, cats, rows) => {
          const training = Array.from({ length: 30 }, (_, i) => ({
            x0: i - 10,
            x1: i % 7 === 0 ? null : i * 0.5,
            x2: (i * 37) % 11,
            k0: ['a', 'b', 'c'][i % 3],
            k1: i % 5 === 0 ? null : ['b', 'd'][i % 2],
          }));
          const features: Record<string, TransformSpec[]> = {};
          nums.forEach((chain, j) => {
            features[`x${j}`] = chain;
          });
          cats.forEach((chain, j) => {
            features[`k${j}`] = chain;
          });
          let pipeline: Pipeline;
          try {
            pipeline = Pipeline.fit(training, { features });
          } catch {
            return; // e.g. log of a negative training value: nothing to compare
          }
          const records = rows.map(([xs, ks, drop]) => {
            const r: Record<string, unknown> = { x0: xs[0], x1: xs[1], x2: xs[2], k0: ks[0], k1: ks[1] };
            if (drop) delete r.x1;
            return r;
          });
          const expected = outcome(() => reference(pipeline, records));
          // Generated code (the default here) and the interpreter (where code cannot be generated).
          expect(outcome(() => pipeline.transform(records).features!.data as Float32Array)).toEqual(expected);
          const interpreted = compilePlan(pipeline.toJSON().columns, pipeline.width, { codegen: false });
          expect(
            outcome(() => {
              const data = new Float32Array(records.length * pipeline.width);
              interpreted(records, data, 0);
              return data;
            }),
          ).toEqual(expected);
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });

  it('generates code where it may, and interprets otherwise', () => {
    const p = Pipeline.fit([{ x: 1 }, { x: 3 }], { features: { x: standardize() } });
    const columns = p.toJSON().columns;
    expect(compilePlan(columns, 1).name).toBe('plan'); // the generated function
    expect(compilePlan(columns, 1, { codegen: false }).name).toBe(''); // the interpreter's closure
  });

  it('treats inherited properties as missing', () => {
    const pipeline = Pipeline.fit([{ constructor: 1 }, { constructor: 3 }], {
      features: { constructor: standardize() },
    });
    expect(() => pipeline.transform([{}])).toThrow("record 0 has no field 'constructor'");
    expect(Array.from(pipeline.transform([{ constructor: 3 }]).features!.data)).toEqual([1]);
  });
});
