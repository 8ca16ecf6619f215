/**
 * Time as the Deployer sees it. Passed in so that tests drive batching delays, timeouts and
 * rollout steps with a fake clock instead of waiting.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; only differences are used. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface TimerGlobals {
  performance?: { now(): number };
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Core type-checks without DOM or Node types; these globals exist in every runtime it targets.
// They are read at call time, so fake timers installed after import (vi.useFakeTimers) apply.
const g = globalThis as unknown as TimerGlobals;

/** The runtime's own clock: `performance.now()` and the global timers. */
export const systemClock: Clock = {
  now: () => {
    // One read of the global: Node defines `performance` as a getter, and the Deployer reads the
    // clock twice per request.
    const p = g.performance;
    return p === undefined ? Date.now() : p.now();
  },
  setTimeout: (fn, ms) => g.setTimeout(fn, ms),
  clearTimeout: (handle) => g.clearTimeout(handle),
};
