// dist/worker.js: the worker `@modelship/browser` starts for `worker: true` (wasm-only build).
// Built with its dependencies inlined (onnxruntime-web aside), so a dev server can serve it
// to a worker as it is.
import * as ort from 'onnxruntime-web/wasm';
import { answerInWorker } from './worker-main';

answerInWorker(ort);
