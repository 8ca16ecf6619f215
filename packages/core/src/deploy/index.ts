export { type Clock, systemClock } from './clock';
export { type CompareOptions, disagreement } from './compare';
export { Deployer, type DeployerOptions } from './deployer';
export { routingPoint } from './hash';
export type { Guards, GuardWindow, ResolvedPolicy, RolloutStep, TrafficPolicy } from './policy';
export type { AdmissionOptions, BatchingOptions, BatchingStatus, VersionState } from './runner';
export type { WindowSnapshot } from './stats';
export type {
  DeployerEvents,
  DeploymentStatus,
  DeployOptions,
  DeployPredictOptions,
  ModelSource,
  PredictionEvent,
  VersionStatus,
  WarmupOptions,
  WarmupStatus,
} from './types';
export { warmupInputs } from './warmup';
