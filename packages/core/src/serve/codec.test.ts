/** The JSON codec reads data straight from the body's bytes into typed arrays, with the values tensor() gives. */

import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor';
import { fromJson } from './codec';
import { JsonSpan, jsonDepth, scanJson } from './json-scan';
import { readJsonTensor, readJsonTensorSliced } from './json-tensor';

/** `data` as a client writes it: JSON text, read as the server reads a body's data member. */
function read(datatype: string, shape: number[], text: string) {
  const bytes = new TextEncoder().encode(text);
  return fromJson('x', datatype, shape, new JsonSpan(bytes, 0, bytes.byteLength));
}

describe('fromJson', () => {
  it('reads flat and row-nested floats straight into typed arrays, equal to tensor()', () => {
    const rows = [
      [0.1, -0, 3.4028234663852886e38, -1e-45],
      [5, 6, 7, 8],
    ];
    const text = '[[0.1, -0, 3.4028234663852886e38, -1e-45], [5, 6, 7, 8]]';
    for (const [datatype, dtype] of [
      ['FP32', 'float32'],
      ['FP64', 'float64'],
    ] as const) {
      const expected = tensor(dtype, rows.flat(), [2, 4]);
      for (const data of [text, text.replace(/\], \[/, ', ').slice(1, -1)]) {
        const t = read(datatype, [2, 4], data);
        expect(t.dtype).toBe(dtype);
        expect(t.shape).toEqual([2, 4]);
        expect(t.data).toEqual(expected.data);
        expect(Object.is(t.data[1], -0)).toBe(true);
      }
    }
    // Deeper nesting, exactly as the shape, reads the same; so does an array (as JSON).
    expect(read('FP32', [1, 2, 2], '[[[1, 2], [3, 4]]]').data).toEqual(Float32Array.from([1, 2, 3, 4]));
    expect(fromJson('x', 'FP32', [1, 2], [[1, 2]]).data).toEqual(Float32Array.from([1, 2]));
  });

  it('parses numbers exactly as JSON.parse does, digit for digit', () => {
    const tokens = [
      '0',
      '-0',
      '1',
      '-1',
      '0.1',
      '0.30000000000000004',
      '123456789012345',
      '1234567890123456789',
      '1e22',
      '1e23',
      '1.7976931348623157e308',
      '5e-324',
      '2.2250738585072014e-308',
      '-123.456e-7',
      '9007199254740993',
      '0.000001',
      '1E+2',
      '4.35',
      '3.141592653589793238462643383279',
    ];
    const t = read('FP64', [tokens.length], `[${tokens.join(',')}]`);
    expect(Array.from(t.data as Float64Array)).toEqual(tokens.map((s) => JSON.parse(s) as number));
    const random = Array.from({ length: 2000 }, (_, i) =>
      (Math.sin(i) * 10 ** ((i % 40) - 20)).toPrecision((i % 17) + 1),
    );
    const r = read('FP64', [random.length], `[${random.join(',')}]`);
    expect(Array.from(r.data as Float64Array)).toEqual(random.map(Number));
  });

  it('reads FP32 from long tokens as Math.fround(JSON.parse(token)), at halfway points between float32s too', () => {
    const tokens: string[] = ['3.4028235677973362e38', '-3.4028234663852886e38'];
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    for (let i = 0; i < 3000; i++) {
      const x = Math.sin(i) * 10 ** ((i % 30) - 15);
      tokens.push(x.toPrecision(16 + (i % 5)), String(x));
      // The point halfway between two neighbouring float32s (exact in a double), written with
      // more digits than a double holds and nudged to either side of it in the 17th digit.
      f[0] = x;
      const a = f[0];
      bits[0]!++;
      const mid = (a + f[0]!) / 2;
      const nudge = Math.abs(mid) * 2 ** -52;
      tokens.push(mid.toPrecision(21), (mid + nudge).toPrecision(17), (mid - nudge).toPrecision(17));
    }
    const t = read('FP32', [tokens.length], `[${tokens.join(',')}]`);
    expect(Array.from(t.data as Float32Array)).toEqual(
      tokens.map((s) => Math.fround(JSON.parse(s) as number)),
    );
  });

  it('reads every datatype, 64-bit integers exactly', () => {
    expect(read('INT64', [3], '[9223372036854775807, -9223372036854775808, -5]').data).toEqual(
      BigInt64Array.from([9223372036854775807n, -9223372036854775808n, -5n]),
    );
    expect(read('UINT64', [2], '[18446744073709551615, 4294967296]').data).toEqual(
      BigUint64Array.from([18446744073709551615n, 4294967296n]),
    );
    expect(read('INT8', [2], '[-128, 127]').data).toEqual(Int8Array.from([-128, 127]));
    expect(read('UINT32', [1], '[4294967295]').data).toEqual(Uint32Array.from([4294967295]));
    expect(read('BOOL', [3], '[true, false, 1]').data).toEqual(Uint8Array.from([1, 0, 1]));
    expect(read('BYTES', [2], '["a\\u00e9", "ü"]').data).toEqual(['aé', 'ü']);
    // Bytes that are not UTF-8 come as {"b64": ...}, as the server's answers write them.
    expect(read('BYTES', [2], '["x", {"b64": "/wA="}]').data).toEqual(['x', Uint8Array.from([0xff, 0])]);
    expect(() => read('BYTES', [1], '[{"b64": "***"}]')).toThrow(
      `input 'x': {"b64": ...} holds text that is not base64`,
    );
    expect(() => read('BYTES', [1], '[{"b": 1}]')).toThrow(
      `input 'x': element 0 is {"b": 1}, a BYTES element is a string or {"b64": "<base64>"}`,
    );
    expect(() => read('BYTES', [1], '[7]')).toThrow('element 0 is 7, a BYTES element is a string or {"b64"');
    expect(read('FP16', [1], '[1.5]').data).toEqual(tensor('float16', [1.5]).data);
    expect(read('FP32', [2, 0], '[[], []]').shape).toEqual([2, 0]);
    expect(read('FP32', [], '[7]').data).toEqual(Float32Array.from([7]));
  });

  it('refuses what the datatype or shape cannot take, naming it', () => {
    // A finite literal the datatype cannot hold is refused, not turned into Infinity.
    expect(() => read('FP32', [2], '[1, 1e39]')).toThrow(
      "input 'x': element 1 is 1e39, outside the float32 range (±3.4028234663852886e38)",
    );
    expect(() => read('FP32', [2], '[1, 3.5e38]')).toThrow(
      "input 'x': element 1 is 3.5e38, outside the float32 range",
    );
    expect(() => read('FP32', [1], '[1e309]')).toThrow(
      "input 'x': element 0 is 1e309, outside the float32 range",
    );
    expect(() => read('FP64', [1], '[-1e309]')).toThrow(
      "input 'x': element 0 is -1e309, outside the float64 range",
    );
    expect(() => read('FP16', [1], '[70000]')).toThrow('outside the float16 range (±65504)');
    expect(read('FP64', [2], '[1, 1e300]').data).toEqual(Float64Array.from([1, 1e300]));
    expect(() => read('FP32', [3], '[1, 2]')).toThrow('shape [3] holds 3 elements but data has 2');
    expect(() => read('FP32', [2], '[1, 2, 3]')).toThrow('shape [2] holds 2 elements but data has 3');
    expect(() => read('FP32', [2], '[1, null]')).toThrow(
      "input 'x': element 1 is null, float32 needs numbers",
    );
    expect(() => read('FP32', [2], '[1, "2"]')).toThrow(`input 'x': element 1 is "2", float32 needs numbers`);
    expect(() => read('INT32', [1], '[1.5]')).toThrow('element 0 is 1.5, int32 needs integers');
    expect(() => read('UINT8', [1], '[256]')).toThrow('outside the uint8 range [0, 255]');
    expect(() => read('INT64', [1], '[9223372036854775808]')).toThrow('outside the int64 range');
    expect(() => read('UINT64', [1], '[-1]')).toThrow('outside the uint64 range');
    expect(() => read('BOOL', [1], '[2]')).toThrow('a bool needs true/false or 0/1');
    expect(() => read('FP32', [2], '[1, 2,]')).toThrow(
      "malformed JSON in the data: unexpected ']' at byte 6",
    );
    expect(() => read('FP32', [2], '[1 2]')).toThrow("unexpected '2'");
    // NaN is not JSON: malformed, unless the scanner was told to take the tokens.
    expect(() => read('FP32', [1], '[NaN]')).toThrow("malformed JSON in the data: unexpected 'N' at byte 1");
  });

  it('refuses nesting that is ragged or unlike the shape', () => {
    const twelve = Array.from({ length: 12 }, (_, i) => i);
    // The review's case: one element of a [1, 12] row written as [1].
    const ragged = `[[${twelve.slice(0, 5).join(',')},[1],${twelve.slice(6).join(',')}]]`;
    expect(() => read('FP32', [1, 12], ragged)).toThrow(
      "input 'x': data is not nested as shape [1, 12]: data[0][5] is an array, deeper than the shape's 2 dimension(s)",
    );
    expect(() =>
      read('FP32', [1, 12], `[${twelve.slice(0, 5).join(',')},[1],${twelve.slice(6).join(',')}]`),
    ).toThrow('data[5] is an array among flat elements');
    expect(() => read('FP32', [2, 2], '[[1, 2], [3]]')).toThrow(
      'data is not nested as shape [2, 2]: data[1] has 1 elements, expected 2',
    );
    expect(() => read('FP32', [2, 2], '[[1, 2, 3], [4]]')).toThrow('data[0] has more than 2 elements');
    expect(() => read('FP32', [2, 2], '[[1, 2], 3, 4]')).toThrow(
      'data[1] is a scalar where the shape has 1 more dimension(s)',
    );
    expect(() => read('FP32', [4, 1], '[[1, 2], [3, 4]]')).toThrow('data is not nested as shape [4, 1]');
    expect(() => read('FP32', [2, 3], '[[], []]')).toThrow('data[0] has 0 elements, expected 3');
  });
});

