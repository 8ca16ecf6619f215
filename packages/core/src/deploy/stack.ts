import { ModelshipError } from '../errors';
import { allocate, type DType, type TensorData } from '../tensor/dtype';
import { batchDimension, formatShape, type ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';

/**
 * Why a signature cannot be batched, or `undefined` when it can: every input and output must
 * lead with a batch dimension (symbolic or unknown), as Triton requires of `max_batch_size > 0`.
 */
export function unbatchableReason(signature: ModelSignature): string | undefined {
  for (const spec of [...signature.inputs, ...signature.outputs]) {
    if (batchDimension(spec) === null) {
      return `'${spec.name}' has shape ${formatShape(spec.shape)}, without a leading batch dimension`;
    }
  }
  return undefined;
}

/**
 * The number of rows a request carries along the batch dimension, or `undefined` when its inputs
 * disagree about it (such a request runs on its own, never stacked with others).
 */
export function rowsOf(
  inputs: Readonly<Record<string, Tensor>>,
  names: readonly string[],
): number | undefined {
  let rows: number | undefined;
  for (const name of names) {
    const t = inputs[name];
    if (t === undefined || t.shape.length === 0) return undefined;
    const r = t.shape[0]!;
    if (rows === undefined) rows = r;
    else if (rows !== r) return undefined;
  }
  return rows;
}

/**
 * A key that is equal for two requests exactly when they can be stacked: the same dtypes and the
 * same shape after the batch dimension for every input, and the same requested outputs.
 */
export function stackKey(
  inputs: Readonly<Record<string, Tensor>>,
  names: readonly string[],
  outputs: readonly string[] | undefined,
): string {
  let key = '';
  for (const name of names) {
    const t = inputs[name]!;
    key += `${t.dtype}[${t.shape.slice(1).join(',')}];`;
  }
  return outputs === undefined ? key : `${key}>${outputs.join(',')}`;
}

/** Concatenates the requests' inputs along the batch dimension. */
export function stackInputs(
  requests: readonly Readonly<Record<string, Tensor>>[],
  names: readonly string[],
  totalRows: number,
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of names) {
    const first = requests[0]![name]!;
    const rowSize = rowSizeOf(first);
    const data = allocate(first.dtype, totalRows * rowSize) as TensorData<DType>;
    let offset = 0;
    for (const r of requests) {
      const part = r[name]!.data;
      if (Array.isArray(data)) {
        for (let i = 0; i < part.length; i++) data[offset + i] = (part as string[])[i]!;
      } else {
        (data as Float32Array).set(part as Float32Array, offset);
      }
      offset += part.length;
    }
    out[name] = { dtype: first.dtype, shape: [totalRows, ...first.shape.slice(1)], data };
  }
  return out;
}

/**
 * Cuts a batch's outputs back into one result per request (`rows[i]` rows each, in order).
 * Every output must keep the batch dimension; a model that does not is reported, not guessed at.
 */
export function splitOutputs(
  outputs: NamedTensors,
  rows: readonly number[],
  totalRows: number,
): NamedTensors[] {
  const problem = batchDimensionProblem(outputs, totalRows);
  if (problem !== undefined) {
    throw new ModelshipError(
      'INFERENCE_FAILED',
      `${problem.message}; a batched model must return the batch dimension first`,
      { details: { output: problem.output } },
    );
  }
  const results: NamedTensors[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    const rowSize = rowSizeOf(t);
    const rest = t.shape.slice(1);
    let row = 0;
    for (let i = 0; i < rows.length; i++) {
      const n = rows[i]!;
      const data = (t.data as Float32Array).slice(row * rowSize, (row + n) * rowSize) as TensorData<DType>;
      results[i]![name] = { dtype: t.dtype, shape: [n, ...rest], data };
      row += n;
    }
  }
  return results;
}

/** The first output that does not lead with a batch dimension of `totalRows`, if any. */
export function batchDimensionProblem(
  outputs: NamedTensors,
  totalRows: number,
): { output: string; message: string } | undefined {
  for (const [name, t] of Object.entries(outputs)) {
    if (t.shape.length === 0 || t.shape[0] !== totalRows) {
      return {
        output: name,
        message: `output '${name}' has shape ${formatShape(t.shape)} for a batch of ${totalRows}`,
      };
    }
  }
  return undefined;
}

function rowSizeOf(t: Tensor): number {
  let n = 1;
  for (let i = 1; i < t.shape.length; i++) n *= t.shape[i]!;
  return n;
}
