import { describe, expect, it } from 'vitest';
import { InputError, ModelshipError } from '../errors';
import { parseCsv, parseJsonl } from '../evaluate/text-formats';
import { functionModel } from '../model/function-model';
import type { Model } from '../model/model';
import { Pipeline } from '../pipeline/pipeline';
import { standardize } from '../pipeline/transforms';
import { type Tensor, tensor } from '../tensor/tensor';
import { predictBatches } from './predict-batches';
import type { RowBlock, ScoredBatch } from './types';

/** score = 2·x0 − x1 per row, label = score > 0; records how many rows each call got. */
function linear(options: { delayMs?: (call: number) => number; checkFinite?: boolean } = {}) {
  const calls: number[] = [];
  const model = functionModel(
    async ({ features }) => {
      const call = calls.length;
      const x = features!.data as Float32Array;
      const n = features!.shape[0]!;
      calls.push(n);
      const delay = options.delayMs?.(call) ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const score = new Float32Array(n);
      for (let i = 0; i < n; i++) score[i] = 2 * x[2 * i]! - x[2 * i + 1]!;
      return {
        score: tensor('float32', score),
        label: tensor(
          'int64',
          Array.from(score, (v) => BigInt(v > 0 ? 1 : 0)),
        ),
        pair: tensor('float32', Float32Array.from(x), [n, 2]),
      };
    },
    {
      name: 'linear',
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
        outputs: [
          { name: 'score', dtype: 'float32', shape: ['batch'] },
          { name: 'label', dtype: 'int64', shape: ['batch'] },
          { name: 'pair', dtype: 'float32', shape: ['batch', 2] },
        ],
      },
      ...(options.checkFinite ? { validation: { checkFinite: true } } : {}),
    },
  );
  return { model, calls };
}

async function all(gen: AsyncIterable<ScoredBatch>): Promise<ScoredBatch[]> {
  const out: ScoredBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, x0: i, x1: 1 }));

