import type { DType } from './dtype';

/**
 * One dimension of a declared shape: a fixed size, a symbolic name shared across tensors
 * (`'batch'`), or `null` when the model leaves it unknown.
 */
export type Dim = number | string | null;

/** The class of each column of a classifier's scores: int64 labels as numbers, or strings. */
export type ClassLabels = readonly number[] | readonly string[];

/** What a model declares about one input or output. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  /** The declared shape, or `null` when the model does not declare a rank at all. */
  readonly shape: readonly Dim[] | null;
  /**
   * The class of each column along the last axis, when the model says (a converter's ZipMap
   * output, served as its `[batch, classes]` probability tensor): the Evaluator, pipelines'
   * `argmax`/`topK`, the matchers and the servers name classes with them.
   */
  readonly labels?: ClassLabels;
}

/**
 * An output onnxruntime-js cannot return (a sequence or map that no rewrite turned into a
 * tensor): listed so that nothing is dropped silently; `predict` never asks for it.
 */
export interface UnsupportedOutput {
  readonly name: string;
  /** `'sequence'`, `'map'`, `'sequence of maps'`, `'optional'`, `'sparse tensor'` or `'unknown'`. */
  readonly kind: string;
  /** The type as ONNX writes it, e.g. `seq(map(int64,tensor(float)))`. */
  readonly type: string;
}

/** What an unsupported output is, for messages: `a sequence (seq(tensor(float)))`, or `not a tensor`. */
export function describeUnsupported(u: UnsupportedOutput): string {
  return u.kind === 'unknown' ? 'not a tensor' : `a ${u.kind} (${u.type})`;
}

/** A model's inputs and outputs, in the order the model declares them. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The model's outputs that are not tensors and cannot be returned; absent when there are none. */
  readonly unsupportedOutputs?: readonly UnsupportedOutput[];
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
