/**
 * The worker-thread side of `loadModel(…, { instances })`: one session per thread, answering the
 * pool on the main thread. Started by the pool (see worker-threads.ts); not imported directly.
 */
import { parentPort } from 'node:worker_threads';
import { serveModelInWorker } from '@modelship/core';
import { loadInThread } from './load-model';
import type { ThreadLoad } from './worker-threads';

const port = parentPort!;
serveModelInWorker(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    listen: (listener) => port.on('message', listener),
  },
  (options) => {
    const { source, load } = options as ThreadLoad;
    return loadInThread(source, load);
  },
  () => performance.now(),
);
