import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { Pipeline } from '../pipeline/pipeline';
import { standardize } from '../pipeline/transforms';
import { tensor } from '../tensor/tensor';
import { compareModels } from './compare';
import { parseCsvColumns } from './csv-columns';
import { evaluate } from './evaluate';
import { parseCsv } from './text-formats';

/** p = sigmoid(2·a − b) on float32 features, counting the rows each call gets. */
function logistic(dtype: 'float32' | 'float64' | 'int32' = 'float32', input = 'x') {
  const calls: number[] = [];
  const model = functionModel(
    (inputs) => {
      const x = inputs[input];
      const v = x!.data as ArrayLike<number>;
      const n = x!.shape[0]!;
      calls.push(n);
      const p = new Float32Array(n);
      for (let i = 0; i < n; i++) p[i] = 1 / (1 + Math.exp(-(2 * Number(v[2 * i]) - Number(v[2 * i + 1]))));
      return { probability: tensor('float32', p, [n]) };
    },
    {
      name: 'logistic',
      signature: {
        inputs: [{ name: input, dtype, shape: ['batch', 2] }],
        outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
  return { model, calls };
}

/** A CSV of n rows: features with awkward numerals (exponents, signs, many digits), 0/1 or string labels. */
function table(n: number, labels: (i: number) => string = (i) => String(((i * 7919) % 13) % 2)): string {
  const lines = ['a,b,label'];
  for (let i = 0; i < n; i++) {
    const a = (((i * 2654435761) % 1000) / 250 - 2).toPrecision(17);
    const b = i % 3 === 0 ? `${(i % 50) - 25}e-1` : `${(((i * 40503) % 997) / 249).toFixed(4)}`;
    lines.push(`${a},${i % 5 === 0 ? `+${b}`.replace('+-', '-') : b},${labels(i)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

const bytes = (text: string, size = 777): Uint8Array[] => {
  const all = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.subarray(i, i + size));
  return out;
};

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(ModelshipError.isInstance(e), String(e)).toBe(true);
  return { code: (e as ModelshipError).code, message: (e as ModelshipError).message };
}

describe('evaluate on CSV column blocks', () => {
  it('gives the report the row path gives, to the last bit, in batches of the batch size', async () => {
    const text = table(1000);
    for (const bootstrap of [false, { resamples: 50, seed: 3 }] as const) {
      const rows = logistic();
      const blocks = logistic();
      const expected = await evaluate(rows.model, parseCsv([text]), { bootstrap, batchSize: 300 });
      const got = await evaluate(blocks.model, parseCsvColumns(bytes(text)), { bootstrap, batchSize: 300 });
      expect({ ...got, durationMs: 0 }).toEqual({ ...expected, durationMs: 0 });
      expect(blocks.calls).toEqual([300, 300, 300, 100]);
      expect(rows.calls).toEqual(blocks.calls);
    }
  });

  it('reads string labels and feeds float64 and integer inputs as the row path does', async () => {
    const text = table(200, (i) => (i % 3 === 0 ? 'fraud' : 'ok'));
    const a = await evaluate(logistic('float64').model, parseCsv([text]), { bootstrap: false });
    const b = await evaluate(logistic('float64').model, parseCsvColumns(bytes(text)), { bootstrap: false });
    expect({ ...b, durationMs: 0 }).toEqual({ ...a, durationMs: 0 });
    const ints = 'a,b,label\n1,2,0\n-3,4,1\n5,-6,1\n';
    const c = await evaluate(logistic('int32').model, parseCsv([ints]), { bootstrap: false });
    const d = await evaluate(logistic('int32').model, parseCsvColumns(bytes(ints)), { bootstrap: false });
    expect({ ...d, durationMs: 0 }).toEqual({ ...c, durationMs: 0 });
  });

  it('gives records to a pipeline, and compareModels reads the blocks too', async () => {
    const text = table(120);
    const pipeline = Pipeline.fit(
      [
        { a: 1, b: 2 },
        { a: 3, b: 5 },
      ],
      { features: { a: standardize(), b: [] } },
    );
    const viaRows = await evaluate(logistic('float32', 'features').model, parseCsv([text]), {
      pipeline,
      bootstrap: false,
    }).catch((e: unknown) => e);
    const viaBlocks = await evaluate(logistic('float32', 'features').model, parseCsvColumns(bytes(text)), {
      pipeline,
      bootstrap: false,
    }).catch((e: unknown) => e);
    expect(viaRows).not.toBeInstanceOf(Error);
    expect(strip(viaBlocks)).toEqual(strip(viaRows));
    const c1 = await compareModels(logistic().model, logistic('float64').model, parseCsv([text]), {
      bootstrap: false,
    });
    const c2 = await compareModels(
      logistic().model,
      logistic('float64').model,
      parseCsvColumns(bytes(text)),
      {
        bootstrap: false,
      },
    );
    expect(strip(c2)).toEqual(strip(c1));
  });

  it('fails as the row path fails: bad feature cells (first one row by row), bad labels, no label column, no rows', async () => {
    const cases = [
      'a,b,label\n1,2,0\n1,x,1\nNA,3,1\n',
      'a,b,label\n1,2,0\n1,"3",1\n',
      'a,b,label\n1,2,0\n1,3,\n',
      'a,b,label\n1,2,0\n1,3,""\n',
      'a,b,y\n1,2,0\n',
      'a,b,label\n',
      'a,b,label\n1,2,0\n1,2\n',
      'a,label\n1,0\n',
    ];
    for (const text of cases) {
      const a = await failure(
        evaluate(logistic().model, parseCsv([text]), { bootstrap: false, batchSize: 1 }),
      );
      const b = await failure(
        evaluate(logistic().model, parseCsvColumns(bytes(text, 5)), { bootstrap: false, batchSize: 1 }),
      );
      expect(b, text).toEqual(a);
    }
    const ints = 'a,b,label\n1,2,0\n1,2.5,1\n';
    const a = await failure(evaluate(logistic('int32').model, parseCsv([ints]), { bootstrap: false }));
    const b = await failure(
      evaluate(logistic('int32').model, parseCsvColumns(bytes(ints)), { bootstrap: false }),
    );
    expect(b).toEqual(a);
    expect(b.message).toMatch(/row 1, column 'b' is 2.5/);
  });
});

/** A report or comparison without its timings. */
function strip(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (k, x) => (k === 'durationMs' ? 0 : x)));
}
