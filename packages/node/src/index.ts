export * from '@modelship/core';
export { type ExecutionProvider, type LoadModelOptions, loadModel } from './load-model';
