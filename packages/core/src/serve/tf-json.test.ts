/** TF Serving's JSON: standard JSON plus bare NaN, Infinity and -Infinity outside strings. */
import { describe, expect, it } from 'vitest';
import { HttpError } from './http-error';
import { parseTfJson } from './tf-json';

function refusal(text: string): string {
  try {
    parseTfJson(text, 'predict request');
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(400);
    return (e as HttpError).message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseTfJson', () => {
  it('reads the non-finite tokens anywhere a number may stand', () => {
    expect(
      parseTfJson(
        '{ "a" : [ NaN ,Infinity,-Infinity, -0.5e-3, 1E2, true, false, null, [] , {} ], "b": {"c": -Infinity} }',
        'x',
      ),
    ).toEqual({
      a: [
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -0.0005,
        100,
        true,
        false,
        null,
        [],
        {},
      ],
      b: { c: Number.NEGATIVE_INFINITY },
    });
  });

  it('reads strings exactly as JSON.parse does, the words inside them untouched', () => {
    const strings = ['NaN', ' Infinity ', '-Infinity', 'a\\"NaN\\"', '\\u00e9\\n\\\\', '\\ud83d\\ude00'];
    const text = `{"s": [${strings.map((s) => `"${s}"`).join(',')}], "n": NaN}`;
    expect(parseTfJson(text, 'x').s).toEqual(JSON.parse(`[${strings.map((s) => `"${s}"`).join(',')}]`));
  });

  it('keeps "__proto__" a plain field, as JSON.parse does', () => {
    const parsed = parseTfJson('{"__proto__": {"polluted": 1}, "x": NaN}', 'x');
    expect(Object.keys(parsed)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what is not JSON even with the tokens, naming the place', () => {
    expect(refusal('{"a": [NaN,]}')).toBe(
      'malformed JSON in the predict request: unexpected token at position 11',
    );
    expect(refusal('{"a": nan}')).toMatch(/^malformed JSON in the predict request: /);
    expect(refusal('{"a": NaN} x')).toBe(
      'malformed JSON in the predict request: unexpected text after the JSON value at position 11',
    );
    expect(refusal('{"a": "\u0001", "b": NaN}')).toMatch(/^malformed JSON in the predict request: /);
    expect(refusal('[NaN]')).toBe('the predict request must be a JSON object, received an array of length 1');
    expect(refusal(`{"a": ${'['.repeat(600)}NaN${']'.repeat(600)}}`)).toMatch(/nested deeper than 64 levels/);
  });
});
