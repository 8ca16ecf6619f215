import type { EventEmitter } from 'eventemitter3';
import type { InputScreen, ScreenReport } from '../anomaly/screen';
import type { Row } from '../evaluate/types';
import type { AbortSignalLike, Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import type { Clock } from './clock';
import type { GuardWindow, ResolvedPolicy, TrafficPolicy } from './policy';
import type { WindowSnapshot } from './stats';

/** What a deployment needs from its Deployer. */
export interface DeploymentHost {
  readonly clock: Clock;
  readonly random: () => number;
  readonly events: EventEmitter<DeployerEvents>;
  /** Errors already reported in a `prediction` event, so a refusal is never counted twice. */
  readonly reported: WeakSet<object>;
}

/**
 * Dynamic batching, with Triton's knobs: requests queued while the model is busy, or for up to
 * `maxQueueDelayMs`, are stacked along the batch dimension into one call.
 */
export interface BatchingOptions {
  /** The most rows one model call may carry. */
  maxBatchSize: number;
  /**
   * How long the oldest queued request may wait for others to join it (default 0: a batch goes
   * as soon as the model is free, made of whatever is waiting).
   */
  maxQueueDelayMs?: number;
  /** Batch sizes that go at once, without waiting for the delay, when exactly reached. */
  preferredBatchSizes?: readonly number[];
}

/** Admission control for one version: calls running at once and requests allowed to wait. */
export interface AdmissionOptions {
  /** Model calls (batches, when batching) running at once (default: unlimited, or 1 with batching). */
  maxConcurrency?: number;
  /** Requests that may wait for a free slot; past it, `OverloadedError` at once (default 1024). */
  maxQueue?: number;
}

/** `loading` and `warming` before traffic; `ready` while serving; `draining` after removal. */
export type VersionState = 'loading' | 'warming' | 'ready' | 'draining' | 'unloaded';

/** Batching as it applies to one loaded version: on, or off with the reason. */
export interface BatchingStatus {
  enabled: boolean;
  reason?: string;
  batches: number;
  /** Mean rows per model call (Triton's inference_count / execution_count). */
  meanBatchSize: number;
}

/** Where a version's model comes from: a loaded model, or a function that loads it. */
export type ModelSource = Model | (() => Promise<Model>);

/**
 * Warmup runs before a version takes traffic. Samples given here are real requests: one that
 * fails refuses the version (`WARMUP_FAILED`). Without them the warmup is synthetic (zeros of
 * the declared shapes), a guess that may not suit the model: when it fails the version serves
 * anyway, and `warmupSkipped` and the version's `warmup` status say why.
 */
export interface WarmupOptions {
  /**
   * Sample requests to run, or a function making them from the loaded model's signature (to
   * decode samples stored as files, say). Default: zeros of the declared shapes, batch 1.
   */
  inputs?:
    | readonly ModelInputs[]
    | ((signature: ModelSignature) => readonly ModelInputs[] | Promise<readonly ModelInputs[]>);
  /** What to call each sample in errors, in the order of `inputs` (file names, say; default its position). */
  names?: readonly string[];
  /** How many times each sample runs (default 1). */
  runs?: number;
}

/** How a version's warmup went, as `status()` reports it. */
export interface WarmupStatus {
  /**
   * `warmed`: every warmup run succeeded; `skipped`: the synthetic warmup (zeros) failed and
   * the version serves unwarmed (`reason` says why); `off`: `warmup: false`.
   */
  state: 'warmed' | 'skipped' | 'off';
  /** Warmup runs that succeeded. */
  runs: number;
  reason?: string;
  /** The `code` of the error that made the warmup skip, when it had one. */
  code?: string;
}

/** Options of {@link Deployer.deploy}. */
export interface DeployOptions {
  /** The version's name (default: the model's own `version`). */
  version?: string;
  /**
   * Runs before the version takes traffic, so that lazy initialisation never slows a real request
   * (default `true`: one run on zeros of the declared shapes, and one at `maxBatchSize` when
   * batching). A version that fails a warmup sample given in `inputs`, or does not finish its
   * warmup within `loadTimeoutMs`, never receives traffic; one whose synthetic warmup (zeros)
   * fails serves unwarmed, with a `warmupSkipped` event.
   */
  warmup?: boolean | WarmupOptions;
  /**
   * Give up on loading and on warming up after this many milliseconds each, with
   * `DEADLINE_EXCEEDED` (default: no limit). The versions already serving keep serving.
   */
  loadTimeoutMs?: number;
  /** Dynamic batching for this version (default off). */
  batching?: BatchingOptions;
  /** Model calls running at once (default unlimited; when batching, 1, or a worker pool's `instances`). */
  maxConcurrency?: number;
  /** Requests allowed to wait for a free slot or a batch; past it, `OverloadedError` (default 1024). */
  maxQueue?: number;
  /** The default per-request timeout for this version, in milliseconds (default none). */
  timeoutMs?: number;
  /**
   * How the deployment's traffic changes once this version is ready (default `single`: it becomes
   * the primary and takes all traffic). A `canary`, `shadow` or `rollout` without a `version`
   * makes this version the candidate.
   */
  policy?: TrafficPolicy;
  /**
   * When this version becomes the primary, retire the version it replaces: that version finishes
   * its queued and in-flight requests, then its model is disposed (default `true`). With `false`
   * the old version stays loaded, addressable by version, and `rollback` returns to it at once.
   */
  replace?: boolean;
}

/** Options of {@link Deployer.predict}. */
export interface DeployPredictOptions {
  /** Ask for this version rather than the one the policy picks. */
  version?: string;
  /** Sticky routing: requests with the same key reach the same version under weighted policies. */
  routingKey?: string;
  signal?: AbortSignalLike;
  /** Reject with `DeadlineExceededError` after this many milliseconds (queue time included). */
  timeoutMs?: number;
  /** Compute and return only these outputs. */
  outputs?: readonly string[];
  /**
   * Called synchronously with the version that will answer, once routing has chosen it and
   * before the request queues: a server reports it as `model_version`.
   */
  onRoute?: (version: string) => void;
  /**
   * The records the inputs were made from (field → value, as a pipeline received them): a
   * deployment's input screen checks these rather than the tensor's rows.
   */
  records?: readonly Row[];
  /**
   * Called synchronously with what the deployment's input screen found (data-quality findings,
   * outlier scores) before the request queues; `report.flag` says the answer should carry them.
   * Not called when the deployment has no screen.
   */
  onScreen?: (report: ScreenReport) => void;
  /**
   * `'explain'` marks the calls an explainer makes (coalitions of a request's rows with
   * background rows): they run as any request (routing, batching, admission, deadline), but
   * their `prediction` events carry `kind: 'explain'`, so monitors, metrics and prediction logs,
   * which count served traffic, skip them, the deployment's input screen does not check them,
   * and the version's request statistics and canary guards leave them out (default `'serve'`).
   */
  kind?: 'serve' | 'explain';
}

/** One loaded version, as `status()` reports it. */
export interface VersionStatus {
  version: string;
  state: VersionState;
  /** The share of policy-routed traffic this version receives now. */
  traffic: number;
  /** Requests running in the model now, and waiting. */
  inFlight: number;
  queued: number;
  requests: number;
  errors: number;
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  batching?: BatchingStatus;
  warmup: WarmupStatus;
  /** What the deployment's input screen counted for this version, when it has one. */
  screen?: { records: number; qualityViolations: number; scored: number; outliers: number };
}

/** A deployment, as `status()` reports it. */
export interface DeploymentStatus {
  name: string;
  /** The version that answers requests by default. */
  primary: string | undefined;
  policy: ResolvedPolicy;
  /** The current step of a rollout (0-based) and its weight. */
  rollout?: { step: number; weight: number };
  /** Versions loading or warming up now. */
  loading: string[];
  versions: VersionStatus[];
}

interface VersionEvent {
  name: string;
  version: string;
}

/** What a `Deployer` emits; `prediction` is what a Monitor listens to. */
export interface DeployerEvents {
  loaded: [VersionEvent & { ms: number }];
  warmedUp: [VersionEvent & { ms: number; runs: number }];
  loadFailed: [VersionEvent & { stage: 'load' | 'warmup'; error: unknown }];
  /** The synthetic warmup (zeros) failed: the version serves unwarmed. */
  warmupSkipped: [VersionEvent & { reason: string; error: unknown }];
  /** `version` became the primary; `previous` was. */
  promoted: [VersionEvent & { previous: string | undefined }];
  /** `version` lost its traffic: a guard fired or `rollback` was called; `restored` serves instead. */
  rolledBack: [VersionEvent & { restored: string | undefined; reason: string; window?: GuardWindow }];
  rolloutStep: [VersionEvent & { step: number; weight: number }];
  policyChanged: [{ name: string; policy: ResolvedPolicy }];
  /** A version's model was disposed after its last request finished. */
  unloaded: [VersionEvent];
  /** A batch setting that could not apply (for example, a model without a batch dimension). */
  batchingDisabled: [VersionEvent & { reason: string }];
  prediction: [PredictionEvent];
  /** A shadow (or guarded candidate) answered the same request as the primary. */
  compared: [
    {
      name: string;
      primary: string;
      candidate: string;
      disagreement: number | undefined;
      primaryMs: number;
      candidateMs: number;
      candidateError?: unknown;
    },
  ];
}

/** One answered request. `inputs` and `outputs` are the request's own objects, not copies. */
export interface PredictionEvent {
  name: string;
  version: string;
  /**
   * `serve` answered a caller; `shadow` and `compare` are copies run for comparison; `explain`
   * is a call made to explain a prediction (see {@link DeployPredictOptions.kind}).
   */
  kind: 'serve' | 'shadow' | 'compare' | 'explain';
  /** From the call to the answer, queue time included. */
  latencyMs: number;
  /** Time spent waiting for a slot or a batch (0 when the request never ran). */
  queueMs: number;
  /** Rows in the model call that answered it (0 when it never ran). */
  batchSize: number;
  routingKey: string | undefined;
  inputs: ModelInputs;
  outputs: NamedTensors | undefined;
  error: unknown;
  /** What the deployment's input screen found in this request, when it has one. */
  screen?: ScreenReport;
}

export type { InputScreen, WindowSnapshot };
