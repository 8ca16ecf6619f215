import { invalidArgument, ModelLoadError, ModelshipError } from '../errors';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { BaseModel, type BaseModelOptions } from './base-model';
import { type ChannelBuffers, channelBuffers, Ring, sharedChannelSupported } from './shared-channel';
import {
  type FromWorker,
  ownedCopies,
  reviveError,
  type SerializedError,
  type ToWorker,
  type WorkerCall,
} from './worker-protocol';

/** One worker as the pool drives it; each runtime wraps its own worker in one. */
export interface WorkerHandle {
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** The worker stopped unasked (an uncaught error, an exit, out of memory). At most once. */
  onExit(listener: (error: Error) => void): void;
  /** Whether the worker keeps the process alive: the pool asks for it only while calls are pending. */
  keepAlive?(on: boolean): void;
  terminate(): unknown;
}

/** What happened to one of a pool's instances, for logs. */
export type InstanceEvent = { model: string; version: string } & PoolEvent;

type PoolEvent =
  /** The pool serves with `instances` workers (`loadModel` may still drop it: see `stopped`). */
  | { type: 'started'; instances: number }
  | { type: 'exited'; instance: number; error: Error; failedCalls: number }
  | { type: 'replaced'; instance: number }
  | { type: 'replaceFailed'; instance: number; error: unknown }
  /** Disposed: every worker was asked to stop. */
  | { type: 'stopped' };

export interface WorkerPoolOptions extends BaseModelOptions {
  /** Sessions, each on a worker of its own (Triton's `instance_group` `count`; default 1). */
  instances?: number;
  /** Starts a fresh worker; called once per instance, and again for each replacement. */
  spawn: () => WorkerHandle;
  /** The `options` of the `load` message every worker receives (the runtime's own). */
  load: unknown;
  /** Told when the pool starts and stops, when an instance stops unasked, and when its replacement serves or fails to load. */
  onInstanceEvent?: (event: InstanceEvent) => void;
  /**
   * Bytes of shared memory per direction for each worker's calls and answers (default 0: every
   * call goes by `postMessage`). Where the runtime has `SharedArrayBuffer` and
   * `Atomics.waitAsync`, calls and answers whose tensors are numeric and under a quarter of this
   * go through it without a structured clone; the rest by `postMessage`.
   */
  sharedMemoryBytes?: number;
}

/** What the pool reports of each instance. */
export interface InstanceStatus {
  instance: number;
  state: 'starting' | 'ready' | 'stopped';
  inFlight: number;
}

interface Job {
  /** The validated inputs as the caller gave them: copied when sent, not before. */
  inputs: NamedTensors;
  outputs: readonly string[] | undefined;
  resolve: (outputs: NamedTensors) => void;
  reject: (error: unknown) => void;
  /** The message that carried the call, once posted: its calls not yet answered. */
  message?: { left: number };
}

/**
 * `predict` messages posted to one worker ahead of its answers. Two keep a worker busy across
 * the message round trip without queueing much behind a long call on one worker while another
 * frees up.
 */
const DEPTH = 2;

/**
 * The most calls one message carries. Calls that queued here while every worker was busy go
 * together (each message wakes both threads, which costs more than a small model's call).
 */
const MAX_CALLS_PER_MESSAGE = 64;

/** One worker and the calls it has been given. */
class Instance {
  state: InstanceStatus['state'] = 'starting';
  readonly pending = new Map<number, Job>();
  /** `predict` messages posted whose calls are not all answered. */
  messages = 0;
  readonly ready: Promise<ModelSignature>;
  private settleStart!: { resolve: (s: ModelSignature) => void; reject: (e: unknown) => void };
  private waiting: { type: 'probed' | 'disposed'; resolve: (m: FromWorker | undefined) => void }[] = [];
  onExit: (error: Error) => void = () => {};
  onSettled: () => void = () => {};
  /** What keepAlive was last told (a worker starts out keeping the process alive). */
  private kept = true;
  /** The shared-memory rings to the worker and back, if the pool uses them. */
  readonly channel: { calls: Ring; answers: Ring } | undefined;

  constructor(
    readonly handle: WorkerHandle,
    readonly index: number,
    load: unknown,
    label: string,
    buffers: ChannelBuffers | undefined,
  ) {
    this.ready = new Promise<ModelSignature>((resolve, reject) => {
      this.settleStart = { resolve, reject };
    });
    handle.onMessage((m) => this.receive(m, label));
    this.channel =
      buffers === undefined
        ? undefined
        : { calls: new Ring(buffers.calls), answers: new Ring(buffers.answers) };
    handle.onExit((error) => {
      const wasStarting = this.state === 'starting';
      this.stop();
      for (const w of this.waiting.splice(0)) w.resolve(undefined);
      if (wasStarting) {
        this.settleStart.reject(
          new ModelLoadError('MODEL_REJECTED', `the worker loading ${label} stopped: ${error.message}`, {
            cause: error,
          }),
        );
      } else this.onExit(error);
    });
    handle.post({ type: 'load', options: load, ...(buffers === undefined ? {} : { channel: buffers }) });
  }