describe('predictBatches', () => {
  it('scores in batches, in input order, with kept columns and chosen outputs', async () => {
    const { model, calls } = linear();
    const batches = await all(
      predictBatches(model, rows(5), {
        batchSize: 2,
        keep: ['id'],
        outputs: ['score', 'label'],
        features: ['x0', 'x1'],
      }),
    );
    expect(calls).toEqual([2, 2, 1]);
    expect(batches.map((b) => [b.firstRow, b.count])).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ]);
    expect(batches.flatMap((b) => b.rows)).toEqual([
      { id: 'r0', score: -1, label: 0 },
      { id: 'r1', score: 1, label: 1 },
      { id: 'r2', score: 3, label: 1 },
      { id: 'r3', score: 5, label: 1 },
      { id: 'r4', score: 7, label: 1 },
    ]);
  });

  it('gives every output by default, several values a row as one column each (named by class when known)', async () => {
    const { model } = linear();
    const [batch] = await all(predictBatches(model, [{ x0: 1, x1: 0.5 }]));
    expect(batch!.rows).toEqual([{ score: 1.5, label: 1, pair_0: 1, pair_1: 0.5 }]);
    // A classifier's scores output whose spec names the classes (a ZipMap output).
    const outputs = model.signature.outputs.map((o) =>
      o.name === 'pair' ? { ...o, labels: ['no', 'yes'] } : o,
    );
    const classes: Model = {
      name: 'classes',
      version: '1',
      signature: { inputs: model.signature.inputs, outputs },
      predict: (inputs, options) => model.predict(inputs, options),
      dispose: async () => {},
    };
    const [named] = await all(predictBatches(classes, [{ x0: 1, x1: 0.5 }], { outputs: ['pair'] }));
    expect(named!.rows).toEqual([{ pair_no: 1, pair_yes: 0.5 }]);
  });

  it('keeps input order when later batches finish first', async () => {
    // The first batch is the slowest: with 3 in flight, answers come back out of order.
    const { model } = linear({ delayMs: (call) => (call === 0 ? 30 : call === 1 ? 15 : 0) });
    const batches = await all(
      predictBatches(model, rows(7), { batchSize: 2, concurrency: 3, keep: ['id'], outputs: ['score'] }),
    );
    expect(batches.map((b) => b.firstRow)).toEqual([0, 2, 4, 6]);
    expect(batches.flatMap((b) => b.rows.map((r) => r.id))).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
      'r6',
    ]);
  });

  it('holds at most `concurrency` batches in flight (reading waits for the consumer)', async () => {
    let read = 0;
    function* source() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield { x0: i, x1: 0 };
      }
    }
    const { model } = linear();
    const gen = predictBatches(model, source(), { batchSize: 10, concurrency: 2 });
    await gen.next();
    // Two batches read to fill the pipe, and the one that waits for the first batch's turn.
    expect(read).toBeLessThanOrEqual(30);
    await gen.return(undefined);
  });

  it('rejects bad rows with their number and reason, scores the rest and goes on', async () => {
    const { model } = linear();
    const data = [
      { id: 'a', x0: 1, x1: 0 },
      { id: 'b', x0: 'oops', x1: 0 },
      { id: 'c', x0: 2, x1: 0 },
      { id: 'd', x0: 3, x1: null },
      { id: 'e', x0: 4, x1: 0 },
    ];
    const batches = await all(
      predictBatches(model, data, { batchSize: 4, keep: ['id'], outputs: ['score'] }),
    );
    expect(batches.flatMap((b) => b.rows)).toEqual([
      { id: 'a', score: 2 },
      { id: 'c', score: 4 },
      { id: 'e', score: 8 },
    ]);
    const rejected = batches.flatMap((b) => b.rejected);
    expect(rejected.map((r) => [r.row, r.code, r.raw])).toEqual([
      [1, 'DATASET_INVALID', data[1]],
      [3, 'DATASET_INVALID', data[3]],
    ]);
    expect(rejected[0]!.reason).toBe(
      `predictBatches: row 1, column 'x0' is "oops"; model input 'features' (float32) needs a finite number`,
    );
    expect(rejected[1]!.reason).toMatch(/row 3, column 'x1' is null/);
    expect(batches.map((b) => b.count)).toEqual([4, 1]);
  });

  it("rejects rows that fail the model's input checks (checkFinite)", async () => {
    const { model } = linear({ checkFinite: true });
    const data = [
      { x0: 1, x1: 0 },
      { x0: 1e39, x1: 0 }, // finite as a number, Infinity as float32
      { x0: 2, x1: 0 },
    ];
    const [batch] = await all(predictBatches(model, data, { outputs: ['score'] }));
    expect(batch!.rows).toEqual([{ score: 2 }, { score: 4 }]);
    expect(batch!.rejected.map((r) => [r.row, r.code])).toEqual([[1, 'INPUT_NOT_FINITE']]);
  });

  it('rejects records a reader could not parse, in their place, with the text as read', async () => {
    const csv = 'x0,x1\n1,0\n2,0,9\n3,0\n"4"x,0\n5,0\n';
    const { model } = linear();
    const batches = await all(
      predictBatches(model, parseCsv([csv], { badRecords: 'mark' }), { batchSize: 2, outputs: ['score'] }),
    );
    expect(batches.flatMap((b) => b.rows.map((r) => r.score))).toEqual([2, 6, 10]);
    expect(batches.flatMap((b) => b.rejected)).toEqual([
      { row: 1, code: 'DATASET_INVALID', reason: 'line 3 has 3 fields; the header has 2', raw: '2,0,9' },
      {
        row: 3,
        code: 'DATASET_INVALID',
        reason: 'line 5: unexpected "x" after a closing quote',
        raw: '"4"x,0',
      },
    ]);
    const jsonl = '{"x0":1,"x1":0}\n{"x0":\n[1]\n{"x0":2,"x1":0}\n';
    const fromJsonl = await all(
      predictBatches(model, parseJsonl([jsonl], { badRecords: 'mark' }), { outputs: ['score'] }),
    );
    expect(fromJsonl[0]!.rows).toEqual([{ score: 2 }, { score: 4 }]);
    expect(fromJsonl[0]!.rejected.map((r) => [r.row, r.raw])).toEqual([
      [1, '{"x0":'],
      [2, '[1]'],
    ]);
    expect(fromJsonl[0]!.rejected[1]!.reason).toBe(
      'line 3 is an array of length 1; each line must be a JSON object',
    );
  });

  it('with strict, throws at the first rejected row, naming it', async () => {
    const { model } = linear();
    const data = [...rows(3), { id: 'x', x0: 'bad', x1: 0 }, ...rows(3)];
    const error = await all(
      predictBatches(model, data, { batchSize: 2, strict: true, keep: ['id'], features: ['x0', 'x1'] }),
    ).catch((e) => e);
    expect(ModelshipError.isInstance(error)).toBe(true);
    expect(error.code).toBe('DATASET_INVALID');
    expect(error.message).toMatch(/^row 3 rejected: predictBatches: row 3, column 'x0' is "bad"/);
  });

  it('turns records into inputs through a pipeline', async () => {
    const records = [
      { id: 1, amount: 10, age: 20 },
      { id: 2, amount: 30, age: 40 },
      { id: 3, amount: 'n/a', age: 40 },
    ];
    const pipeline = Pipeline.fit(records.slice(0, 2), {
      features: { amount: standardize(), age: standardize() },
    });
    const { model } = linear();
    const [batch] = await all(predictBatches(model, records, { pipeline, keep: ['id'], outputs: ['pair'] }));
    expect(batch!.rows).toEqual([
      { id: 1, pair_0: -1, pair_1: -1 },
      { id: 2, pair_0: 1, pair_1: 1 },
    ]);
    expect(batch!.rejected.map((r) => r.row)).toEqual([2]);
    expect(batch!.rejected[0]!.reason).toMatch(/record 2/);
  });

  it('fills an image-shaped input from feature columns, and takes inputs by name', async () => {
    const image = functionModel(
      ({ pixels }) => {
        const n = pixels!.shape[0]!;
        const d = pixels!.data as Float32Array;
        const sum = new Float32Array(n);
        for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) sum[i]! += d[i * 4 + j]! * (j + 1);
        expect(pixels!.shape).toEqual([n, 1, 2, 2]);
        return { sum: tensor('float32', sum) };
      },
      {
        name: 'image',
        signature: {
          inputs: [{ name: 'pixels', dtype: 'float32', shape: ['batch', 1, 2, 2] }],
          outputs: [{ name: 'sum', dtype: 'float32', shape: ['batch'] }],
        },
      },
    );
    const columns = [{ id: 'i0', p0: 1, p1: 0, p2: 0, p3: 1 }];
    const [a] = await all(predictBatches(image, columns, { keep: ['id'] }));
    expect(a!.rows).toEqual([{ id: 'i0', sum: 5 }]);
    const named = [
      {
        pixels: [
          [
            [1, 1],
            [1, 1],
          ],
        ],
      },
      { pixels: [1, 2] },
    ];
    const [b] = await all(predictBatches(image, named));
    expect(b!.rows).toEqual([{ sum: 10 }]);
    expect(b!.rejected.map((r) => [r.row, r.code])).toEqual([[1, 'DATASET_INVALID']]);
  });

  it('numbers rows from the blocks of a row source, and never batches across a gap', async () => {
    async function* shard(): AsyncGenerator<RowBlock> {
      yield {
        firstRow: 10,
        rows: [
          { x0: 1, x1: 0 },
          { x0: 2, x1: 0 },
        ],
      };
      yield { firstRow: 12, rows: [{ x0: 'bad', x1: 0 }] };
      yield { firstRow: 20, rows: [{ x0: 3, x1: 0 }] };
    }
    const { model, calls } = linear();
    const batches = await all(predictBatches(model, shard(), { batchSize: 8, outputs: ['score'] }));
    expect(batches.map((b) => [b.firstRow, b.count])).toEqual([
      [10, 3],
      [20, 1],
    ]);
    expect(batches[0]!.rejected.map((r) => r.row)).toEqual([12]);
    // The batch with a bad row: its inputs fail to build, so no call; then the good rows together.
    expect(calls).toEqual([2, 1]);
  });

  it('refuses bad options and data with typed errors', async () => {
    const { model } = linear();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ModelshipError).code + ': ' + (e as Error).message;
      }
      return 'no error';
    };
    expect(code(() => predictBatches(model, rows(1), { batchSize: 0 }))).toMatch(
      /^INVALID_ARGUMENT: .*batchSize must be a positive integer/,
    );
    expect(code(() => predictBatches(model, rows(1), { outputs: ['proba'] }))).toBe(
      "OUTPUT_UNKNOWN: predictBatches: 'proba' is not an output of model 'linear' (outputs: 'score', 'label', 'pair')",
    );
    expect(code(() => predictBatches(model, rows(1), { keep: ['id', 'id'] }))).toMatch(
      /^INVALID_ARGUMENT: .*keep names 'id' twice/,
    );
    expect(code(() => predictBatches(model, rows(1), { concurrency: 0 }))).toMatch(
      /^INVALID_ARGUMENT: .*concurrency/,
    );
    expect(code(() => predictBatches(model, 42 as never))).toMatch(/^INVALID_ARGUMENT: .*iterable/);
    expect(code(() => predictBatches({} as never, rows(1)))).toMatch(/^INVALID_ARGUMENT: .*Model/);
    expect(code(() => predictBatches(model, rows(1), { batch: 3 } as never))).toMatch(
      /unknown option 'batch'/,
    );
    const missingKeep = await all(predictBatches(model, rows(1), { keep: ['account'] })).catch((e) => e);
    expect(missingKeep.code).toBe('DATASET_INVALID');
    expect(missingKeep.message).toMatch(
      /kept column 'account' not in the data \(columns: 'id', 'x0', 'x1'\)/,
    );
    const clash = await all(
      predictBatches(model, [{ score: 1, x0: 1, x1: 1 }], { keep: ['score'], features: ['x0', 'x1'] }),
    ).catch((e) => e);
    expect(clash.code).toBe('INVALID_ARGUMENT');
    expect(clash.message).toMatch(/column 'score' would be both a kept column and an output column/);
  });

  it('a model failure that is not a bad row stops the run', async () => {
    const failing = functionModel(
      () => {
        throw new ModelshipError('INFERENCE_FAILED', 'the session broke');
      },
      {
        name: 'broken',
        signature: {
          inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
          outputs: [{ name: 'score', dtype: 'float32', shape: ['batch'] }],
        },
      },
    );
    const error = await all(predictBatches(failing, [{ x0: 1, x1: 2 }])).catch((e) => e);
    expect(error.code).toBe('INFERENCE_FAILED');
  });

  it('an output without a row per input row is INFERENCE_FAILED', async () => {
    const wrong = functionModel(() => ({ score: tensor('float32', [1, 2, 3]) as Tensor }), {
      name: 'wrong',
      signature: {
        inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
        outputs: [{ name: 'score', dtype: 'float32', shape: [null] }],
      },
    });
    const error = await all(
      predictBatches(wrong, [
        { x0: 1, x1: 2 },
        { x0: 1, x1: 2 },
      ]),
    ).catch((e) => e);
    expect(error.code).toBe('INFERENCE_FAILED');
    expect(error.message).toMatch(/output 'score' has shape \[3\] for 2 rows/);
  });
});

