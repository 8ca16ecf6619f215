/**
 * The worker-thread side of `loadModel(…, { instances })`: one session per thread, answering the
 * pool on the main thread. Started by the pool (see worker-threads.ts); not imported directly.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { serveModelInWorker } from '@modelship/core';
import { type InThreadOptions, loadInThread } from './load-model';
import type { ThreadLoad } from './worker-threads';

/**
 * How much lower this thread runs than the main thread (a nice increment). On Linux priority is
 * per thread, and onnxruntime's intra-op threads, started from here, inherit it: when a core is
 * contended, the main thread, which answers requests and health probes, wins it, while an idle
 * main thread leaves the model every core. At 5 the scheduler gives the main thread about three
 * quarters of a contended core.
 */
const NICE = 5;

function yieldToMainThread(): void {
  try {
    // "<pid>/task/<tid>": this thread's id, which setpriority takes for this thread alone.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid === process.pid) return;
    setPriority(tid, Math.min(19, getPriority(tid) + NICE));
  } catch {
    // Not Linux, or not allowed: the thread keeps the process's priority.
  }
}

yieldToMainThread();
const port = parentPort!;
serveModelInWorker(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    listen: (listener) => port.on('message', listener),
  },
  (options) => {
    const { source, load } = options as ThreadLoad<InThreadOptions>;
    return loadInThread(source, load);
  },
  () => performance.now(),
);
