// What both entries export besides core and loadModel (each binds loadModel to its build).
// `export * from '@modelship/core'` stays in each entry: esbuild keeps a re-export of an
// external module only there, not in a shared chunk.
export { CACHE_NAME, clearModelCache, evictModel, listCachedModels } from './cache';
export { decodeImage } from './decode-image';
export type { Progress } from './download';
export type { BrowserModel, LoadDiagnostics, LoadModelOptions, WebExecutionProvider } from './load-model';
export type { BrowserSignaturePolicy } from './signature';
export { createTelemetry, Telemetry, type TelemetryOptions } from './telemetry';
