/**
 * Class scores as the serving protocols name them: Triton's classification extension (an OIP
 * output's `classification` parameter, the top k classes as BYTES `"score:index:label"`) and TF
 * Serving's `:classify` (every class as `[label, score]`). The labels come from the output's spec
 * (a converter classifier's ZipMap, see `rewriteZipMaps`); without them a class is its column index.
 */
import type { TensorSpec } from '../tensor/spec';
import { type Tensor, tensor, toArray } from '../tensor/tensor';
import { describeValue as describe, HttpError } from './http-error';

/** Rows of class scores: `rows` × `width` numbers, row-major. */
export interface ScoreRows {
  readonly rows: number;
  readonly width: number;
  readonly data: ArrayLike<number>;
}

/** A `[batch]` or `[batch, classes]` tensor of scores as rows; anything else is a 400 naming the output. */
export function scoreRows(t: Tensor, output: string): ScoreRows {
  if (t.dtype === 'string' || t.dtype === 'bool' || t.shape.length < 1 || t.shape.length > 2)
    throw new HttpError(
      400,
      `output '${output}' is ${t.dtype} [${t.shape.join(', ')}]; class scores are a float tensor [batch] or [batch, classes]`,
    );
  const rows = t.shape[0]!;
  // float16 holds IEEE half bits and 64-bit integers bigints: toArray reads them as numbers.
  const data =
    t.dtype === 'float32' || t.dtype === 'float64'
      ? (t.data as ArrayLike<number>)
      : (toArray(t) as unknown[]).flat().map(Number);
  return { rows, width: t.shape.length === 1 ? 1 : t.shape[1]!, data };
}

/** The label of column `i`: the spec's label, or the index. */
export function classLabel(spec: TensorSpec, i: number): string {
  const l = spec.labels?.[i];
  return l === undefined ? String(i) : String(l);
}

/** Reads an output's `classification` parameter: a positive integer (k). */
export function readClassification(value: unknown, spec: TensorSpec): number | undefined {
  if (value === undefined) return undefined;
  const k = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(k) || (k as number) < 1)
    throw new HttpError(
      400,
      `output '${spec.name}': parameter 'classification' must be a positive integer (the number of top classes), received ${describe(value)}`,
    );
  if (spec.dtype === 'string' || spec.dtype === 'bool' || spec.dtype === 'int64' || spec.dtype === 'uint64')
    throw new HttpError(
      400,
      `output '${spec.name}' is ${spec.dtype}; the classification extension needs class scores (a float tensor)`,
    );
  return k as number;
}

/**
 * The top `k` classes of each row (highest score first, ties by column), as Triton's
 * classification extension writes them: a BYTES tensor `[batch, k]` of `"score:index"`, or
 * `"score:index:label"` when the output has labels. `k` past the number of classes is cut to it.
 */
export function topClasses(t: Tensor, k: number, spec: TensorSpec): Tensor {
  const { rows, width, data } = scoreRows(t, spec.name);
  const n = Math.min(k, width);
  const out: string[] = [];
  const order = Array.from({ length: width }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const at = r * width;
    order.sort((a, b) => Number(data[at + b]) - Number(data[at + a]) || a - b);
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      out.push(`${Number(data[at + i])}:${i}${spec.labels === undefined ? '' : `:${spec.labels[i]}`}`);
    }
    order.sort((a, b) => a - b);
  }
  return tensor('string', out, [rows, n]);
}
