// dist/worker-webgpu.js: the worker `@modelship/browser/webgpu` starts for `worker: true`
// (onnxruntime-web's default build: wasm, WebGPU and WebNN).
import * as ort from 'onnxruntime-web';
import { answerInWorker } from './worker-main';

answerInWorker(ort);
