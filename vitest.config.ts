import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources through the `@modelship/source` export condition,
// so no build is needed before `pnpm test`.
export default defineConfig({
  resolve: { conditions: ['@modelship/source'] },
  ssr: { resolve: { conditions: ['@modelship/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
