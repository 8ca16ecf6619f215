import {
  assertModelBytes,
  type BaseModelOptions,
  checkExecutionProviders,
  checkLogSeverityLevel,
  invalidArgument,
  ModelLoadError,
  ModelshipError,
  OnnxModel,
  type OnnxRuntime,
  type OrtSessionOptions,
  verifyIntegrity,
} from '@modelship/core';
import type { DecryptionOptions } from '@modelship/core/encryption';
import { cacheKey, readCached, writeCached } from './cache';
import { download, type Progress } from './download';
import type { BrowserSignaturePolicy } from './signature';
import { startWorker, type WorkerLike, WorkerModel } from './worker-model';

/**
 * One onnxruntime-web build and its worker: `@modelship/browser` passes the wasm-only build,
 * `@modelship/browser/webgpu` the one with WebGPU and WebNN. Which build a page imports decides
 * which `.wasm` its bundler emits (14 MB against 28 MB), so each entry names its own.
 */
export interface WebBackend {
  /** The onnxruntime-web module (the assignment in each entry checks it fits core's API). */
  readonly runtime: OnnxRuntime & { readonly env: { readonly wasm: { numThreads?: number } } };
  /** The execution providers this build has. */
  readonly providers: readonly string[];
  /** What to tell a caller asking for a provider this build lacks. */
  readonly otherBuild: string;
  /** Starts this build's worker script (`new Worker(new URL(…), …)`, written out for bundlers). */
  readonly worker: () => WorkerLike;
}

export type WebExecutionProvider = 'wasm' | 'webgpu' | 'webnn' | 'webgl' | (string & {});

/** Options of {@link loadModel} in the browser. */
export interface LoadModelOptions extends BaseModelOptions {
  /**
   * An SRI string (`sha256-<base64>`) checked with SubtleCrypto before the session is created.
   * For an encrypted model it pins the encrypted bytes, as downloaded.
   */
  integrity?: string;
  /**
   * Load only a model signed by one of these keys: `model.sig` (OpenSSF model-signing) beside the
   * model URL is checked with WebCrypto, and so are the other files it lists. See docs/security.md.
   */
  signature?: BrowserSignaturePolicy;
  /**
   * Opens an encrypted model (a JWE with A256KW + A256GCM, or Modelship's chunked format):
   * downloaded and cached encrypted, decrypted in memory with WebCrypto. `key` is the 256-bit
   * key-wrapping key the app holds: a `CryptoKey` (AES-KW; non-extractable is fine), its 32
   * bytes, or `(kid) => key`, say a call to your key service. With it, a file that is not
   * encrypted is refused.
   */
  decryption?: DecryptionOptions;
  /**
   * Execution providers in order of preference (default `['wasm']`). Each is tried in turn;
   * `diagnostics` says which one was chosen and why the others were not.
   */
  executionProviders?: readonly WebExecutionProvider[];
  /** Keep the downloaded bytes in Cache Storage, keyed by URL and integrity (default `false`). */
  cache?: boolean;
  /** Called as the download streams in. */
  onProgress?: (progress: Progress) => void;
  /**
   * Wasm threads. Default: up to 4 when the page is cross-origin isolated, else 1 (browsers
   * allow wasm threads only then). onnxruntime-web sets this once, at its first session.
   */
  numThreads?: number;
  /** Passed to `fetch` (credentials, headers, an `AbortSignal`). */
  fetchInit?: RequestInit;
  /**
   * Run the session in a Web Worker so inference never blocks the page (default `false`).
   * Download, cache and integrity checks stay on the page; `dispose()` terminates the worker.
   */
  worker?: boolean;
  /**
   * onnxruntime's own logging to the console: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal
   * (default 4). Errors reach the caller as `ModelshipError`s either way.
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Further onnxruntime `SessionOptions`; the options above take precedence. */
  sessionOptions?: OrtSessionOptions;
}

