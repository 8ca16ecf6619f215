import { describe, invalidArgument, ModelshipError } from '../errors';
import { isDType } from '../tensor/dtype';
import type { ModelSignature, TensorSpec } from '../tensor/spec';
import { checkTensor, type NamedTensors, type Tensor } from '../tensor/tensor';
import { BaseModel, type BaseModelOptions } from './base-model';

/** The function behind a {@link functionModel}: validated input tensors in, output tensors out. */
export type PredictFunction = (inputs: Record<string, Tensor>) => NamedTensors | Promise<NamedTensors>;

export interface FunctionModelOptions extends BaseModelOptions {
  /** The inputs and outputs the function takes and returns. */
  signature: ModelSignature;
  /** Called once by `dispose`, after calls in flight have finished. */
  dispose?: () => void | Promise<void>;
}

/**
 * Makes a {@link Model} from a plain function, so rule-based models, ml.js models or test
 * doubles go through the same Deployer, Evaluator and Monitor as ONNX models. Inputs are
 * validated against the signature before the function runs, and what it returns is checked
 * to be the tensors the signature declares.
 *
 * @example
 * const rule = functionModel(({ amount }) => ({
 *   flagged: tensor('bool', Array.from(amount.data as Float32Array, (a) => a > 1000), [amount.shape[0]!]),
 * }), {
 *   name: 'rule', signature: {
 *     inputs: [{ name: 'amount', dtype: 'float32', shape: ['batch'] }],
 *     outputs: [{ name: 'flagged', dtype: 'bool', shape: ['batch'] }],
 *   },
 * });
 */
export function functionModel(fn: PredictFunction, options: FunctionModelOptions): FunctionModel {
  return new FunctionModel(fn, options);
}

/** A {@link Model} backed by a plain function; see {@link functionModel}. */
export class FunctionModel extends BaseModel {
  private readonly fn: PredictFunction;
  private readonly onDispose: (() => void | Promise<void>) | undefined;

  constructor(fn: PredictFunction, options: FunctionModelOptions) {
    if (typeof fn !== 'function')
      throw invalidArgument('functionModel', 'the first argument must be a function', fn);
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument('functionModel', 'options with a signature are required', options);
    }
    super(checkSignature(options.signature, 'functionModel'), options);
    this.fn = fn;
    this.onDispose = options.dispose;
  }

  protected async run(inputs: Record<string, Tensor>, outputs: readonly string[]): Promise<NamedTensors> {
    let result: unknown;
    try {
      result = await this.fn(inputs);
    } catch (e) {
      if (ModelshipError.isInstance(e)) throw e;
      throw new ModelshipError(
        'INFERENCE_FAILED',
        `model '${this.name}' failed: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
    if (typeof result !== 'object' || result === null) {
      throw new ModelshipError(
        'INFERENCE_FAILED',
        `model '${this.name}': the function must return tensors keyed by output name, returned ${describe(result)}`,
      );
    }
    const out: NamedTensors = {};
    const returned = result as Record<string, unknown>;
    for (const name of outputs) {
      const spec = this.signature.outputs.find((s) => s.name === name)!;
      if (returned[name] === undefined) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `model '${this.name}': the function returned no output '${name}'`,
        );
      }
      const t = checkTensor(returned[name], `model '${this.name}' output '${name}'`);
      if (t.dtype !== spec.dtype) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `model '${this.name}': output '${name}' is declared ${spec.dtype} but the function returned ${t.dtype}`,
        );
      }
      out[name] = t;
    }
    return out;
  }

  protected async release(): Promise<void> {
    await this.onDispose?.();
  }
}

/** Checks a signature given by hand: names unique, dtypes known, shapes of dims. */
export function checkSignature(signature: unknown, where: string): ModelSignature {
  if (typeof signature !== 'object' || signature === null) {
    throw invalidArgument(where, 'signature must be { inputs, outputs }', signature);
  }
  const s = signature as { inputs?: unknown; outputs?: unknown };
  const check = (list: unknown, kind: string): TensorSpec[] => {
    if (!Array.isArray(list)) throw invalidArgument(where, `signature.${kind} must be an array`, list);
    const seen = new Set<string>();
    return list.map((spec: unknown, i): TensorSpec => {
      const t = spec as Partial<TensorSpec> | null;
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || t.name === '') {
        throw invalidArgument(where, `signature.${kind}[${i}] needs a non-empty name`, spec);
      }
      if (seen.has(t.name)) throw invalidArgument(where, `signature.${kind} names '${t.name}' twice`, t.name);
      seen.add(t.name);
      if (!isDType(t.dtype))
        throw invalidArgument(where, `signature.${kind}[${i}] ('${t.name}') has an unknown dtype`, t.dtype);
      const shape = t.shape;
      if (shape !== null) {
        const ok =
          Array.isArray(shape) &&
          shape.every(
            (d) =>
              d === null ||
              (typeof d === 'string' && d !== '') ||
              (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0),
          );
        if (!ok) {
          throw invalidArgument(
            where,
            `signature.${kind}[${i}] ('${t.name}') shape must be null or a list of sizes, names or nulls`,
            shape,
          );
        }
      }
      return {
        name: t.name,
        dtype: t.dtype,
        shape: shape === null ? null : [...(shape as TensorSpec['shape'] & object)],
      };
    });
  };
  return { inputs: check(s.inputs, 'inputs'), outputs: check(s.outputs, 'outputs') };
}
