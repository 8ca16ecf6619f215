// The anomaly classes (detectors, quality checks, CBPE) are in `@modelship/core/anomaly`; the
// screen a Deployer runs, and the types the Deployer and the Monitor speak, are here.
export type { EstimatedMetric, MetricEstimate, PerformanceEstimate } from './anomaly/cbpe';
export type { DetectorJsonBase, OutlierDetector } from './anomaly/detector';
export type { QualityFinding, QualityMode, QualityRule } from './anomaly/quality';
export {
  flaggedSummary,
  InputRejectedError,
  InputScreen,
  type InputScreenOptions,
  type OutlierScore,
  type OutlierScreenOptions,
  type ScreenMode,
  type ScreenReport,
} from './anomaly/screen';
export * from './deploy';
export {
  AbortError,
  DATA_FAULT_CODES,
  DeadlineExceededError,
  type ErrorCode,
  InputError,
  invalidArgument,
  ModelLoadError,
  ModelshipError,
  type ModelshipErrorOptions,
  OverloadedError,
  SignatureError,
} from './errors';
export * from './evaluate';
export * from './explain';
export {
  computeIntegrity,
  expectIntegrity,
  type IntegrityHash,
  parseIntegrity,
  type SubtleDigest,
  verifyIntegrity,
} from './load/integrity';
export {
  assertModelBytes,
  checkExecutionProviders,
  checkLogSeverityLevel,
  type LoadBytesOptions,
  loadOnnxBytes,
} from './load/load-bytes';
export { detectModelFormat, type ModelFormat } from './load/onnx-format';
export {
  type DeclaredSignature,
  type DeclaredValue,
  readOnnxSignature,
  type ValueKind,
} from './load/onnx-graph';
export type { ByteSource } from './load/protobuf';
export { rewriteZipMaps, type ZipMapOutput, type ZipMapRewrite } from './load/zipmap';
export {
  createRedactor,
  type FieldPolicy,
  LOG_PAYLOAD_FIELDS,
  type LogPolicy,
  type Redactor,
} from './logging/policy';
export * from './metrics';
export { raceAbort, throwIfAborted } from './model/abort';
export { BaseModel, type BaseModelOptions } from './model/base-model';
export {
  checkSignature,
  FunctionModel,
  type FunctionModelOptions,
  functionModel,
  type PredictFunction,
} from './model/function-model';
export type { AbortSignalLike, Model, PredictOptions } from './model/model';
export { OnnxModel, type OnnxModelOptions, signatureFromSession } from './model/onnx-model';
export type {
  OnnxRuntime,
  OrtSession,
  OrtSessionOptions,
  OrtTensor,
  OrtValueMetadata,
} from './model/onnx-runtime';
export { serveModelInWorker, type WorkerPort } from './model/worker-host';
export {
  type InstanceEvent,
  type InstanceStatus,
  type WorkerHandle,
  WorkerPoolModel,
  type WorkerPoolOptions,
} from './model/worker-pool';
export type { FromWorker, SerializedError, ToWorker } from './model/worker-protocol';
export * from './monitor';
export * from './pipeline';
export {
  coerceInput,
  isOrtTensor,
  type ModelInputs,
  type OrtTensorLike,
  type TensorInput,
} from './tensor/coerce';
export {
  allocate,
  bytesPerElement,
  classTag,
  type DataTypeMap,
  DTYPES,
  type DType,
  type ElementTypeMap,
  float16BitsToNumber,
  INT64_MAX,
  INT64_MIN,
  INTEGER_RANGE,
  isBigInt,
  isDType,
  isFloat,
  isStorageOf,
  numberToFloat16Bits,
  type TensorData,
  UINT64_MAX,
} from './tensor/dtype';
export {
  batchDimension,
  type ClassLabels,
  type Dim,
  formatShape,
  type ModelSignature,
  type TensorSpec,
  type UnsupportedOutput,
} from './tensor/spec';
export {
  asDType,
  checkShape,
  checkTensor,
  isTensor,
  type NamedTensors,
  type NestedArray,
  sizeOf,
  type Tensor,
  type TensorSource,
  tensor,
  toArray,
  toNested,
} from './tensor/tensor';
export {
  DEFAULT_MAX_ELEMENTS,
  type ValidationOptions,
  validateInputs,
  validateOutputNames,
} from './tensor/validate';
