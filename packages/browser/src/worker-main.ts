/**
 * The Web Worker side of `worker: true`: it creates the session and answers predictions, so
 * inference never blocks the page. Each entry's worker script (worker-entry-*.ts) calls
 * {@link answerInWorker} with its onnxruntime-web build; not imported directly.
 */
import { ModelshipError, type NamedTensors, OnnxModel } from '@modelship/core';
import type { WebBackend } from './load-model';
import type { FromWorker, SerializedError, ToWorker } from './worker-protocol';

interface WorkerScope {
  onmessage: ((event: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;
let model: OnnxModel | undefined;

function serialize(e: unknown): SerializedError {
  if (ModelshipError.isInstance(e))
    return { code: e.code, name: e.name, message: e.message, details: { ...e.details } };
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: undefined, name: err.name, message: err.message, details: undefined };
}

function transferables(outputs: NamedTensors): Transferable[] {
  const list: Transferable[] = [];
  for (const t of Object.values(outputs)) {
    const data = t.data as { buffer?: ArrayBufferLike };
    if (data.buffer instanceof ArrayBuffer && !list.includes(data.buffer)) list.push(data.buffer);
  }
  return list;
}

/** Answers the page's messages in this worker with `runtime`. */
export function answerInWorker(runtime: WebBackend['runtime']): void {
  scope.onmessage = ({ data: message }) => {
    if (message.type === 'load') {
      runtime.env.wasm.numThreads = message.numThreads;
      OnnxModel.create(runtime, message.bytes, {
        name: message.name,
        version: message.version,
        exclusiveRuns: true,
        sessionOptions: { ...message.sessionOptions, executionProviders: [message.provider] },
      }).then(
        (m) => {
          model = m;
          scope.postMessage({ type: 'loaded', signature: m.signature });
        },
        (e: unknown) => scope.postMessage({ type: 'failed', id: undefined, error: serialize(e) }),
      );
    } else if (message.type === 'predict') {
      const { id } = message;
      if (model === undefined) {
        scope.postMessage({
          type: 'failed',
          id,
          error: serialize(new Error('the worker has no model loaded')),
        });
        return;
      }
      model
        .predict(message.inputs, message.outputs === undefined ? undefined : { outputs: message.outputs })
        .then(
          (outputs) => scope.postMessage({ type: 'result', id, outputs }, transferables(outputs)),
          (e: unknown) => scope.postMessage({ type: 'failed', id, error: serialize(e) }),
        );
    } else if (message.type === 'dispose') {
      void (model?.dispose() ?? Promise.resolve()).finally(() => scope.postMessage({ type: 'disposed' }));
    }
  };
}