  /** No longer serving: stops listening to the shared-memory answers. */
  stop(): void {
    this.state = 'stopped';
    this.channel?.answers.close();
    this.channel?.calls.close();
  }

  private receive(m: FromWorker, label: string): void {
    if (m.type === 'answers') {
      for (const a of m.answers) {
        if (a.error === undefined) this.settle(a.id, a.outputs, undefined);
        else this.settle(a.id, undefined, reviveError(a.error, `${label} failed in its worker`));
      }
      this.refresh();
      this.onSettled();
    } else if (m.type === 'loaded') {
      this.state = 'ready';
      if (this.channel !== undefined) this.listen(this.channel.answers);
      this.refresh();
      this.settleStart.resolve(m.signature);
    } else if (m.type === 'failed') {
      // A worker whose session did not load serves nothing: it stops here.
      this.stop();
      this.handle.terminate();
      this.refresh();
      this.settleStart.reject(asLoadError(m.error, label));
    } else {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
      this.refresh();
    }
  }

  private settle(id: number, outputs: NamedTensors | undefined, error: Error | undefined): void {
    const job = this.pending.get(id);
    if (job === undefined) return;
    this.pending.delete(id);
    if (--job.message!.left === 0) this.messages--;
    if (error === undefined) job.resolve(outputs!);
    else job.reject(error);
  }

  /** Settles the answers that come through shared memory, as they are committed. */
  private listen(ring: Ring): void {
    const next = (): void => {
      const answers: { id: number; outputs: NamedTensors }[] = [];
      ring.read([], answers);
      for (const a of answers) this.settle(a.id, a.outputs, undefined);
      if (answers.length > 0) {
        this.refresh();
        this.onSettled();
      }
      ring.wait(next);
    };
    ring.wait(next);
  }

  /** Keeps the process alive while the worker owes an answer, and only then. */
  refresh(): void {
    const on = this.state === 'starting' || this.pending.size > 0 || this.waiting.length > 0;
    if (on === this.kept) return;
    this.kept = on;
    this.handle.keepAlive?.(on);
  }

  /** Posts a message and resolves with the answer of type `type` (undefined if the worker stops). */
  ask(message: ToWorker, type: 'probed' | 'disposed'): Promise<FromWorker | undefined> {
    if (this.state === 'stopped') return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting.push({ type, resolve });
      this.refresh();
      this.handle.post(message);
    });
  }
}

function asLoadError(error: SerializedError, label: string): Error {
  const e = reviveError(error, `could not load ${label} in a worker`);
  return ModelshipError.isInstance(e) && e.code === 'INFERENCE_FAILED'
    ? new ModelLoadError('MODEL_REJECTED', e.message, { cause: e.cause })
    : e;
}

/**
 * A {@link Model} whose sessions run on workers, so inference never blocks the thread that
 * serves requests (onnxruntime's `run` holds its thread for the whole call). `instances`
 * workers each hold a session of their own (Triton's `instance_group` `count`); calls go to the
 * least busy one and wait on this thread when all are busy.
 *
 * Validation, output selection, cancellation and a dispose that waits for calls in flight work
 * as for any model. Inputs are copied once into buffers of their own, which are transferred (the
 * caller's buffers stay usable); outputs are transferred back without a copy. Errors thrown in a
 * worker come back as the same typed {@link ModelshipError}. An instance that stops (an uncaught
 * error, running out of memory) fails its calls in flight with `INFERENCE_FAILED` and is
 * replaced; calls queued meanwhile go to the other instances or wait for the replacement.
 *
 * Runtimes build one with their own workers: `loadModel(path, { instances: 2 })` in
 * `@modelship/node` (each instance a `node:worker_threads` Worker).
 */
export class WorkerPoolModel extends BaseModel {
  private readonly slots: Instance[];
  private readonly queue: Job[] = [];
  private readonly options: WorkerPoolOptions;
  private readonly label: string;
  private nextId = 1;
  private closing = false;
  private replacing = 0;
  private restartCount = 0;
  private lastExit: Error | undefined;

