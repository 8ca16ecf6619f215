// Resolved by `new URL('./worker.js', import.meta.url)` when the package runs from its
// TypeScript sources (this repository's tests and examples); the build emits dist/worker.js.
import './worker-entry-wasm.ts';
