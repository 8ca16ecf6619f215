import { playwright } from '@vitest/browser-playwright';
import { defaultClientConditions } from 'vite';
import { defineProject } from 'vitest/config';

export default defineProject({
  // The fixture models and data, served as /models/… and /data/….
  publicDir: '../../fixtures',
  // Inside this repository the packages resolve to their TypeScript sources.
  resolve: { conditions: ['@modelship/source', ...defaultClientConditions] },
  // onnxruntime-web finds its .wasm next to its module; pre-bundling would move it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  test: {
    name: 'model-tests (chromium)',
    include: ['test/**/*.browser.test.ts'],
    setupFiles: ['@modelship/core/testing/setup'],
    testTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      // Debian's chromium, never a downloaded browser (CHROMIUM_PATH overrides).
      provider: playwright({
        launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
      }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
