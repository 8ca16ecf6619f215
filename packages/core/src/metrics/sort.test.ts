import { describe, expect, it } from 'vitest';
import { binaryCurve } from './curve-core';
import { sortFloat64, sortOrder } from './sort';

/** A seeded generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/** Same numbers in the same order, bit for bit (−0 is not +0 here). */
function expectSameBits(
  a: Float64Array | Float32Array | Uint32Array,
  b: Float64Array | Float32Array | Uint32Array,
): void {
  // A curve of float32 scores holds counts in 32 bits and float32 thresholds: compared as the doubles they are.
  if (!(a instanceof Float64Array)) a = Float64Array.from(a);
  if (!(b instanceof Float64Array)) b = Float64Array.from(b);
  expect(a.length).toBe(b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, 2 * b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) expect([i >> 1, a[i >> 1], b[i >> 1]]).toBe('equal');
}

// Above the size where the native sort takes over, so the radix passes run.
const N = 5000;

describe('sortFloat64', () => {
  it('orders ties, −0/+0, infinities, denormals and extremes as Float64Array.prototype.sort', () => {
    const r = lcg(1);
    const special = [
      0,
      -0,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      2.2250738585072014e-308, // smallest normal
      2.225073858507201e-308, // largest denormal
      -2.225073858507201e-308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1,
      -1,
      0.5,
    ];
    const values = Float64Array.from({ length: N }, (_, i) =>
      i % 3 === 0 ? special[i % special.length]! : Math.round((r() - 0.5) * 200) / 10,
    );
    const sorted = sortFloat64(values);
    expectSameBits(sorted, values.slice().sort());
    expect(Object.is(sorted[sorted.indexOf(0)], -0)).toBe(true); // −0 first among the zeros
    expect(sorted[0]).toBe(Number.NEGATIVE_INFINITY);
    expect(sorted[N - 1]).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves its input unchanged and keeps the native order on random doubles of every magnitude', () => {
    const r = lcg(7);
    const values = Float64Array.from({ length: 20_000 }, () => (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
    const copy = values.slice();
    expectSameBits(sortFloat64(values), values.slice().sort());
    expectSameBits(values, copy);
  });

  it('puts every NaN last, as the canonical NaN, as the native sort does', () => {
    const values = Float64Array.from({ length: N }, (_, i) => (i % 10 === 0 ? Number.NaN : N - i));
    // A NaN with its sign bit set and a payload: still last.
    new Uint32Array(values.buffer)[1] = 0xfff00001;
    const sorted = sortFloat64(values);
    const nan = N / 10;
    expect(Array.from(sorted.subarray(N - nan)).every(Number.isNaN)).toBe(true);
    expect(Array.from(sorted.subarray(0, N - nan)).some(Number.isNaN)).toBe(false);
    expectSameBits(
      sorted.subarray(0, N - nan),
      values
        .slice()
        .sort()
        .subarray(0, N - nan),
    );
  });

  it('sorts Float32 scores widened to float64 the same way', () => {
    const r = lcg(3);
    const f32 = Float32Array.from({ length: N }, () => Math.round(r() * 1000) / 999);
    const wide = Float64Array.from(f32);
    expectSameBits(sortFloat64(wide), Float64Array.from(f32.slice().sort()));
  });

  it('small inputs (native path) and empty ones', () => {
    expectSameBits(sortFloat64(Float64Array.of(0.5, -1, 0, -0)), Float64Array.of(-1, -0, 0, 0.5));
    expect(sortFloat64(new Float64Array(0)).length).toBe(0);
  });
});

describe('sortOrder', () => {
  for (const n of [300, N]) {
    it(`is a stable permutation in the native order (n = ${n})`, () => {
      const r = lcg(n);
      const values = Float64Array.from({ length: n }, (_, i) =>
        i % 17 === 0 ? -0 : i % 13 === 0 ? 0 : Math.round(r() * 20) / 4 - 2,
      );
      const order = sortOrder(values);
      expectSameBits(
        Float64Array.from(order, (i) => values[i]!),
        values.slice().sort(),
      );
      for (let k = 1; k < n; k++) {
        const [a, b] = [order[k - 1]!, order[k]!];
        if (Object.is(values[a], values[b])) expect(a).toBeLessThan(b); // ties keep input order
      }
      expect(new Set(order).size).toBe(n);
    });
  }
});

describe('binaryCurve on the radix sort', () => {
  /** The curve as it was built before: a stable comparator sort from the highest score down. */
  function reference(positive: Uint8Array, scores: Float64Array, weights: Float64Array | undefined) {
    const n = scores.length;
    const order = Uint32Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]!);
    const tps: number[] = [];
    const fps: number[] = [];
    const thresholds: number[] = [];
    let tp = 0;
    let fp = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const w = weights === undefined ? 1 : weights[i]!;
      if (positive[i]) tp += w;
      else fp += w;
      const next = order[k + 1];
      if (next === undefined || scores[next] !== scores[i]) {
        tps.push(tp);
        fps.push(fp);
        thresholds.push(scores[i]!);
      }
    }
    return {
      tps: Float64Array.from(tps),
      fps: Float64Array.from(fps),
      thresholds: Float64Array.from(thresholds),
    };
  }

  for (const weighted of [false, true]) {
    it(`gives the same counts and thresholds to the last bit (${weighted ? 'weighted' : 'unweighted'}, ties, ±0)`, () => {
      const r = lcg(weighted ? 11 : 12);
      const n = 20_000;
      const positive = Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
      const scores = Float64Array.from({ length: n }, (_, i) =>
        i % 29 === 0 ? -0 : i % 31 === 0 ? 0 : Math.round((r() + positive[i]! * 0.3) * 100) / 100 - 0.5,
      );
      const weights = weighted ? Float64Array.from({ length: n }, () => r() * 3 + 0.1) : undefined;
      const got = binaryCurve(positive, scores, weights);
      const want = reference(positive, scores, weights);
      expectSameBits(got.tps, want.tps);
      expectSameBits(got.fps, want.fps);
      // Thresholds: the same numbers; the sign of a zero threshold may come from either side.
      expect(Array.from(got.thresholds, (v) => v + 0)).toEqual(Array.from(want.thresholds, (v) => v + 0));
      expect(got.tps.length).toBeGreaterThan(100);
    });
  }
});