/** What happened while loading, for logs and support tickets. */
export interface LoadDiagnostics {
  /** The execution provider the session runs on. */
  executionProvider: string;
  /** Providers tried before it, with the reason each was passed over. */
  skipped: { provider: string; reason: string }[];
  /** Wasm threads onnxruntime-web uses. */
  threads: number;
  crossOriginIsolated: boolean;
  /** `hit`: bytes from Cache Storage; `stored`: downloaded and cached; `failed`: not cached (see notices); `off`. */
  cache: 'hit' | 'stored' | 'failed' | 'off';
  /** Model size in bytes. */
  bytes: number;
  /** Things worth telling a developer, such as threads being off. */
  notices: string[];
  /** True when the session runs in a Web Worker. */
  worker: boolean;
}

/** A browser model, on the page or in a worker, that also says how it was loaded. */
export type BrowserModel = (OnnxModel | WorkerModel) & { readonly diagnostics: LoadDiagnostics };

/** The loader behind each entry's `loadModel`, on that entry's onnxruntime-web build. */
export async function loadModelWith(
  backend: WebBackend,
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<BrowserModel> {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('loadModel', 'options must be an object', options);
  const providers = checkExecutionProviders(options.executionProviders ?? ['wasm']);
  const logging =
    options.logSeverityLevel === undefined
      ? {}
      : { logSeverityLevel: checkLogSeverityLevel(options.logSeverityLevel) };
  const notices: string[] = [];
  const threads = configureThreads(backend, options.numThreads, notices);
  const isUrl = typeof source === 'string' || source instanceof URL;
  let bytes: Uint8Array;
  let cache: LoadDiagnostics['cache'] = 'off';
  const where = isUrl ? String(source) : 'the model data';
  if (isUrl) {
    ({ bytes, cache } = await fetchBytes(where, options, notices));
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else {
    throw invalidArgument('loadModel', 'source must be a URL, a Uint8Array or an ArrayBuffer', source);
  }
  if (options.integrity !== undefined && cache !== 'hit' && !isUrl)
    await verifyIntegrity(bytes, options.integrity, { source: where });
  if (options.signature !== undefined) {
    if (!isUrl)
      throw invalidArgument(
        'loadModel',
        'a signed model is loaded from its URL (its signature lies beside it)',
        source,
      );
    // Loaded only when asked for: pages that load unsigned models do not carry the verifier.
    const { verifyModelBytes } = await import('./signature');
    await verifyModelBytes(
      new URL(where, (globalThis as { location?: { href: string } }).location?.href).href,
      bytes,
      options.signature,
      options.fetchInit,
    );
  }
  // The signature covers the file as downloaded: for an encrypted model, the ciphertext.
  // Cache Storage holds what was downloaded: the ciphertext. The plaintext lives only here.
  if (options.decryption !== undefined) {
    // Loaded only by pages that decrypt: a page that never does never fetches it.
    const { decryptModel } = await import('@modelship/core/encryption');
    bytes = await decryptModel(bytes, { ...options.decryption, source: where });
  }
  assertModelBytes(bytes, where);
  const name = options.name ?? (isUrl ? nameFromUrl(where) : 'model');

  const skipped: LoadDiagnostics['skipped'] = [];
  let lastError: unknown;
  for (const provider of providers) {
    const unavailable = whyUnavailable(backend, provider);
    if (unavailable !== undefined) {
      skipped.push({ provider, reason: unavailable });
      continue;
    }
    try {
      const sessionOptions = {
        ...(options.sessionOptions ?? {}),
        ...logging,
        executionProviders: [provider],
      };
      const model =
        options.worker === true
          ? await WorkerModel.start(startWorker(backend.worker), bytes, {
              ...options,
              name,
              provider,
              numThreads: threads,
              sessionOptions,
            })
          : await OnnxModel.create(backend.runtime, bytes, {
              ...options,
              name,
              exclusiveRuns: true,
              sessionOptions,
            });
      const diagnostics: LoadDiagnostics = {
        executionProvider: provider,
        skipped,
        threads,
        crossOriginIsolated: isolated(),
        cache,
        bytes: bytes.byteLength,
        notices,
        worker: options.worker === true,
      };
      if (skipped.length > 0)
        notices.push(`using ${provider}: ${skipped.map((s) => `${s.provider} ${s.reason}`).join('; ')}`);
      return Object.defineProperty(model, 'diagnostics', {
        value: diagnostics,
        enumerable: true,
      }) as BrowserModel;
    } catch (e) {
      if (ModelshipError.isInstance(e) && e.code === 'MODEL_UNSUPPORTED') throw e;
      lastError = e;
      skipped.push({ provider, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new ModelLoadError(
    'MODEL_REJECTED',
    `no execution provider could run '${name}': ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`,
    { cause: lastError, details: { skipped } },
  );
}

async function fetchBytes(
  url: string,
  options: LoadModelOptions,
  notices: string[],
): Promise<{ bytes: Uint8Array; cache: LoadDiagnostics['cache'] }> {
  const useCache = options.cache === true && (globalThis as { caches?: unknown }).caches !== undefined;
  if (options.cache === true && !useCache)
    notices.push('Cache Storage is not available here (it needs a secure context); the model was not cached');
  const key = useCache ? cacheKey(url, options.integrity) : '';
  if (useCache) {
    const cached = await readCached(key);
    if (cached !== undefined) {
      if (options.integrity === undefined) return { bytes: cached, cache: 'hit' };
      try {
        await verifyIntegrity(cached, options.integrity, { source: url });
        options.onProgress?.({ loaded: cached.byteLength, total: cached.byteLength });
        return { bytes: cached, cache: 'hit' };
      } catch (e) {
        if (!(ModelshipError.isInstance(e) && e.code === 'INTEGRITY_MISMATCH')) throw e;
        notices.push('the cached copy failed its integrity check and was downloaded again');
      }
    }
  }
  const bytes = await download(url, options.fetchInit, options.onProgress);
  if (options.integrity !== undefined) await verifyIntegrity(bytes, options.integrity, { source: url });
  if (!useCache) return { bytes, cache: 'off' };
  try {
    await writeCached(key, bytes);
    return { bytes, cache: 'stored' };
  } catch (e) {
    notices.push(e instanceof Error ? e.message : String(e));
    return { bytes, cache: 'failed' };
  }
}

function isolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

function configureThreads(backend: WebBackend, requested: number | undefined, notices: string[]): number {
  if (requested !== undefined && !(Number.isSafeInteger(requested) && requested >= 1 && requested <= 64)) {
    throw invalidArgument('loadModel', 'numThreads must be an integer from 1 to 64', requested);
  }
  const cores =
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  let threads = requested ?? Math.max(1, Math.min(4, Math.floor(cores / 2)));
  if (!isolated() && threads > 1) {
    notices.push(
      'wasm threads are off: the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
    threads = 1;
  }
  backend.runtime.env.wasm.numThreads = threads;
  return threads;
}

function whyUnavailable(backend: WebBackend, provider: string): string | undefined {
  if (!backend.providers.includes(provider)) return backend.otherBuild;
  const nav = (globalThis as { navigator?: { gpu?: unknown; ml?: unknown } }).navigator;
  if (provider === 'webgpu' && nav?.gpu === undefined)
    return 'is not available: this browser has no navigator.gpu';
  if (provider === 'webnn' && nav?.ml === undefined)
    return 'is not available: this browser has no navigator.ml';
  return undefined;
}

function nameFromUrl(url: string): string {
  const last = url.split(/[?#]/)[0]!.split('/').pop() ?? '';
  return last.replace(/\.(jwe|enc)$/i, '').replace(/\.(onnx|ort)$/i, '') || 'model';
}
