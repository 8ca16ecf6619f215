/**
 * The worker-thread side of `modelship predict --workers n` on CSV and JSON Lines: each thread
 * has its own session and, for every block of the input it is handed, reads the block's bytes,
 * parses them, scores the rows and formats the scored rows, posting back the output bytes and
 * the block's rejected rows. Started by parallel.ts; not imported directly.
 */
import { parentPort } from 'node:worker_threads';
import { type Model, ModelshipError, Pipeline } from '@modelship/core';
import {
  type PredictBatchesOptions,
  predictBatches,
  type Rejection,
  textFormatter,
} from '@modelship/core/batch';
import { loadInThread } from '../load-model';
import type { FromPredictWorker, PredictWorkerSetup, ToPredictWorker } from './parallel';
import { rowsOfRange } from './text-blocks';

const port = parentPort!;
let setup: PredictWorkerSetup | undefined;
let model: Model | undefined;
let options: PredictBatchesOptions = {};
let failure: unknown;
const encoder = new TextEncoder();
/**
 * Output buffers the main thread has written and handed back. A block's output is encoded into
 * one of them and transferred; reusing them spares a fresh allocation (and the kernel's page
 * faults on it) per block, and the flattening of one long string of the block's text.
 */
const spare: ArrayBuffer[] = [];
/** The first size of an output buffer; one that fills up is replaced by one twice as big. */
const FIRST_BUFFER_BYTES = 1 << 20;

function post(message: FromPredictWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function serialized(e: unknown): Extract<FromPredictWorker, { type: 'failed' }>['error'] {
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    name: error.name,
    message: error.message,
    code: ModelshipError.isInstance(error) ? error.code : undefined,
    details: ModelshipError.isInstance(error) ? JSON.parse(JSON.stringify(error.details ?? {})) : undefined,
  };
}

async function init(s: PredictWorkerSetup): Promise<void> {
  setup = s;
  model = await loadInThread(s.modelPath, s.load);
  const pipeline = s.pipeline === undefined ? undefined : Pipeline.fromJSON(s.pipeline);
  pipeline?.wrap(model);
  options = { ...s.options, ...(pipeline === undefined ? {} : { pipeline }) };
  // The options are checked now (an unknown output fails before any block is read).
  predictBatches(model, [], options);
}

async function score(id: number, block: Extract<ToPredictWorker, { type: 'block' }>['block']): Promise<void> {
  const s = setup!;
  const formatter = textFormatter(s.format, { header: false });
  const rows = rowsOfRange(s.inputPath, block, {
    format: s.inputFormat,
    header: s.header,
    delimiter: s.delimiter,
    badRecords: 'mark',
    // One batch at a time: rows held longer than a batch outlive the young generation (measured: 8192 cost ~20% more CPU a row).
    blockRows: s.options.batchSize ?? 1024,
    lineOffset: block.lineOffset,
  });
  let out = new Uint8Array(spare.pop() ?? new ArrayBuffer(FIRST_BUFFER_BYTES));
  let length = 0;
  let count = 0;
  let scored = 0;
  const rejected: Rejection[] = [];
  for await (const batch of predictBatches(model!, rows, options)) {
    const text = formatter.format(batch.rows);
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    if (out.length - length < text.length * 3) {
      const bigger = new Uint8Array(Math.max(out.length * 2, length + text.length * 3));
      bigger.set(out.subarray(0, length));
      out = bigger;
    }
    length += encoder.encodeInto(text, out.subarray(length)).written;
    count += batch.count;
    scored += batch.rows.length;
    for (const r of batch.rejected) rejected.push(r);
  }
  const bytes = out.subarray(0, length);
  post({ type: 'done', id, bytes, header: formatter.header, rows: count, scored, rejected }, [
    out.buffer as ArrayBuffer,
  ]);
}

// One message at a time, in the order posted: the init, then blocks.
let turn = Promise.resolve();
port.on('message', (message: ToPredictWorker) => {
  // A written buffer is free at once, even while a block is being scored.
  if (message.type === 'buffer') {
    spare.push(message.buffer);
    return;
  }
  turn = turn.then(async () => {
    if (message.type === 'close') {
      await model?.dispose();
      port.close();
      return;
    }
    if (message.type === 'init') {
      try {
        await init(message.setup);
        post({ type: 'ready' });
      } catch (e) {
        failure = e;
        post({ type: 'failed', id: -1, error: serialized(e) });
      }
      return;
    }
    try {
      if (failure !== undefined) throw failure;
      await score(message.id, message.block);
    } catch (e) {
      post({ type: 'failed', id: message.id, error: serialized(e) });
    }
  });
});
