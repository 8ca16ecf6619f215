import { open, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertModelBytes,
  type BaseModelOptions,
  type ByteSource,
  checkExecutionProviders,
  checkLogSeverityLevel,
  type InstanceEvent,
  invalidArgument,
  loadOnnxBytes,
  ModelLoadError,
  ModelshipError,
  OnnxModel,
  type OnnxRuntime,
  type OrtSessionOptions,
  verifyIntegrity,
  type WorkerPoolModel,
  warmupInputs,
} from '@modelship/core';
import { decryptModel } from '@modelship/core/encryption';
import * as ort from 'onnxruntime-node';
import { isEncryptedName, keySource, type NodeDecryptionOptions, readEncrypted } from './decryption';
import { readVerifiedModel, type SignaturePolicy } from './signing/verify-model';
import { startPool } from './worker-threads';

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
  /**
   * Load only a model signed by one of these keys or identities (OpenSSF model-signing
   * `model.sig` in the model's directory, see docs/security.md). The verified bytes are what
   * loads; a missing, untrusted or mismatching signature is a `SignatureError`.
   */
  signature?: SignaturePolicy;
  /**
   * Opens an encrypted model (`model.onnx.jwe`, a JWE with A256KW + A256GCM, or the chunked
   * `model.onnx.enc`): decrypted in memory, never written to disk. `key` is the 256-bit
   * key-wrapping key, `(kid) => key` (any KMS), `{ env: 'NAME' }` or `{ file: 'path' }`. With
   * it, a file that is not encrypted is refused; without it, a `.jwe`/`.enc` file is. An
   * `integrity` pin applies to the encrypted bytes, as they lie on disk.
   */
  decryption?: NodeDecryptionOptions;
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
  /**
   * Where inference runs (default `0`).
   * - `0`: on the calling thread. Fastest for models that take microseconds, but onnxruntime's
   *   `run` holds the thread for the whole call: a server answers nothing meanwhile.
   * - `n` ≥ 1: on `n` worker threads, each with a session of its own (Triton's `instance_group`
   *   `count`); the calling thread stays free and up to `n` calls run at once.
   * - `'auto'`: loads on the calling thread and times one call on warmup inputs (zeros of the
   *   declared shapes); a model that takes `workerThresholdMs` or more warm moves to one worker
   *   thread. What `modelship serve` does.
   */
  instances?: number | 'auto';
  /** With `instances: 'auto'`: the warm latency from which a model runs on a worker thread (default 5 ms). */
  workerThresholdMs?: number;
  /**
   * Cores this model's sessions share (default: all, `os.availableParallelism()`). Without
   * `intraOpNumThreads`, each of `n` worker instances gets `cores / n` threads (at least 1) so the
   * instances do not fight over the machine; an in-thread session gets `cores` when this is set.
   */
  cores?: number;
  /** Told when a worker instance stops unasked (its calls fail with `INFERENCE_FAILED`) and when it is replaced. */
  onInstanceEvent?: (event: InstanceEvent) => void;
}

/** What `loadModel` does on one thread: the options without the pool's. */
export type InThreadOptions = Omit<
  LoadModelOptions,
  'instances' | 'workerThresholdMs' | 'cores' | 'onInstanceEvent' | 'decryption'
>;

/** Default of `workerThresholdMs`: models slower than this run on worker threads under `modelship serve`. */
export const WORKER_THRESHOLD_MS = 5;

type Source = string | URL | Uint8Array | ArrayBuffer;

/**
 * Loads an ONNX model with onnxruntime-node.
 *
 * `source` is a file path, a `file:` URL, or the model's bytes. The signature is read from the
 * model. Failures are {@link ModelLoadError}s: `MODEL_NOT_FOUND` (no such file),
 * `MODEL_INVALID` (the bytes are not an ONNX model), `INTEGRITY_MISMATCH`, `MODEL_REJECTED`
 * (onnxruntime refused the model; its error is the `cause`).
 *
 * With `instances` the sessions run on worker threads and the result is a
 * {@link WorkerPoolModel}: the same `Model`, whose calls leave the calling thread free.
 *
 * @example
 * const model = await loadModel('fraud.onnx', { name: 'fraud', version: '3' });
 * const out = await model.predict({ features: { dtype: 'float32', shape: [1, 12], data: new Float32Array(12) } });
 * // A model that takes 200 ms a call, on two threads of its own:
 * const big = await loadModel('detector.onnx', { instances: 2 });
 */
