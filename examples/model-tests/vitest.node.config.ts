import { defineProject } from 'vitest/config';

// Inside this repository the packages resolve to their TypeScript sources; an app using the
// published packages needs no `resolve` setting.
const conditions = ['@modelship/source'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'model-tests (node)',
    include: ['test/**/*.node.test.ts'],
    setupFiles: ['@modelship/core/testing/setup'],
    testTimeout: 30_000,
  },
});
