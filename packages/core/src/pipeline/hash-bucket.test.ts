/** hash and bucketize against scikit-learn 1.2 (test/golden/make_hashing_golden.py). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { murmur3, utf8 } from './hash-bucket';
import { Pipeline } from './pipeline';
import { bucketize, hash, impute } from './transforms';

const golden = JSON.parse(
  readFileSync(new URL('../../test/golden/hashing.golden.json', import.meta.url), 'utf8'),
) as {
  sklearn: string;
  strings: string[];
  murmur3: Record<string, number>;
  hashers: { buckets: number; alternateSign: boolean; rows: number[][] }[];
  values: number[];
  test: number[];
  bins: { strategy: 'uniform' | 'quantile'; bins: number; edges: number[]; test: number[] }[];
  constant: { test: number[] };
};

describe(`hash against scikit-learn ${golden.sklearn}`, () => {
  it('MurmurHash3 of UTF-8 bytes equals murmurhash3_32, multi-byte characters included', () => {
    for (const s of golden.strings) expect(murmur3(utf8(s)), s).toBe(golden.murmur3[s]);
    expect(Array.from(utf8('é日🙂'))).toEqual([0xc3, 0xa9, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x99, 0x82]);
    expect(Array.from(utf8('\ud800x'))).toEqual([0xef, 0xbf, 0xbd, 0x78]); // a lone surrogate is U+FFFD
  });

  for (const h of golden.hashers) {
    it(`puts each value in FeatureHasher's column with its sign (${h.buckets} buckets, alternateSign ${h.alternateSign})`, () => {
      const records = golden.strings.map((city) => ({ city }));
      const pipeline = Pipeline.fit(records, {
        features: { city: hash({ buckets: h.buckets, alternateSign: h.alternateSign }) },
      });
      expect(pipeline.width).toBe(h.buckets);
      expect(pipeline.featureNames().slice(0, 2)).toEqual(['city#0', 'city#1']);
      const data = pipeline.transform(records).features!.data as Float32Array;
      expect(Array.from(data)).toEqual(h.rows.flat());
    });
  }

  it('hashes numbers and booleans as their text, and any category, seen or not', () => {
    const pipeline = Pipeline.fit([{ c: 'x' }], { features: { c: hash({ buckets: 1024 }) } });
    const [num, text, unseen] = [12, '12', 'never seen'].map((c) =>
      Array.from(pipeline.transform([{ c }]).features!.data as Float32Array),
    );
    expect(num).toEqual(text);
    expect(unseen!.filter((v) => v !== 0)).toHaveLength(1);
    expect(() => pipeline.transform([{ c: null }])).toThrow(
      "record 0, field 'c' is missing; impute it before hash",
    );
    expect(() => pipeline.transform([{ c: [1] }])).toThrow('hash takes strings, numbers or booleans');
  });
});

describe(`bucketize against scikit-learn ${golden.sklearn}`, () => {
  const records = golden.values.map((x) => ({ x }));
  for (const b of golden.bins) {
    it(`learns KBinsDiscretizer's edges and bins (${b.strategy}, ${b.bins} bins)`, () => {
      const pipeline = Pipeline.fit(records, {
        features: { x: bucketize({ bins: b.bins, strategy: b.strategy }) },
      });
      const edges = pipeline.toJSON().columns[0]!.transforms[0]!.state.edges as number[];
      expect(edges).toEqual(b.edges); // bit for bit: numpy's linspace and percentile
      const out = pipeline.transform(golden.test.map((x) => ({ x }))).features!.data as Float32Array;
      expect(Array.from(out)).toEqual(b.test);
    });
  }

  it('one-hot bins, fixed boundaries, a constant column, JSON round trip', () => {
    const onehot = Pipeline.fit(records, {
      features: { x: bucketize({ bins: 4, strategy: 'uniform', encode: 'onehot' }) },
    });
    const uniform = golden.bins.find((b) => b.strategy === 'uniform' && b.bins === 4)!;
    expect(onehot.width).toBe(4);
    const rows = onehot.transform(golden.test.map((x) => ({ x }))).features!.data as Float32Array;
    golden.test.forEach((_, i) => {
      const row = Array.from(rows.subarray(i * 4, i * 4 + 4));
      expect(row.indexOf(1)).toBe(uniform.test[i]);
      expect(row.reduce((a, v) => a + v, 0)).toBe(1);
    });
    const again = Pipeline.fromJSON(JSON.parse(JSON.stringify(onehot)));
    expect(again.transform([{ x: 9.3 }]).features!.data).toEqual(
      onehot.transform([{ x: 9.3 }]).features!.data,
    );

    const ages = Pipeline.fit([{ age: 1 }], {
      features: { age: [impute('constant', 40), bucketize({ boundaries: [18, 30, 65], encode: 'onehot' })] },
    });
    expect(ages.featureNames()).toEqual(['age<18', 'age∈[18,30)', 'age∈[30,65)', 'age≥65']);
    const at = (age: number | null) => Array.from(ages.transform([{ age }]).features!.data as Float32Array);
    expect([at(17.9), at(18), at(64.99), at(65), at(null)]).toEqual([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]);

    const constant = Pipeline.fit(
      Array.from({ length: 10 }, () => ({ x: 2.5 })),
      { features: { x: bucketize({ bins: 3 }) } },
    );
    expect(Array.from(constant.transform([{ x: 1 }, { x: 2.5 }, { x: 9 }]).features!.data)).toEqual(
      golden.constant.test,
    );
  });

  it('refuses bad options, values and documents', () => {
    expect(() => bucketize({ bins: 1 })).toThrow('bins must be an integer from 2 to 10,000');
    expect(() => bucketize({ strategy: 'kmeans' as never })).toThrow(
      "strategy must be 'uniform' or 'quantile'",
    );
    expect(() => bucketize({ boundaries: [3, 2] })).toThrow(
      'boundaries must be finite numbers in increasing order',
    );
    expect(() => bucketize({ encode: 'dense' as never })).toThrow("encode must be 'ordinal' or 'onehot'");
    expect(() => hash({ buckets: 0 })).toThrow('buckets must be an integer from 1 to 1,048,576');
    expect(() =>
      Pipeline.fit([{ x: 'a' }], { features: { x: [hash({ buckets: 4 }), bucketize()] } }),
    ).toThrow('hash must be its last transform');
    const p = Pipeline.fit(records, { features: { x: bucketize() } });
    expect(() => p.transform([{ x: 'high' }])).toThrow(
      `record 0, field 'x' is "high"; bucketize needs a finite number`,
    );
    const json = p.toJSON();
    json.columns[0]!.transforms[0]!.state.edges = [3, 1];
    expect(() => Pipeline.fromJSON(json)).toThrow(
      'state.edges must be at least two finite numbers in increasing order',
    );
  });
});
