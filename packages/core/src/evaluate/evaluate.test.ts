import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { ModelshipError } from '../errors';
import { accuracy } from '../metrics/classification';
import { rocAuc } from '../metrics/ranking';
import { functionModel } from '../model/function-model';
import { type Tensor, tensor } from '../tensor/tensor';
import { resampleCounts, seededRandom } from './bootstrap';
import { Collected } from './collect';
import { evaluate } from './evaluate';
import { METRIC_NAMES, scorer, unavailable } from './metric-set';
import { score } from './scored';
import type { Row } from './types';

/** Logistic model on two features: p = sigmoid(2·x0 − x1). */
function makeLogistic() {
  return functionModel(
    ({ features }) => {
      const x = features!.data as Float32Array;
      const n = features!.shape[0]!;
      const p = new Float32Array(n);
      for (let i = 0; i < n; i++) p[i] = 1 / (1 + Math.exp(-(2 * x[2 * i]! - x[2 * i + 1]!)));
      return {
        probability: tensor('float32', p),
        label: tensor(
          'int64',
          Array.from(p, (v) => BigInt(v >= 0.5 ? 1 : 0)),
        ),
      };
    },
    {
      name: 'logistic',
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
        outputs: [
          { name: 'probability', dtype: 'float32', shape: ['batch'] },
          { name: 'label', dtype: 'int64', shape: ['batch'] },
        ],
      },
    },
  );
}
const logistic = makeLogistic();

function data(n: number, seed = 1): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const a = random() * 4 - 2;
    const b = random() * 4 - 2;
    return { a, b, label: random() < 1 / (1 + Math.exp(-(2 * a - b))) ? 1 : 0 };
  });
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(ModelshipError.isInstance(e), String(e)).toBe(true);
  expect((e as ModelshipError).code).toBe(code);
  expect((e as Error).message).toMatch(message);
}

