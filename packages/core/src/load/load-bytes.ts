import { formatOf } from '../encryption/detect';
import { invalidArgument, ModelLoadError } from '../errors';
import { OnnxModel, type OnnxModelOptions } from '../model/onnx-model';
import type { OnnxRuntime } from '../model/onnx-runtime';
import { type SubtleDigest, verifyIntegrity } from './integrity';
import { detectModelFormat } from './onnx-format';

export interface LoadBytesOptions extends OnnxModelOptions {
  /** An SRI string checked against the bytes before onnxruntime sees them. */
  integrity?: string;
  /** Where the bytes came from (a path or URL), for error messages. */
  source?: string;
  /** WebCrypto implementation for the integrity check (default: `globalThis.crypto.subtle`). */
  subtle?: SubtleDigest;
}

/**
 * The loading steps every binding shares once it holds the model's bytes: the integrity check,
 * the "is this a model at all" check, then the session. Node reads the bytes from disk, the
 * browser from `fetch`; both end here.
 */
export async function loadOnnxBytes(
  runtime: OnnxRuntime,
  bytes: Uint8Array,
  options: LoadBytesOptions = {},
): Promise<OnnxModel> {
  const what = options.source ?? 'the model data';
  if (options.integrity !== undefined)
    await verifyIntegrity(bytes, options.integrity, { source: what, subtle: options.subtle });
  assertModelBytes(bytes, what);
  return OnnxModel.create(runtime, bytes, options);
}

/** Throws `MODEL_INVALID` when `bytes` are neither an ONNX nor an ORT-format model. */
export function assertModelBytes(bytes: Uint8Array, what: string, cause?: unknown): void {
  const format = detectModelFormat(bytes);
  const encrypted = format.kind === 'unknown' ? formatOf(bytes.subarray(0, 12)) : undefined;
  if (encrypted === 'jwe' || encrypted === 'chunked') {
    throw new ModelLoadError(
      'DECRYPTION_KEY_MISSING',
      `${what} is an encrypted model (${encrypted === 'jwe' ? 'a JWE' : "Modelship's chunked format"}); pass decryption: { key } to load it`,
      { cause, details: { source: what } },
    );
  }
  if (format.kind === 'unknown') {
    throw new ModelLoadError('MODEL_INVALID', `${what} is not an ONNX model: ${format.reason}`, {
      cause,
      details: { source: what },
    });
  }
}

/** Checks an `executionProviders` option: a non-empty list of provider names, in order of preference. */
export function checkExecutionProviders(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((p) => typeof p === 'string' && p !== '')) {
    throw invalidArgument(
      'loadModel',
      'executionProviders must be a non-empty list of provider names',
      value,
    );
  }
  return [...value];
}

/**
 * Checks a `logSeverityLevel` option: onnxruntime's levels, 0 (verbose), 1 (info), 2 (warning),
 * 3 (error) or 4 (fatal, Modelship's default).
 */
export function checkLogSeverityLevel(value: unknown): 0 | 1 | 2 | 3 | 4 {
  if (value !== 0 && value !== 1 && value !== 2 && value !== 3 && value !== 4) {
    throw invalidArgument(
      'loadModel',
      'logSeverityLevel must be 0 (verbose), 1 (info), 2 (warning), 3 (error) or 4 (fatal)',
      value,
    );
  }
  return value;
}
