/**
 * Converter classifiers and regressors served: OIP answers the ZipMap output as its probability
 * tensor (and, with Triton's classification extension, the top classes as BYTES
 * "score:index:label"); TF Serving's :classify and :regress answer [label, score] pairs and values.
 */
import {
  createServer,
  Deployer,
  loadModel,
  type ModelshipServer,
  numberToFloat16Bits,
  tensor,
} from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topClasses } from '../../core/src/serve/classification';
import { tabular, tabularPath } from './fixtures';

let deployer: Deployer;
let server: ModelshipServer;
let base: string;

beforeAll(async () => {
  deployer = new Deployer();
  try {
    for (const name of ['rf_iris_str', 'rf_iris', 'gb_regressor'])
      await deployer.deploy(name, () => loadModel(tabularPath(name)), { version: '1' });
    server = createServer(deployer);
    const { port } = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  } catch (e) {
    await server?.close();
    await deployer.close();
    throw e;
  }
});

afterAll(async () => {
  await server?.close();
  await deployer?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const rowsOf = (name: string, n: number) => {
  const c = tabular[name]!;
  return Array.from({ length: n }, (_, r) => c.inputs.slice(r * c.features, (r + 1) * c.features));
};
function expectClose(got: readonly number[], want: readonly number[], digits: number): void {
  expect(got).toHaveLength(want.length);
  for (const [i, v] of got.entries()) expect(v).toBeCloseTo(want[i]!, digits);
}
const probsOf = (name: string, n: number, width: number) => tabular[name]!.probabilities!.slice(0, n * width);

describe('OIP', () => {
  it('answers the ZipMap output as the [batch, classes] probability tensor', async () => {
    const rows = rowsOf('rf_iris_str', 4);
    const r = await post('/v2/models/rf_iris_str/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [4, 4], data: rows.flat() }],
    });
    expect(r.status).toBe(200);
    const outputs = r.json.outputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['output_label', 'BYTES', [4]],
      ['output_probability', 'FP32', [4, 3]],
    ]);
    expect(outputs[0]!.data).toEqual(tabular.rf_iris_str!.predicted.slice(0, 4));
    const want = probsOf('rf_iris_str', 4, 3);
    expectClose(outputs[1]!.data as number[], want, 6);
  });

  it('answers the top classes as BYTES "score:index:label" with the classification parameter', async () => {
    const rows = rowsOf('rf_iris_str', 3);
    const r = await post('/v2/models/rf_iris_str/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], data: rows.flat() }],
      outputs: [{ name: 'output_probability', parameters: { classification: 2 } }],
    });
    expect(r.status).toBe(200);
    const [out] = r.json.outputs as { name: string; datatype: string; shape: number[]; data: string[] }[];
    expect([out!.name, out!.datatype, out!.shape]).toEqual(['output_probability', 'BYTES', [3, 2]]);
    const labels = ['setosa', 'versicolor', 'virginica'];
    const p = probsOf('rf_iris_str', 3, 3);
    for (let row = 0; row < 3; row++) {
      const order = [0, 1, 2].sort((a, b) => p[row * 3 + b]! - p[row * 3 + a]! || a - b).slice(0, 2);
      const got = out!.data.slice(row * 2, row * 2 + 2).map((s) => s.split(':'));
      expect(got.map(([, i, l]) => [Number(i), l])).toEqual(order.map((i) => [i, labels[i]]));
      expectClose(
        got.map(([score]) => Number(score)),
        order.map((i) => p[row * 3 + i]!),
        6,
      );
    }
    // int64 labels are written as numbers; the label output has no scores to rank.
    const ints = await post('/v2/models/rf_iris/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: rows[0] }],
      outputs: [{ name: 'output_probability', parameters: { classification: 1 } }],
    });
    expect((ints.json.outputs as { data: string[] }[])[0]!.data[0]).toMatch(/^[0-9.e-]+:2:2$/);
    const bad = await post('/v2/models/rf_iris/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: rows[0] }],
      outputs: [{ name: 'output_label', parameters: { classification: 1 } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe(
      "output 'output_label' is int64; the classification extension needs class scores (a float tensor)",
    );
    const zero = await post('/v2/models/rf_iris/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: rows[0] }],
      outputs: [{ name: 'output_probability', parameters: { classification: 0 } }],
    });
    expect(zero.status).toBe(400);
    expect(zero.json.error).toMatch(/'classification' must be a positive integer.*received 0/);
  });
});

