/**
 * The worker side of a model on a worker: it creates the session when told to, answers
 * predictions and probes, and frees the session. Each runtime's worker script calls
 * {@link serveModelInWorker} with its message port and its way of loading a model.
 */
import { warmupInputs } from '../deploy/warmup';
import type { Model } from './model';
import { type FromWorker, serializeError, type ToWorker, transferables } from './worker-protocol';

/** The worker's end of the channel: `self` in a Web Worker, `parentPort` in a worker thread. */
export interface WorkerPort {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  listen(listener: (message: ToWorker) => void): void;
}

/**
 * Serves one model on this worker. `load` receives the `options` of the `load` message and
 * resolves with the model (an in-thread ONNX model); `now` is a millisecond clock for probes.
 */
export function serveModelInWorker(
  port: WorkerPort,
  load: (options: unknown) => Promise<Model>,
  now: () => number,
): void {
  let model: Model | undefined;
  const send = (message: FromWorker, transfer: ArrayBuffer[]): void => {
    try {
      port.post(message, transfer);
    } catch {
      // A buffer the runtime will not let go of (an external one): send a copy instead.
      port.post(message);
    }
  };
  port.listen((message) => {
    if (message.type === 'load') {
      load(message.options).then(
        (m) => {
          model = m;
          port.post({ type: 'loaded', signature: m.signature });
        },
        (e: unknown) => port.post({ type: 'failed', id: undefined, error: serializeError(e) }),
      );
    } else if (message.type === 'predict') {
      const { id } = message;
      if (model === undefined) {
        port.post({ type: 'failed', id, error: serializeError(new Error('the worker has no model loaded')) });
        return;
      }
      model
        .predict(message.inputs, message.outputs === undefined ? undefined : { outputs: message.outputs })
        .then(
          (outputs) => send({ type: 'result', id, outputs }, transferables(outputs)),
          (e: unknown) => port.post({ type: 'failed', id, error: serializeError(e) }),
        );
    } else if (message.type === 'probe') {
      if (model === undefined) return;
      probe(model, message.runs, now).then(
        (ms) => port.post({ type: 'probed', ms }),
        (e: unknown) => port.post({ type: 'probed', ms: undefined, error: serializeError(e) }),
      );
    } else if (message.type === 'dispose') {
      void (model?.dispose() ?? Promise.resolve()).finally(() => port.post({ type: 'disposed' }));
    }
  });
}

/** One cold call, then the median of `runs` warm ones (the lower of two), in milliseconds. */
async function probe(model: Model, runs: number, now: () => number): Promise<number> {
  const inputs = warmupInputs(model.signature, 1);
  await model.predict(inputs);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await model.predict(inputs);
    times.push(now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[(times.length - 1) >> 1]!;
}
