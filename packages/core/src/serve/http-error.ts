/**
 * How failures become HTTP answers: one table from Modelship's error codes to status codes, as
 * KServe and Triton map theirs (bad input 400, unknown model 404, not ready or overloaded 503,
 * deadline 504), and `{"error": "..."}` bodies as the protocol requires.
 */
import { type ErrorCode, ModelshipError } from '../errors';

/** A failure with its HTTP status, raised by the request handlers themselves. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  TENSOR_INVALID: 400,
  INPUT_MISSING: 400,
  INPUT_UNKNOWN: 400,
  INPUT_DTYPE_MISMATCH: 400,
  INPUT_RANK_MISMATCH: 400,
  INPUT_SHAPE_MISMATCH: 400,
  INPUT_DATA_LENGTH_MISMATCH: 400,
  INPUT_NOT_FINITE: 400,
  INPUT_TOO_LARGE: 413,
  INPUT_INVALID: 400,
  INPUT_REJECTED: 400,
  OUTPUT_UNKNOWN: 400,
  DATASET_INVALID: 400,
  METRIC_UNDEFINED: 400,
  MODEL_NOT_FOUND: 404,
  DEPLOYMENT_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  VERSION_NOT_READY: 503,
  MODEL_OVERLOADED: 503,
  DEPLOYER_CLOSED: 503,
  MODEL_DISPOSED: 503,
  DEADLINE_EXCEEDED: 504,
  ABORTED: 499,
  MODEL_INVALID: 400,
  MODEL_REJECTED: 400,
  MODEL_UNSUPPORTED: 400,
  INTEGRITY_MISMATCH: 400,
  DECRYPTION_KEY_MISSING: 400,
  DECRYPTION_KEY_MISMATCH: 400,
  ENCRYPTED_MODEL_TAMPERED: 400,
  ENCRYPTED_MODEL_TRUNCATED: 400,
  ENCRYPTED_MODEL_INVALID: 400,
  WARMUP_FAILED: 500,
  INFERENCE_FAILED: 500,
  // The model is served but has nothing to explain against (no background file).
  EXPLAIN_UNAVAILABLE: 404,
};

/** The status and message an error is answered with. Unknown errors are 500 with a generic message. */
export function httpFailure(e: unknown): {
  status: number;
  message: string;
  headers: Record<string, string>;
} {
  if (e instanceof HttpError) return { status: e.status, message: e.message, headers: e.headers };
  if (ModelshipError.isInstance(e)) {
    const status = STATUS[e.code] ?? 500;
    // An overloaded version asks the client to come back, as TF Serving and Triton do.
    const headers: Record<string, string> = e.code === 'MODEL_OVERLOADED' ? { 'retry-after': '1' } : {};
    return { status, message: e.message, headers };
  }
  // Never leak internals (stack traces, paths) of an unexpected failure to the client.
  return { status: 500, message: 'internal error', headers: {} };
}

/** A short, safe description of any value for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}

/** Refuses new work while the server drains (503): every inference route and gRPC call asks first. */
export function refuseWhileDraining(ctx: { readonly draining: boolean }): void {
  if (ctx.draining) throw new HttpError(503, 'the server is shutting down');
}
