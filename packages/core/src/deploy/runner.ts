import { ModelshipError, OverloadedError } from '../errors';
import type { AbortSignalLike, Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { prepareInputs, validateOutputNames } from '../tensor/validate';
import type { Clock } from './clock';
import { Queue, type QueueNode } from './queue';
import { rowsOf, splitOutputs, stackInputs, stackKey, unbatchableReason } from './stack';
import { WindowStats } from './stats';
import type { AdmissionOptions, BatchingOptions, BatchingStatus, VersionState, WarmupStatus } from './types';

/** Receives each request's outcome; the deployment records it and emits `prediction`. */
export interface JobOwner {
  settle(job: Job, output: NamedTensors | undefined, error: unknown): void;
  /** Stops a job's deadline timer. */
  clearTimer(timer: unknown): void;
}

/** One request on its way through a version. */
export class Job {
  settled = false;
  enqueuedAt = -1;
  startedAt = -1;
  /** Rows in the model call that answered this request. */
  batchSize = 0;
  rows: number | undefined;
  key = '';
  node: QueueNode<Job> | undefined;
  runner: VersionRunner | undefined;
  /** The deadline timer and the abort listener watching the job, undone when it settles (fields, not a cleanup closure: one fewer allocation per request). */
  timer: unknown = undefined;
  signal: AbortSignalLike | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly owner: JobOwner,
    public inputs: ModelInputs,
    readonly outputs: readonly string[] | undefined,
    readonly createdAt: number,
    readonly resolve: (out: NamedTensors) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  succeed(output: NamedTensors): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.owner.settle(this, output, undefined);
    this.resolve(output);
  }

  private release(): void {
    if (this.timer !== undefined) this.owner.clearTimer(this.timer);
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    if (this.node?.queued) this.runner?.cancel(this);
    this.owner.settle(this, undefined, error);
    this.reject(error);
  }
}

export interface RunnerOptions {
  name: string;
  batching?: BatchingOptions;
  admission?: AdmissionOptions;
  clock: Clock;
}

/**
 * One loaded version of a deployment: its model behind admission control and, when batching is
 * on, a batcher. Requests that are admitted are never lost: a removed version drains its queue
 * and in-flight calls before its model is disposed.
 */
export class VersionRunner {
  state: VersionState = 'loading';
  /** How the warmup went, once it has run. */
  warmup: WarmupStatus = { state: 'off', runs: 0 };
  /** Every request this instance answered, for `status()`. */
  readonly stats = new WindowStats();
  model: Model | undefined;
  active = 0;
  private readonly queue = new Queue<Job>();
  private maxConcurrency: number;
  private readonly maxQueue: number;
  private batching: BatchingOptions | undefined;
  private batchingOff: string | undefined;
  private inputNames: readonly string[] = [];
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private drained: (() => void) | undefined;
  private calls = 0;
  private rowsRun = 0;

  constructor(
    readonly version: string,
    private readonly options: RunnerOptions,
  ) {
    this.batching = options.batching;
    this.maxConcurrency =
      options.admission?.maxConcurrency ?? (options.batching ? 1 : Number.POSITIVE_INFINITY);
    this.maxQueue = options.admission?.maxQueue ?? 1024;
  }

  /** Attaches the loaded model; batching is turned off, with a reason, when it cannot apply. */
  attach(model: Model): void {
    this.model = model;
    // Batching runs one batch at a time by default; a model with sessions on n workers runs n,
    // so batches form while every instance is busy instead of one instance doing all the work.
    const instances = (model as { instances?: unknown }).instances;
    if (
      this.batching !== undefined &&
      this.options.admission?.maxConcurrency === undefined &&
      typeof instances === 'number' &&
      instances > 1
    )
      this.maxConcurrency = instances;
    this.inputNames = model.signature.inputs.map((s) => s.name);
    if (this.batching !== undefined) {
      const reason = unbatchableReason(model.signature);
      if (reason !== undefined) this.disableBatching(`the model has no batch dimension: ${reason}`);
    }
  }

  disableBatching(reason: string): void {
    this.batching = undefined;
    this.batchingOff = reason;
  }

  get batchingEnabled(): boolean {
    return this.batching !== undefined;
  }

  get queued(): number {
    return this.queue.size;
  }

  batchingStatus(): BatchingStatus | undefined {
    if (this.options.batching === undefined) return undefined;
    return {
      enabled: this.batching !== undefined,
      ...(this.batchingOff === undefined ? {} : { reason: this.batchingOff }),
      batches: this.calls,
      meanBatchSize: this.calls === 0 ? 0 : this.rowsRun / this.calls,
    };
  }

