import { EventEmitter } from 'eventemitter3';
import type { InputScreen } from '../anomaly/screen';
import { describe, invalidArgument, ModelshipError } from '../errors';
import { valuesPerRow } from '../evaluate/inputs';
import type { Model, PredictOptions } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import { formatShape } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import { type Clock, systemClock } from './clock';
import { Deployment } from './deployment';
import type { TrafficPolicy } from './policy';
import type {
  DeployerEvents,
  DeploymentHost,
  DeploymentStatus,
  DeployOptions,
  DeployPredictOptions,
  ModelSource,
  VersionStatus,
} from './types';

/** Options of the {@link Deployer} constructor. */
export interface DeployerOptions {
  /** Time for batching delays, timeouts and rollout steps (default: the runtime's clock). */
  clock?: Clock;
  /** Uniform numbers in [0, 1) for requests without a routing key (default `Math.random`). */
  random?: () => number;
}

const NAME = /^[A-Za-z0-9][\w.-]{0,127}$/;

/**
 * Serves named models inside your process, as TF Serving, Triton and KServe do on a server:
 * versions, traffic policies (canary, A/B, shadow, progressive rollout with guards), dynamic
 * batching, admission control, hot swap and rollback. It accepts any {@link Model}.
 *
 * @example
 * const deployer = new Deployer();
 * await deployer.deploy('fraud', () => loadModel('fraud-3.onnx'), { version: '3' });
 * const out = await deployer.predict('fraud', { features });
 * // later: v4 takes 10% of traffic, and loses it if its error rate passes 1%
 * await deployer.deploy('fraud', () => loadModel('fraud-4.onnx'), {
 *   version: '4',
 *   policy: { type: 'canary', weight: 0.1, guards: { maxErrorRate: 0.01 } },
 * });
 */
export class Deployer extends EventEmitter<DeployerEvents> {
  private readonly deployments = new Map<string, Deployment>();
  private readonly host: DeploymentHost;
  private closed = false;

  constructor(options: DeployerOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('Deployer', 'options must be an object', options);
    const { clock = systemClock, random = Math.random } = options;
    if (
      typeof clock?.now !== 'function' ||
      typeof clock.setTimeout !== 'function' ||
      typeof clock.clearTimeout !== 'function'
    ) {
      throw invalidArgument('Deployer', 'clock must have now, setTimeout and clearTimeout', clock);
    }
    if (typeof random !== 'function') throw invalidArgument('Deployer', 'random must be a function', random);
    this.host = { clock, random, events: this, reported: new WeakSet() };
  }

