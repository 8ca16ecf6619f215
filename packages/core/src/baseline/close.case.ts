/** The closeness check the baseline tests share. */
import { expect } from 'vitest';

/** |a − b| ≤ atol + rtol·|b|, elementwise, with the worst miss in the message. */
export function close(
  actual: readonly number[],
  expected: readonly number[],
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual[i]! - e) - rtol * Math.abs(e));
  });
  expect(worst, `${what}: worst excess over rtol ${rtol}`).toBeLessThanOrEqual(atol);
}