describe('predictBatches default features', () => {
  it('leaves kept columns and label out, unless the input takes exactly the columns with them', async () => {
    const { model } = linear();
    const idKept = await all(
      predictBatches(model, [{ id: 'a', x0: 2, x1: 1, label: 1 }], { keep: ['id'], outputs: ['score'] }),
    );
    expect(idKept[0]!.rows).toEqual([{ id: 'a', score: 3 }]);
    const featureKept = await all(
      predictBatches(model, [{ x0: 2, x1: 1, label: 1 }], { keep: ['x0'], outputs: ['score'] }),
    );
    expect(featureKept[0]!.rows).toEqual([{ x0: 2, score: 3 }]);
  });

  it('decides from columns, when given, rather than from the first row of the piece scored', async () => {
    const { model } = linear();
    // A later piece of a JSON Lines file whose first row has a field the file's first row had not.
    const piece = [{ id: 'b', x0: 2, x1: 1, note: 7 }];
    const options = { keep: ['id'], outputs: ['score'] };
    await expect(all(predictBatches(model, piece, options))).rejects.toThrow(
      /'features' has shape \[batch, 2\] and takes 2 values per row but the data set has 3 feature columns/,
    );
    const scored = await all(predictBatches(model, piece, { ...options, columns: ['id', 'x0', 'x1'] }));
    expect(scored[0]!.rows).toEqual([{ id: 'b', score: 3 }]);
    // A kept column the whole input has, though this piece's first row lacks it, is an empty cell.
    const lacking = await all(
      predictBatches(model, [{ x0: 1, x1: 1 }], { ...options, columns: ['id', 'x0', 'x1'] }),
    );
    expect(lacking[0]!.rows).toEqual([{ id: null, score: 1 }]);
    expect(() => predictBatches(model, piece, { columns: ['id', 'id'] })).toThrow(/columns names 'id' twice/);
  });
});

