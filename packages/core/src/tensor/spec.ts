import type { DType } from './dtype';

/**
 * One dimension of a declared shape: a fixed size, a symbolic name shared across tensors
 * (`'batch'`), or `null` when the model leaves it unknown.
 */
export type Dim = number | string | null;

/** What a model declares about one input or output. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  /** The declared shape, or `null` when the model does not declare a rank at all. */
  readonly shape: readonly Dim[] | null;
}

/** A model's inputs and outputs, in the order the model declares them. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** Formats a declared shape as people read it: `[batch, 12]`, `[?, 3]`, `[*]` for unknown rank. */
export function formatShape(shape: readonly Dim[] | readonly number[] | null): string {
  if (shape === null) return '[*]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * The index of the dimension that acts as the batch dimension of a spec: the first one when it
 * is symbolic or unknown, otherwise none. Models whose first dimension is fixed have no batch
 * dimension and are never batched together.
 */
export function batchDimension(spec: TensorSpec): 0 | null {
  if (spec.shape === null || spec.shape.length === 0) return null;
  const first = spec.shape[0];
  return typeof first === 'number' ? null : 0;
}