describe('evaluate: data sets', () => {
  const rows = data(300);

  it('reads rows, columns, iterables and async iterables to the same report', async () => {
    const base = await evaluate(logistic, rows, { bootstrap: false });
    const columns = {
      a: rows.map((r) => r.a),
      b: Float64Array.from(rows, (r) => r.b as number),
      label: rows.map((r) => r.label),
    };
    async function* stream() {
      for (const r of rows) yield r;
    }
    for (const dataset of [columns, new Set(rows), stream()]) {
      const r = await evaluate(logistic, dataset, { bootstrap: false, batchSize: 64 });
      expect(r.metrics).toEqual(base.metrics);
      expect(r.confusion).toEqual(base.confusion);
    }
    expect(base.task).toBe('binary');
    expect(base.output).toBe('probability');
    expect(base.metrics.accuracy!.value).toBeCloseTo(
      accuracy(
        rows.map((r) => r.label as number),
        rows.map((r) =>
          1 / (1 + Math.exp(-(2 * Math.fround(r.a as number) - Math.fround(r.b as number)))) >= 0.5 ? 1 : 0,
        ),
      ),
      12,
    );
  });

  it('assembles the chosen feature columns in the given order', async () => {
    const swapped = rows.map((r) => ({ b: r.a, a: r.b, label: r.label }));
    const direct = await evaluate(logistic, rows, { bootstrap: false });
    const named = await evaluate(logistic, swapped, { bootstrap: false, features: ['b', 'a'] });
    expect(named.metrics).toEqual(direct.metrics);
  });

  it('reports progress per batch and accepts a label column by name', async () => {
    const seen: number[] = [];
    const renamed = rows.map(({ label, ...x }) => ({ ...x, y: label }));
    await evaluate(logistic, renamed, {
      label: 'y',
      batchSize: 128,
      bootstrap: { resamples: 50 },
      onProgress: (p) => seen.push(p.phase === 'predict' ? p.done : -p.done),
    });
    expect(seen.slice(0, 3)).toEqual([128, 256, 300]);
    expect(seen.at(-1)).toBe(-50);
  });

  it('reports the metrics phase, one step per metric, between scoring and the bootstrap', async () => {
    const seen: string[] = [];
    await evaluate(logistic, rows, {
      batchSize: 200,
      metrics: ['accuracy', 'rocAuc', 'f1'],
      bootstrap: { resamples: 2 },
      onProgress: (p) => seen.push(`${p.phase} ${p.done}/${p.total}`),
    });
    expect(seen).toEqual([
      'predict 200/300',
      'predict 300/300',
      'metrics 1/3',
      'metrics 2/3',
      'metrics 3/3',
      'bootstrap 1/2',
      'bootstrap 2/2',
    ]);
  });

  it('evaluates a model a Deployer serves, through its queue and batcher', async () => {
    const deployer = new Deployer();
    await deployer.deploy('scorer', makeLogistic(), { batching: { maxBatchSize: 32, maxQueueDelayMs: 1 } });
    try {
      const served = await evaluate(deployer.model('scorer'), rows, { bootstrap: false, batchSize: 50 });
      const direct = await evaluate(logistic, rows, { bootstrap: false });
      expect(served.metrics).toEqual(direct.metrics);
      expect(served.model).toEqual({ name: 'scorer', version: logistic.version });
    } finally {
      await deployer.close();
    }
  });

  it('stops with ABORTED when the signal fires between batches', async () => {
    const controller = new AbortController();
    await rejects(
      evaluate(logistic, rows, {
        batchSize: 10,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.done >= 50) controller.abort();
        },
      }),
      'ABORTED',
      /aborted/,
    );
  });

  it('a missing label column lists the columns that look like labels first, however wide the table', async () => {
    // 60 feature columns, then the label under another name: a list cut at the front hid it.
    const wide = Array.from({ length: 3 }, (_, i) => ({
      ...Object.fromEntries(Array.from({ length: 60 }, (_, j) => [`f${j}`, i + j])),
      target: i % 2,
    }));
    const e = (await evaluate(logistic, wide, {}).catch((err: unknown) => err)) as Error;
    expect(e.message).toMatch(
      /no label column 'label' \(columns: 'target', 'f0', 'f1', .*'f38', … \(61 in all\)\); name it with label$/,
    );
    const fraud = [{ a: 1, b: 2, isFraud: 0 }];
    const f = (await evaluate(logistic, fraud, { label: 'is_fraud' }).catch((err: unknown) => err)) as Error;
    expect(f.message).toMatch(/no label column 'is_fraud' \(columns: 'isFraud', 'a', 'b'\)/);
  });

  it('refuses data that does not fit, naming the row and column', async () => {
    await rejects(evaluate(logistic, [], {}), 'DATASET_INVALID', /no rows/);
    await rejects(
      evaluate(logistic, rows, { label: 'target' }),
      'DATASET_INVALID',
      /no label column 'target' \(columns: 'label', 'a', 'b'\)/,
    );
    await rejects(
      evaluate(logistic, rows, { features: ['a', 'c'] }),
      'DATASET_INVALID',
      /unknown feature column 'c'/,
    );
    await rejects(
      evaluate(
        logistic,
        rows.map((r) => ({ ...r, extra: 1 })),
      ),
      'DATASET_INVALID',
      /takes 2 values per row but the data set has 3 feature columns/,
    );
    const bad = rows.map((r, i) => (i === 7 ? { ...r, b: 'n/a' } : r));
    await rejects(
      evaluate(logistic, bad),
      'DATASET_INVALID',
      /row 7, column 'b' is "n\/a"; model input 'features' \(float32\) needs a finite number/,
    );
    const unlabeled = rows.map((r, i) => (i === 3 ? { a: r.a, b: r.b, label: null } : r));
    await rejects(evaluate(logistic, unlabeled), 'DATASET_INVALID', /row 3 has label null/);
    const mixed = rows.map((r, i) => (i === 3 ? { ...r, label: 'x' } : r));
    await rejects(evaluate(logistic, mixed), 'DATASET_INVALID', /mixes numbers and strings/);
    await rejects(
      evaluate(logistic, { a: [1, 2], label: [1] }),
      'DATASET_INVALID',
      /column 'label' has 1 values/,
    );
    await rejects(
      evaluate(logistic, rows, { output: 'logits' }),
      'OUTPUT_UNKNOWN',
      /'logits' is not an output/,
    );
    await rejects(
      evaluate(logistic, rows, { metrics: ['r2Score'] }),
      'INVALID_ARGUMENT',
      /regression metric/,
    );
    await rejects(
      evaluate(logistic, rows, { metrics: ['auc' as never] }),
      'INVALID_ARGUMENT',
      /unknown metric 'auc'/,
    );
    await rejects(
      evaluate(logistic, rows, { batchsize: 3 } as never),
      'INVALID_ARGUMENT',
      /unknown option 'batchsize'/,
    );
    await rejects(evaluate({} as never, rows), 'INVALID_ARGUMENT', /must implement Model/);
    const multi = rows.map((r, i) => ({ ...r, label: i % 3 }));
    await rejects(
      evaluate(logistic, multi),
      'DATASET_INVALID',
      /binary task needs two classes; the labels are \[0, 1, 2\]/,
    );
  });
});

