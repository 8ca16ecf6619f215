/**
 * `encodeOnnxModel` writes ModelProtos that onnxruntime-node loads and runs: standard operators
 * with initializers, the ML operators the baselines export (LinearRegressor, LinearClassifier with
 * negative int64 and string labels, TreeEnsembleRegressor), and typed errors for bad specs.
 */
import { readOnnxSignature } from '@modelship/core';
import { encodeOnnxModel } from '@modelship/core/baselines';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index';

const run = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
};

const ML = { '': 13, 'ai.onnx.ml': 3 };

describe('encodeOnnxModel', () => {
  it('writes standard operators with float, double and int64 initializers that onnxruntime runs', async () => {
    const bytes = encodeOnnxModel({
      inputs: [
        { name: 'x', type: 'float', shape: ['N', 3] },
        { name: 'd', type: 'double', shape: [null, 2] },
        { name: 'k', type: 'int64', shape: [2] },
      ],
      outputs: [
        { name: 'y', type: 'float', shape: ['N', 3] },
        { name: 'e', type: 'double', shape: [null, 2] },
        { name: 'm', type: 'int64', shape: [2] },
      ],
      nodes: [
        { opType: 'Add', inputs: ['x', 'bias'], outputs: ['y'] },
        { opType: 'Mul', inputs: ['d', 'scale'], outputs: ['e'] },
        { opType: 'Add', inputs: ['k', 'offset'], outputs: ['m'] },
      ],
      initializers: [
        { name: 'bias', type: 'float', dims: [3], values: [0.5, -1.25, 3] },
        { name: 'scale', type: 'double', dims: [2], values: [0.1, -7] },
        { name: 'offset', type: 'int64', dims: [2], values: [-5n, 9007199254740993n] },
      ],
      opsets: { '': 13 },
    });
    const out = await run(bytes, {
      x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
      d: new ort.Tensor('float64', Float64Array.from([2, 3]), [1, 2]),
      k: new ort.Tensor('int64', BigInt64Array.from([1n, -2n]), [2]),
    });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([1.5, 0.75, 6, 4.5, 3.75, 9]);
    expect(Array.from(out.e!.data as Float64Array)).toEqual([2 * 0.1, -21]);
    expect(Array.from(out.m!.data as BigInt64Array)).toEqual([-4n, 9007199254740991n]);
  });

  it('writes LinearRegressor and LinearClassifier with negative int64 labels', async () => {
    const regressor = encodeOnnxModel({
      inputs: [{ name: 'x', type: 'float', shape: ['N', 2] }],
      outputs: [{ name: 'variable', type: 'float', shape: ['N', 1] }],
      nodes: [
        {
          opType: 'LinearRegressor',
          domain: 'ai.onnx.ml',
          inputs: ['x'],
          outputs: ['variable'],
          attributes: { coefficients: { floats: [0.5, -1] }, intercepts: { floats: [2] } },
        },
      ],
      opsets: ML,
    });
    const x = new ort.Tensor('float32', Float32Array.from([1, 1, 4, -2]), [2, 2]);
    const r = await run(regressor, { x });
    expect(Array.from(r.variable!.data as Float32Array)).toEqual([1.5, 6]);

    const classifier = encodeOnnxModel({
      inputs: [{ name: 'x', type: 'float', shape: ['N', 2] }],
      outputs: [
        { name: 'label', type: 'int64', shape: ['N'] },
        { name: 'probabilities', type: 'float', shape: ['N', 2] },
      ],
      nodes: [
        {
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          inputs: ['x'],
          outputs: ['label', 'probabilities'],
          attributes: {
            classlabels_ints: { ints: [-1, 1] },
            coefficients: { floats: [-1, 0, 1, 0] },
            intercepts: { floats: [0, 0] },
            multi_class: { int: 0 },
            post_transform: { string: 'NONE' },
          },
        },
      ],
      opsets: ML,
    });
    const c = await run(classifier, { x });
    expect(Array.from(c.label!.data as BigInt64Array)).toEqual([1n, 1n]);
    expect(Array.from(c.probabilities!.data as Float32Array)).toEqual([-1, 1, -4, 4]);
  });

  it('writes string attributes and a TreeEnsembleRegressor', async () => {
    const strings = encodeOnnxModel({
      inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
      outputs: [
        { name: 'label', type: 'string', shape: ['N'] },
        { name: 'scores', type: 'float', shape: ['N', 2] },
      ],
      nodes: [
        {
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          inputs: ['x'],
          outputs: ['label', 'scores'],
          attributes: {
            classlabels_strings: { strings: ['no', 'sí ✓'] },
            coefficients: { floats: [-1, 1] },
            intercepts: { floats: [0, 0] },
          },
        },
      ],
      opsets: ML,
    });
    const s = await run(strings, { x: new ort.Tensor('float32', Float32Array.from([2, -3]), [2, 1]) });
    expect(s.label!.data).toEqual(['sí ✓', 'no']);

    // x0 <= 0.5 ? 10 : (x1 <= -1 ? 20 : 30)
    const tree = encodeOnnxModel({
      inputs: [{ name: 'x', type: 'float', shape: ['N', 2] }],
      outputs: [{ name: 'y', type: 'float', shape: ['N', 1] }],
      nodes: [
        {
          opType: 'TreeEnsembleRegressor',
          domain: 'ai.onnx.ml',
          inputs: ['x'],
          outputs: ['y'],
          attributes: {
            n_targets: { int: 1 },
            nodes_treeids: { ints: [0, 0, 0, 0, 0] },
            nodes_nodeids: { ints: [0, 1, 2, 3, 4] },
            nodes_featureids: { ints: [0, 0, 1, 0, 0] },
            nodes_values: { floats: [0.5, 0, -1, 0, 0] },
            nodes_modes: { strings: ['BRANCH_LEQ', 'LEAF', 'BRANCH_LEQ', 'LEAF', 'LEAF'] },
            nodes_truenodeids: { ints: [1, 0, 3, 0, 0] },
            nodes_falsenodeids: { ints: [2, 0, 4, 0, 0] },
            target_treeids: { ints: [0, 0, 0] },
            target_nodeids: { ints: [1, 3, 4] },
            target_ids: { ints: [0, 0, 0] },
            target_weights: { floats: [10, 20, 30] },
          },
        },
      ],
      opsets: ML,
    });
    const t = await run(tree, {
      x: new ort.Tensor('float32', Float32Array.from([0.5, 9, 0.6, -1, 0.6, -0.5]), [3, 2]),
    });
    expect(Array.from(t.y!.data as Float32Array)).toEqual([10, 20, 30]);
  });

  it('writes a ZipMap output typed as a sequence of maps, which loadModel serves with its labels', async () => {
    const bytes = encodeOnnxModel({
      inputs: [{ name: 'x', type: 'float', shape: ['N', 1] }],
      outputs: [
        { name: 'label', type: 'string', shape: ['N'] },
        { name: 'probabilities', type: 'float', shape: [], mapKey: 'string' },
      ],
      nodes: [
        {
          opType: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          inputs: ['x'],
          outputs: ['label', 'scores'],
          attributes: {
            classlabels_strings: { strings: ['no', 'yes'] },
            coefficients: { floats: [-1, 1] },
            intercepts: { floats: [0, 0] },
            post_transform: { string: 'LOGISTIC' },
          },
        },
        {
          opType: 'ZipMap',
          domain: 'ai.onnx.ml',
          inputs: ['scores'],
          outputs: ['probabilities'],
          attributes: { classlabels_strings: { strings: ['no', 'yes'] } },
        },
      ],
      opsets: ML,
    });
    const x = new ort.Tensor('float32', Float32Array.from([2, -3]), [2, 1]);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ x }, ['label']);
      expect(out.label!.data).toEqual(['yes', 'no']);
    } finally {
      await session.release();
    }
    const model = await loadModel(bytes);
    try {
      expect(model.signature.outputs[1]).toEqual({
        name: 'probabilities',
        dtype: 'float32',
        shape: [null, 2],
        labels: ['no', 'yes'],
      });
      const p = await model.predict({
        x: { dtype: 'float32', shape: [2, 1], data: Float32Array.from([2, -3]) },
      });
      const sig = (v: number) => 1 / (1 + Math.exp(-v));
      const got = Array.from(p.probabilities!.data as Float32Array);
      for (const [i, v] of [1 - sig(2), sig(2), 1 - sig(-3), sig(-3)].entries())
        expect(got[i]).toBeCloseTo(v, 6);
    } finally {
      await model.dispose();
    }
  });

  it('writes metadata and shapes that the graph reader reads back', async () => {
    const bytes = encodeOnnxModel({
      inputs: [{ name: 'features', type: 'float', shape: ['batch', 4] }],
      outputs: [{ name: 'out', type: 'float', shape: ['batch', 4] }],
      nodes: [{ opType: 'Identity', inputs: ['features'], outputs: ['out'] }],
      opsets: { '': 13 },
      metadata: { trained_by: 'modelship' },
    });
    const signature = await readOnnxSignature(bytes);
    expect(signature.inputs.map((i) => [i.name, i.shape])).toEqual([['features', ['batch', 4]]]);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['features']);
    await session.release();
  });

  it('refuses bad specs with typed errors', () => {
    const base = {
      inputs: [{ name: 'x', type: 'float' as const, shape: [1] }],
      outputs: [{ name: 'y', type: 'float' as const, shape: [1] }],
      nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
      opsets: { '': 13 },
    };
    expect(() =>
      encodeOnnxModel({ ...base, inputs: [{ name: 'x', type: 'complex' as never, shape: [1] }] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeOnnxModel({ ...base, opsets: { '': 0 } })).toThrow(/opsets/);
    expect(() =>
      encodeOnnxModel({ ...base, initializers: [{ name: 'w', type: 'float', dims: [2], values: [1] }] }),
    ).toThrow(/1 values for dims \[2\]/);
    expect(() =>
      encodeOnnxModel({
        ...base,
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'], attributes: { a: {} as never } }],
      }),
    ).toThrow(/no value key/);
    expect(() => encodeOnnxModel({ ...base, nodes: [{ opType: 'X', inputs: [], outputs: [''] }] })).toThrow(
      /non-empty/,
    );
    expect(() =>
      encodeOnnxModel({
        ...base,
        outputs: [{ name: 'y', type: 'float', shape: [], mapKey: 'float' as never }],
      }),
    ).toThrow(/mapKey must be 'int64' or 'string'/);
    expect(() => encodeOnnxModel(null as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
