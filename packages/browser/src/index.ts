export * from '@modelship/core';
export { type LoadModelOptions, loadModel, type WebExecutionProvider } from './load-model';
