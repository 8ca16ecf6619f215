import { invalidArgument, ModelshipError } from '../errors';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { prepareInputs, type ValidationOptions, validateOutputNames } from '../tensor/validate';
import { raceAbort, throwIfAborted } from './abort';
import type { Model, PredictOptions } from './model';

/** Options every model built on {@link BaseModel} takes. */
export interface BaseModelOptions {
  /** The model's name (default `'model'`). */
  name?: string;
  /** The model's version (default `'1'`). */
  version?: string;
  /** Input checks run before every call. */
  validation?: ValidationOptions;
}

/**
 * The behaviour every tensor model shares, written once: input coercion and validation,
 * output selection, cancellation, and a dispose that waits for the calls in flight.
 * Subclasses supply only `run` and `release`.
 */
export abstract class BaseModel implements Model<ModelInputs, NamedTensors> {
  readonly name: string;
  readonly version: string;
  readonly signature: ModelSignature;
  readonly validation: ValidationOptions;
  private readonly outputNames: readonly string[];
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private disposing: Promise<void> | undefined;

  protected constructor(signature: ModelSignature, options: BaseModelOptions = {}) {
    this.name = checkLabel(options.name ?? 'model', 'name');
    this.version = checkLabel(options.version ?? '1', 'version');
    this.signature = signature;
    this.outputNames = signature.outputs.map((s) => s.name);
    const v = options.validation ?? {};
    if (v.maxElements !== undefined && !(Number.isSafeInteger(v.maxElements) && v.maxElements > 0)) {
      throw invalidArgument(
        'model options',
        'validation.maxElements must be a positive integer',
        v.maxElements,
      );
    }
    this.validation = v;
  }

  /** Runs the model on validated inputs and returns the requested outputs. */
  protected abstract run(
    inputs: Record<string, Tensor>,
    outputs: readonly string[],
    all: boolean,
  ): Promise<NamedTensors>;

  /** Frees the underlying resources; called once, after in-flight calls have finished. */
  protected abstract release(): Promise<void>;

  /** True once `dispose` has been called. */
  get disposed(): boolean {
    return this.disposing !== undefined;
  }

  predict(inputs: ModelInputs, options?: PredictOptions): Promise<NamedTensors> {
    // Not an async function: on the hot path every promise layer costs microtask turns, so the
    // checks run synchronously and their errors become a rejected promise here.
    let work: Promise<NamedTensors>;
    try {
      if (this.disposing !== undefined) {
        throw new ModelshipError(
          'MODEL_DISPOSED',
          `model '${this.name}' version '${this.version}' has been disposed`,
        );
      }
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw invalidArgument('predict', 'options must be an object', options);
      }
      throwIfAborted(options?.signal);
      const tensors = prepareInputs(this.signature, inputs, this.validation);
      const requested = validateOutputNames(this.signature, options?.outputs);
      work = this.track(tensors, requested ?? this.outputNames, requested === undefined);
    } catch (e) {
      return Promise.reject(e);
    }
    return options?.signal === undefined ? work : raceAbort(work, options.signal);
  }

  /**
   * In-flight counts the run itself, not the caller's wait: an aborted call returns at once,
   * but dispose still waits for the runtime to finish the work it started.
   */
  private track(
    tensors: Record<string, Tensor>,
    outputs: readonly string[],
    all: boolean,
  ): Promise<NamedTensors> {
    this.inFlight++;
    let work: Promise<NamedTensors>;
    try {
      work = this.run(tensors, outputs, all);
    } catch (e) {
      this.runEnded();
      throw e;
    }
    // A subclass that ends its runs itself saves the call a promise layer (bench/predict-overhead).
    return this.endsRuns ? work : work.then(this.settleOk, this.settleErr);
  }

  /**
   * True when `run` calls {@link runEnded} itself, once, when the work it started has finished
   * (after its result is made, or on failure) and never when it throws synchronously. Lets the
   * subclass end the run in the callback it already has instead of one more `then`.
   */
  protected get endsRuns(): boolean {
    return false;
  }

  // Made once per model, not per call: a fresh closure on every call showed in the benchmark.
  // A subclass that ends its own runs (`endsRuns`) may end them with these too.
  protected readonly settleOk = (result: NamedTensors): NamedTensors => {
    this.runEnded();
    return result;
  };

  protected readonly settleErr = (error: unknown): never => {
    this.runEnded();
    throw error;
  };

  /** Counts a run as finished; `dispose` goes on once none is left. */
  protected runEnded(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.drained?.();
  }

  async dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      await this.release();
    })();
    return this.disposing;
  }
}

function checkLabel(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw invalidArgument(
      'model options',
      `${what} must be a non-empty string of at most 256 characters`,
      value,
    );
  }
  return value;
}
