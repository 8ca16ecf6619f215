import { DTYPES, type DType, ModelshipError, type Tensor, tensor, toArray } from '@modelship/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelContract } from '../../core/src/model/model.case';
import { loadModel } from '../src/index';
import { casesOf, expected, modelPath } from './fixtures';

/** Float outputs are compared to numpy's float64 reference within float32 rounding. */
function expectTensorClose(actual: Tensor, want: Tensor, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.dtype).toBe(want.dtype);
  expect(actual.shape).toEqual(want.shape);
  const a = toArray(actual);
  const b = toArray(want);
  if (want.dtype === 'float32' || want.dtype === 'float64' || want.dtype === 'float16') {
    for (let i = 0; i < b.length; i++) {
      const diff = Math.abs((a[i] as number) - (b[i] as number));
      if (diff > atol + rtol * Math.abs(b[i] as number)) {
        throw new Error(`element ${i}: ${a[i]} differs from ${b[i]} by ${diff}`);
      }
    }
  } else {
    expect(a).toEqual(b);
  }
}

modelContract('OnnxModel (onnxruntime-node)', async () => {
  const [one, three] = casesOf('two_inputs');
  return { model: await loadModel(modelPath('two_inputs')), inputs: one!.inputs, otherInputs: three!.inputs };
});

const models = Object.keys(expected).filter((m) => expected[m]!.cases.length > 0);

describe.each(models)('fixture %s', (name) => {
  it('has the signature the fixture script declares', async () => {
    const model = await loadModel(modelPath(name));
    expect(model.signature).toEqual(expected[name]!.signature);
    await model.dispose();
  });

  it('computes the outputs numpy computed independently', async () => {
    const model = await loadModel(modelPath(name));
    for (const c of casesOf(name)) {
      const out = await model.predict(c.inputs);
      for (const [k, want] of Object.entries(c.outputs)) expectTensorClose(out[k]!, want);
    }
    await model.dispose();
  });
});

describe('every dtype round-trips through onnxruntime unchanged', () => {
  let model: Awaited<ReturnType<typeof loadModel>>;
  beforeAll(async () => {
    model = await loadModel(modelPath('identity_all_dtypes'));
  });
  afterAll(() => model.dispose());

  const samples: Record<DType, unknown[]> = {
    float32: [0, -1.5, 3.4028234663852886e38, 1.401298464324817e-45, Number.NaN, Number.NEGATIVE_INFINITY],
    float64: [0, -1.5, Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY],
    float16: [0, -1.5, 65504, 2 ** -24, Number.NaN, Number.NEGATIVE_INFINITY],
    int8: [-128, 127, 0, -1, 1, 42],
    int16: [-32768, 32767, 0, -1, 1, 42],
    int32: [-2147483648, 2147483647, 0, -1, 1, 42],
    int64: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, 42n],
    uint8: [0, 255, 1, 2, 3, 4],
    uint16: [0, 65535, 1, 2, 3, 4],
    uint32: [0, 4294967295, 1, 2, 3, 4],
    uint64: [0n, 2n ** 64n - 1n, 2n ** 53n + 1n, 1n, 2n, 3n],
    bool: [true, false, true, true, false, false],
    string: ['', 'ascii', 'héllo wörld', '日本語', 'emoji 🚢', 'tab\tnew\nline'],
  };

  // The model takes every dtype at once; one call feeds them all, each test checks one.
  const inputs = Object.fromEntries(DTYPES.map((d) => [`in_${d}`, tensor(d, samples[d] as never, [2, 3])]));
  let out: Record<string, Tensor>;
  beforeAll(async () => {
    out = await model.predict(inputs);
  });

  it.each(DTYPES)('%s', (dtype) => {
    const input = inputs[`in_${dtype}`]!;
    const got = out[`out_${dtype}`]!;
    expect(got.dtype).toBe(dtype);
    expect(got.shape).toEqual([2, 3]);
    expect(Object.prototype.toString.call(got.data)).toBe(Object.prototype.toString.call(input.data));
    expect(toArray(got)).toEqual(toArray(input));
  });

  it('refuses strings with a NUL character, which onnxruntime would truncate', async () => {
    const withNul = { ...inputs, in_string: tensor('string', ['a', 'b', 'c', 'd', 'e', 'x\u0000y'], [2, 3]) };
    await expect(model.predict(withNul)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message:
        "input 'in_string': element 5 contains a NUL character, which onnxruntime would cut the string at",
    });
  });
});

