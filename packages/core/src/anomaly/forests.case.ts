// Test support for the isolation forest kernel tests: seeded rows and a forest's complete-tree layout.
import { CompleteTrees } from './complete-trees';
import type { IsolationForest } from './isolation-forest';

/** Uniforms in (0, 1) from a linear congruential generator, for reproducible rows. */
export function uniforms(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}

/** n rows of d standard normal numbers (Box–Muller). */
export function gaussian(n: number, d: number, seed: number): number[][] {
  const u = uniforms(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())),
  );
}

/** The complete-tree layout of a forest's trees, as the forest makes it (undefined when too deep). */
export function layoutOf(forest: IsolationForest): CompleteTrees | undefined {
  const j = forest.toJSON();
  return CompleteTrees.from(
    Int32Array.from(j.roots),
    Int32Array.from(j.feature),
    Float64Array.from(j.value),
    Int32Array.from(j.right),
  );
}
