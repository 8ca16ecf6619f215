import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

export default defineConfig([
  packageBuild({ index: 'src/index.ts' }, { external: ['onnxruntime-node', '@modelship/core'] }),
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: ['onnxruntime-node', '@modelship/core'],
  },
]);
