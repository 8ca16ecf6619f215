import { describe, expect, it } from 'vitest';
import { accuracy, confusionMatrix, f1 } from './classification';
import { encode, uniqueSorted } from './labels';
import { logLoss } from './probabilistic';

describe('label lookups', () => {
  it('uniqueSorted gives the same classes through the short list and past it (Set)', () => {
    const few = [3, 1, -0, 2, 1, 0, 3];
    expect(uniqueSorted(few, [2, 5])).toEqual([-0, 1, 2, 3, 5]);
    expect(Object.is(uniqueSorted(few)[0], -0)).toBe(true); // the first of −0/+0 seen is kept
    const many = Array.from({ length: 100 }, (_, i) => (i * 7) % 40);
    expect(uniqueSorted(many)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(uniqueSorted(['b', 'a', 'b'], ['c'])).toEqual(['a', 'b', 'c']);
  });

  it('encode maps to the first index of a class, −0 as 0, absent as −1, with few or many classes', () => {
    expect(Array.from(encode([1, 0, -0, 7, 1], [0, 1, 1]))).toEqual([1, 0, 0, -1, 1]);
    const classes = Array.from({ length: 30 }, (_, i) => i);
    expect(Array.from(encode([29, -0, 31], classes))).toEqual([29, 0, -1]);
    expect(Array.from(encode([Number.NaN, 2], [Number.NaN, 2]))).toEqual([0, 1]);
  });

  it('logLoss on one probability column equals the two-column form, to the last bit', () => {
    const y = Array.from({ length: 500 }, (_, i) => ((i * 13) % 7 < 3 ? 1 : 0));
    const p = y.map((_, i) => ((i * 37) % 101) / 100);
    const two = p.flatMap((v) => {
      const c = Math.min(Math.max(v, 2.220446049250313e-16), 1 - 2.220446049250313e-16);
      return [1 - c, c];
    });
    expect(logLoss(y, p)).toBe(logLoss(y, two, { k: 2 }));
    expect(() => logLoss([0, 1, 2], [0.1, 0.5, 0.9])).toThrow(/different numbers of classes \(3, 2\)/);
  });
});

describe('labels read into codes (typed and plain arrays alike)', () => {
  const r = (() => {
    let s = 3;
    return () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
  })();
  const n = 3000;
  const yTrue = Array.from({ length: n }, () => Math.floor(r() * 4));
  const yPred = yTrue.map((v) => (r() < 0.7 ? v : Math.floor(r() * 5)));
  const w = Array.from({ length: n }, () => r() * 2);
  const forms = [
    ['plain', (a: number[]) => a],
    ['Uint8Array', (a: number[]) => Uint8Array.from(a)],
    ['Int8Array', (a: number[]) => Int8Array.from(a)],
    ['Float64Array', (a: number[]) => Float64Array.from(a)],
  ] as const;
  const reference = {
    matrix: confusionMatrix(yTrue, yPred, { sampleWeight: w }).matrix,
    f1: f1(yTrue, yPred, { average: 'weighted', sampleWeight: w }),
    accuracy: accuracy(yTrue, yPred, { sampleWeight: w }),
  };
  for (const [name, as] of forms) {
    it(`${name}: the same confusion matrix, f1 and accuracy, weighted, multi-class`, () => {
      expect(confusionMatrix(as(yTrue), as(yPred), { sampleWeight: w }).matrix).toEqual(reference.matrix);
      expect(f1(as(yTrue), as(yPred), { average: 'weighted', sampleWeight: w })).toBe(reference.f1);
      expect(accuracy(as(yTrue), as(yPred), { sampleWeight: w })).toBe(reference.accuracy);
    });
  }

  it('counts a confusion matrix as the loop over samples did, with labels chosen and ±0 as one class', () => {
    const t = [0, -0, 1, 2, 2, 1, 0, 3];
    const p = [-0, 0, 2, 2, 1, 1, 3, 0];
    const ws = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
    const { labels, matrix } = confusionMatrix(t, p, { labels: [2, 0, 1], sampleWeight: ws });
    expect(labels).toEqual([2, 0, 1]);
    expect(matrix).toEqual([
      [0.4, 0, 0.5],
      [0, 0.1 + 0.2, 0],
      [0.3, 0, 0.6],
    ]);
  });

  it('keeps the order of the errors: a bad yTrue label before lengths, lengths before continuous labels', () => {
    expect(() => f1([0, Number.NaN], [0], {})).toThrow(/yTrue\[1\] is NaN/);
    expect(() => f1([0, 0.5, 1], [0, 1], {})).toThrow(/inconsistent numbers of samples/);
    expect(() => f1([0, 0.5], [0, 1.5], {})).toThrow(/yTrue\[1\] is 0.5/);
    expect(() => f1(['a', 1], ['a', 'a'], {})).toThrow(/yTrue mixes string and number labels/);
    expect(() => f1([1, 0], ['a', 'b'], {})).toThrow(/mix string and number labels/);
  });

  it('logLoss reads byte labels and a probability column without copies, to the same value', () => {
    const y = yTrue.map((v) => (v > 1 ? 1 : 0));
    const p = Float64Array.from(y, () => r());
    expect(logLoss(Uint8Array.from(y), p)).toBe(logLoss(y, Array.from(p)));
    expect(logLoss(Uint8Array.from(y), p, { sampleWeight: w })).toBe(
      logLoss(y, Array.from(p), { sampleWeight: w }),
    );
    expect(() => logLoss([0, 1, 2], [0.1, 0.2, 0.3], { labels: [0, 1] })).toThrow(
      /yTrue\[2\] \(2\) is not one of the labels/,
    );
  });

  it("logLoss of 8-bit typed labels gives the plain arrays' value or error, to the last bit", () => {
    // The byte path (labels read in place, one pass over the probabilities) against the general
    // path on the same labels as a plain array: every byte array type, the options, the
    // clipping and each error (and which one comes first when there are several).
    const wf = Float64Array.from(w);
    const p = Float64Array.from({ length: n }, (_, i) => [0, 1, -0, 1e-17, 1 - 1e-17][i % 40] ?? r());
    const outcome = (f: () => number): number | string => {
      try {
        return f();
      } catch (e) {
        return String(e);
      }
    };
    const cases: [[number, number], Record<string, unknown>, Float64Array][] = [
      [[0, 1], {}, p],
      [[-1, 1], {}, p],
      [[3, 7], { sampleWeight: wf }, p],
      [[3, 7], { normalize: false }, p],
      [[0, 1], { sampleWeight: wf, normalize: false }, p],
      [[0, 1], { labels: [0, 1] }, p],
      [[1, 1], { labels: [0, 1] }, p],
      [[1, 1], {}, p], // one label
      [[0, 2], { labels: [0, 1] }, p], // a label not among the labels
      [[0, 1], { labels: [0, 1, 2] }, p], // three classes, one column
      [[0, 1], { labels: ['a', 'b'] }, p],
      [[0, 1], { sampleWeight: wf.subarray(1) }, p],
      [[0, 1], { sampleWeight: Float64Array.from(wf, (v, i) => (i === 9 ? Number.NaN : v)) }, p],
      [[0, 1], {}, p.subarray(1)],
      [[0, 1], {}, Float64Array.from(p, (v, i) => (i === 9 ? 1.5 : i === 30 ? Number.NaN : v))],
      [[0, 1], { sampleWeight: wf.subarray(1) }, Float64Array.from(p, (v, i) => (i === 9 ? -0.5 : v))],
      [[0, 1], { labels: [0, 1, 2] }, Float64Array.from(p, (v, i) => (i === 9 ? 2 : v))],
    ];
    for (const [[a, b], options, prob] of cases) {
      const plain = yTrue.map((v) => (v > 1 ? b : a)) as number[];
      const expected = outcome(() => logLoss(plain, Array.from(prob), options));
      for (const typed of [Uint8Array, Int8Array, Uint8ClampedArray]) {
        if (typed !== Int8Array && a < 0) continue;
        const got = outcome(() => logLoss(typed.from(plain), prob, options));
        expect(
          Object.is(got, expected),
          `${typed.name} ${plain.slice(0, 4)} ${JSON.stringify(options)}: ${got} vs ${expected}`,
        ).toBe(true);
      }
    }
    expect(() => logLoss(new Uint8Array(0), new Float64Array(0))).toThrow(/found no samples/);
  });
});