export function loadModel(source: Source, options?: LoadModelOptions & { instances?: 0 }): Promise<OnnxModel>;
export function loadModel(source: Source, options: LoadModelOptions): Promise<OnnxModel | WorkerPoolModel>;
export async function loadModel(
  given: Source,
  options: LoadModelOptions = {},
): Promise<OnnxModel | WorkerPoolModel> {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('loadModel', 'options must be an object', options);
  const {
    instances = 0,
    workerThresholdMs = WORKER_THRESHOLD_MS,
    cores,
    onInstanceEvent,
    signature,
    decryption,
    ...rest
  } = options;
  if (instances !== 'auto' && !(Number.isSafeInteger(instances) && instances >= 0 && instances <= 256))
    throw invalidArgument('loadModel', "instances must be 'auto' or an integer from 0 to 256", instances);
  if (!(Number.isFinite(workerThresholdMs) && workerThresholdMs >= 0))
    throw invalidArgument('loadModel', 'workerThresholdMs must be a non-negative number', workerThresholdMs);
  if (cores !== undefined && !(Number.isSafeInteger(cores) && cores >= 1 && cores <= 1024))
    throw invalidArgument('loadModel', 'cores must be an integer from 1 to 1024', cores);
  if (onInstanceEvent !== undefined && typeof onInstanceEvent !== 'function')
    throw invalidArgument('loadModel', 'onInstanceEvent must be a function', onInstanceEvent);
  buildSessionOptions(rest);
  let verified: Source = given;
  if (signature !== undefined) {
    // The signature covers the files as they lie on disk: for an encrypted model, the ciphertext.
    if (typeof given !== 'string' && !(given instanceof URL))
      throw invalidArgument(
        'loadModel',
        'a signed model is loaded from its path (its signature lies beside it)',
        given,
      );
    const path = pathOf(given);
    rest.name ??= encryptedName(path);
    verified = await readVerifiedModel(path, signature);
  }
  // An encrypted model is decrypted here, once, and every thread gets the plaintext bytes.
  const { source, load } = await decrypted(verified, decryption, rest);
  const inThread = withThreads(load, cores, 0);
  if (instances === 0) return loadInThread(source, inThread);
  const src = await threadSource(source);
  const named: InThreadOptions = { ...load, name: load.name ?? nameOf(src) };
  if (instances !== 'auto')
    return startPool(src, withThreads(named, cores, instances), instances, onInstanceEvent);
  // 'auto': a model that answers within the threshold stays here, where it is fastest; only a
  // slow one pays for a thread (its one cold call here is the price of finding out).
  const model = await loadInThread(src, { ...inThread, name: named.name });
  const cold = await timeOneCall(model);
  if (cold === undefined || cold < workerThresholdMs) return model;
  let pool: WorkerPoolModel;
  try {
    pool = await startPool(src, withThreads(named, cores, 1), 1, onInstanceEvent);
  } catch {
    return model; // no thread to move to: the model still works here
  }
  const warm = await pool.probe(2).catch(() => undefined);
  if (warm !== undefined && warm >= workerThresholdMs) {
    await model.dispose();
    return pool;
  }
  await pool.dispose();
  return model;
}

/**
 * The source as onnxruntime can take it: an encrypted model (a `decryption` option, or a
 * `.jwe`/`.enc` file) becomes its plaintext bytes, named after the file, its integrity pin
 * checked on the ciphertext.
 */