  private constructor(signature: ModelSignature, slots: Instance[], options: WorkerPoolOptions) {
    super(signature, options);
    this.options = options;
    this.label = `model '${this.name}' version '${this.version}'`;
    this.slots = slots;
    for (const s of slots) this.wire(s);
    this.tell({ type: 'started', instances: slots.length });
  }

  /** Starts the workers and resolves once every one has loaded its session. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPoolModel> {
    const count = options.instances ?? 1;
    if (!Number.isSafeInteger(count) || count < 1 || count > 256)
      throw invalidArgument('WorkerPoolModel', 'instances must be an integer from 1 to 256', count);
    if (typeof options.spawn !== 'function')
      throw invalidArgument(
        'WorkerPoolModel',
        'spawn must be a function that starts a worker',
        options.spawn,
      );
    const shared = options.sharedMemoryBytes ?? 0;
    if (!Number.isSafeInteger(shared) || shared < 0 || shared > 2 ** 30)
      throw invalidArgument(
        'WorkerPoolModel',
        'sharedMemoryBytes must be an integer from 0 to 2^30',
        options.sharedMemoryBytes,
      );
    const label = `model '${options.name ?? 'model'}' version '${options.version ?? '1'}'`;
    const slots: Instance[] = [];
    try {
      for (let i = 0; i < count; i++) slots.push(spawnInstance(options, i, label));
    } catch (e) {
      for (const s of slots) s.handle.terminate();
      throw new ModelLoadError('MODEL_UNSUPPORTED', `could not start a worker for ${label}: ${message(e)}`, {
        cause: e,
      });
    }
    const started = await Promise.allSettled(slots.map((s) => s.ready));
    const failed = started.find((r) => r.status === 'rejected');
    const signature = started[0]!.status === 'fulfilled' ? started[0]!.value : undefined;
    const mismatch = started.some((r) => r.status === 'fulfilled' && !sameSignature(r.value, signature!));
    if (failed !== undefined || mismatch) {
      for (const s of slots) s.handle.terminate();
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      throw new ModelLoadError('MODEL_REJECTED', `the workers of ${label} loaded different signatures`);
    }
    return new WorkerPoolModel(signature!, slots, options);
  }

  /** How many instances the pool keeps (some may be restarting). */
  get instances(): number {
    return this.slots.length;
  }

  /** Instances replaced after stopping unasked, since the pool started. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Each instance's state and the calls it holds. */
  status(): InstanceStatus[] {
    return this.slots.map((s) => ({ instance: s.index, state: s.state, inFlight: s.pending.size }));
  }

  /**
   * The median of `runs` warm calls on warmup inputs (zeros of the declared shapes, batch 1),
   * timed inside the first instance's worker, in milliseconds. Rejects with the call's error
   * when the model refuses those inputs.
   */
  async probe(runs = 3): Promise<number> {
    const answer = await this.slots[0]!.ask({ type: 'probe', runs }, 'probed');
    if (answer?.type !== 'probed')
      throw new ModelshipError('INFERENCE_FAILED', `the worker of ${this.label} stopped`);
    if (answer.ms === undefined) throw reviveError(answer.error!, `${this.label} failed its probe`);
    return answer.ms;
  }

  protected run(
    inputs: Record<string, Tensor>,
    outputs: readonly string[],
    all: boolean,
  ): Promise<NamedTensors> {
    return new Promise<NamedTensors>((resolve, reject) => {
      const job: Job = { inputs, outputs: all ? undefined : outputs, resolve, reject };
      if (this.queue.length === 0) {
        const free = this.free();
        if (free.best !== undefined) return this.send(free.best, [job]);
      }
      if (this.replacing === 0 && !this.slots.some((s) => s.state !== 'stopped')) reject(this.down());
      else this.queue.push(job);
    });
  }

  /** The least busy ready instance with room for a message, and how many have room. */
  private free(): { best: Instance | undefined; room: number } {
    let best: Instance | undefined;
    let room = 0;
    for (const s of this.slots) {
      if (s.state !== 'ready' || s.messages >= DEPTH) continue;
      room++;
      if (best === undefined || s.pending.size < best.pending.size) best = s;
    }
    return { best, room };
  }

