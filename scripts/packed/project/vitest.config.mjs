import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['@modelship/core/testing/setup'],
    testTimeout: 60_000,
  },
});