async function decrypted(
  source: Source,
  decryption: NodeDecryptionOptions | undefined,
  options: InThreadOptions,
): Promise<{ source: Source; load: InThreadOptions }> {
  const path = typeof source === 'string' || source instanceof URL ? pathOf(source) : undefined;
  if (decryption === undefined) {
    if (path !== undefined && isEncryptedName(path))
      throw new ModelLoadError(
        'DECRYPTION_KEY_MISSING',
        `'${path}' is an encrypted model; pass decryption: { key } (a key, (kid) => key, { env } or { file }) to load it`,
        { details: { source: path } },
      );
    return { source, load: options };
  }
  const key = keySource(decryption, 'loadModel');
  const { integrity, ...load } = options;
  // onnxruntime-node records each session's graph name, producer, metadata and file name in a
  // telemetry database under ~/.cache/Microsoft/DeveloperTools; an encrypted model's must not
  // reach the disk. Read when onnxruntime creates its environment: effective when no session
  // was created before in this process (set the variable yourself to be sure).
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  if (path !== undefined) {
    await checkFile(path);
    const bytes = await readEncrypted(path, key, integrity);
    return { source: bytes, load: { ...load, name: load.name ?? encryptedName(path) } };
  }
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
  if (!(bytes instanceof Uint8Array))
    throw invalidArgument(
      'loadModel',
      'source must be a file path, a file: URL, a Uint8Array or an ArrayBuffer',
      bytes,
    );
  if (integrity !== undefined)
    await verifyIntegrity(bytes, integrity, { source: 'the encrypted model data' });
  return { source: await decryptModel(bytes, { key, source: 'the encrypted model data' }), load };
}

/** `fraud.onnx.jwe` → `fraud`. */
function encryptedName(path: string): string {
  const inner = basename(path).replace(/\.(jwe|enc)$/i, '');
  return basename(inner, extname(inner)) || 'model';
}

/** Milliseconds one call on warmup inputs takes here, or undefined when the model refuses them. */
async function timeOneCall(model: OnnxModel): Promise<number | undefined> {
  const inputs = warmupInputs(model.signature, 1);
  const t0 = performance.now();
  try {
    await model.predict(inputs);
  } catch {
    return undefined;
  }
  return performance.now() - t0;
}

/**
 * Threads per session: as given, else the cores shared out among `instances` (0: in-thread;
 * exported for its test, not from the package).
 * A worker's session also keeps its idle intra-op threads from spinning, unless
 * `sessionOptions.extra` says otherwise: onnxruntime's default busy-waits them between
 * operators, taking the core the main thread needs to answer requests, which is what the worker
 * is for (measured in docs/performance.md).
 */
export function withThreads<T extends InThreadOptions>(
  options: T,
  cores: number | undefined,
  instances: number,
): T {
  if (instances === 0) {
    return options.intraOpNumThreads !== undefined || cores === undefined
      ? options
      : { ...options, intraOpNumThreads: cores };
  }
  return {
    ...options,
    intraOpNumThreads:
      options.intraOpNumThreads ?? Math.max(1, Math.floor((cores ?? availableParallelism()) / instances)),
    sessionOptions: withoutSpinning(options.sessionOptions),
  };
}

/** `options` with onnxruntime's `session.intra_op.allow_spinning` set to "0" unless already set. */
function withoutSpinning(options: OrtSessionOptions | undefined): OrtSessionOptions {
  const extra = (options?.extra ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const session = extra.session ?? {};
  const intraOp = session.intra_op ?? {};
  if (intraOp.allow_spinning !== undefined || 'session.intra_op.allow_spinning' in extra)
    return options ?? {};
  return {
    ...options,
    extra: { ...extra, session: { ...session, intra_op: { ...intraOp, allow_spinning: '0' } } },
  };
}

/** A source a thread can load: an absolute path (checked here first) or bytes. */
async function threadSource(source: Source): Promise<string | Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const path = pathOf(source);
  await checkFile(path);
  return resolve(path);
}

function nameOf(source: string | Uint8Array): string {
  return typeof source === 'string' ? basename(source, extname(source)) || 'model' : 'model';
}

function pathOf(source: string | URL): string {
  const path =
    typeof source === 'string' ? source : source.protocol === 'file:' ? fileURLToPath(source) : undefined;
  if (path === undefined) {
    throw invalidArgument(
      'loadModel',
      'a URL source must be a file: URL (fetch other URLs yourself and pass the bytes)',
      String(source),
    );
  }
  if (path === '') throw invalidArgument('loadModel', 'the model path is empty', source);
  return path;
}

/** Loads the model on this thread (what `loadModel` does without `instances`, and each worker does). */
export async function loadInThread(source: Source, options: InThreadOptions): Promise<OnnxModel> {
  const sessionOptions = buildSessionOptions(options);
  let bytes: Uint8Array | undefined;
  let path: string | undefined;
  if (typeof source === 'string' || source instanceof URL) {
    path = pathOf(source);
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

function buildSessionOptions(options: InThreadOptions): OrtSessionOptions {
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
