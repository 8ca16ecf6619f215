import { ModelshipError } from '@modelship/core';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config';
import { parseBackground } from './explain';

function refusal(work: () => unknown): ModelshipError {
  try {
    work();
  } catch (e) {
    expect(ModelshipError.isInstance(e)).toBe(true);
    return e as ModelshipError;
  }
  throw new Error('expected a refusal');
}

describe('config.json explain', () => {
  it('reads the background path and the defaults of every request', () => {
    const config = parseModelConfig(
      JSON.stringify({
        explain: {
          background: './data/../bg.jsonl',
          maxRows: 50,
          method: 'kernel',
          nsamples: 400,
          seed: -3,
          link: 'logit',
          output: 'probability',
          class: 'fraud',
          features: ['amount', 'age'],
        },
      }),
      'm/config.json',
    );
    expect(config.explain).toEqual({
      background: 'bg.jsonl',
      maxRows: 50,
      method: 'kernel',
      nsamples: 400,
      seed: -3,
      link: 'logit',
      output: 'probability',
      class: 'fraud',
      features: ['amount', 'age'],
    });
    expect(parseModelConfig('{}', 'm/config.json').explain).toBeUndefined();
  });

  it('refuses each wrong field, naming the file and the field', () => {
    const cases: [unknown, string][] = [
      [
        [],
        'm/config.json: explain must be an object of background, maxRows, method, nsamples, maxEvals, seed, link, output, class, features, received an array of length 0',
      ],
      [
        { samples: 3 },
        'm/config.json: explain has an unknown field \'samples\' (known: background, maxRows, method, nsamples, maxEvals, seed, link, output, class, features), received "samples"',
      ],
      [
        { background: '../other/bg.jsonl' },
        'm/config.json: explain.background must be a relative path inside the model folder, received "../other/bg.jsonl"',
      ],
      [
        { background: '/etc/passwd' },
        'm/config.json: explain.background must be a relative path inside the model folder, received "/etc/passwd"',
      ],
      [{ maxRows: 0 }, 'm/config.json: explain.maxRows must be a positive integer, received 0'],
      [{ nsamples: 1.5 }, 'm/config.json: explain.nsamples must be a positive integer, received 1.5'],
      [{ seed: 'one' }, 'm/config.json: explain.seed must be an integer, received "one"'],
      [
        { method: 'lime' },
        `m/config.json: explain.method must be 'exact', 'kernel' or 'permutation', received "lime"`,
      ],
      [{ link: 'probit' }, `m/config.json: explain.link must be 'identity' or 'logit', received "probit"`],
      [
        { class: -1 },
        'm/config.json: explain.class must be a column index (an integer ≥ 0) or a label, received -1',
      ],
      [
        { features: ['a', 'a'] },
        'm/config.json: explain.features must be a list of distinct column names, received an array of length 2',
      ],
    ];
    for (const [explain, message] of cases) {
      const e = refusal(() => parseModelConfig(JSON.stringify({ explain }), 'm/config.json'));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(message);
    }
  });
});

describe('parseBackground', () => {
  it('reads one record or one row of numbers per line, skipping blank lines', () => {
    expect(parseBackground('{"a": 1, "b": "x"}\n\n{"a": 2, "b": null}\r\n', 'm/bg.jsonl')).toEqual([
      { a: 1, b: 'x' },
      { a: 2, b: null },
    ]);
    expect(parseBackground('[1, 2.5]\n[3, -4]', 'm/bg.jsonl')).toEqual([
      [1, 2.5],
      [3, -4],
    ]);
  });

  it('refuses what is not a background, naming the file and line', () => {
    const cases: [string, string][] = [
      ['[1, 2]\n{"a": 1', 'm/bg.jsonl line 2 is not JSON: '],
      [
        '[1, 2]\n{"a": 1}',
        'm/bg.jsonl line 2 is a record, the lines before are rows; use one kind throughout',
      ],
      ['3', 'm/bg.jsonl line 1 must be a record (a JSON object) or a row of numbers (a JSON array)'],
      ['[1, "2"]', 'm/bg.jsonl line 1: a row must hold finite numbers only (value 1 is not one)'],
      ['[]', 'm/bg.jsonl line 1: a row must hold finite numbers only'],
      ['\n \n', 'm/bg.jsonl holds no rows (one record or row of numbers per line)'],
    ];
    for (const [text, message] of cases) {
      const e = refusal(() => parseBackground(text, 'm/bg.jsonl'));
      expect(e.code).toBe('MODEL_INVALID');
      expect(e.message.startsWith(message)).toBe(true);
    }
  });
});