  /**
   * True when a job submitted now would start at once: no batching, a free slot and nothing
   * queued. Such a job can go through {@link runNow}, which answers through the model call's own
   * promise.
   */
  get startsNow(): boolean {
    return this.batching === undefined && this.active < this.maxConcurrency && this.queue.size === 0;
  }

  /**
   * Starts a job that would not queue ({@link startsNow}) and returns its answer: the model
   * call's promise, continued by the job's settling, instead of a promise of the request's own
   * that this call would resolve. One promise, its executor and its two resolving functions
   * fewer per request: about 300 of the 860 bytes the unbatched Deployer allocated per request
   * beyond `model.predict`'s, and 1–2% of a request's CPU time on fraud.onnx (docs/performance.md,
   * "Dynamic batching", third round). The job's own resolve and reject are not
   * called; it settles (stats, events) before the returned promise does, as through `submit`.
   * A job that may be settled from outside (a deadline, an abort signal) goes through `submit`.
   */
  runNow(job: Job): Promise<NamedTensors> {
    job.runner = this;
    this.active++;
    this.calls++;
    job.startedAt = job.createdAt;
    const rows = leadingDim(job.inputs);
    job.batchSize = rows;
    this.rowsRun += rows;
    let work: Promise<NamedTensors>;
    try {
      work = this.model!.predict(
        job.inputs,
        job.outputs === undefined ? undefined : { outputs: job.outputs },
      );
    } catch (e) {
      work = Promise.reject(e);
    }
    return work.then(
      (out) => {
        job.succeed(out);
        this.finish();
        return out;
      },
      (e: unknown) => {
        job.fail(e);
        this.finish();
        throw e;
      },
    );
  }

  /** Runs the job now, queues it, or turns it away when the queue is full. */
  submit(job: Job): void {
    job.runner = this;
    if (this.batching !== undefined) {
      try {
        this.prepare(job);
      } catch (e) {
        job.fail(e);
        return;
      }
      // Idle, nothing waiting and no delay to wait out: the batch could only be this request,
      // so it runs now, as `formBatch` would decide at once, without a queue node, a stack key
      // or two clock reads (what a request at low concurrency pays for batching being on).
      if (
        this.active < this.maxConcurrency &&
        this.queue.size === 0 &&
        (this.batching.maxQueueDelayMs ?? 0) <= 0
      ) {
        this.start(job, undefined);
        return;
      }
      job.key =
        job.rows === undefined
          ? ''
          : stackKey(job.inputs as Record<string, Tensor>, this.inputNames, job.outputs);
    } else if (this.active < this.maxConcurrency && this.queue.size === 0) {
      this.start(job, undefined);
      return;
    }
    if (this.queue.size >= this.maxQueue) {
      job.fail(
        new OverloadedError(
          `model '${this.options.name}' version '${this.version}' is overloaded: ${this.queue.size} requests are queued (maxQueue ${this.maxQueue})`,
          { details: { model: this.options.name, version: this.version, maxQueue: this.maxQueue } },
        ),
      );
      return;
    }
    job.enqueuedAt = this.options.clock.now();
    job.node = this.queue.push(job);
    this.pump();
  }

  /** Removes a job that gave up (timeout, abort) from the queue. */
  cancel(job: Job): void {
    if (job.node !== undefined) this.queue.remove(job.node);
    this.checkDrained();
  }

  /** Resolves once nothing is queued or running; no new job may be submitted after it is called. */
  drain(): Promise<void> {
    this.state = 'draining';
    return new Promise((resolve) => {
      this.drained = resolve;
      this.checkDrained();
    });
  }

  private checkDrained(): void {
    if (this.drained !== undefined && this.active === 0 && this.queue.size === 0) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }

  /** Checks a request before it may wait for a batch: one bad request never fails the others (its stack key is made only if it queues). */
  private prepare(job: Job): void {
    const model = this.model!;
    const inputs = prepareInputs(model.signature, job.inputs, model.validation);
    validateOutputNames(model.signature, job.outputs);
    job.inputs = inputs;
    job.rows = rowsOf(inputs, this.inputNames);
  }

