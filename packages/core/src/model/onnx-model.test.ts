import { describe, expect, it } from 'vitest';
import type { DeclaredValue } from '../load/onnx-graph';
import { signatureFromSession } from './onnx-model';
import type { OrtSession, OrtValueMetadata } from './onnx-runtime';

const meta = (name: string, shape: (number | string)[]): OrtValueMetadata => ({
  name,
  isTensor: true,
  type: 'float32',
  shape,
});
const declared = (
  name: string,
  shape: DeclaredValue['shape'],
  dtype: DeclaredValue['dtype'] = 'float32',
): DeclaredValue => ({
  name,
  kind: dtype === null ? 'unknown' : 'tensor',
  type: dtype === null ? 'unknown' : 'tensor(float)',
  dtype,
  elemType: dtype === null ? 0 : 1,
  shape,
});
const session = (inputs: OrtValueMetadata[]) =>
  ({ inputMetadata: inputs, outputMetadata: [meta('y', ['batch'])] }) as unknown as OrtSession;

describe('signatureFromSession', () => {
  const s = session([
    meta('scalar', []),
    meta('undeclared', []),
    meta('overridden', [8, 'n']),
    // '' and -1 (onnxruntime-node), 2^32 - 1 (onnxruntime-web): a dimension with no size or name
    meta('unnamed', ['', -1, 4294967295]),
    meta('absent', []),
    meta('odd', [3]),
  ]);

  it('without the graph, reads onnxruntime’s [] as unknown rank', () => {
    expect(signatureFromSession(s).inputs.map((i) => i.shape)).toEqual([
      null,
      null,
      [8, 'n'],
      [null, null, null],
      null,
      [3],
    ]);
  });

  it('with the graph, tells a scalar from an undeclared shape and keeps sizes onnxruntime fixed', () => {
    const sig = signatureFromSession(s, {
      inputs: [
        declared('scalar', []),
        declared('undeclared', null),
        // a free dimension override: onnxruntime enforces 8 where the graph says 'batch'
        declared('overridden', ['batch', 'n']),
        declared('unnamed', [null, null, null]),
        // the graph and onnxruntime disagree on the rank: onnxruntime's is what it checks
        declared('odd', [3, 1]),
      ],
      outputs: [declared('y', ['batch'])],
    });
    expect(sig.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['scalar', []],
      ['undeclared', null],
      ['overridden', [8, 'n']],
      ['unnamed', [null, null, null]],
      ['absent', null],
      ['odd', [3]],
    ]);
    expect(sig.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['batch'] }]);
  });

  it('lists outputs that are not tensors with their declared kind, and puts ZipMap labels on theirs', () => {
    const sig = signatureFromSession(
      {
        inputMetadata: [meta('x', [''])],
        outputMetadata: [
          meta('p', ['', 2]),
          { name: 'maps', isTensor: false },
          { name: 'other', isTensor: false },
        ],
      } as unknown as OrtSession,
      {
        inputs: [],
        outputs: [
          {
            ...declared('maps', null, null),
            kind: 'sequence of maps',
            type: 'seq(map(int64,tensor(float)))',
          },
        ],
      },
      [{ name: 'p', labels: [-1, 1] }],
    );
    expect(sig.outputs).toEqual([{ name: 'p', dtype: 'float32', shape: [null, 2], labels: [-1, 1] }]);
    expect(sig.unsupportedOutputs).toEqual([
      { name: 'maps', kind: 'sequence of maps', type: 'seq(map(int64,tensor(float)))' },
      { name: 'other', kind: 'unknown', type: 'unknown' },
    ]);
    expect(() =>
      signatureFromSession({
        inputMetadata: [],
        outputMetadata: [{ name: 'maps', isTensor: false }],
      } as unknown as OrtSession),
    ).toThrow("the model has no tensor outputs that onnxruntime-js can return ('maps' is not a tensor)");
  });

  it('a declaration that is not a tensor does not override onnxruntime', () => {
    const sig = signatureFromSession(session([meta('x', [])]), {
      inputs: [declared('x', [], null)],
      outputs: [],
    });
    expect(sig.inputs[0]!.shape).toBeNull();
  });
});
