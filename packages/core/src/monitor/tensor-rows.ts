/**
 * A request's input (or an answer's output) as rows of values, as the Monitor's drift windows
 * and the input screen read it: a tensor's own data in place, or a nested array flattened.
 */
import { flatValues, isArrayLike } from './flat-row';

/** `rows × width` values, row-major; a value may be any type (a screen judges it). */
export interface TensorRows {
  data: ArrayLike<unknown>;
  rows: number;
  width: number;
}

const EMPTY: TensorRows = { data: [], rows: 0, width: 0 };

/**
 * The rows of `t`: a tensor (a Tensor's `shape` or onnxruntime's `dims`, the first dimension the
 * rows, a scalar one row) without copying its data, or an array of rows each flattened (64-bit
 * integers as numbers) and padded to the widest with undefined; no rows for anything else.
 */
export function tensorRows(t: unknown): TensorRows {
  if (t === undefined || t === null) return EMPTY;
  if (Array.isArray(t)) {
    const rows = t.map((r) => (isArrayLike(r) ? flatValues(r) : [r]));
    const width = rows.reduce((w, r) => Math.max(w, r.length), 0);
    const data = new Array<unknown>(rows.length * width);
    rows.forEach((r, i) => {
      for (let j = 0; j < width; j++) data[i * width + j] = r[j];
    });
    return { data, rows: rows.length, width };
  }
  const tensor = t as { shape?: unknown; dims?: unknown; data?: ArrayLike<unknown> };
  const shape = Array.isArray(tensor.shape) ? tensor.shape : tensor.dims;
  if (!Array.isArray(shape) || tensor.data === undefined) return EMPTY;
  const rows = shape.length === 0 ? 1 : Number(shape[0]);
  if (!(rows > 0)) return EMPTY;
  return { data: tensor.data, rows, width: tensor.data.length / rows };
}

/** The rows of input `name` of a request's inputs (by default its first input). */
export function inputRows(inputs: unknown, name: string | undefined): TensorRows {
  if (typeof inputs !== 'object' || inputs === null) return EMPTY;
  const record = inputs as Record<string, unknown>;
  const key = name ?? Object.keys(record)[0];
  return key === undefined ? EMPTY : tensorRows(record[key]);
}
