import { defineConfig } from 'vite';

// What docs/browser.md tells a user to write, nothing more.
export default defineConfig({
  publicDir: 'fixtures',
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022' },
  logLevel: 'warn',
});
