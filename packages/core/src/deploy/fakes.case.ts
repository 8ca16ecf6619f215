// Test support for the deploy tests: a fake clock, and plain-function models whose calls the
// test releases by hand.
import { functionModel } from '../model/function-model';
import type { ModelSignature } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';
import type { Clock } from './clock';

export class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time on, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/** A seeded uniform generator (mulberry32), so split tests are exact and repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SIG: ModelSignature = {
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }],
};

function sumRows(x: Tensor, offset: number) {
  const rows = x.shape[0]!;
  const d = x.data as Float32Array;
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) y[i] = d[2 * i]! + d[2 * i + 1]! + offset;
  return { y: { dtype: 'float32' as const, shape: [rows, 1], data: y } };
}

/** y = x0 + x1 + offset per row, so every response says which version made it and from what. */
export function sumModel(version: string, offset: number, extra: { fail?: (x: Tensor) => boolean } = {}) {
  let disposed = 0;
  const calls: number[] = [];
  const model = functionModel(
    ({ x }) => {
      const rows = x!.shape[0]!;
      calls.push(rows);
      if (extra.fail?.(x!)) throw new Error(`version ${version} failed`);
      return sumRows(x!, offset);
    },
    { signature: SIG, version, dispose: () => void disposed++ },
  );
  return {
    model,
    calls,
    get disposed() {
      return disposed;
    },
  };
}

/** A sum model whose calls wait until the test releases them. */
export function gatedModel(version: string, offset = 0) {
  const waiting: { rows: number; release: () => void }[] = [];
  const calls: number[] = [];
  let disposed = 0;
  const model = functionModel(
    async ({ x }) => {
      const rows = x!.shape[0]!;
      calls.push(rows);
      await new Promise<void>((release) => waiting.push({ rows, release }));
      return sumRows(x!, offset);
    },
    { signature: SIG, version, dispose: () => void disposed++ },
  );
  return {
    model,
    calls,
    waiting,
    get disposed() {
      return disposed;
    },
    /** Releases every call waiting now. */
    releaseAll(): void {
      for (const w of waiting.splice(0)) w.release();
    },
  };
}

export const row = (a: number, b: number) => ({
  x: { dtype: 'float32' as const, shape: [1, 2], data: new Float32Array([a, b]) },
});

/** Lets pending promise callbacks run. */
export const flush = async (turns = 10): Promise<void> => {
  for (let i = 0; i < turns; i++) await Promise.resolve();
};
