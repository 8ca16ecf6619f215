/**
 * Every error Modelship throws on purpose is a {@link ModelshipError} with a stable string
 * `code`. Codes never change meaning between releases; messages may be reworded.
 */
import { hasMarker } from './marker';

export type ErrorCode =
  // Arguments given to a public function.
  | 'INVALID_ARGUMENT'
  // Tensors.
  | 'TENSOR_INVALID'
  // Inputs checked against a model signature.
  | 'INPUT_MISSING'
  | 'INPUT_UNKNOWN'
  | 'INPUT_DTYPE_MISMATCH'
  | 'INPUT_RANK_MISMATCH'
  | 'INPUT_SHAPE_MISMATCH'
  | 'INPUT_DATA_LENGTH_MISMATCH'
  | 'INPUT_NOT_FINITE'
  | 'INPUT_TOO_LARGE'
  | 'INPUT_INVALID'
  // Refused by a deployment's input screen (data quality, outliers).
  | 'INPUT_REJECTED'
  | 'OUTPUT_UNKNOWN'
  // Loading a model.
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_REJECTED'
  | 'MODEL_UNSUPPORTED'
  | 'INTEGRITY_MISMATCH'
  | 'MODEL_CACHE_FAILED'
  // Signed models (OpenSSF model_signing bundles).
  | 'SIGNATURE_NOT_FOUND'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_UNSUPPORTED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_UNTRUSTED'
  | 'SIGNED_FILE_MISMATCH'
  | 'SIGNED_FILE_MISSING'
  | 'UNSIGNED_FILE'
  // Encrypted models.
  | 'DECRYPTION_KEY_MISSING'
  | 'DECRYPTION_KEY_MISMATCH'
  | 'ENCRYPTED_MODEL_TAMPERED'
  | 'ENCRYPTED_MODEL_TRUNCATED'
  | 'ENCRYPTED_MODEL_INVALID'
  // Metrics.
  | 'METRIC_UNDEFINED'
  // Data sets.
  | 'DATASET_INVALID'
  // Running a model.
  | 'MODEL_DISPOSED'
  | 'INFERENCE_FAILED'
  | 'ABORTED'
  // Deployments.
  | 'DEPLOYMENT_NOT_FOUND'
  | 'VERSION_NOT_FOUND'
  | 'VERSION_NOT_READY'
  | 'WARMUP_FAILED'
  | 'MODEL_OVERLOADED'
  | 'DEADLINE_EXCEEDED'
  | 'DEPLOYER_CLOSED'
  // Serving.
  | 'EXPLAIN_UNAVAILABLE';

const MARKER = Symbol.for('modelship.error');

export interface ModelshipErrorOptions {
  /** The underlying failure, for example onnxruntime's own error. */
  cause?: unknown;
  /** Machine-readable facts about the failure (the input's name, the expected and received values). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The base class of every error Modelship throws. Check with {@link ModelshipError.isInstance}
 * rather than `instanceof` when two copies of `@modelship/core` may be loaded in one app.
 *
 * @example
 * try { await model.predict(inputs) }
 * catch (e) { if (ModelshipError.isInstance(e) && e.code === 'INPUT_DTYPE_MISMATCH') { ... } }
 */
export class ModelshipError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  readonly [MARKER] = true;

  constructor(code: ErrorCode, message: string, options: ModelshipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelshipError';
    this.code = code;
    this.details = options.details ?? {};
  }

  /** True for any Modelship error, even one made by another copy of this package. */
  static isInstance(value: unknown): value is ModelshipError {
    return hasMarker(value, MARKER);
  }
}

/**
 * Codes that mean the data does not fit the model (a data set row or an input fails its
 * checks), not that the model failed: batch scoring rejects such a row and goes on, and the
 * CLI exits 2 for them.
 */
export const DATA_FAULT_CODES: ReadonlySet<ErrorCode> = /* @__PURE__ */ new Set<ErrorCode>([
  'DATASET_INVALID',
  'INPUT_MISSING',
  'INPUT_UNKNOWN',
  'INPUT_DTYPE_MISMATCH',
  'INPUT_RANK_MISMATCH',
  'INPUT_SHAPE_MISMATCH',
  'INPUT_DATA_LENGTH_MISMATCH',
  'INPUT_NOT_FINITE',
  'INPUT_TOO_LARGE',
  'INPUT_INVALID',
]);

/** An input that does not fit the model's signature, or a malformed tensor. */
export class InputError extends ModelshipError {
  constructor(code: ErrorCode, message: string, options?: ModelshipErrorOptions) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

/** A model that cannot be loaded: missing, not a model, refused by the runtime, or failing its integrity check. */
export class ModelLoadError extends ModelshipError {
  constructor(code: ErrorCode, message: string, options?: ModelshipErrorOptions) {
    super(code, message, options);
    this.name = 'ModelLoadError';
  }
}

/**
 * A model signature that is missing, malformed, made by a key or identity not trusted, or that
 * does not match the model's files. `details.file` names the file where one is at fault.
 */
export class SignatureError extends ModelshipError {
  constructor(code: ErrorCode, message: string, options?: ModelshipErrorOptions) {
    super(code, message, options);
    this.name = 'SignatureError';
  }
}

/** Thrown when an `AbortSignal` cancels an operation; `cause` holds the signal's reason. */
export class AbortError extends ModelshipError {
  constructor(message = 'the operation was aborted', options?: ModelshipErrorOptions) {
    super('ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/**
 * A request turned away because the version's queue is full (`MODEL_OVERLOADED`). Nothing was
 * run; retrying later is safe. Servers answer it with 503.
 */
export class OverloadedError extends ModelshipError {
  constructor(message: string, options?: ModelshipErrorOptions) {
    super('MODEL_OVERLOADED', message, options);
    this.name = 'OverloadedError';
  }
}

/**
 * A request that did not finish within its `timeoutMs` (`DEADLINE_EXCEEDED`). A request still
 * queued is removed from the queue; one already running finishes and its result is dropped.
 */
export class DeadlineExceededError extends ModelshipError {
  constructor(message: string, options?: ModelshipErrorOptions) {
    super('DEADLINE_EXCEEDED', message, options);
    this.name = 'DeadlineExceededError';
  }
}

/** Shorthand for an `INVALID_ARGUMENT` error naming the function and the argument. */
export function invalidArgument(where: string, what: string, received: unknown): ModelshipError {
  return new ModelshipError('INVALID_ARGUMENT', `${where}: ${what}, received ${describe(received)}`, {
    details: { where },
  });
}

/** A short, safe description of any value for error messages (never dumps large arrays). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return value.length > 60 ? `"${value.slice(0, 57)}..."` : `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (tag.endsWith('Array') && typeof (value as { length?: unknown }).length === 'number') {
    return `a ${tag} of length ${(value as { length: number }).length}`;
  }
  return tag === 'Object' ? 'an object' : `a ${tag}`;
}
