import { open, readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertModelBytes,
  type BaseModelOptions,
  type ByteSource,
  checkExecutionProviders,
  checkLogSeverityLevel,
  invalidArgument,
  loadOnnxBytes,
  ModelLoadError,
  ModelshipError,
  OnnxModel,
  type OnnxRuntime,
  type OrtSessionOptions,
} from '@modelship/core';
import * as ort from 'onnxruntime-node';

/** onnxruntime-node, seen through the API core is written against (the assignment checks it fits). */
const runtime: OnnxRuntime = ort;

export type ExecutionProvider =
  | 'cpu'
  | 'cuda'
  | 'dml'
  | 'tensorrt'
  | 'coreml'
  | 'webgpu'
  | 'qnn'
  | (string & {});

/** Options of {@link loadModel}. Unset options keep onnxruntime's defaults. */
export interface LoadModelOptions extends BaseModelOptions {
  /**
   * An SRI string (`sha256-<base64>`); the bytes are checked before a session is created and a
   * mismatch refuses to load. Compute one with `computeIntegrity` or
   * `openssl dgst -sha256 -binary model.onnx | openssl base64 -A`.
   */
  integrity?: string;
  /** Execution providers in order of preference (default `['cpu']`). */
  executionProviders?: readonly ExecutionProvider[];
  /** Threads used inside one operator (onnxruntime's `intraOpNumThreads`; 0 lets onnxruntime choose). */
  intraOpNumThreads?: number;
  /** Threads used across operators in parallel mode (`interOpNumThreads`). */
  interOpNumThreads?: number;
  /** Graph optimisation level (default `'all'`). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  /** Run independent branches of the graph in parallel (default `'sequential'`). */
  executionMode?: 'sequential' | 'parallel';
  /**
   * onnxruntime's own logging to stderr: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal
   * (default 4). Errors reach the caller as {@link ModelshipError}s either way; lower it to see
   * onnxruntime's `[E:onnxruntime:...]` lines again while debugging a model.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Any further onnxruntime `SessionOptions`; the options above take precedence. */
  sessionOptions?: OrtSessionOptions;
}

/**
 * Loads an ONNX model with onnxruntime-node.
 *
 * `source` is a file path, a `file:` URL, or the model's bytes. The signature is read from the
 * model. Failures are {@link ModelLoadError}s: `MODEL_NOT_FOUND` (no such file),
 * `MODEL_INVALID` (the bytes are not an ONNX model), `INTEGRITY_MISMATCH`, `MODEL_REJECTED`
 * (onnxruntime refused the model; its error is the `cause`).
 *
 * @example
 * const model = await loadModel('fraud.onnx', { name: 'fraud', version: '3' });
 * const out = await model.predict({ features: { dtype: 'float32', shape: [1, 12], data: new Float32Array(12) } });
 */
export async function loadModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<OnnxModel> {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('loadModel', 'options must be an object', options);
  const sessionOptions = buildSessionOptions(options);
  let bytes: Uint8Array | undefined;
  let path: string | undefined;
  if (typeof source === 'string' || source instanceof URL) {
    path =
      typeof source === 'string' ? source : source.protocol === 'file:' ? fileURLToPath(source) : undefined;
    if (path === undefined) {
      throw invalidArgument(
        'loadModel',
        'a URL source must be a file: URL (fetch other URLs yourself and pass the bytes)',
        String(source),
      );
    }
    if (path === '') throw invalidArgument('loadModel', 'the model path is empty', source);
    await checkFile(path);
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else {
    throw invalidArgument(
      'loadModel',
      'source must be a file path, a file: URL, a Uint8Array or an ArrayBuffer',
      source,
    );
  }
  const name = options.name ?? (path === undefined ? 'model' : basename(path, extname(path)) || 'model');
  const what = path ?? 'the model data';
  // With an integrity check the verified bytes are what onnxruntime loads, so nothing can
  // change the file in between; without one onnxruntime reads the path itself, which also lets
  // it find external weight files beside the model.
  if (options.integrity !== undefined && bytes === undefined) bytes = await readModelFile(path!);
  if (bytes !== undefined)
    return loadOnnxBytes(runtime, bytes, { ...options, name, sessionOptions, source: what });
  // onnxruntime opens the path; the graph's declared signature is read from the same file in
  // pieces, skipping the weights.
  const file = await open(path!).catch(() => undefined);
  try {
    const graphSource = file === undefined ? undefined : await fileSource(file);
    return await OnnxModel.create(runtime, path!, { ...options, name, sessionOptions, graphSource });
  } catch (e) {
    if (ModelshipError.isInstance(e) && e.code === 'MODEL_REJECTED') {
      // Tell a file that is not a model from a model onnxruntime refuses.
      assertModelBytes(await readModelFile(path!), what, e);
    }
    throw e;
  } finally {
    await file?.close().catch(() => undefined);
  }
}

async function fileSource(file: Awaited<ReturnType<typeof open>>): Promise<ByteSource> {
  const { size } = await file.stat();
  return {
    size,
    read: async (offset, length) => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    },
  };
}

async function checkFile(path: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ModelLoadError('MODEL_NOT_FOUND', `no model file at '${path}'`, {
        cause: e,
        details: { source: path },
      });
    }
    throw new ModelLoadError('MODEL_NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
      details: { source: path },
    });
  }
  if (!info.isFile()) {
    throw new ModelLoadError('MODEL_NOT_FOUND', `'${path}' is a directory, not a model file`, {
      details: { source: path },
    });
  }
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ModelLoadError('MODEL_NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
      details: { source: path },
    });
  }
}

const LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];

function buildSessionOptions(options: LoadModelOptions): OrtSessionOptions {
  const out: OrtSessionOptions = { ...(options.sessionOptions ?? {}) };
  if (options.executionProviders !== undefined)
    out.executionProviders = checkExecutionProviders(options.executionProviders);
  if (options.logSeverityLevel !== undefined)
    out.logSeverityLevel = checkLogSeverityLevel(options.logSeverityLevel);
  for (const key of ['intraOpNumThreads', 'interOpNumThreads'] as const) {
    const v = options[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0 || v > 1024)
      throw invalidArgument('loadModel', `${key} must be an integer from 0 to 1024`, v);
    out[key] = v;
  }
  if (options.graphOptimizationLevel !== undefined) {
    if (!LEVELS.includes(options.graphOptimizationLevel)) {
      throw invalidArgument(
        'loadModel',
        `graphOptimizationLevel must be one of ${LEVELS.join(', ')}`,
        options.graphOptimizationLevel,
      );
    }
    out.graphOptimizationLevel = options.graphOptimizationLevel;
  }
  if (options.executionMode !== undefined) {
    if (options.executionMode !== 'sequential' && options.executionMode !== 'parallel') {
      throw invalidArgument(
        'loadModel',
        "executionMode must be 'sequential' or 'parallel'",
        options.executionMode,
      );
    }
    out.executionMode = options.executionMode;
  }
  return out;
}
