import { invalidArgument } from '../errors';
import { type DType, storageConstructor } from './dtype';
import type { ModelSignature } from './spec';

/**
 * A checker compiled once per signature: the common case (valid inputs) runs through flat
 * arrays with no allocation but the symbol table, and any mismatch falls through to
 * {@link explainInputs}, which finds the same problem again and describes it.
 */
interface CompiledSpec {
  name: string;
  dtype: DType;
  ctor: unknown;
  rank: number;
  /** Per dimension: a size to match, -1 for any, or -(2 + k) for symbol number k. */
  dims: Int32Array | null;
}

const compiled = new WeakMap<ModelSignature, { specs: CompiledSpec[]; symbolCount: number }>();

function compile(signature: ModelSignature): { specs: CompiledSpec[]; symbolCount: number } {
  let c = compiled.get(signature);
  if (c !== undefined) return c;
  if (
    typeof signature !== 'object' ||
    signature === null ||
    !Array.isArray((signature as { inputs?: unknown }).inputs)
  ) {
    throw invalidArgument('validateInputs', 'signature must be { inputs, outputs }', signature);
  }
  const symbols = new Map<string, number>();
  const specs = signature.inputs.map((spec): CompiledSpec => {
    let dims: Int32Array | null = null;
    if (spec.shape !== null) {
      dims = new Int32Array(spec.shape.length);
      spec.shape.forEach((d, i) => {
        if (typeof d === 'number' && d >= 0 && d <= 0x7fffffff) dims![i] = d;
        else if (typeof d === 'string') {
          if (!symbols.has(d)) symbols.set(d, symbols.size);
          dims![i] = -2 - symbols.get(d)!;
        } else dims![i] = -1;
      });
    }
    return {
      name: spec.name,
      dtype: spec.dtype,
      ctor: storageConstructor(spec.dtype),
      rank: dims?.length ?? -1,
      dims,
    };
  });
  c = { specs, symbolCount: symbols.size };
  compiled.set(signature, c);
  return c;
}

const scratch: number[] = [];

/** True when `inputs` fit the signature; false sends the caller to the full, descriptive check. */
export function compiledCheck(
  signature: ModelSignature,
  inputs: Readonly<Record<string, unknown>>,
  checkFinite: boolean,
  maxElements: number,
): boolean {
  const { specs, symbolCount } = compile(signature);
  // A shared scratch table: the check is synchronous, so no two calls use it at once.
  const symbolSizes = scratch;
  for (let k = 0; k < symbolCount; k++) symbolSizes[k] = -1;
  let total = 0;
  for (let s = 0; s < specs.length; s++) {
    const spec = specs[s]!;
    const t = inputs[spec.name] as { dtype?: unknown; shape?: unknown; data?: unknown } | undefined;
    if (t === undefined || t === null || typeof t !== 'object' || t.dtype !== spec.dtype) return false;
    const data = t.data as { length: number } | undefined;
    if (!(spec.ctor === Array ? Array.isArray(data) : data instanceof (spec.ctor as new () => object)))
      return false;
    const shape = t.shape;
    if (!Array.isArray(shape)) return false;
    if (spec.rank >= 0 && shape.length !== spec.rank) return false;
    let size = 1;
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return false;
      if (spec.dims !== null) {
        const want = spec.dims[i]!;
        if (want >= 0) {
          if (d !== want) return false;
        } else if (want <= -2) {
          const k = -2 - want;
          if (symbolSizes[k] === -1) symbolSizes[k] = d;
          else if (symbolSizes[k] !== d) return false;
        }
      }
      size *= d;
    }
    if (data!.length !== size) return false;
    total += size;
    if (total > maxElements) return false;
    if (checkFinite && !allFinite(spec.dtype, data)) return false;
  }
  // Every declared input is present; equal counts mean there is no unknown one.
  let count = 0;
  for (const key in inputs) if (Object.hasOwn(inputs, key)) count++;
  return count === specs.length;
}

function allFinite(dtype: DType, data: unknown): boolean {
  if (dtype === 'float32' || dtype === 'float64') {
    const a = data as Float32Array | Float64Array;
    for (let i = 0; i < a.length; i++) if (a[i]! - a[i]! !== 0) return false;
  } else if (dtype === 'float16') {
    const a = data as Uint16Array;
    for (let i = 0; i < a.length; i++) if ((a[i]! & 0x7c00) === 0x7c00) return false;
  }
  return true;
}
