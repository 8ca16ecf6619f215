export * from '@modelship/core';
export { CACHE_NAME, clearModelCache, evictModel, listCachedModels } from './cache';
export { decodeImage } from './decode-image';
export type { Progress } from './download';
export {
  type BrowserModel,
  type LoadDiagnostics,
  type LoadModelOptions,
  loadModel,
  type WebExecutionProvider,
} from './load-model';
export { createTelemetry, Telemetry, type TelemetryOptions } from './telemetry';