describe('TF Serving :classify and :regress', () => {
  it(':classify answers every class as [label, score] per example', async () => {
    const rows = rowsOf('rf_iris_str', 3);
    const r = await post('/v1/models/rf_iris_str:classify', { examples: rows.map((input) => ({ input })) });
    expect(r.status).toBe(200);
    const result = r.json.result as [string, number][][];
    const p = probsOf('rf_iris_str', 3, 3);
    expect(result.map((row) => row.map(([l]) => l))).toEqual(
      Array(3).fill(['setosa', 'versicolor', 'virginica']),
    );
    expectClose(
      result.flat().map(([, score]) => score),
      p,
      6,
    );
    // int64 labels come as strings, as TF Serving's classes are.
    const ints = await post('/v1/models/rf_iris/versions/1:classify', { examples: [{ input: rows[0] }] });
    expect((ints.json.result as [string, number][][])[0]!.map(([l]) => l)).toEqual(['0', '1', '2']);
  });

  it(':regress answers one value per example; context is shared by all examples', async () => {
    const rows = rowsOf('gb_regressor', 3);
    const r = await post('/v1/models/gb_regressor:regress', { examples: rows.map((input) => ({ input })) });
    expect(r.status).toBe(200);
    const result = r.json.result as number[];
    expect(result).toHaveLength(3);
    expectClose(result, tabular.gb_regressor!.predicted.slice(0, 3) as number[], 5);
    const shared = await post('/v1/models/gb_regressor:regress', {
      context: { input: rows[1] },
      examples: [{}],
    });
    expect(shared.json.result).toEqual([result[1]]);
  });

  it('refuses what does not fit, naming it', async () => {
    const input = rowsOf('rf_iris', 1)[0];
    const cases: [string, unknown, string][] = [
      [
        '/v1/models/gb_regressor:classify',
        { examples: [{ input }] },
        "model 'gb_regressor' has no class scores",
      ],
      [
        '/v1/models/rf_iris:regress',
        { examples: [{ input }] },
        "model 'rf_iris' has no output of one float per example",
      ],
      ['/v1/models/rf_iris:classify', { examples: [] }, 'examples must be a non-empty list of objects'],
      ['/v1/models/rf_iris:classify', { examples: [[1, 2]] }, 'example 0 must be an object of inputs'],
      [
        '/v1/models/rf_iris:classify',
        { examples: [{ input }], context: { input } },
        "example 0 has 'input', which context also has",
      ],
      ['/v1/models/rf_iris:classify', { examples: [{ x: input }] }, "model 'rf_iris' has no input 'x'"],
      [
        '/v1/models/rf_iris:classify',
        { examples: [{ input }], signature_name: 'other' },
        'Serving signature key "other" not found',
      ],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(path, body);
      expect(r.status, path).toBe(400);
      expect(r.json.error as string).toContain(message);
    }
  });
});

describe('topClasses', () => {
  it('reads float16 bits and integers as the scores they are', () => {
    const spec = { name: 'p', dtype: 'float16' as const, shape: [null, 3], labels: ['a', 'b', 'c'] };
    const half = tensor('float16', Uint16Array.from([0.25, 0.5, 0.25].map(numberToFloat16Bits)), [1, 3]);
    expect(topClasses(half, 2, spec).data).toEqual(['0.5:1:b', '0.25:0:a']);
    const ints = tensor('int32', Int32Array.from([3, 9, 1]), [1, 3]);
    expect(topClasses(ints, 5, { ...spec, dtype: 'int32', labels: undefined }).data).toEqual([
      '9:1',
      '3:0',
      '1:2',
    ]);
  });
});
