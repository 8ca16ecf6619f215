/** The `code: message` of the ModelshipError a promise (or function) fails with; anything else fails the test. */
import { ModelshipError } from '@modelship/core';

export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (ModelshipError.isInstance(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a ModelshipError');
}
