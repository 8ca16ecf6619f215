import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

export default defineConfig(
  packageBuild(
    {
      index: 'src/index.ts',
      'baselines/index': 'src/baseline/index.ts',
      'anomaly/index': 'src/anomaly/index.ts',
      'signing/index': 'src/signing/index.ts',
      'encryption/index': 'src/encryption/index.ts',
      'serve/index': 'src/serve/index.ts',
      'batch/index': 'src/batch/index.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/setup': 'src/testing/setup.ts',
    },
    // Vitest is the testing subpath's optional peer: never bundled.
    { external: ['vitest'] },
  ),
);
