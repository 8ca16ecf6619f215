import { defaultClientConditions, defineConfig } from 'vite';

// Cross-origin isolation lets onnxruntime-web use wasm threads; without these headers it runs
// single-threaded and @modelship/browser says so in `model.diagnostics.notices`.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // The fixture models are served as they are: /models/digits.onnx.
  publicDir: '../../fixtures',
  // onnxruntime-web finds its .wasm files relative to its own module; Vite's dependency
  // pre-bundling would move the module away from them, so it is left out of it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // Inside this repository, build from the TypeScript sources; an app using the published
  // packages needs no `resolve` setting at all.
  resolve: { conditions: ['@modelship/source', ...defaultClientConditions] },
  server: { headers: isolation },
  preview: { headers: isolation },
  build: { target: 'es2022' },
});
