/**
 * Tensor matchers: closeness (numpy `allclose`), shape, dtype, and numeric snapshots compared
 * within tolerance.
 */
import type { MatcherState } from 'vitest';
import { Snapshots } from 'vitest';
import type { Result } from './matcher-format';
import { type CloseOptions, compareFlat, explain, toFlat as flat } from './tensor-compare';
import { matchSummary, parseSummary, renderSummary, summarize, type TensorSummary } from './tensor-snapshot';

/** The tensor matchers (part of `modelMatchers`). */
export const tensorMatchers = {
  /** numpy `allclose`: |received − expected| ≤ atol + rtol·|expected| element-wise, shapes equal. */
  toBeCloseToTensor(
    this: MatcherState,
    received: unknown,
    expected: unknown,
    options: CloseOptions = {},
  ): Result {
    const r = flat(received, 'received');
    const e = flat(expected, 'expected');
    const c = compareFlat(r, e, options);
    const head = this.isNot
      ? 'expected tensors not to be close, but they are:'
      : 'expected tensor to be close to the expected tensor:';
    return {
      pass: c.pass,
      message: () => [head, ...explain(c, e.shape).map((l) => `  ${l}`)].join('\n'),
    };
  },

  /** The tensor's shape equals `shape`. */
  toHaveShape(this: MatcherState, received: unknown, shape: readonly number[]): Result {
    const r = flat(received, 'received');
    const pass = r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i]);
    return {
      pass,
      message: () =>
        `expected shape ${this.isNot ? 'not ' : ''}[${shape.join(', ')}], received [${r.shape.join(', ')}]`,
      actual: r.shape,
      expected: shape,
    };
  },

  /** The tensor's dtype (a typed array's element type) equals `dtype`. */
  toHaveDType(this: MatcherState, received: unknown, dtype: string): Result {
    const r = flat(received, 'received');
    return {
      pass: r.dtype === dtype,
      message: () =>
        `expected dtype ${this.isNot ? 'not ' : ''}${dtype}, received ${r.dtype ?? 'an untyped array'}`,
    };
  },

  /**
   * Stores a compact summary of the tensor in the snapshot file (every value up to 64
   * elements; statistics, head, tail and a strided sample above) and compares it within
   * `rtol`/`atol` on later runs. `vitest -u` rewrites it.
   */
  toMatchTensorSnapshot(this: MatcherState, received: unknown, options: CloseOptions = {}) {
    const r = flat(received, 'received');
    let why: string | undefined;
    const adapter = {
      name: 'tensor',
      capture: (): TensorSummary => summarize(r),
      render: (s: TensorSummary) => renderSummary(s),
      parseExpected: (text: string) => parseSummary(text),
      match: (s: TensorSummary, stored: TensorSummary) => {
        const m = matchSummary(s, stored, options);
        why = m.message;
        // Within tolerance, the stored text stays as it is: `-u` does not churn float noise.
        return m.pass ? { pass: true, resolved: renderSummary(stored) } : { pass: false, message: m.message };
      },
    };
    const result = Snapshots.toMatchDomainSnapshot.call(this, adapter, received) as Result;
    // Vitest's own message only names the snapshot; say what moved first.
    return result.pass || why === undefined
      ? result
      : { ...result, message: () => `${why}\n${result.message()}` };
  },
};
