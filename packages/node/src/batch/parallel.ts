/**
 * `modelship predict --workers n` on CSV and JSON Lines: the input is cut into blocks of a few
 * MB on record boundaries (as `--shard` cuts it), and the blocks are handed to n worker threads
 * in turn; each thread reads, parses, scores and formats its blocks (predict-worker.ts), and
 * this thread only cuts the file and writes the finished bytes and rejected rows in input
 * order. Blocks hold a multiple of the batch size, so every batch is the batch one thread would
 * have made, and the output is byte for byte that of one worker.
 */
import type { Worker } from 'node:worker_threads';
import {
  AbortError,
  type ErrorCode,
  InputError,
  ModelLoadError,
  ModelshipError,
  type PipelineJson,
} from '@modelship/core';
import { type PredictBatchesOptions, type Rejection, unreadableOf } from '@modelship/core/batch';
import { readDataset } from '../datasets';
import type { InThreadOptions } from '../load-model';
import { withThreads } from '../load-model';
import { startThread } from '../worker-threads';
import { cutText, headerText, localFirstLine, type TextBlock } from './text-blocks';

/** What each thread is told once: the model, the options of `predictBatches`, the input and output formats. */
export interface PredictWorkerSetup {
  modelPath: string;
  load: InThreadOptions;
  pipeline: PipelineJson | undefined;
  options: Pick<PredictBatchesOptions, 'keep' | 'outputs' | 'features' | 'batchSize' | 'strict' | 'columns'>;
  inputPath: string;
  inputFormat: 'csv' | 'tsv' | 'jsonl';
  delimiter: string | undefined;
  /** CSV: the header's text, read before every block. */
  header: string;
  format: 'csv' | 'jsonl';
}

export type ToPredictWorker =
  | { type: 'init'; setup: PredictWorkerSetup }
  /** Release the session and end the thread (after the last block). */
  | { type: 'close' }
  | { type: 'block'; id: number; block: Omit<TextBlock, 'firstLine'> & { lineOffset: number } }
  /** A block's output buffer back, once written, for the thread's next block. */
  | { type: 'buffer'; buffer: ArrayBuffer };

export type FromPredictWorker =
  | { type: 'ready' }
  | {
      type: 'done';
      id: number;
      /**
       * The block's scored rows as output text (CSV without its header), UTF-8: the start of a
       * transferred buffer, which is handed back (`buffer`) once written.
       */
      bytes: Uint8Array;
      /** CSV: the header line of the output columns ('' when the block scored no row). */
      header: string;
      rows: number;
      scored: number;
      rejected: Rejection[];
    }
  | {
      type: 'failed';
      /** The block, or -1 for the setup. */
      id: number;
      error: {
        name: string;
        message: string;
        code: string | undefined;
        details: Record<string, unknown> | undefined;
      };
    };

type Done = Extract<FromPredictWorker, { type: 'done' }>;

/** What {@link predictInWorkers} is given. */
export interface ParallelRun {
  modelPath: string;
  /** The model's name, as one worker names it in messages. */
  name: string;
  inputPath: string;
  inputFormat: 'csv' | 'tsv' | 'jsonl';
  format: 'csv' | 'jsonl';
  workers: number;
  /** Cores shared out among the threads' sessions (as `serve --workers`). */
  cores: number;
  pipeline: PipelineJson | undefined;
  options: PredictWorkerSetup['options'];
  /** Bytes of input per block (the last record of a block ends after this many). */
  blockBytes: number;
  signal: AbortSignal;
  /**
   * Output bytes, in input order; resolves when more may be written (back-pressure), and calls
   * `written` once the bytes are in the file (their buffer may then be reused).
   */
  write(bytes: Uint8Array | string, written?: () => void): Promise<void>;
  /** A block's rejected rows, in input order. */
  rejected(rows: readonly Rejection[]): Promise<void>;
  /** After each block written: its rows, scored and rejected rows, and the input bytes up to its end. */
  progress(block: { rows: number; scored: number; rejected: number; end: number }): void;
}

/** Blocks in flight per thread: one being scored, one waiting, so a thread never idles between blocks. */
const IN_FLIGHT = 2;

/** Rebuilds a thread's error as the typed error it was (the CLI's exit code follows the code). */
function revived(e: Extract<FromPredictWorker, { type: 'failed' }>['error']): Error {
  if (e.code === undefined)
    return new ModelshipError('INFERENCE_FAILED', `predict worker thread: ${e.message}`);
  const options = e.details === undefined ? {} : { details: e.details };
  const code = e.code as ErrorCode;
  if (e.name === 'InputError') return new InputError(code as never, e.message, options);
  if (e.name === 'ModelLoadError') return new ModelLoadError(code as never, e.message, options);
  return new ModelshipError(code, e.message, options);
}

/** One thread and its answers by block id. */
class PredictThread {
  readonly pending = new Map<number, { resolve(d: Done): void; reject(e: Error): void }>();
  private readonly worker: Worker;
  private stopping = false;
  readonly ready: Promise<void>;

  constructor(setup: PredictWorkerSetup) {
    this.worker = startThread(
      { built: './predict-worker.js', source: './batch/predict-worker.ts' },
      'modelship-predict',
    );
    let ready!: { resolve(): void; reject(e: Error): void };
    this.ready = new Promise<void>((resolve, reject) => {
      ready = { resolve, reject };
    });
    this.ready.catch(() => {});
    const fail = (error: Error) => {
      ready.reject(error);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('message', (m: FromPredictWorker) => {
      if (m.type === 'ready') ready.resolve();
      else if (m.type === 'failed' && m.id === -1) fail(revived(m.error));
      else {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'done') p?.resolve(m);
        else p?.reject(revived(m.error));
      }
    });
    this.worker.on('error', (e) =>
      fail(new ModelshipError('INFERENCE_FAILED', `predict worker thread: ${e.message}`, { cause: e })),
    );
    this.worker.on('exit', (code) =>
      fail(new ModelshipError('INFERENCE_FAILED', `a predict worker thread exited (code ${code})`)),
    );
    this.worker.postMessage({ type: 'init', setup } satisfies ToPredictWorker);
  }