  /**
   * Sends `jobs` to `to` as one message: through shared memory those whose tensors go there,
   * the others (or all, without it) in one `postMessage`.
   */
  private send(to: Instance, jobs: Job[]): void {
    const ring = to.channel?.calls;
    const sent: [number, Job][] = [];
    const posted: [number, Job][] = [];
    const calls: WorkerCall[] = [];
    let transfer: ArrayBuffer[] = [];
    for (const job of jobs) {
      const id = this.nextId++;
      if (ring?.writeCall({ id, inputs: job.inputs, outputs: job.outputs })) {
        sent.push([id, job]);
        continue;
      }
      const copies = ownedCopies(job.inputs);
      calls.push({ id, inputs: copies.tensors, outputs: job.outputs });
      transfer = transfer.length === 0 ? copies.transfer : transfer.concat(copies.transfer);
      posted.push([id, job]);
    }
    ring?.commit();
    if (calls.length > 0) {
      try {
        to.handle.post({ type: 'predict', calls }, transfer);
        sent.push(...posted);
      } catch (e) {
        const failure = new ModelshipError(
          'INFERENCE_FAILED',
          `${this.label}: the inputs could not be sent to its worker: ${message(e)}`,
          { cause: e },
        );
        for (const [, job] of posted) job.reject(failure);
      }
    }
    if (sent.length === 0) return;
    const left = { left: sent.length };
    to.messages++;
    for (const [id, job] of sent) {
      job.message = left;
      to.pending.set(id, job);
    }
    to.refresh();
  }

  /** Sends the queued calls to the instances with room, shared out evenly among them. */
  private pump(): void {
    while (this.queue.length > 0) {
      const { best, room } = this.free();
      if (best === undefined) return;
      const n = Math.min(MAX_CALLS_PER_MESSAGE, Math.ceil(this.queue.length / room));
      this.send(best, this.queue.splice(0, n));
    }
  }

  private wire(s: Instance): void {
    s.onSettled = () => this.pump();
    s.onExit = (error) => this.exited(s, error);
  }

  private down(): ModelshipError {
    return new ModelshipError(
      'INFERENCE_FAILED',
      `${this.label} has no worker left: ${this.lastExit?.message ?? 'every instance stopped'}`,
      { cause: this.lastExit },
    );
  }

  /** An instance stopped unasked: fail its calls, tell the owner, start a replacement. */
  private exited(s: Instance, error: Error): void {
    this.lastExit = error;
    const failure = new ModelshipError(
      'INFERENCE_FAILED',
      `${this.label}: worker instance ${s.index} stopped (${error.message}); the calls it was running failed and it is being replaced`,
      { cause: error, details: { model: this.name, version: this.version, instance: s.index } },
    );
    const jobs = [...s.pending.values()];
    s.pending.clear();
    s.messages = 0;
    for (const job of jobs) job.reject(failure);
    this.tell({ type: 'exited', instance: s.index, error, failedCalls: jobs.length });
    if (this.closing) return;
    this.restartCount++;
    this.replace(s.index);
  }

  private tell(event: PoolEvent): void {
    this.options.onInstanceEvent?.({ model: this.name, version: this.version, ...event });
  }

  private replace(index: number): void {
    let next: Instance;
    try {
      next = spawnInstance(this.options, index, this.label);
    } catch (e) {
      this.replaceFailed(index, e);
      return;
    }
    this.slots[index] = next;
    this.replacing++;
    next.ready.then(
      (signature) => {
        this.replacing--;
        if (!sameSignature(signature, this.signature)) {
          next.stop();
          next.handle.terminate();
          this.replaceFailed(
            index,
            new ModelLoadError(
              'MODEL_REJECTED',
              `the replacement worker of ${this.label} loaded another signature`,
            ),
          );
          return;
        }
        this.wire(next);
        if (this.closing) return;
        this.tell({ type: 'replaced', instance: index });
        this.pump();
      },
      (e: unknown) => {
        this.replacing--;
        this.replaceFailed(index, e);
      },
    );
  }

  private replaceFailed(index: number, error: unknown): void {
    this.tell({ type: 'replaceFailed', instance: index, error });
    if (this.replacing > 0 || this.slots.some((s) => s.state === 'ready')) return;
    // Nothing left to answer the calls waiting here: fail them rather than leave them hanging.
    if (error instanceof Error) this.lastExit = error;
    const failure = this.down();
    for (const job of this.queue.splice(0)) job.reject(failure);
  }

  protected async release(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (s) => {
        await s.ready.catch(() => undefined);
        await s.ask({ type: 'dispose' }, 'disposed');
        s.stop();
        await s.handle.terminate();
      }),
    );
    this.tell({ type: 'stopped' });
  }
}

/** A fresh worker for instance `index`, with its shared memory when the pool uses it. */
function spawnInstance(options: WorkerPoolOptions, index: number, label: string): Instance {
  const bytes = options.sharedMemoryBytes ?? 0;
  const buffers = bytes > 0 && sharedChannelSupported() ? channelBuffers(bytes) : undefined;
  return new Instance(options.spawn(), index, options.load, label, buffers);
}

function sameSignature(a: ModelSignature, b: ModelSignature): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