  /**
   * Loads a version, warms it up off the request path, then gives it traffic by `policy`. Until
   * then, and if it fails, the versions already serving keep serving. Resolves with the new
   * version's status; rejects with the load or warmup error (`WARMUP_FAILED`).
   */
  deploy(name: string, source: ModelSource, options: DeployOptions = {}): Promise<VersionStatus> {
    try {
      this.open();
      checkName(name);
      if (typeof source !== 'function' && (typeof source !== 'object' || source === null)) {
        throw invalidArgument('deploy', 'source must be a Model or a function that loads one', source);
      }
      checkDeployOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    let d = this.deployments.get(name);
    if (d === undefined || d.removed) {
      d = new Deployment(name, this.host);
      this.deployments.set(name, d);
    }
    const deployment = d;
    return deployment.deploy(source, options).catch((e: unknown) => {
      // A first version that fails leaves no deployment behind.
      if (deployment.empty && this.deployments.get(name) === deployment) this.deployments.delete(name);
      throw e;
    });
  }

  /** Runs a request on the version the deployment's policy (or `options.version`) picks. */
  predict(name: string, inputs: ModelInputs, options?: DeployPredictOptions): Promise<NamedTensors> {
    const d = this.deployments.get(name);
    if (d === undefined || options !== undefined) {
      try {
        if (this.closed) this.open();
        if (d === undefined) this.get(name);
        if (typeof options !== 'object' || options === null)
          throw invalidArgument('predict', 'options must be an object', options);
        checkPredictOptions(options);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return d!.predict(inputs, options);
  }

  /**
   * Reports a request that was refused before it reached a model (a body a server could not
   * decode, a tensor of the wrong dtype) as a failed `prediction` event of the version it was
   * meant for (`version`, or the primary), so monitors, metrics and prediction logs count it as
   * they count a request the model's own validation refused. Returns false, reporting nothing,
   * for a model that is not deployed or has no such version, and for an error this deployer has
   * already reported (a refusal from inside `predict`).
   *
   * @example
   * catch (e) { deployer.reportRefused('fraud', e, { latencyMs: performance.now() - started }); }
   */
  reportRefused(
    name: string,
    error: unknown,
    options: { version?: string; latencyMs?: number; routingKey?: string } = {},
  ): boolean {
    if (typeof options !== 'object' || options === null)
      throw invalidArgument('reportRefused', 'options must be an object', options);
    if (error === undefined) throw invalidArgument('reportRefused', 'error must be given', error);
    const { version, latencyMs = 0, routingKey } = options;
    if (version !== undefined && typeof version !== 'string')
      throw invalidArgument('reportRefused', 'version must be a string', version);
    if (!(latencyMs >= 0))
      throw invalidArgument('reportRefused', 'latencyMs must be a number ≥ 0', latencyMs);
    if (typeof error === 'object' && error !== null) {
      if (this.host.reported.has(error)) return false;
      this.host.reported.add(error);
    }
    const d = this.deployments.get(name);
    if (d === undefined || d.removed) return false;
    const v =
      version !== undefined && d.hasVersion(version)
        ? version
        : version === undefined
          ? d.primary
          : undefined;
    if (v === undefined) return false;
    if (this.listenerCount('prediction') > 0)
      this.emit('prediction', {
        name,
        version: v,
        kind: 'serve',
        latencyMs,
        queueMs: 0,
        batchSize: 0,
        routingKey,
        inputs: {},
        outputs: undefined,
        error,
      });
    return true;
  }

  /**
   * Removes a version, or the whole deployment when no version is given. Traffic moves at once
   * (to the previous primary when the primary goes); queued and in-flight requests finish on the
   * removed version before its model is disposed, and the returned promise waits for that.
   */
  async undeploy(name: string, version?: string): Promise<void> {
    const d = this.get(name);
    if (version !== undefined && typeof version !== 'string')
      throw invalidArgument('undeploy', 'version must be a string', version);
    if (version === undefined) {
      this.deployments.delete(name);
      await d.undeploy(undefined);
      return;
    }
    await d.undeploy(version);
    if (d.empty) {
      d.removed = true;
      this.deployments.delete(name);
    }
  }

  /** Gives `version` (default: the current candidate) all traffic and makes it the primary. */
  /**
   * Screens every request of deployment `name` before it queues (data-quality checks and
   * outlier scores, see {@link InputScreen}), whichever version answers; `undefined` stops.
   * What it finds is counted per version (`status()`, guards `maxQualityViolationRate` and
   * `maxOutlierRate`, the `prediction` event's `screen`), handed to `onScreen`, and in `reject`
   * mode refuses the request with `INPUT_REJECTED`.
   */
  screen(name: string, screen: InputScreen | undefined): void {
    if (
      screen !== undefined &&
      (typeof screen !== 'object' || screen === null || typeof screen.screen !== 'function')
    )
      throw invalidArgument('screen', 'expected an InputScreen or undefined', screen);
    const d = this.get(name);
    const checks = screen !== undefined && (screen.quality !== undefined || screen.detector !== undefined);
    if (checks && !screen!.records && d.primary !== undefined) {
      // A screen of tensor rows must read as many values per row as the model's input has.
      const signature = this.signature(name);
      const spec =
        screen!.input === undefined
          ? signature.inputs[0]
          : signature.inputs.find((i) => i.name === screen!.input);
      if (spec === undefined)
        throw invalidArgument(
          'screen',
          `model '${name}' has no input '${screen!.input}' (inputs: ${signature.inputs.map((i) => i.name).join(', ')})`,
          screen!.input,
        );
      const width = valuesPerRow(spec);
      if (width !== undefined && width !== screen!.features.length)
        throw invalidArgument(
          'screen',
          `the screen reads ${screen!.features.length} features per row but input '${spec.name}' ${formatShape(spec.shape)} of model '${name}' has ${width} values per row`,
          screen!.features.length,
        );
    }
    d.screen = screen;
  }

  promote(name: string, version?: string): void {
    const d = this.get(name);
    const p = d.policy;
    const target =
      version ?? (p.type === 'canary' || p.type === 'shadow' || p.type === 'rollout' ? p.version : undefined);
    if (target === undefined)
      throw invalidArgument(
        'promote',
        `model '${name}' has no candidate; name the version to promote`,
        version,
      );
    d.promote(target);
  }

  /**
   * Takes traffic from the candidate; with no candidate, returns the primary to the version before
   * it (which must still be loaded: deploy with `replace: false` to keep it). Returns the version
   * now serving.
   */
  rollback(name: string, reason?: string): string {
    return this.get(name).rollback(reason);
  }

  /** Changes how traffic is split among the versions already loaded. */
  setPolicy(name: string, policy: TrafficPolicy): void {
    this.get(name).setPolicy(policy);
  }

  /** Every deployment, or one, as plain data. */
  status(): DeploymentStatus[];
  status(name: string): DeploymentStatus;
  status(name?: string): DeploymentStatus | DeploymentStatus[] {
    if (name !== undefined) return this.get(name).status();
    return [...this.deployments.values()].map((d) => d.status());
  }

  /** The names of the deployments. */
  names(): string[] {
    return [...this.deployments.keys()];
  }

  /**
   * A deployment seen as a {@link Model}: `predict` goes through the deployer's routing, batching
   * and admission control, so the Evaluator and Monitor can use a deployment like any model.
   * `dispose` does nothing; undeploy instead.
   */
  model(name: string, options: Omit<DeployPredictOptions, 'signal' | 'outputs'> = {}): Model {
    const d = this.get(name);
    const version = options.version ?? d.primary;
    if (version === undefined)
      throw new ModelshipError('VERSION_NOT_READY', `model '${name}' has no version ready yet`);
    const signature = d.signatureOf(version);
    return {
      name,
      version,
      signature,
      predict: (inputs: ModelInputs, o?: PredictOptions) => this.predict(name, inputs, { ...options, ...o }),
      dispose: async () => {},
    };
  }

  /**
   * The signature of a deployed version (the primary's when `version` is omitted): what
   * `model(name).signature` gives, without making a Model.
   */
  signature(name: string, version?: string): ModelSignature {
    if (version !== undefined && (typeof version !== 'string' || version === ''))
      throw invalidArgument('signature', 'version must be a non-empty string', version);
    const d = this.get(name);
    const v = version ?? d.primary;
    if (v === undefined)
      throw new ModelshipError('VERSION_NOT_READY', `model '${name}' has no version ready yet`);
    return d.signatureOf(v);
  }

  /** Stops taking requests and deploys, undeploys everything and waits for it to drain. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.deployments.entries()];
    this.deployments.clear();
    await Promise.all(all.map(([, d]) => d.undeploy(undefined)));
    await Promise.all(all.map(([, d]) => d.loadsDone()));
  }

  private open(): void {
    if (this.closed) throw new ModelshipError('DEPLOYER_CLOSED', 'the deployer has been closed');
  }

  private get(name: string): Deployment {
    this.open();
    const d = this.deployments.get(name);
    if (d === undefined) {
      if (typeof name !== 'string') throw invalidArgument('deployer', 'name must be a string', name);
      const known = [...this.deployments.keys()];
      throw new ModelshipError(
        'DEPLOYMENT_NOT_FOUND',
        `no model named '${name}' is deployed${known.length > 0 ? ` (deployed: ${known.join(', ')})` : ''}`,
        { details: { model: name } },
      );
    }
    return d;
  }
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidArgument(
      'deploy',
      'name must be 1–128 letters, digits, _, . or -, starting with a letter or digit',
      name,
    );
  }
}

const DEPLOY_KEYS = new Set([
  'version',
  'loadTimeoutMs',
  'warmup',
  'batching',
  'maxConcurrency',
  'maxQueue',
  'timeoutMs',
  'policy',
  'replace',
]);

function checkDeployOptions(o: unknown): asserts o is DeployOptions {
  if (typeof o !== 'object' || o === null) throw invalidArgument('deploy', 'options must be an object', o);
  const opts = o as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if (!DEPLOY_KEYS.has(key))
      throw invalidArgument(
        'deploy',
        `unknown option '${key}' (known: ${[...DEPLOY_KEYS].join(', ')})`,
        opts[key],
      );
  }
  const { version, warmup, batching, maxConcurrency, maxQueue, timeoutMs, replace } = o as DeployOptions;
  if (version !== undefined && (typeof version !== 'string' || !NAME.test(version))) {
    throw invalidArgument('deploy', 'version must be 1–128 letters, digits, _, . or -', version);
  }
  if (warmup !== undefined && typeof warmup !== 'boolean') {
    if (typeof warmup !== 'object' || warmup === null)
      throw invalidArgument('deploy', 'warmup must be a boolean or { inputs, runs }', warmup);
    if (warmup.runs !== undefined && !(Number.isSafeInteger(warmup.runs) && warmup.runs >= 1)) {
      throw invalidArgument('deploy', 'warmup.runs must be a positive integer', warmup.runs);
    }
    if (
      warmup.inputs !== undefined &&
      typeof warmup.inputs !== 'function' &&
      !(Array.isArray(warmup.inputs) && warmup.inputs.length > 0)
    ) {
      throw invalidArgument(
        'deploy',
        'warmup.inputs must be a non-empty array of requests or a function returning one',
        warmup.inputs,
      );
    }
    if (
      warmup.names !== undefined &&
      !(Array.isArray(warmup.names) && warmup.names.every((n) => typeof n === 'string'))
    ) {
      throw invalidArgument('deploy', 'warmup.names must be an array of strings', warmup.names);
    }
  }
  if (batching !== undefined) {
    if (typeof batching !== 'object' || batching === null)
      throw invalidArgument('deploy', 'batching must be an object', batching);
    const known = ['maxBatchSize', 'maxQueueDelayMs', 'preferredBatchSizes'];
    for (const key of Object.keys(batching)) {
      if (!known.includes(key))
        throw invalidArgument('deploy', `batching has no option '${key}' (known: ${known.join(', ')})`, key);
    }
    if (!(Number.isSafeInteger(batching.maxBatchSize) && batching.maxBatchSize >= 1)) {
      throw invalidArgument(
        'deploy',
        'batching.maxBatchSize must be a positive integer',
        batching.maxBatchSize,
      );
    }
    const delay = batching.maxQueueDelayMs;
    if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
      throw invalidArgument('deploy', 'batching.maxQueueDelayMs must be a non-negative number', delay);
    }
    const preferred = batching.preferredBatchSizes;
    if (
      preferred !== undefined &&
      !(
        Array.isArray(preferred) &&
        preferred.every((n) => Number.isSafeInteger(n) && n >= 1 && n <= batching.maxBatchSize)
      )
    ) {
      throw invalidArgument(
        'deploy',
        `batching.preferredBatchSizes must be integers from 1 to maxBatchSize (${batching.maxBatchSize})`,
        preferred,
      );
    }
  }
  if (
    maxConcurrency !== undefined &&
    !(
      (Number.isSafeInteger(maxConcurrency) && maxConcurrency >= 1) ||
      maxConcurrency === Number.POSITIVE_INFINITY
    )
  ) {
    throw invalidArgument('deploy', 'maxConcurrency must be a positive integer or Infinity', maxConcurrency);
  }
  if (maxQueue !== undefined && !(Number.isSafeInteger(maxQueue) && maxQueue >= 0)) {
    throw invalidArgument('deploy', 'maxQueue must be a non-negative integer', maxQueue);
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw invalidArgument('deploy', 'timeoutMs must be a positive number', timeoutMs);
  }
  const { loadTimeoutMs } = o as DeployOptions;
  if (loadTimeoutMs !== undefined && !(Number.isFinite(loadTimeoutMs) && loadTimeoutMs > 0)) {
    throw invalidArgument('deploy', 'loadTimeoutMs must be a positive number', loadTimeoutMs);
  }
  if (replace !== undefined && typeof replace !== 'boolean')
    throw invalidArgument('deploy', 'replace must be a boolean', replace);
}

const PREDICT_KEYS = new Set([
  'version',
  'routingKey',
  'signal',
  'timeoutMs',
  'outputs',
  'onRoute',
  'records',
  'onScreen',
  'kind',
]);

function checkPredictOptions(o: DeployPredictOptions): void {
  // for…in rather than Object.keys: no array per request on the serving path.
  for (const key in o) {
    if (Object.hasOwn(o, key) && !PREDICT_KEYS.has(key))
      throw invalidArgument(
        'predict',
        `unknown option '${key}' (known: ${[...PREDICT_KEYS].join(', ')})`,
        (o as Record<string, unknown>)[key],
      );
  }
  if (o.version !== undefined && typeof o.version !== 'string')
    throw invalidArgument('predict', 'version must be a string', o.version);
  if (o.routingKey !== undefined && typeof o.routingKey !== 'string') {
    throw invalidArgument(
      'predict',
      `routingKey must be a string, received ${describe(o.routingKey)}`,
      o.routingKey,
    );
  }
  if (o.kind !== undefined && o.kind !== 'serve' && o.kind !== 'explain')
    throw invalidArgument('predict', "kind must be 'serve' or 'explain'", o.kind);
  if (o.onRoute !== undefined && typeof o.onRoute !== 'function')
    throw invalidArgument('predict', 'onRoute must be a function', o.onRoute);
  if (o.onScreen !== undefined && typeof o.onScreen !== 'function')
    throw invalidArgument('predict', 'onScreen must be a function', o.onScreen);
  if (o.records !== undefined && !Array.isArray(o.records))
    throw invalidArgument('predict', 'records must be an array of records', o.records);
  if (o.timeoutMs !== undefined && !(Number.isFinite(o.timeoutMs) && o.timeoutMs > 0)) {
    throw invalidArgument('predict', 'timeoutMs must be a positive number', o.timeoutMs);
  }
  if (
    o.signal !== undefined &&
    (typeof o.signal !== 'object' || o.signal === null || typeof o.signal.addEventListener !== 'function')
  ) {
    throw invalidArgument('predict', 'signal must be an AbortSignal', o.signal);
  }
  if (
    o.outputs !== undefined &&
    !(Array.isArray(o.outputs) && o.outputs.every((x) => typeof x === 'string'))
  ) {
    throw invalidArgument('predict', 'outputs must be an array of output names', o.outputs);
  }
}