describe('sortOrder descending (the rank order of the bootstrap kernels)', () => {
  for (const n of [300, 5000, 70_000]) {
    it(`equals the comparator order, highest first, ties by index, ±0 as one (n = ${n})`, () => {
      const r = lcg(n + 1);
      const scores = Float64Array.from({ length: n }, (_, i) =>
        i % 17 === 0
          ? -0
          : i % 13 === 0
            ? 0
            : i % 101 === 0
              ? Number.POSITIVE_INFINITY
              : Math.round(r() * 50) / 7 - 3,
      );
      // As rankOrder built it before: a comparator sort on the scores.
      const want = Uint32Array.from({ length: n }, (_, i) => i).sort(
        (a, b) => scores[b]! - scores[a]! || a - b,
      );
      const keys = Float64Array.from(scores, (v) => v + 0);
      expect(Array.from(sortOrder(keys, { descending: true }))).toEqual(Array.from(want));
    });
  }

  it('puts NaN first and +0 before −0 without the normalisation', () => {
    const values = Float64Array.from({ length: 2000 }, (_, i) => (i % 7 === 0 ? Number.NaN : i % 2 ? -0 : 0));
    const order = sortOrder(values, { descending: true });
    const sorted = Float64Array.from(order, (i) => values[i]!);
    expect(Number.isNaN(sorted[0])).toBe(true);
    const nan = Array.from(values).filter(Number.isNaN).length;
    expect(Object.is(sorted[nan], 0)).toBe(true);
    expect(Object.is(sorted[1999], -0)).toBe(true);
  });
});

