import { describe, InputError } from '../errors';
import { classTag, isDType } from './dtype';
import type { TensorSpec } from './spec';
import { type NestedArray, type Tensor, tensor } from './tensor';

/**
 * The minimal shape of an onnxruntime-js tensor (`onnxruntime-common`'s `Tensor`), so that
 * tensors made with onnxruntime can be passed straight to `predict`.
 */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/**
 * What `predict` accepts for one input: a Modelship {@link Tensor}, an onnxruntime tensor, or
 * plain (nested) arrays and typed arrays, which take the dtype the model declares.
 */
export type TensorInput =
  | Tensor
  | OrtTensorLike
  | NestedArray<number | bigint | boolean | string>
  | ArrayLike<number>
  | ArrayLike<bigint>;

/** Inputs keyed by name, as `predict` takes them. */
export type ModelInputs = Readonly<Record<string, TensorInput>>;

/** True for an onnxruntime-js tensor (it has `type` and `dims` rather than `dtype` and `shape`). */
export function isOrtTensor(value: unknown): value is OrtTensorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as OrtTensorLike).type === 'string' &&
    Array.isArray((value as OrtTensorLike).dims)
  );
}

/**
 * Turns one input value into a {@link Tensor}: tensors pass through untouched, onnxruntime
 * tensors are viewed without a copy, and arrays are built with the spec's dtype (their shape
 * comes from their nesting). Shape and dtype are checked afterwards, by `validateInputs`.
 */
export function coerceInput(value: unknown, spec: TensorSpec): unknown {
  if (typeof value !== 'object' || value === null) {
    if (
      typeof value === 'number' ||
      typeof value === 'bigint' ||
      typeof value === 'boolean' ||
      typeof value === 'string'
    ) {
      return tensor(spec.dtype, value as never);
    }
    return value;
  }
  if (isDType((value as { dtype?: unknown }).dtype)) return value;
  if (isOrtTensor(value)) {
    const location = (value as { location?: unknown }).location;
    if (location !== undefined && location !== 'cpu' && location !== 'cpu-pinned') {
      throw new InputError(
        'INPUT_INVALID',
        `input '${spec.name}': an onnxruntime tensor on '${String(location)}' cannot be read here; pass a CPU tensor`,
      );
    }
    return { dtype: value.type, shape: value.dims, data: value.data };
  }
  const tag = classTag(value);
  if (Array.isArray(value) || (tag.endsWith('Array') && tag !== 'Array')) {
    try {
      return tensor(spec.dtype, value as never);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new InputError(
        'INPUT_INVALID',
        `input '${spec.name}': cannot build a ${spec.dtype} tensor: ${reason}`,
        {
          cause: e,
          details: { input: spec.name },
        },
      );
    }
  }
  throw new InputError(
    'INPUT_INVALID',
    `input '${spec.name}': expected a tensor { dtype, shape, data }, an onnxruntime tensor or an array, received ${describe(value)}`,
    { details: { input: spec.name } },
  );
}
