/**
 * Every metric against scikit-learn 1.2's own answers on the same data
 * (test/golden/make_metrics_golden.py): equal to 1e-9 relative, and an error exactly where
 * scikit-learn raises.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelshipError } from '../errors';
import * as metrics from './index';

interface Case {
  fn: string;
  args: unknown[];
  extra: unknown[];
  opts: Record<string, unknown>;
  expected: unknown;
}

const golden: { sklearn: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL('../../test/golden/metrics.golden.json', import.meta.url), 'utf8'),
);

function close(actual: unknown, expected: unknown, path: string): void {
  if (expected === null) {
    // scikit-learn's NaN (written as null in JSON)
    expect(Number.isNaN(actual as number), `${path}: expected NaN, got ${String(actual)}`).toBe(true);
  } else if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    const a = actual as number;
    const tol = 1e-9 * Math.max(1, Math.abs(expected));
    expect(Math.abs(a - expected) <= tol, `${path}: ${a} vs scikit-learn ${expected}`).toBe(true);
  } else if (Array.isArray(expected)) {
    const list = Array.from(actual as ArrayLike<unknown>);
    expect(list.length, `${path}.length`).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) close(list[i], expected[i], `${path}[${i}]`);
  } else if (typeof expected === 'object') {
    for (const [k, v] of Object.entries(expected as object))
      close((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

describe(`metrics agree with scikit-learn ${golden.sklearn}`, () => {
  it.each(golden.cases.map((c, i) => [`${i} ${c.fn} ${JSON.stringify(c.opts).slice(0, 80)}`, c] as const))(
    '%s',
    (_, c) => {
      const fn = (metrics as unknown as Record<string, (...a: unknown[]) => unknown>)[c.fn]!;
      expect(fn, `no metric named ${c.fn}`).toBeTypeOf('function');
      const opts = { ...c.opts };
      if (opts.average === null) opts.average = 'none';
      if (opts.weights === null) delete opts.weights;
      const call = () => fn(...c.args, ...c.extra, opts);
      const expected = c.expected as { error?: string; nan?: boolean };
      if (expected !== null && typeof expected === 'object' && 'error' in expected) {
        let thrown: unknown;
        try {
          call();
        } catch (e) {
          thrown = e;
        }
        expect(
          ModelshipError.isInstance(thrown),
          `scikit-learn raised ${expected.error}; Modelship should throw a typed error`,
        ).toBe(true);
        return;
      }
      const value = call();
      if (expected !== null && typeof expected === 'object' && expected.nan === true) {
        expect(Number.isNaN(value as number)).toBe(true);
        return;
      }
      close(value, c.expected, c.fn);
    },
  );
});
