import {
  type BaseModelOptions,
  invalidArgument,
  loadOnnxBytes,
  ModelLoadError,
  type OnnxModel,
  type OnnxRuntime,
  type OrtSessionOptions,
} from '@modelship/core';
import * as ort from 'onnxruntime-web';

/** onnxruntime-web, seen through the API core is written against (the assignment checks it fits). */
const runtime: OnnxRuntime = ort;

export type WebExecutionProvider = 'wasm' | 'webgpu' | 'webnn' | 'webgl' | (string & {});

/** Options of {@link loadModel} in the browser. */
export interface LoadModelOptions extends BaseModelOptions {
  /** An SRI string (`sha256-<base64>`) checked with SubtleCrypto before the session is created. */
  integrity?: string;
  /** Execution providers in order of preference (default `['wasm']`). */
  executionProviders?: readonly WebExecutionProvider[];
  /** Further onnxruntime `SessionOptions`; the options above take precedence. */
  sessionOptions?: OrtSessionOptions;
  /** Passed to `fetch` (credentials, headers, an `AbortSignal`). */
  fetchInit?: RequestInit;
}

/**
 * Loads an ONNX model in the browser (or a worker) with onnxruntime-web.
 *
 * @example
 * const model = await loadModel('/models/digits.onnx', { integrity: 'sha256-…' });
 */
export async function loadModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<OnnxModel> {
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('loadModel', 'options must be an object', options);
  const sessionOptions: OrtSessionOptions = { ...(options.sessionOptions ?? {}) };
  if (options.executionProviders !== undefined) {
    const eps = options.executionProviders;
    if (!Array.isArray(eps) || eps.length === 0 || !eps.every((p) => typeof p === 'string' && p !== '')) {
      throw invalidArgument(
        'loadModel',
        'executionProviders must be a non-empty list of provider names',
        eps,
      );
    }
    sessionOptions.executionProviders = [...eps];
  }
  let bytes: Uint8Array;
  let where = 'the model bytes';
  if (typeof source === 'string' || source instanceof URL) {
    where = String(source);
    bytes = await download(where, options.fetchInit);
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else if (source instanceof ArrayBuffer) {
    bytes = new Uint8Array(source);
  } else {
    throw invalidArgument('loadModel', 'source must be a URL, a Uint8Array or an ArrayBuffer', source);
  }
  const name =
    options.name ?? (typeof source === 'string' || source instanceof URL ? nameFromUrl(where) : 'model');
  return loadOnnxBytes(runtime, bytes, { ...options, name, sessionOptions, source: where });
}

async function download(url: string, init: RequestInit | undefined): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    throw new ModelLoadError('MODEL_NOT_FOUND', `could not fetch '${url}': ${(e as Error).message}`, {
      cause: e,
      details: { source: url },
    });
  }
  if (!response.ok) {
    throw new ModelLoadError(
      'MODEL_NOT_FOUND',
      `fetching '${url}' answered ${response.status} ${response.statusText}`,
      {
        details: { source: url, status: response.status },
      },
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

function nameFromUrl(url: string): string {
  const last = url.split(/[?#]/)[0]!.split('/').pop() ?? '';
  return last.replace(/\.(onnx|ort)$/i, '') || 'model';
}
