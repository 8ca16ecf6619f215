import { defineConfig } from 'vitest/config';

// `pnpm test` here runs both: the Node project and the same kit in Vitest browser mode.
export default defineConfig({
  test: { projects: ['./vitest.node.config.ts', './vitest.browser.config.ts'] },
});
