// Resolved by `new URL('./worker-webgpu.js', import.meta.url)` when the package runs from its
// TypeScript sources; the build emits dist/worker-webgpu.js.
import './worker-entry-webgpu.ts';
