// The WebGPU entry: it asks for WebGPU and, in a browser without it, runs on wasm.
import { loadModel } from '@modelship/browser/webgpu';
import { expose } from './page';

expose(loadModel, { executionProviders: ['webgpu', 'wasm'] });
