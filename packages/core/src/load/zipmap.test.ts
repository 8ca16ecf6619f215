import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readOnnxSignature } from './onnx-graph';
import { bytesField, concat, varint, varintField } from './protobuf-writer';
import { rewriteZipMaps } from './zipmap';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/models/tabular/${name}.onnx`, import.meta.url)));

// Hand-built ModelProtos (field numbers from onnx.proto).
const node = (inputs: string[], outputs: string[], opType: string, domain = '', attrs: Uint8Array[] = []) =>
  bytesField(1, [
    ...inputs.map((i) => bytesField(1, i)),
    ...outputs.map((o) => bytesField(2, o)),
    bytesField(4, opType),
    ...attrs.map((a) => bytesField(5, a)),
    ...(domain === '' ? [] : [bytesField(7, domain)]),
  ]);
const tensorOut = (name: string) =>
  bytesField(12, [bytesField(1, name), bytesField(2, bytesField(1, varintField(1, 1)))]);
const seqOfMapsOut = (name: string) =>
  bytesField(12, [
    bytesField(1, name),
    bytesField(
      2,
      bytesField(
        4,
        bytesField(1, bytesField(5, [varintField(1, 7), bytesField(2, bytesField(1, varintField(1, 1)))])),
      ),
    ),
  ]);
const input = bytesField(11, [bytesField(1, 'x'), bytesField(2, bytesField(1, varintField(1, 1)))]);
const opset = (domain: string, version: number) =>
  bytesField(8, [...(domain === '' ? [] : [bytesField(1, domain)]), varintField(2, version)]);
const model = (graph: Uint8Array[], imports = [opset('', 17), opset('ai.onnx.ml', 1)]) =>
  concat([varintField(1, 8), bytesField(7, graph), ...imports]);
/** -1 as an int64 varint: ten bytes. */
const minusOne = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
const labelsAttr = (packed: boolean) =>
  concat([
    bytesField(1, 'classlabels_int64s'),
    ...(packed
      ? [bytesField(8, concat([minusOne, varint(1)]))]
      : [concat([varint(8 * 8), minusOne]), varintField(8, 1)]),
    varintField(20, 7),
  ]);

describe('rewriteZipMaps', () => {
  it("serves a converter's ZipMap output as the probability tensor, with the class labels", async () => {
    const bytes = fixture('rf_iris');
    const before = bytes.slice();
    expect((await readOnnxSignature(bytes)).outputs.map((o) => [o.name, o.kind])).toEqual([
      ['output_label', 'tensor'],
      ['output_probability', 'sequence of maps'],
    ]);
    const rewrite = rewriteZipMaps(bytes)!;
    expect(rewrite.outputs).toEqual([{ name: 'output_probability', labels: [0, 1, 2] }]);
    expect(bytes).toEqual(before); // the caller's bytes are left as they were
    const sig = await readOnnxSignature(rewrite.bytes);
    expect(sig.outputs.map((o) => [o.name, o.type, o.shape])).toEqual([
      ['output_label', 'tensor(int64)', [null]],
      ['output_probability', 'tensor(float)', [null, 3]],
    ]);
    expect(sig.inputs.map((i) => i.name)).toEqual(['input']);
  });

  it('reads string labels', () => {
    expect(rewriteZipMaps(fixture('gb_iris_str'))?.outputs).toEqual([
      { name: 'output_probability', labels: ['setosa', 'versicolor', 'virginica'] },
    ]);
  });

  it('leaves a model without ZipMap alone', () => {
    expect(rewriteZipMaps(fixture('rf_iris_nozipmap'))).toBeUndefined();
    expect(rewriteZipMaps(fixture('sequence_output'))).toBeUndefined();
  });

  it('reads negative int64 labels packed and one by one, and adds the default opset when missing', async () => {
    for (const packed of [true, false]) {
      const bytes = model(
        [input, node(['x'], ['p'], 'ZipMap', 'ai.onnx.ml', [labelsAttr(packed)]), seqOfMapsOut('p')],
        [opset('ai.onnx.ml', 1)],
      );
      const rewrite = rewriteZipMaps(bytes)!;
      expect(rewrite.outputs).toEqual([{ name: 'p', labels: [-1, 1] }]);
      const sig = await readOnnxSignature(rewrite.bytes);
      expect(sig.outputs).toMatchObject([{ name: 'p', kind: 'tensor', shape: [null, 2] }]);
      // The last field of the model is now an opset import of the default domain, version 1.
      expect([...rewrite.bytes.subarray(-4)]).toEqual([...opset('', 1)]);
    }
  });

  it('leaves a ZipMap whose maps feed another node, or that is not a graph output', () => {
    const zip = node(['x'], ['p'], 'ZipMap', 'ai.onnx.ml', [labelsAttr(true)]);
    const consumed = model([
      input,
      zip,
      node(['p'], ['q'], 'SequenceLength'),
      seqOfMapsOut('p'),
      tensorOut('q'),
    ]);
    expect(rewriteZipMaps(consumed)).toBeUndefined();
    const inner = model([input, zip, node(['p'], ['q'], 'SequenceLength'), tensorOut('q')]);
    expect(rewriteZipMaps(inner)).toBeUndefined();
  });

  it('refuses bytes that are not protobuf with MODEL_INVALID', () => {
    const bytes = fixture('rf_iris');
    expect(() => rewriteZipMaps(bytes.subarray(0, bytes.length - 7))).toThrow(
      expect.objectContaining({ code: 'MODEL_INVALID' }),
    );
  });
});
