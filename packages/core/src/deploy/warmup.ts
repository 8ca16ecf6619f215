import { allocate } from '../tensor/dtype';
import type { Dim, ModelSignature } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';

/**
 * Warmup inputs made from a signature: zeros (empty strings, `false`) of the declared shape,
 * with every symbolic or unknown dimension set to 1 and the batch dimension, when there is one,
 * set to `batchSize`. An input of unknown rank gets shape `[batchSize]`.
 */
export function warmupInputs(signature: ModelSignature, batchSize = 1): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = {};
  for (const spec of signature.inputs) {
    const shape =
      spec.shape === null
        ? [batchSize]
        : spec.shape.map((d: Dim, i) => (typeof d === 'number' ? d : i === 0 ? batchSize : 1));
    let n = 1;
    for (const d of shape) n *= d;
    inputs[spec.name] = { dtype: spec.dtype, shape, data: allocate(spec.dtype, n) };
  }
  return inputs;
}