describe('evaluate: reading outputs', () => {
  const rows = data(400, 2);

  it('takes predicted labels from a label output when asked, scores still from the probability', async () => {
    const byScore = await evaluate(logistic, rows, { bootstrap: false });
    const byLabel = await evaluate(logistic, rows, { bootstrap: false, labelOutput: 'label' });
    expect(byLabel.metrics).toEqual(byScore.metrics);
    expect(byLabel.threshold).toBeUndefined();
    const labelsOnly = await evaluate(logistic, rows, { bootstrap: false, output: 'label' });
    expect(labelsOnly.metrics.accuracy).toEqual(byScore.metrics.accuracy);
  });

  it('moves the decision with threshold', async () => {
    const low = await evaluate(logistic, rows, { bootstrap: false, threshold: 0.1 });
    const high = await evaluate(logistic, rows, { bootstrap: false, threshold: 0.9 });
    expect(low.metrics.recall!.value).toBeGreaterThan(high.metrics.recall!.value);
    expect(low.metrics.rocAuc).toEqual(high.metrics.rocAuc);
  });

  it('names string classes and reads logits through softmax', async () => {
    const logits = functionModel(({ x }) => ({ logits: x as Tensor }), {
      name: 'logits',
      signature: {
        inputs: [{ name: 'x', dtype: 'float64', shape: ['batch', 3] }],
        outputs: [{ name: 'logits', dtype: 'float64', shape: ['batch', 3] }],
      },
    });
    const random = seededRandom(5);
    const names = ['cat', 'dog', 'eel'];
    const rs = Array.from({ length: 200 }, () => {
      const y = Math.floor(random() * 3);
      const x = [0, 1, 2].map((j) => (j === y ? 2 : 0) + random() * 3 - 1.5);
      return { x, label: names[y]! };
    });
    await rejects(
      evaluate(logits, rs),
      'DATASET_INVALID',
      /label "[a-z]+", which is not one of the model's classes \[0, 1, 2\]; pass classes/,
    );
    const asScores = await evaluate(logits, rs, { classes: names, bootstrap: false });
    expect(asScores.scores).toBe('scores');
    expect(asScores.metrics.rocAuc).toBeUndefined();
    const r = await evaluate(logits, rs, { classes: names, scores: 'logits', bootstrap: false });
    expect(r.task).toBe('multiclass');
    expect(r.perClass!.map((c) => c.label)).toEqual(names);
    expect(r.metrics.accuracy!.value).toBe(asScores.metrics.accuracy!.value);
    const softmax = rs.map(({ x }) => {
      const e = x.map((v) => Math.exp(v - Math.max(...x)));
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    });
    expect(r.metrics.rocAuc!.value).toBeCloseTo(
      rocAuc(
        rs.map((q) => q.label),
        softmax,
        { multiClass: 'ovr', labels: names },
      ),
      12,
    );
  });

  it('infers regression from continuous labels and one output column', async () => {
    const linear = functionModel(
      ({ x }) => ({
        y: tensor(
          'float64',
          Array.from(x!.data as Float64Array, (v) => 2 * v),
        ),
      }),
      {
        name: 'linear',
        signature: {
          inputs: [{ name: 'x', dtype: 'float64', shape: ['batch'] }],
          outputs: [{ name: 'y', dtype: 'float64', shape: ['batch'] }],
        },
      },
    );
    const rs = [1, 2, 3, 4].map((x) => ({ x, label: 2 * x + (x % 2 ? 0.5 : -0.5) }));
    const r = await evaluate(linear, rs, { bootstrap: false });
    expect(r.task).toBe('regression');
    expect(r.metrics.meanSquaredError!.value).toBe(0.25);
    expect(r.metrics.meanAbsoluteError!.value).toBe(0.5);
    expect(r.residuals).toEqual({ mean: 0, std: 0.5, min: -0.5, max: 0.5 });
  });
});

