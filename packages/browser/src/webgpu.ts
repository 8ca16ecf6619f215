/**
 * `@modelship/browser/webgpu`: the API of `@modelship/browser` on onnxruntime-web's default
 * build, which adds WebGPU and WebNN to wasm (a 28 MB `.wasm` in the app instead of 14 MB).
 */
import * as ort from 'onnxruntime-web';
import { type BrowserModel, type LoadModelOptions, loadModelWith, type WebBackend } from './load-model';

export * from '@modelship/core';
export * from './common';

const backend: WebBackend = {
  runtime: ort,
  providers: ['webgpu', 'webnn', 'wasm', 'cpu'],
  otherBuild: "is not in onnxruntime-web's default build (it has webgpu, webnn and wasm)",
  worker: () =>
    new Worker(new URL('./worker-webgpu.js', import.meta.url), { type: 'module', name: 'modelship-model' }),
};

/**
 * Loads an ONNX model in the browser (or a worker) with onnxruntime-web, trying the execution
 * providers in order: WebGPU where the browser has it, else the next one.
 *
 * @example
 * const model = await loadModel('/models/digits.onnx', { executionProviders: ['webgpu', 'wasm'] });
 * model.diagnostics.executionProvider; // 'wasm' where WebGPU is missing
 */
export function loadModel(
  source: string | URL | Uint8Array | ArrayBuffer,
  options: LoadModelOptions = {},
): Promise<BrowserModel> {
  return loadModelWith(backend, source, options);
}