describe('validation errors from an ONNX model', () => {
  let fraud: Awaited<ReturnType<typeof loadModel>>;
  let emb: Awaited<ReturnType<typeof loadModel>>;
  beforeAll(async () => {
    fraud = await loadModel(modelPath('fraud'), { validation: { checkFinite: true, maxElements: 1200 } });
    emb = await loadModel(modelPath('embedding'));
  });
  afterAll(async () => {
    await fraud.dispose();
    await emb.dispose();
  });

  const codeOf = async (work: Promise<unknown>) => {
    try {
      await work;
      return 'no error';
    } catch (e) {
      return ModelshipError.isInstance(e) ? `${e.code}: ${e.message}` : String(e);
    }
  };
  const f32 = (shape: number[]) =>
    tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

  it('names each problem', async () => {
    expect(await codeOf(fraud.predict({}))).toBe(
      "INPUT_MISSING: missing input 'features': expected float32 [batch, 12]",
    );
    expect(await codeOf(fraud.predict({ features: f32([1, 12]), extra: f32([1]) }))).toBe(
      "INPUT_UNKNOWN: unknown input 'extra': the model's inputs are 'features'",
    );
    expect(await codeOf(fraud.predict({ features: tensor('float64', new Float64Array(12), [1, 12]) }))).toBe(
      "INPUT_DTYPE_MISMATCH: input 'features': expected dtype float32, received float64",
    );
    expect(await codeOf(fraud.predict({ features: f32([12]) }))).toBe(
      "INPUT_RANK_MISMATCH: input 'features': expected rank 2 [batch, 12], received rank 1 [12]",
    );
    expect(await codeOf(fraud.predict({ features: f32([1, 11]) }))).toBe(
      "INPUT_SHAPE_MISMATCH: input 'features': dimension 1 must be 12 [batch, 12], received 11 [1, 11]",
    );
    expect(
      await codeOf(
        fraud.predict({ features: { dtype: 'float32', shape: [2, 12], data: new Float32Array(12) } }),
      ),
    ).toBe("INPUT_DATA_LENGTH_MISMATCH: input 'features': shape [2, 12] holds 24 elements, but data has 12");
    const nan = new Float32Array(12);
    nan[7] = Number.NaN;
    expect(await codeOf(fraud.predict({ features: tensor('float32', nan, [1, 12]) }))).toBe(
      "INPUT_NOT_FINITE: input 'features': element 7 is NaN; finite values are required",
    );
    expect(await codeOf(fraud.predict({ features: f32([101, 12]) }))).toBe(
      "INPUT_TOO_LARGE: input 'features' brings the request to 1212 elements, over the limit of 1200",
    );
    expect(await codeOf(fraud.predict({ features: f32([1, 12]) }, { outputs: ['score'] }))).toBe(
      "OUTPUT_UNKNOWN: unknown output 'score': the model's outputs are 'probability', 'label'",
    );
    expect(await codeOf(emb.predict({ ids: tensor('int32', [[1, 2]]) }))).toBe(
      "INPUT_DTYPE_MISMATCH: input 'ids': expected dtype int64, received int32",
    );
  });

  it('accepts nested arrays in the declared dtype and onnxruntime tensors', async () => {
    const [c] = casesOf('embedding');
    const ids = toArray(c!.inputs.ids!) as bigint[];
    const shape = c!.inputs.ids!.shape;
    const nested = Array.from({ length: shape[0]! }, (_, i) => ids.slice(i * shape[1]!, (i + 1) * shape[1]!));
    const fromNested = await emb.predict({ ids: nested });
    const fromOrt = await emb.predict({ ids: new ort.Tensor('int64', BigInt64Array.from(ids), shape) });
    expect(toArray(fromNested.embedding!)).toEqual(toArray(fromOrt.embedding!));
    expect(toArray(fromNested.ids_plus_one!)).toEqual(ids.map((v) => v + 1n));
    expect(await codeOf(emb.predict({ ids: [[1.5]] }))).toMatch(
      /^INPUT_INVALID: input 'ids': cannot build a int64 tensor/,
    );
  });

  it('turns an onnxruntime failure at run time into INFERENCE_FAILED', async () => {
    // Index 99 is outside the 10-row embedding table: onnxruntime's Gather refuses it.
    const out = await codeOf(emb.predict({ ids: tensor('int64', [[99n]]) }));
    expect(out).toMatch(/^INFERENCE_FAILED: model 'embedding' version '1' failed: /);
  });
});

describe('dimensions', () => {
  it('enforces fixed shapes and lets unknown dimensions vary', async () => {
    const fixed = await loadModel(modelPath('fixed_shape'));
    expect(fixed.signature.inputs[0]!.shape).toEqual([1, 4]);
    await expect(fixed.predict({ x: tensor('float32', new Float32Array(8), [2, 4]) })).rejects.toMatchObject({
      code: 'INPUT_SHAPE_MISMATCH',
    });
    const unknown = await loadModel(modelPath('unknown_dims'));
    expect(unknown.signature.inputs[0]!.shape).toEqual([null, 3]);
    for (const rows of [1, 5]) {
      const out = await unknown.predict({
        x: tensor('float32', new Float32Array(rows * 3).fill(-1), [rows, 3]),
      });
      expect(out.y!.shape).toEqual([rows, 3]);
    }
    await Promise.all([fixed.dispose(), unknown.dispose()]);
  });

  it('runs any batch size through a dynamic batch dimension', async () => {
    const model = await loadModel(modelPath('linear'));
    for (const batch of [0, 1, 64, 1000]) {
      const out = await model.predict({ x: tensor('float32', new Float32Array(batch * 4), [batch, 4]) });
      expect(out.y!.shape).toEqual([batch, 1]);
    }
    await model.dispose();
  });
});

describe('runs through onnxruntime’s session handler', () => {
  it('answers exactly what session.run answers on the same session, every output or some', async () => {
    const model = await loadModel(modelPath('fraud'));
    expect(typeof (model.session as unknown as { handler?: { run?: unknown } }).handler?.run).toBe(
      'function',
    );
    for (const batch of [1, 3, 64]) {
      const data = Float32Array.from({ length: batch * 12 }, (_, i) => Math.sin(i) * 4);
      const out = await model.predict({ features: { dtype: 'float32', shape: [batch, 12], data } });
      const raw = await model.session.run({ features: new ort.Tensor('float32', data, [batch, 12]) });
      expect(Object.keys(out)).toEqual(['probability', 'label']);
      for (const k of ['probability', 'label']) {
        const r = raw[k]! as unknown as ort.Tensor;
        expect(out[k]).toEqual({ dtype: r.type, shape: r.dims, data: r.data });
      }
      const some = await model.predict(
        { features: { dtype: 'float32', shape: [batch, 12], data } },
        { outputs: ['label'] },
      );
      expect(some).toEqual({ label: out.label });
    }
    await model.dispose();
  });
});
