import {
  BaseModel,
  type BaseModelOptions,
  ModelLoadError,
  type ModelSignature,
  ModelshipError,
  type NamedTensors,
  type Tensor,
} from '@modelship/core';
import type { FromWorker, SerializedError, ToWorker } from './worker-protocol';

/** What {@link WorkerModel} needs of a `Worker` (a fake one in tests). */
export interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', listener: (event: Partial<ErrorEvent>) => void): void;
  terminate(): void;
}

/**
 * Why a worker failed, from its `error` event. An exception in the worker is an `ErrorEvent`
 * with a message and a place; a script that never loaded (not found, an import the server
 * could not resolve, a CommonJS module served as ESM) is a bare `Event` with neither, so that
 * case is named rather than printed as "undefined".
 */
export function workerFailure(event: Partial<ErrorEvent>): string {
  const message = typeof event.message === 'string' && event.message !== '' ? event.message : undefined;
  const where =
    typeof event.filename === 'string' && event.filename !== ''
      ? ` at ${event.filename}${event.lineno ? `:${event.lineno}${event.colno ? `:${event.colno}` : ''}` : ''}`
      : '';
  if (message !== undefined) return `${message}${where}`;
  return `its script did not load${where} (the browser gives no reason: look for a failed request or a module import error in the console; a bundler must emit @modelship/browser's worker.js next to its module)`;
}

function revive(error: SerializedError, fallback: string): ModelshipError {
  const e = new ModelshipError(
    error.code ?? 'INFERENCE_FAILED',
    error.code === undefined ? `${fallback}: ${error.message}` : error.message,
    {
      details: error.details,
    },
  );
  e.name = error.name;
  return e;
}

/**
 * A model whose session lives in a Web Worker. Validation, cancellation and disposal run on
 * the page as for any model; only the inference crosses to the worker. `dispose()` waits for
 * calls in flight, frees the session, then terminates the worker, which frees its memory.
 */
export class WorkerModel extends BaseModel {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<
    number,
    { resolve: (o: NamedTensors) => void; reject: (e: unknown) => void }
  >();
  private nextId = 1;
  private crashed: ModelshipError | undefined;

  private constructor(worker: WorkerLike, signature: ModelSignature, options: BaseModelOptions) {
    super(signature, options);
    this.worker = worker;
    worker.addEventListener('message', ({ data }) => {
      if (data.type === 'result') {
        this.pending.get(data.id)?.resolve(data.outputs);
        this.pending.delete(data.id);
      } else if (data.type === 'failed' && data.id !== undefined) {
        this.pending.get(data.id)?.reject(revive(data.error, `model '${this.name}' failed in its worker`));
        this.pending.delete(data.id);
      }
    });
    worker.addEventListener('error', (event) => {
      // A worker that dies takes its calls with it: fail them rather than leave them hanging.
      this.crashed = new ModelshipError(
        'INFERENCE_FAILED',
        `the worker of model '${this.name}' crashed: ${workerFailure(event)}`,
      );
      for (const p of this.pending.values()) p.reject(this.crashed);
      this.pending.clear();
    });
  }

  /** Starts `worker`, hands it the model bytes, and resolves once its session exists. */
  static async start(
    worker: WorkerLike,
    bytes: Uint8Array,
    options: BaseModelOptions & {
      provider: string;
      numThreads: number;
      sessionOptions: Record<string, unknown>;
    },
  ): Promise<WorkerModel> {
    const name = options.name ?? 'model';
    const signature = await new Promise<ModelSignature>((resolve, reject) => {
      worker.addEventListener('message', ({ data }) => {
        if (data.type === 'loaded') resolve(data.signature);
        else if (data.type === 'failed' && data.id === undefined)
          reject(revive(data.error, `could not load '${name}' in a worker`));
      });
      worker.addEventListener('error', (event) =>
        reject(
          new ModelLoadError(
            'MODEL_REJECTED',
            `the worker for '${name}' failed to start: ${workerFailure(event)}`,
          ),
        ),
      );
      // The bytes are copied, not transferred, so the caller's buffer stays usable.
      worker.postMessage({
        type: 'load',
        bytes,
        name,
        version: options.version ?? '1',
        provider: options.provider,
        numThreads: options.numThreads,
        sessionOptions: options.sessionOptions,
      });
    }).catch((e: unknown) => {
      worker.terminate();
      throw e;
    });
    return new WorkerModel(worker, signature, options);
  }

  protected run(
    inputs: Record<string, Tensor>,
    outputs: readonly string[],
    all: boolean,
  ): Promise<NamedTensors> {
    if (this.crashed !== undefined) return Promise.reject(this.crashed);
    const id = this.nextId++;
    return new Promise<NamedTensors>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'predict', id, inputs, outputs: all ? undefined : outputs });
    });
  }

  protected async release(): Promise<void> {
    if (this.crashed === undefined) {
      await new Promise<void>((resolve) => {
        this.worker.addEventListener('message', ({ data }) => {
          if (data.type === 'disposed') resolve();
        });
        this.worker.postMessage({ type: 'dispose' });
      });
    }
    this.worker.terminate();
  }
}

/**
 * Starts the package's own worker script, as a module worker. `create` is each entry's
 * `new Worker(new URL('./worker….js', import.meta.url), { type: 'module' })`, written out
 * there so that bundlers (Vite, webpack 5) see the pattern and emit that entry's worker.
 */
export function startWorker(create: () => WorkerLike): WorkerLike {
  if (typeof Worker === 'undefined') {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      '`worker: true` needs Web Workers, which this environment does not have',
    );
  }
  try {
    return create();
  } catch (e) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      `could not start the model worker (\`worker: true\` needs the ESM build): ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}
