// A plain webpack 5 set-up: no loaders, no copy plugin. onnxruntime-web's .wasm file and
// @modelship/browser's worker are found through `new URL(..., import.meta.url)`, which webpack
// turns into emitted assets on its own.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: fileURLToPath(new URL('./src/index.js', import.meta.url)),
  output: { path: fileURLToPath(new URL('./dist/', import.meta.url)), clean: true },
  target: 'web',
  performance: { hints: false },
};
