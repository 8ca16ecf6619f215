/**
 * `@modelship/browser`: models on onnxruntime-web's wasm-only build (one 14 MB `.wasm` in the
 * app). For WebGPU or WebNN import the same API from `@modelship/browser/webgpu`.
 */
import * as ort from 'onnxruntime-web/wasm';
import { type BrowserModel, type LoadModelOptions, loadModelWith, type WebBackend } from './load-model';

export * from '@modelship/core';
export * from './common';

const backend: WebBackend = {
  runtime: ort,
  providers: ['wasm', 'cpu'],
  otherBuild:
    "is not in @modelship/browser's wasm-only build: import loadModel from '@modelship/browser/webgpu' for WebGPU and WebNN",
  worker: () =>
    new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'modelship-model' }),
};

/**
 * Loads an ONNX model in the browser (or a worker) with onnxruntime-web's wasm backend.
 *
 * @example
 * const model = await loadModel('/models/digits.onnx', {
 *   integrity: 'sha256-…', cache: true, worker: true,
 *   onProgress: ({ loaded, total }) => bar.set(total ? loaded / total : 0),
 * });
 * model.diagnostics; // { executionProvider: 'wasm', threads: 4, cache: 'stored', … }
 */
export function loadModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<BrowserModel> {
  return loadModelWith(backend, source, options);
}