describe('evaluate: bootstrap', () => {
  const rows = data(500, 3);

  it('is reproducible for a seed and brackets the point estimate', async () => {
    const a = await evaluate(logistic, rows, { bootstrap: { resamples: 300, seed: 7 } });
    const b = await evaluate(logistic, rows, { bootstrap: { resamples: 300, seed: 7 } });
    const c = await evaluate(logistic, rows, { bootstrap: { resamples: 300, seed: 8 } });
    expect(a.metrics).toEqual(b.metrics);
    expect(a.metrics.rocAuc).not.toEqual(c.metrics.rocAuc);
    expect(a.bootstrap).toEqual({ resamples: 300, seed: 7, confidence: 0.95 });
    for (const [name, m] of Object.entries(a.metrics)) {
      expect(m.low, name).toBeLessThanOrEqual(m.value);
      expect(m.high, name).toBeGreaterThanOrEqual(m.value);
      expect(m.high! - m.low!, name).toBeGreaterThan(0);
    }
    // A 95% interval for accuracy on 500 rows is about ±1.96·sqrt(p(1−p)/n) wide.
    const p = a.metrics.accuracy!.value;
    const half = 1.96 * Math.sqrt((p * (1 - p)) / 500);
    expect(a.metrics.accuracy!.high! - a.metrics.accuracy!.low!).toBeGreaterThan(1.6 * half);
    expect(a.metrics.accuracy!.high! - a.metrics.accuracy!.low!).toBeLessThan(2.4 * half);
  });

  it('scores each resample exactly as the metric function scores the resampled rows', async () => {
    // Every metric's kernel against the public function on explicitly replicated rows.
    const binaryRows = data(120, 4);
    const collected = new Collected({ scores: 'probability', labels: undefined }, 't');
    collected.width = 1;
    const probs = binaryRows.map(
      (r) => Math.round((1 / (1 + Math.exp(-(2 * (r.a as number) - (r.b as number))))) * 20) / 20,
    );
    for (const r of binaryRows) collected.labels.push(r.label as number);
    for (const p of probs) collected.scores.push(p);
    const s = score(collected, {}, 't');
    const random = seededRandom(11);
    const counts = new Float64Array(s.n);
    for (let b = 0; b < 20; b++) {
      resampleCounts(s.n, random, counts);
      const idx: number[] = [];
      counts.forEach((c, i) => {
        for (let j = 0; j < c; j++) idx.push(i);
      });
      const replica = new Collected({ scores: 'probability', labels: undefined }, 't');
      replica.width = 1;
      for (const i of idx) {
        replica.labels.push(s.yTrue[i]!);
        replica.scores.push(probs[i]!);
      }
      const r = score(replica, {}, 't');
      for (const name of METRIC_NAMES) {
        if (unavailable(name, s) !== undefined) continue;
        const expected = scorer(name, r)();
        expect(scorer(name, s)(counts), `${name}, resample ${b}`).toBeCloseTo(expected, 12);
      }
    }
  });

  it('kernels equal the metric functions under any weights (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 2 }),
            fc.integer({ min: 0, max: 10 }),
            fc.integer({ min: 0, max: 5 }),
          ),
          {
            minLength: 6,
            maxLength: 60,
          },
        ),
        (tuples) => {
          const labels = tuples.map((t) => t[0]);
          if (new Set(labels).size < 3) return;
          const collected = new Collected({ scores: 'p', labels: undefined }, 't');
          collected.width = 3;
          for (const [y, a, w] of tuples) {
            collected.labels.push(y);
            const row = [a + 1, ((a * 7) % 11) + 1, w + 1];
            const sum = row.reduce((x, z) => x + z);
            for (const v of row) collected.scores.push(v / sum);
          }
          const s = score(collected, {}, 't');
          const weights = Float64Array.from(tuples, (t) => t[2] + 1);
          for (const name of METRIC_NAMES) {
            if (unavailable(name, s) !== undefined) continue;
            const f = scorer(name, s);
            const viaKernel = f(weights);
            // The metric functions with the same weights, through a scorer on weighted data.
            const expected = weightedReference(name, s, weights);
            expect(Math.abs(viaKernel - expected), name).toBeLessThan(1e-12);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** Replicates each row `w` times (integer weights), scoring with the public functions. */
function weightedReference(
  name: (typeof METRIC_NAMES)[number],
  s: ReturnType<typeof score>,
  w: Float64Array,
): number {
  const collected = new Collected({ scores: 'p', labels: undefined }, 't');
  const k = s.classes.length;
  collected.width = k;
  for (let i = 0; i < s.n; i++) {
    for (let j = 0; j < w[i]!; j++) {
      collected.labels.push(s.yTrue[i]!);
      for (let c = 0; c < k; c++) collected.scores.push(s.matrix![i * k + c]!);
    }
  }
  return scorer(name, score(collected, {}, 't'))();
}
