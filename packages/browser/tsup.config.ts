import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

// Two entries, one per onnxruntime-web build: `.` (wasm only) and `./webgpu` (wasm, WebGPU,
// WebNN); what they share is split into common chunks. Each has its worker script, found next
// to it through `new URL('./worker….js', import.meta.url)`.
export default defineConfig([
  packageBuild(
    { index: 'src/index.ts', webgpu: 'src/webgpu.ts' },
    { external: ['onnxruntime-web', '@modelship/core'] },
  ),
  {
    entry: { worker: 'src/worker-entry-wasm.ts', 'worker-webgpu': 'src/worker-entry-webgpu.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'es2022',
    splitting: false,
    // A worker started by a dev server (Vite) is served as it is, never pre-bundled, so it
    // must import no CommonJS: core and its dependencies (eventemitter3 is CommonJS) are
    // inlined; onnxruntime-web is ESM and stays external, for its .wasm next to it.
    external: ['onnxruntime-web'],
    noExternal: ['@modelship/core', 'eventemitter3', 'ml-matrix'],
  },
]);
