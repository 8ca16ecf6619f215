import { invalidArgument } from '../errors';
import type { Row } from '../evaluate/types';
import type { ClassLabels } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';

/**
 * The rows of a `[batch, classes]` score tensor as records with one feature per class, named by
 * the output's labels (a converter classifier's, see `TensorSpec.labels`) or `'0'`, `'1'`, …:
 * the reference predictions a {@link Profile} is made of for prediction drift on probabilities,
 * so that the drift report names the classes whose probabilities moved.
 *
 * @example
 * const spec = model.signature.outputs.find((o) => o.name === 'output_probability')!;
 * const { output_probability } = await model.predict(referenceInputs);
 * monitor.watchDrift('forest', Profile.fromDataset(classScoreRows(output_probability, spec.labels)), {
 *   output: 'output_probability',
 * });
 */
export function classScoreRows(scores: Tensor, labels?: ClassLabels): Row[] {
  if (
    typeof scores !== 'object' ||
    scores === null ||
    !Array.isArray(scores.shape) ||
    scores.shape.length !== 2 ||
    scores.dtype === 'string' ||
    scores.dtype === 'bool'
  )
    throw invalidArgument('classScoreRows', 'scores must be a numeric tensor [batch, classes]', scores);
  const [rows, width] = scores.shape as [number, number];
  if (labels !== undefined && (!Array.isArray(labels) || labels.length !== width))
    throw invalidArgument('classScoreRows', `labels must list ${width} classes, one per column`, labels);
  const names = Array.from({ length: width }, (_, i) => String(labels?.[i] ?? i));
  const data = scores.data as ArrayLike<number | bigint>;
  return Array.from({ length: rows }, (_, r) =>
    Object.fromEntries(names.map((n, i) => [n, Number(data[r * width + i])])),
  );
}
