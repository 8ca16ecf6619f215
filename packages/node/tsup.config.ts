import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

export default defineConfig([
  // shims: import.meta.url (used to find proto/inference.proto) works in the CJS build too.
  packageBuild({ index: 'src/index.ts' }, { external: ['onnxruntime-node', '@modelship/core'], shims: true }),
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    shims: true,
    external: ['onnxruntime-node', '@modelship/core'],
  },
  // dist/model-worker.js is what `loadModel(…, { instances })` starts on each worker thread, and
  // dist/predict-worker.js what `modelship predict --workers n` starts, found next to
  // dist/index.js, dist/index.cjs and dist/cli.js.
  {
    entry: { 'model-worker': 'src/model-worker.ts', 'predict-worker': 'src/batch/predict-worker.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    external: ['onnxruntime-node', '@modelship/core'],
  },
]);
