import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

// dist/worker.js is the module `worker: true` starts, found next to dist/index.js.
export default defineConfig([
  packageBuild({ index: 'src/index.ts' }, { external: ['onnxruntime-web', '@modelship/core'] }),
  {
    entry: { worker: 'src/worker-main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'es2022',
    external: ['onnxruntime-web', '@modelship/core'],
  },
]);
