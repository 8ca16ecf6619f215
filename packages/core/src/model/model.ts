import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import type { ValidationOptions } from '../tensor/validate';

/** The part of `AbortSignal` Modelship uses, so core needs no DOM or Node types. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Options of one `predict` call. */
export interface PredictOptions {
  /** Cancels the call: the returned promise rejects with an `ABORTED` error at once. */
  signal?: AbortSignalLike;
  /** Compute and return only these outputs (default: every output in the signature). */
  outputs?: readonly string[];
}

/**
 * A model: anything with a signature that turns named inputs into named outputs. An ONNX
 * session, a plain function, a pipeline or a remote server all implement it, and the Deployer,
 * Evaluator and Monitor accept any of them.
 *
 * @typeParam In - what `predict` takes; tensors keyed by input name by default.
 * @typeParam Out - what `predict` returns; tensors keyed by output name by default.
 */
export interface Model<In = ModelInputs, Out = NamedTensors> {
  /** The model's name, as deployments and metrics label it. */
  readonly name: string;
  /** The version of this model, a string as in TF Serving and KServe (`'3'`, `'2024-06-01'`). */
  readonly version: string;
  /** The inputs and outputs the model declares. */
  readonly signature: ModelSignature;
  /**
   * The input checks the model runs before every call, when it has any beyond the defaults. A
   * Deployer's batcher applies the same checks to each request before stacking it, so one bad
   * request fails alone rather than failing its batch.
   */
  readonly validation?: ValidationOptions;
  /** Runs the model. Inputs are validated against the signature first. */
  predict(inputs: In, options?: PredictOptions): Promise<Out>;
  /** Frees the model's resources once the calls already running have finished. Idempotent. */
  dispose(): Promise<void>;
}
