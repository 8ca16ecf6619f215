import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources through the `@modelship/source` export condition,
// so no build is needed before `pnpm test`.
export default defineConfig({
  resolve: { conditions: ['@modelship/source'] },
  ssr: { resolve: { conditions: ['@modelship/source'] } },
  test: {
    testTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        // onnxruntime-web/wasm (what @modelship/browser imports) has no Node build; under Node
        // the package's default entry gives the same wasm backend.
        resolve: { alias: [{ find: /^onnxruntime-web\/wasm$/, replacement: 'onnxruntime-web' }] },
        test: {
          name: 'modelship',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'examples/*/test/**/*.test.ts',
            'scripts/*.test.ts',
          ],
          // examples/model-tests is an app's own suite with its own projects (one in Chromium).
          exclude: ['examples/model-tests/**', '**/node_modules/**'],
        },
      },
      'examples/model-tests/vitest.node.config.ts',
      'examples/model-tests/vitest.browser.config.ts',
    ],
  },
});