describe('predictBatches with toInputs', () => {
  it('rejects the rows toInputs refuses with an InputError; any other error stops the run', async () => {
    const { model } = linear();
    const toInputs = (rows: readonly Record<string, unknown>[]) => {
      const data = new Float32Array(rows.length * 2);
      rows.forEach((r, i) => {
        if ((r.x0 as number) < 0) throw new InputError('INPUT_INVALID', `x0 of ${String(r.id)} is negative`);
        data[2 * i] = r.x0 as number;
        data[2 * i + 1] = r.x1 as number;
      });
      return { features: tensor('float32', data, [rows.length, 2]) };
    };
    const data = [
      { id: 'a', x0: 1, x1: 0 },
      { id: 'b', x0: -1, x1: 0 },
      { id: 'c', x0: 2, x1: 0 },
    ];
    const [batch] = await all(predictBatches(model, data, { toInputs, keep: ['id'], outputs: ['score'] }));
    expect(batch!.rows).toEqual([
      { id: 'a', score: 2 },
      { id: 'c', score: 4 },
    ]);
    expect(batch!.rejected).toEqual([
      { row: 1, code: 'INPUT_INVALID', reason: 'x0 of b is negative', raw: data[1] },
    ]);
    const broken = () => {
      throw new TypeError('a bug');
    };
    await expect(all(predictBatches(model, data, { toInputs: broken }))).rejects.toThrow('a bug');
  });
});

describe('predictBatches concurrency', () => {
  it("keeps the model's worker instances + 1 batches in flight by default, and no more", async () => {
    const { model: inner } = linear();
    let active = 0;
    let most = 0;
    const pooled: Model & { instances: number } = {
      name: 'pooled',
      version: '1',
      instances: 3,
      signature: inner.signature,
      predict: async (inputs, options) => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        return inner.predict(inputs, options);
      },
      dispose: async () => {},
    };
    const batches = await all(
      predictBatches(pooled, rows(40), { batchSize: 4, features: ['x0', 'x1'], outputs: ['score'] }),
    );
    expect(batches).toHaveLength(10);
    expect(most).toBe(4);
    most = 0;
    await all(
      predictBatches(pooled, rows(40), {
        batchSize: 4,
        concurrency: 1,
        features: ['x0', 'x1'],
        outputs: ['score'],
      }),
    );
    expect(most).toBe(1);
  });
});
