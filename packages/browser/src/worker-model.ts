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

interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate(): void;
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
        `the worker of model '${this.name}' crashed: ${event.message}`,
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
          new ModelLoadError('MODEL_REJECTED', `the worker for '${name}' failed to start: ${event.message}`),
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

/** Starts the package's own worker script, as a module worker. */
export function startWorker(): WorkerLike {
  if (typeof Worker === 'undefined') {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      '`worker: true` needs Web Workers, which this environment does not have',
    );
  }
  try {
    // Written out in full so that bundlers (Vite, webpack 5) see the pattern and emit the worker.
    return new Worker(new URL('./worker.js', import.meta.url), {
      type: 'module',
      name: 'modelship-model',
    }) as WorkerLike;
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
