export { type Clock, systemClock } from './clock';
export { type CompareOptions, disagreement } from './compare';
export { Deployer, type DeployerOptions } from './deployer';
export { routingPoint } from './hash';
export type { Guards, GuardWindow, ResolvedPolicy, RolloutStep, TrafficPolicy } from './policy';
export type { WindowSnapshot } from './stats';
export type {
  AdmissionOptions,
  BatchingOptions,
  BatchingStatus,
  DeployerEvents,
  DeploymentStatus,
  DeployOptions,
  DeployPredictOptions,
  ModelSource,
  PredictionEvent,
  VersionState,
  VersionStatus,
  WarmupOptions,
  WarmupStatus,
} from './types';
export { warmupInputs } from './warmup';
