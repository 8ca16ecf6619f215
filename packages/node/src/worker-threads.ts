/**
 * Sessions on worker threads for `loadModel(…, { instances })`: each instance is a
 * `node:worker_threads` Worker running model-worker.ts, driven by core's WorkerPoolModel.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type InstanceEvent,
  type WorkerHandle,
  WorkerPoolModel,
  type WorkerPoolOptions,
} from '@modelship/core';

/**
 * The `load` message's options: the model's source and what loadModel does on the thread
 * (load-model.ts's `InThreadOptions`, named by the caller so this file does not import it).
 */
export interface ThreadLoad<L = unknown> {
  source: string | Uint8Array;
  load: L;
}

/**
 * Shared memory per direction and thread for calls and answers: 1 MiB, so tensors up to 256 KiB
 * skip the structured clone; larger ones, and string tensors, go by `postMessage`.
 */
export const SHARED_MEMORY_BYTES = 1 << 20;

/** Starts `instances` threads, each loading `source` with `load`, as one model. */
export function startPool<L extends Pick<WorkerPoolOptions, 'name' | 'version' | 'validation'>>(
  source: string | Uint8Array,
  load: L,
  instances: number,
  onInstanceEvent: ((event: InstanceEvent) => void) | undefined,
): Promise<WorkerPoolModel> {
  return WorkerPoolModel.create({
    name: load.name,
    version: load.version,
    validation: load.validation,
    instances,
    spawn: () => spawnThread(),
    load: { source, load } satisfies ThreadLoad<L>,
    onInstanceEvent,
    sharedMemoryBytes: SHARED_MEMORY_BYTES,
  });
}

/** One worker thread, as the pool drives it; `started` sees the Worker (tests stop one with it). */
export function spawnThread(started?: (worker: Worker) => void): WorkerHandle {
  const worker = startThread();
  started?.(worker);
  // Idle threads must not keep the process alive; the pool asks for it while calls are pending.
  let asked = false;
  let firstError: Error | undefined;
  const exits: ((error: Error) => void)[] = [];
  worker.on('error', (e) => {
    firstError ??= e;
  });
  worker.on('exit', (code) => {
    if (asked) return;
    const error = firstError ?? new Error(`the thread exited with code ${code}`);
    for (const l of exits) l(error);
  });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => worker.on('message', listener),
    onExit: (listener) => exits.push(listener),
    keepAlive: (on) => (on ? worker.ref() : worker.unref()),
    terminate: () => {
      asked = true;
      return worker.terminate();
    },
  };
}

/**
 * Starts a thread running one of the package's thread entries: `built` (beside dist/index.js)
 * in the built package, `source` (relative to this file) from the TypeScript sources (this
 * repository's tests, examples and benchmarks), where the thread first registers tsx, which a
 * thread does not inherit from its parent, and resolves `@modelship/*` to their sources as well.
 */
export function startThread(
  entry: { built: string; source: string } = { built: './model-worker.js', source: './model-worker.ts' },
  name = 'modelship-model',
): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL(entry.built, here), { name });
  const tsxPackage = createRequire(here).resolve('tsx/package.json');
  const tsx = pathToFileURL(tsxPackage.replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  const source = new URL(entry.source, here).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(source)}); });`,
    { eval: true, name, execArgv: ['--conditions=@modelship/source'] },
  );
}
