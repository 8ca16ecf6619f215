/**
 * Messages between a model's session on a worker (a Web Worker in the browser, a
 * `worker_threads` Worker in Node) and the thread that serves requests. Written once here;
 * each runtime only moves the messages. Tensors travel by structured clone; the buffers listed
 * as transferable move without a copy.
 */
import {
  AbortError,
  DeadlineExceededError,
  type ErrorCode,
  InputError,
  ModelLoadError,
  ModelshipError,
  OverloadedError,
} from '../errors';
import { allocate } from '../tensor/dtype';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import type { ChannelBuffers } from './shared-channel';

/** One call to run on the worker; `outputs` undefined: every output. */
export interface WorkerCall {
  id: number;
  inputs: NamedTensors;
  outputs: readonly string[] | undefined;
}

/** One call's answer: its outputs, or why it failed. */
export type WorkerAnswer =
  | { id: number; outputs: NamedTensors; error?: undefined }
  | { id: number; outputs?: undefined; error: SerializedError };

export type ToWorker =
  /**
   * Create the session. `options` is the runtime's own (a path and session options, bytes, …);
   * with `channel`, calls may also come, and answers go, through shared memory (shared-channel.ts).
   */
  | { type: 'load'; options: unknown; channel?: ChannelBuffers }
  /**
   * Calls to run one after another. Several travel in one message when they queued while the
   * worker was busy: each message wakes two threads, which costs more than a small model's call.
   */
  | { type: 'predict'; calls: WorkerCall[] }
  /** Time `runs` warm calls on warmup inputs (zeros of the declared shapes, batch 1). */
  | { type: 'probe'; runs: number }
  | { type: 'dispose' };

export type FromWorker =
  | { type: 'loaded'; signature: ModelSignature }
  /** Answers to calls of `predict` messages, in the order they ran; one message may hold several. */
  | { type: 'answers'; answers: WorkerAnswer[] }
  /** The load failed. */
  | { type: 'failed'; error: SerializedError }
  /** The median warm latency in milliseconds, or why it could not be measured. */
  | { type: 'probed'; ms: number | undefined; error?: SerializedError }
  | { type: 'disposed' };

/** An error as it crosses threads: enough to rebuild the same typed {@link ModelshipError}. */
export interface SerializedError {
  name: string;
  message: string;
  code: ErrorCode | undefined;
  details: Record<string, unknown> | undefined;
  stack: string | undefined;
  cause: SerializedError | undefined;
}

/** Turns any thrown value into plain data that survives `postMessage`. */
export function serializeError(e: unknown, depth = 0): SerializedError {
  const err = e instanceof Error || ModelshipError.isInstance(e) ? (e as Error) : new Error(String(e));
  const cause = (err as { cause?: unknown }).cause;
  return {
    name: err.name,
    message: err.message,
    code: ModelshipError.isInstance(err) ? err.code : undefined,
    // Details are plain facts (names, numbers, shapes); round-tripped through JSON so nothing
    // uncloneable (a function, a class instance) can break the message.
    details: ModelshipError.isInstance(err) ? plain(err.details) : undefined,
    stack: err.stack,
    cause: cause === undefined || depth >= 4 ? undefined : serializeError(cause, depth + 1),
  };
}

type Options = { cause?: unknown; details?: Record<string, unknown> };

/** Each Modelship error class by name, so a revived error is `instanceof` what was thrown. */
const MAKE = new Map<string, (code: ErrorCode, message: string, o: Options) => ModelshipError>([
  ['ModelshipError', (code, message, o) => new ModelshipError(code, message, o)],
  ['InputError', (code, message, o) => new InputError(code, message, o)],
  ['ModelLoadError', (code, message, o) => new ModelLoadError(code, message, o)],
  ['AbortError', (_code, message, o) => new AbortError(message, o)],
  ['OverloadedError', (_code, message, o) => new OverloadedError(message, o)],
  ['DeadlineExceededError', (_code, message, o) => new DeadlineExceededError(message, o)],
]);

/**
 * Rebuilds an error that crossed threads: a Modelship error comes back as the same class with
 * the same code, message, details and cause; anything else (a bug in the worker) becomes an
 * `INFERENCE_FAILED` error whose message starts with `context` and whose cause is the original.
 */
export function reviveError(s: SerializedError, context: string): Error {
  const cause = s.cause === undefined ? undefined : reviveCause(s.cause);
  if (s.code === undefined) {
    return new ModelshipError('INFERENCE_FAILED', `${context}: ${s.message}`, {
      cause: reviveCause(s),
    });
  }
  const make = MAKE.get(s.name);
  const e = (make ?? MAKE.get('ModelshipError')!)(s.code, s.message, {
    ...(cause === undefined ? {} : { cause }),
    ...(s.details === undefined ? {} : { details: s.details }),
  });
  if (make === undefined) e.name = s.name;
  return e;
}

function reviveCause(s: SerializedError): Error {
  if (s.code !== undefined) return reviveError(s, '');
  const e = new Error(s.message, s.cause === undefined ? undefined : { cause: reviveCause(s.cause) });
  e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}

function plain(details: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  try {
    return JSON.parse(
      JSON.stringify(details, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
    ) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The distinct ArrayBuffers behind `tensors`' data, to hand to `postMessage` as transferables. */
export function transferables(tensors: NamedTensors, list: ArrayBuffer[] = []): ArrayBuffer[] {
  for (const name in tensors) {
    const buffer = (tensors[name]!.data as { buffer?: unknown }).buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && !list.includes(buffer)) list.push(buffer);
  }
  return list;
}

/**
 * Copies of `tensors` whose data own exactly their bytes, and those buffers to transfer. The
 * caller's buffers stay theirs (transferring them would empty them under the caller, and a
 * server's request tensors are read again by the Monitor after the answer); a view into a larger
 * buffer (a request body, say) is cut to its own bytes rather than cloning the whole buffer.
 */
export function ownedCopies(tensors: Record<string, Tensor>): {
  tensors: NamedTensors;
  transfer: ArrayBuffer[];
} {
  const out: NamedTensors = {};
  const transfer: ArrayBuffer[] = [];
  for (const name in tensors) {
    const t = tensors[name]!;
    if (t.dtype === 'string') {
      out[name] = t; // cloned with the message
      continue;
    }
    // A fresh array of the dtype's storage type, not `data.slice()`: a Node Buffer's slice is a
    // view of the same memory (often Node's shared pool), which must never be transferred.
    const data = allocate(t.dtype, t.data.length);
    const copy = data as unknown as { set(from: unknown): void; byteLength: number; buffer: ArrayBuffer };
    copy.set(t.data);
    out[name] = { dtype: t.dtype, shape: t.shape, data } as Tensor;
    if (copy.byteLength > 0) transfer.push(copy.buffer);
  }
  return { tensors: out, transfer };
}