describe('readJsonTensorSliced', () => {
  const span = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    return new JsonSpan(bytes, 0, bytes.byteLength);
  };

  it('reads in slices with the event loop turning between them, to the same values', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => Array.from({ length: 50 }, (_, j) => i * 0.5 - j / 3));
    const text = JSON.stringify(rows);
    const order: string[] = [];
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (order.length === 0) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = await readJsonTensorSliced(span(text), 'float32', [200, 50], "input 'x'", {}, 1024).then(
      (t) => {
        order.push('read');
        return t;
      },
    );
    // Other work ran between slices: about one turn per KiB of data.
    expect(turns).toBeGreaterThan(Math.floor(text.length / 1024) - 2);
    expect(sliced.data).toEqual(readJsonTensor(span(text), 'float32', [200, 50], "input 'x'").data);
    // An error in a late slice is the same 400.
    rows[199]![49] = 'x' as never;
    await expect(
      readJsonTensorSliced(span(JSON.stringify(rows)), 'float32', [200, 50], "input 'x'", {}, 1024),
    ).rejects.toThrow(`input 'x': element 9999 is "x", float32 needs numbers`);
  });
});

describe('scanJson', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('parses bodies as JSON.parse does, leaving chosen arrays unread', () => {
    const text =
      '{"a": [1, {"b": "c\\n\\u00e9"}, true, null, -2.5e3], "__proto__": {"x": 1}, "data": [1, 2]}';
    const plain = scanJson(bytes(text), 'body');
    expect(plain).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.hasOwn(plain as object, '__proto__')).toBe(true);
    const deferred = scanJson(bytes(text), 'body', { defer: (k, depth) => k === 'data' && depth === 1 }) as {
      data: JsonSpan;
    };
    expect(deferred.data).toBeInstanceOf(JsonSpan);
    expect(new TextDecoder().decode(bytes(text).subarray(deferred.data.start, deferred.data.end))).toBe(
      '[1, 2]',
    );
  });

  it('answers 400 for bad JSON, bad UTF-8 and nesting past the limit, without recursing into it', () => {
    expect(() => scanJson(bytes('{"a": 1,}'), 'body')).toThrow(
      "malformed JSON in the body: unexpected '}' at byte 8",
    );
    expect(() => scanJson(bytes('{"a": 1} x'), 'body')).toThrow("unexpected 'x' at byte 9");
    expect(() => scanJson(bytes('[1'), 'body')).toThrow('unexpected end of the body');
    expect(() => scanJson(Uint8Array.from([0x22, 0xff, 0x22]), 'body')).toThrow('is not valid UTF-8');
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => scanJson(bytes(deep), 'body')).toThrow('the body is nested deeper than 64 levels');
    expect(() => scanJson(bytes(`{"a": ${deep}}`), 'body', { defer: () => true })).toThrow(
      'nested deeper than 64',
    );
    expect(jsonDepth('{"a": "[[[", "b": [[1]]}')).toBe(3);
    expect(scanJson(bytes('[NaN, -Infinity]'), 'body', { nonFinite: true })).toEqual([Number.NaN, -Infinity]);
  });
});