  score(id: number, block: Extract<ToPredictWorker, { type: 'block' }>['block']): Promise<Done> {
    const answer = new Promise<Done>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ type: 'block', id, block } satisfies ToPredictWorker);
    return answer;
  }

  /** Hands a written output buffer back for reuse (not to a thread told to stop). */
  giveBack(buffer: ArrayBuffer): void {
    if (this.stopping) return;
    this.worker.postMessage({ type: 'buffer', buffer } satisfies ToPredictWorker, [buffer]);
  }

  /** Ends the thread: at once (`terminate`), or after it released its session (`close`). */
  async stop(how: 'close' | 'terminate'): Promise<void> {
    this.stopping = true;
    this.worker.removeAllListeners('exit');
    if (how === 'terminate') {
      await this.worker.terminate();
      return;
    }
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies ToPredictWorker);
    await exited;
  }
}

/**
 * The columns of the input's first readable row (what `predictBatches` decides the inputs
 * from), read with the same reader as one worker does; a bad header fails here as it would there.
 */
async function firstColumns(path: string): Promise<string[] | undefined> {
  const rows = readDataset(path, { badRecords: 'mark' });
  try {
    for await (const row of rows) if (unreadableOf(row) === undefined) return Object.keys(row);
    return undefined;
  } finally {
    await rows.return(undefined);
  }
}

/** A promise that rejects when `signal` aborts (ABORTED). */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    const stop = () => reject(new AbortError('predict was stopped'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Scores a CSV, TSV or JSON Lines file on `workers` threads (see the file comment), writing the
 * output and the rejected rows in input order. Resolves to the totals; a block's error (a bad
 * row under `strict`, a model failure) is thrown when its turn to be written comes, so the
 * earliest one in the file is the one seen.
 */
export async function predictInWorkers(
  run: ParallelRun,
): Promise<{ rows: number; scored: number; rejected: number }> {
  const stop = aborted(run.signal);
  stop.catch(() => {});
  const columns = await Promise.race([firstColumns(run.inputPath), stop]);
  const delimiter = run.inputFormat === 'tsv' ? '\t' : ',';
  const header = { bytes: 0 };
  const blocks = cutText(
    run.inputPath,
    {
      format: run.inputFormat === 'jsonl' ? 'jsonl' : 'csv',
      delimiter: delimiter.charCodeAt(0),
      blockBytes: run.blockBytes,
      rowMultiple: run.options.batchSize ?? 1024,
      afterLf: true,
    },
    header,
  );
  const setup: PredictWorkerSetup = {
    modelPath: run.modelPath,
    load: withThreads({ name: run.name }, run.cores, run.workers),
    pipeline: run.pipeline,
    options: { ...run.options, ...(columns === undefined ? {} : { columns }) },
    inputPath: run.inputPath,
    inputFormat: run.inputFormat,
    delimiter,
    header: '',
    format: run.format,
  };
  const threads: PredictThread[] = [];
  const totals = { rows: 0, scored: 0, rejected: 0 };
  let finished = false;
  try {
    // The header is read before the threads start: each reads it before every block.
    const first = await Promise.race([blocks.next(), stop]);
    if (run.inputFormat !== 'jsonl') setup.header = await headerText(run.inputPath, header.bytes);
    const localLine = run.inputFormat === 'jsonl' ? 1 : localFirstLine(setup.header);
    for (let i = 0; i < run.workers; i++) threads.push(new PredictThread(setup));
    await Promise.race([Promise.all(threads.map((t) => t.ready)), stop]);
    const queue: { block: TextBlock; thread: PredictThread; done: Promise<Done> }[] = [];
    let next: IteratorResult<TextBlock> | undefined = first;
    let headerWritten = false;
    for (;;) {
      // Hand out blocks while fewer than IN_FLIGHT a thread wait to be written.
      while (next !== undefined && !next.done && queue.length < IN_FLIGHT * threads.length) {
        const { firstLine, ...block } = next.value;
        const thread = threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
        const done = thread.score(block.index, { ...block, lineOffset: firstLine - localLine });
        done.catch(() => {});
        queue.push({ block: next.value, thread, done });
        next = await Promise.race([blocks.next(), stop]);
      }
      const head = queue.shift();
      if (head === undefined) break;
      const d = await Promise.race([head.done, stop]);
      if (d.bytes.length > 0) {
        if (!headerWritten && d.header !== '') await run.write(d.header);
        headerWritten = true;
        const { buffer } = d.bytes;
        await run.write(d.bytes, () => {
          head.thread.giveBack(buffer as ArrayBuffer);
        });
      }
      if (d.rejected.length > 0) await run.rejected(d.rejected);
      totals.rows += d.rows;
      totals.scored += d.scored;
      totals.rejected += d.rejected.length;
      run.progress({ rows: d.rows, scored: d.scored, rejected: d.rejected.length, end: head.block.end });
    }
    finished = true;
    return totals;
  } finally {
    await Promise.all(threads.map((t) => t.stop(finished ? 'close' : 'terminate')));
    await blocks.return(undefined);
  }
}