  private pump(): void {
    while (this.active < this.maxConcurrency && this.queue.size > 0) {
      if (this.batching === undefined) {
        this.start(this.queue.shift()!, undefined);
        continue;
      }
      const batch = this.formBatch(this.batching);
      if (batch === undefined) return;
      if (batch.length === 1) this.start(batch[0]!, undefined);
      else this.start(batch[0]!, batch);
    }
    if (this.queue.size === 0 && this.timer !== undefined) {
      this.options.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
  }

  /**
   * The next batch to run, or `undefined` to wait (a timer is set for the oldest request's
   * deadline). A batch goes at once when it is full, when a preferred size is reached, or when
   * the oldest request has waited `maxQueueDelayMs`.
   */
  private formBatch(b: BatchingOptions): Job[] | undefined {
    const head = this.queue.first()!.value;
    if (head.rows === undefined || head.rows >= b.maxBatchSize) {
      this.queue.shift();
      return [head];
    }
    const batch: Job[] = [];
    let rows = 0;
    let overflow = false;
    for (let node = this.queue.first(); node !== undefined; node = node.next) {
      const job = node.value;
      if (job.key !== head.key || job.rows === undefined) continue;
      if (rows + job.rows > b.maxBatchSize) {
        overflow = true;
        break;
      }
      batch.push(job);
      rows += job.rows;
      if (rows === b.maxBatchSize) break;
    }
    const now = this.options.clock.now();
    const delay = b.maxQueueDelayMs ?? 0;
    const due = head.enqueuedAt + delay;
    const go =
      rows === b.maxBatchSize || overflow || now >= due || (b.preferredBatchSizes?.includes(rows) ?? false);
    if (!go) {
      if (due < this.timerAt) {
        if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
        this.timerAt = due;
        this.timer = this.options.clock.setTimeout(() => {
          this.timer = undefined;
          this.timerAt = Number.POSITIVE_INFINITY;
          this.pump();
        }, due - now);
      }
      return undefined;
    }
    for (const job of batch) this.queue.remove(job.node!);
    return batch;
  }

  private start(job: Job, batch: Job[] | undefined): void {
    this.active++;
    this.calls++;
    // A job that never queued starts in the call that made it: its creation time is its start,
    // and one clock read fewer per request shows on the unbatched path (bench/deployer-batching).
    const now = job.enqueuedAt < 0 ? job.createdAt : this.options.clock.now();
    let work: Promise<NamedTensors>;
    const model = this.model!;
    if (batch === undefined) {
      job.startedAt = now;
      const rows = job.rows ?? leadingDim(job.inputs);
      job.batchSize = rows;
      this.rowsRun += rows;
      try {
        work = model.predict(job.inputs, job.outputs === undefined ? undefined : { outputs: job.outputs });
      } catch (e) {
        work = Promise.reject(e);
      }
      work.then(
        (out) => {
          job.succeed(out);
          this.finish();
        },
        (e: unknown) => {
          job.fail(e);
          this.finish();
        },
      );
      return;
    }
    let rows = 0;
    const counts: number[] = [];
    const inputs: Record<string, Tensor>[] = [];
    for (const j of batch) {
      rows += j.rows!;
      counts.push(j.rows!);
      inputs.push(j.inputs as Record<string, Tensor>);
    }
    for (const j of batch) {
      j.startedAt = now;
      j.batchSize = rows;
    }
    this.rowsRun += rows;
    try {
      const stacked = stackInputs(inputs, this.inputNames, rows);
      work = model.predict(stacked, job.outputs === undefined ? undefined : { outputs: job.outputs });
    } catch (e) {
      work = Promise.reject(e);
    }
    work.then(
      (out) => {
        let parts: NamedTensors[];
        try {
          parts = splitOutputs(out, counts, rows);
        } catch (e) {
          for (const j of batch) j.fail(e);
          this.finish();
          return;
        }
        for (let i = 0; i < batch.length; i++) batch[i]!.succeed(parts[i]!);
        this.finish();
      },
      (e: unknown) => {
        for (const j of batch) j.fail(e);
        this.finish();
      },
    );
  }

  private finish(): void {
    this.active--;
    if (this.queue.size > 0) this.pump();
    this.checkDrained();
  }
}

function leadingDim(inputs: ModelInputs): number {
  // The first input decides; `for…in` reads it without allocating an array of values.
  for (const key in inputs) {
    const v = inputs[key] as unknown;
    if (typeof v !== 'object' || v === null) return 1;
    const shape = (v as { shape?: unknown }).shape ?? (v as { dims?: unknown }).dims;
    if (Array.isArray(shape) && typeof shape[0] === 'number') return shape[0];
    if (Array.isArray(v)) return v.length;
    return 1;
  }
  return 1;
}

/** The error for a request naming a version that is not loaded. */
export function versionNotFound(name: string, version: string, known: readonly string[]): ModelshipError {
  return new ModelshipError(
    'VERSION_NOT_FOUND',
    `model '${name}' has no version '${version}' loaded${known.length > 0 ? ` (loaded: ${known.join(', ')})` : ''}`,
    { details: { model: name, version } },
  );
}
