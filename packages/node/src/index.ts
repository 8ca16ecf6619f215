export * from '@modelship/core';
export * from '@modelship/core/anomaly';
export * from '@modelship/core/baselines';
export * from '@modelship/core/batch';
export * from '@modelship/core/encryption';
export * from '@modelship/core/signing';
export {
  type ParquetSinkOptions,
  parquetRowGroupCount,
  parquetSink,
  type ReadParquetOptions,
  readParquet,
} from './batch/parquet';
export { type MergeSummary, mergeParts, type PartFormat, runShard, type ShardManifest } from './batch/parts';
export {
  type Block,
  type BlockPlan,
  parseShard,
  planBlocks,
  readBlock,
  type Shard,
  shardBlocks,
  shardFromEnv,
} from './batch/shard';
export { type FileSink, rejectsFile, rowFileSink, type TextFile, textFile, textFormatOf } from './batch/sink';
export { type ReadOptions, readCsv, readCsvColumns, readDataset, readJsonl } from './datasets';
export { keyFromEnv, keyFromFile, type NodeDecryptionOptions, type NodeKeySource } from './decryption';
export { type ExecutionProvider, type LoadModelOptions, loadModel } from './load-model';
export {
  type DamagedLine,
  DEFAULT_LOG_KEY_ENV,
  type DecryptedLog,
  decryptPredictionLog,
  type LogEncryption,
} from './log-encryption';
export { registerMonitorOtel } from './otel';
export * from './payload-log/index';
export { decodePng } from './png';
export { PredictionLog, type PredictionLogOptions } from './prediction-log';
export {
  type ExplainConfig,
  type ModelConfig,
  selectVersions,
  type VersionPolicy,
} from './repository/config';
export {
  type DeployTarget,
  FileSystemRepository,
  type RepositoryEvents,
  type RepositoryIndexEntry,
  type RepositoryOptions,
  type VersionState,
  type VersionStatus,
} from './repository/repository';
export type { RepositoryProblem } from './repository/scan';
export * from './server/index';
export type { SignerIdentity } from './signing/certificates';
export {
  type SignaturePolicy,
  type SignModelPathOptions,
  signModelPath,
  verifyModelPath,
} from './signing/verify-model';
