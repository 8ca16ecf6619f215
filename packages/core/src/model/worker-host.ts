/**
 * The worker side of a model on a worker: it creates the session when told to, answers
 * predictions and probes, and frees the session. Each runtime's worker script calls
 * {@link serveModelInWorker} with its message port and its way of loading a model.
 */
import { warmupInputs } from '../deploy/warmup';
import type { Model } from './model';
import { type ChannelCall, Ring } from './shared-channel';
import {
  type FromWorker,
  serializeError,
  type ToWorker,
  transferables,
  type WorkerAnswer,
  type WorkerCall,
} from './worker-protocol';

/** How long a finished call's answer may wait for the next call's, to share a message (ms). */
const FLUSH_MS = 1;

/** The worker's end of the channel: `self` in a Web Worker, `parentPort` in a worker thread. */
export interface WorkerPort {
  post(message: FromWorker, transfer?: ArrayBuffer[]): void;
  listen(listener: (message: ToWorker) => void): void;
}

/**
 * Serves one model on this worker. `load` receives the `options` of the `load` message and
 * resolves with the model (an in-thread ONNX model); `now` is a millisecond clock (probes, and
 * how long answers may wait to share a message).
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
  /**
   * Runs `calls` one after another and answers them in as few messages as keep each answer
   * prompt: finished answers wait for the next call only when the last call took less than
   * FLUSH_MS and the first waiting answer is younger than that, so a fast model's answers share
   * a message and a slow model's go one by one. Answers go through shared memory where they can.
   */
  const answer = async (calls: readonly WorkerCall[]): Promise<void> => {
    let answers: WorkerAnswer[] = [];
    let transfer: ArrayBuffer[] = [];
    /** Answers written to the ring and not yet committed. */
    let written = 0;
    let since = 0;
    for (let i = 0; i < calls.length; i++) {
      const { id, inputs, outputs } = calls[i]!;
      const t0 = now();
      try {
        if (model === undefined) throw new Error('the worker has no model loaded');
        const out = await model.predict(inputs, outputs === undefined ? undefined : { outputs });
        if (answersRing?.writeAnswer(id, out)) written++;
        else {
          answers.push({ id, outputs: out });
          transferables(out, transfer);
        }
      } catch (e) {
        answers.push({ id, error: serializeError(e) });
      }
      const t1 = now();
      if (answers.length + written === 1) since = t1;
      if (i === calls.length - 1 || t1 - t0 >= FLUSH_MS || t1 - since >= FLUSH_MS) {
        if (written > 0) answersRing!.commit();
        if (answers.length > 0) send({ type: 'answers', answers }, transfer);
        answers = [];
        transfer = [];
        written = 0;
      }
    }
  };
  let callsRing: Ring | undefined;
  let answersRing: Ring | undefined;
  /** Runs the calls that come through shared memory, batch after batch, as `predict` messages' are. */
  const serveRing = (ring: Ring): void => {
    const next = (): void => {
      const calls: ChannelCall[] = [];
      ring.read(calls, []);
      void answer(calls).then(() => ring.wait(next));
    };
    ring.wait(next);
  };
  port.listen((message) => {
    if (message.type === 'load') {
      load(message.options).then(
        (m) => {
          model = m;
          if (message.channel !== undefined) {
            callsRing = new Ring(message.channel.calls);
            answersRing = new Ring(message.channel.answers);
            serveRing(callsRing);
          }
          port.post({ type: 'loaded', signature: m.signature });
        },
        (e: unknown) => port.post({ type: 'failed', error: serializeError(e) }),
      );
    } else if (message.type === 'predict') {
      void answer(message.calls);
    } else if (message.type === 'probe') {
      if (model === undefined) return;
      probe(model, message.runs, now).then(
        (ms) => port.post({ type: 'probed', ms }),
        (e: unknown) => port.post({ type: 'probed', ms: undefined, error: serializeError(e) }),
      );
    } else if (message.type === 'dispose') {
      callsRing?.close();
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
