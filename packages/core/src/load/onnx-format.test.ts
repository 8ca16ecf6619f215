import { describe, expect, it } from 'vitest';
import { detectModelFormat } from './onnx-format';

// A tiny ModelProto: ir_version 8, producer_name "t", graph { name "g" }, opset_import { version 17 }.
const model = Uint8Array.from([
  0x08, 0x08, 0x12, 0x01, 0x74, 0x3a, 0x03, 0x12, 0x01, 0x67, 0x42, 0x02, 0x10, 0x11,
]);

describe('detectModelFormat', () => {
  it('recognises an ONNX ModelProto from its top-level fields', () => {
    expect(detectModelFormat(model)).toEqual({ kind: 'onnx' });
  });

  it('recognises the ORT flatbuffer format by its identifier', () => {
    expect(detectModelFormat(Uint8Array.from([0x10, 0, 0, 0, 0x4f, 0x52, 0x54, 0x4d, 0, 0]))).toEqual({
      kind: 'ort',
    });
  });

  it('says why other bytes are not a model', () => {
    const text = new TextEncoder().encode('{"not": "a model"}');
    expect(detectModelFormat(text)).toMatchObject({
      kind: 'unknown',
      reason: expect.stringMatching(/byte 0 does not start an ONNX ModelProto field/),
    });
    expect(detectModelFormat(new Uint8Array())).toEqual({ kind: 'unknown', reason: 'it is empty' });
    expect(detectModelFormat(model.subarray(0, 8))).toMatchObject({
      reason: expect.stringMatching(/claims more bytes than the file has/),
    });
    expect(detectModelFormat(Uint8Array.from([0x08, 0x08]))).toEqual({
      kind: 'unknown',
      reason: 'it has no ONNX graph',
    });
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(detectModelFormat(png).kind).toBe('unknown');
  });
});