describe('sortFloat64 runs that share a high word', () => {
  it('sorts keys equal in the high word by the low word (short runs and long runs)', () => {
    const r = lcg(5);
    // Values 1 + k·2^-52 share the high word for k < 2^32: long runs; then short runs.
    const values = Float64Array.from({ length: 30_000 }, (_, i) =>
      i < 20_000 ? 1 + Math.floor(r() * 5000) * 2 ** -52 : 2 + Math.floor(r() * 2 ** 20) * 2 ** -40,
    );
    expectSameBits(sortFloat64(values), values.slice().sort());
    const order = sortOrder(values);
    expectSameBits(
      Float64Array.from(order, (i) => values[i]!),
      values.slice().sort(),
    );
    for (let k = 1; k < order.length; k++) {
      const [a, b] = [order[k - 1]!, order[k]!];
      if (values[a] === values[b]) expect(a).toBeLessThan(b);
    }
  });
});

describe('binaryCurve against the previous construction, bit for bit', () => {
  /** The unweighted curve as built before: each class sorted natively, merged from the top. */
  function previous(positive: Uint8Array, scores: Float64Array) {
    const pos = Float64Array.from(scores.filter((_, i) => positive[i] === 1)).sort();
    const neg = Float64Array.from(scores.filter((_, i) => positive[i] !== 1)).sort();
    const tps: number[] = [];
    const fps: number[] = [];
    const thresholds: number[] = [];
    let a = pos.length - 1;
    let b = neg.length - 1;
    let tp = 0;
    let fp = 0;
    while (a >= 0 || b >= 0) {
      const v = a < 0 ? neg[b]! : b < 0 ? pos[a]! : Math.max(pos[a]!, neg[b]!);
      while (a >= 0 && pos[a] === v) {
        tp++;
        a--;
      }
      while (b >= 0 && neg[b] === v) {
        fp++;
        b--;
      }
      tps.push(tp);
      fps.push(fp);
      thresholds.push(v);
    }
    return {
      tps: Float64Array.from(tps),
      fps: Float64Array.from(fps),
      thresholds: Float64Array.from(thresholds),
    };
  }

  const cases: [string, (r: () => number, i: number, p: number) => number][] = [
    [
      'few distinct scores (the counting table)',
      (r, i, p) => (i % 29 === 0 ? -0 : Math.round((r() + p * 0.3) * 50) / 50 - 0.5),
    ],
    ['only −0 zeros', (r, i, p) => (i % 29 === 0 ? -0 : Math.round((r() + p * 0.3) * 50) / 50 + 0.01)],
    [
      '+0 and −0 in different classes',
      (r, i, p) => (i % 29 === 0 ? (p ? -0 : 0) : Math.round(r() * 40) / 40 + 0.01),
    ],
    [
      'distinct scores (the radix path), infinities',
      (r, i, p) =>
        i % 997 === 0 ? (p ? Infinity : -Infinity) : i % 31 === 0 ? -0 : (r() - 0.5 + p * 0.2) * 1e3,
    ],
    ['many ties past the table size', (r, _i, p) => Math.round((r() + p * 0.3) * 40_000) / 40_000],
  ];
  for (const [name, score] of cases) {
    it(name, () => {
      const r = lcg(name.length);
      const n = 90_000;
      const positive = Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
      const scores = Float64Array.from({ length: n }, (_, i) => score(r, i, positive[i]!));
      const got = binaryCurve(positive, scores, undefined);
      const want = previous(positive, scores);
      expectSameBits(got.tps, want.tps);
      expectSameBits(got.fps, want.fps);
      expectSameBits(got.thresholds, want.thresholds);
    });
  }

  it('one class only, and labels given as codes 0/1 of either order (rocAuc, averagePrecision)', () => {
    const r = lcg(9);
    const n = 50_000;
    const y = Uint8Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
    const s = Float64Array.from({ length: n }, () => Math.round(r() * 1000) / 1000);
    const flipped = Uint8Array.from(y, (v) => 1 - v);
    const curve = previous(y, s);
    expectSameBits(binaryCurve(flipped, s, undefined).tps, previous(flipped, s).tps);
    expect(binaryCurve(new Uint8Array(n), s, undefined).tps.every((v) => v === 0)).toBe(true);
    expectSameBits(binaryCurve(y, s, undefined).thresholds, curve.thresholds);
  });
});
