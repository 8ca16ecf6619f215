import type { InputScreen } from '../anomaly/screen';
import { invalidArgument, ModelshipError } from '../errors';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import { loadVersion } from './load-version';
import { type ResolvedPolicy, resolvePolicy } from './policy';
import { type Loaded, predictRequest, type RequestTarget, settleJob } from './requests';
import { beginPolicy, candidateOf, endPolicy, rollBackCandidate } from './rollout';
import { trafficShare } from './routing';
import { type Job, type VersionRunner, versionNotFound } from './runner';
import type { GuardStats } from './stats';
import type {
  DeploymentHost,
  DeploymentStatus,
  DeployOptions,
  DeployPredictOptions,
  ModelSource,
  VersionStatus,
} from './types';

/**
 * One named deployment: its loaded versions, the primary, the traffic policy and the guard
 * window of a candidate. Switching traffic is a synchronous assignment, so a request is routed
 * either before or after a switch, never half way. This file holds the versions' lifecycle
 * (deploy, promote, roll back, undeploy, status); a request's path is requests.ts, the policy's
 * steps and guards rollout.ts, the traffic split routing.ts, compared pairs pair.ts.
 */
export class Deployment implements RequestTarget {
  readonly versions = new Map<string, Loaded>();
  private readonly loading = new Set<string>();
  primary: string | undefined;
  private history: string[] = [];
  policy: ResolvedPolicy = { type: 'single' };
  window: GuardStats | undefined;
  step = 0;
  stepStartedAt = 0;
  stepTimer: unknown;
  private serial: Promise<unknown> = Promise.resolve();
  private seq = 0;
  removed = false;
  /** Checks every request before it queues (see `Deployer.screen`). */
  screen: InputScreen | undefined;
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    readonly host: DeploymentHost,
  ) {}

  get empty(): boolean {
    return this.versions.size === 0 && this.loading.size === 0;
  }

  // ——— deploy ———————————————————————————————————————————————————————————————

  deploy(source: ModelSource, options: DeployOptions): Promise<VersionStatus> {
    const next = this.serial.then(() => this.load(source, options));
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async load(source: ModelSource, o: DeployOptions): Promise<VersionStatus> {
    const label = o.version ?? (typeof source === 'function' ? undefined : source.version);
    if (label === undefined || label === '') {
      throw invalidArgument(
        'deploy',
        'options.version is required when the source is a loader function',
        label,
      );
    }
    // Checked before loading, so that a bad policy never costs a load.
    if (o.policy !== undefined) resolvePolicy('deploy', o.policy, label);
    this.loading.add(label);
    let runner: VersionRunner;
    try {
      runner = await loadVersion(this.host, this.name, label, source, o);
    } finally {
      this.loading.delete(label);
    }
    const model = runner.model!;
    if (this.removed) {
      await model.dispose().catch(() => undefined);
      throw new ModelshipError(
        'DEPLOYMENT_NOT_FOUND',
        `model '${this.name}' was undeployed while version '${label}' loaded`,
      );
    }
    if (this.primary !== undefined && o.policy !== undefined) {
      // A policy that cannot apply fails the deploy before the version is installed.
      try {
        this.checkTargets('deploy', resolvePolicy('deploy', o.policy, label), label);
      } catch (e) {
        model.dispose().catch(() => undefined);
        throw e;
      }
    }
    this.install(runner, o);
    return this.versionStatus(label)!;
  }

  private install(runner: VersionRunner, o: DeployOptions): void {
    const version = runner.version;
    const previous = this.versions.get(version);
    runner.state = 'ready';
    this.versions.set(version, {
      runner,
      timeoutMs: o.timeoutMs,
      replace: o.replace ?? true,
      seq: ++this.seq,
    });
    // A version deployed again (a reload) replaces its own earlier instance, which drains.
    if (previous !== undefined) this.retireRunner(previous.runner);
    if (this.primary === undefined) {
      this.promote(version);
      return;
    }
    if (o.policy === undefined || o.policy.type === 'single') {
      if (this.primary !== version) this.promote(version);
      return;
    }
    this.setPolicy(o.policy, version);
  }

  // ——— traffic ——————————————————————————————————————————————————————————————

  /** Makes `version` the primary with all traffic; retires the old primary when asked to. */
  promote(version: string): void {
    const loaded = this.ready(version);
    const old = this.primary;
    endPolicy(this);
    this.primary = version;
    this.history = this.history.filter((v) => v !== version);
    if (old !== undefined && old !== version) this.history.push(old);
    this.host.events.emit('promoted', { name: this.name, version, previous: old });
    if (loaded.replace && old !== undefined && old !== version) this.retire(old);
  }

  setPolicy(policy: unknown, candidate?: string): void {
    const p = resolvePolicy('setPolicy', policy, candidate);
    this.checkTargets('setPolicy', p, undefined);
    beginPolicy(this, p);
  }

  /**
   * Checks that the versions a policy names are loaded (or are `incoming`, about to be) and that
   * its candidate is not the primary, before anything changes.
   */
  private checkTargets(where: string, p: ResolvedPolicy, incoming: string | undefined): void {
    if (p.type === 'single') return;
    if (this.primary === undefined) {
      throw new ModelshipError('VERSION_NOT_READY', `model '${this.name}' has no primary version yet`);
    }
    const need = (v: string): void => {
      if (v !== incoming) this.ready(v);
    };
    if (p.type === 'ab') {
      for (const v in p.weights) need(v);
      return;
    }
    need(p.version);
    if (p.version === this.primary) {
      throw invalidArgument(
        where,
        `version '${p.version}' is already the primary; name another candidate`,
        p.version,
      );
    }
  }

  /**
   * Takes traffic away from the candidate, or, when there is none, returns the primary to the
   * version before it (kept when deployed with `replace: false`).
   */
  rollback(reason = 'rollback requested'): string {
    const candidate = candidateOf(this);
    if (candidate !== undefined) {
      rollBackCandidate(this, candidate, reason);
      return this.primary!;
    }
    const previous = this.previousPrimary(undefined);
    if (previous === undefined) {
      throw new ModelshipError(
        'VERSION_NOT_FOUND',
        `model '${this.name}' has no earlier version loaded to roll back to; deploy with replace: false to keep one`,
        { details: { model: this.name } },
      );
    }
    const current = this.primary!;
    endPolicy(this);
    this.history = this.history.filter((v) => v !== previous);
    this.primary = previous;
    this.host.events.emit('rolledBack', { name: this.name, version: current, restored: previous, reason });
    return previous;
  }

  // ——— predict ——————————————————————————————————————————————————————————————

  predict(inputs: ModelInputs, o: DeployPredictOptions | undefined): Promise<NamedTensors> {
    return predictRequest(this, inputs, o);
  }

  clearTimer(timer: unknown): void {
    this.host.clock.clearTimeout(timer);
  }

  settle(job: Job, output: NamedTensors | undefined, error: unknown): void {
    settleJob(this, job, output, error);
  }

  // ——— versions —————————————————————————————————————————————————————————————

  primaryLoaded(): Loaded {
    const v = this.primary === undefined ? undefined : this.versions.get(this.primary);
    if (v === undefined) {
      throw new ModelshipError(
        'VERSION_NOT_READY',
        `model '${this.name}' has no version ready yet${this.loading.size > 0 ? ` (loading: ${[...this.loading].join(', ')})` : ''}`,
        {
          details: { model: this.name },
        },
      );
    }
    return v;
  }

  ready(version: string): Loaded {
    if (typeof version !== 'string') throw invalidArgument('predict', 'version must be a string', version);
    const v = this.versions.get(version);
    if (v === undefined) {
      if (this.loading.has(version)) {
        throw new ModelshipError(
          'VERSION_NOT_READY',
          `model '${this.name}' version '${version}' is still loading`,
          {
            details: { model: this.name, version },
          },
        );
      }
      throw versionNotFound(this.name, version, [...this.versions.keys()]);
    }
    return v;
  }

  /** Removes one version (or every version): it stops receiving traffic now and drains. */
  async undeploy(version: string | undefined): Promise<void> {
    if (version === undefined) {
      this.removed = true;
      endPolicy(this);
      this.primary = undefined;
      for (const v of [...this.versions.keys()]) this.retire(v);
      await this.settled();
      return;
    }
    this.ready(version);
    const p = this.policy;
    if (candidateOf(this) === version || (p.type === 'ab' && version in p.weights)) {
      endPolicy(this);
      this.host.events.emit('policyChanged', { name: this.name, policy: this.policy });
    }
    if (this.primary === version) {
      this.primary = undefined;
      const others = [...this.versions.entries()].filter(([v]) => v !== version);
      const next = this.previousPrimary(version) ?? others.sort((a, b) => b[1].seq - a[1].seq)[0]?.[0];
      if (next !== undefined) {
        endPolicy(this);
        this.primary = next;
        this.history = this.history.filter((v) => v !== next);
        this.host.events.emit('promoted', { name: this.name, version: next, previous: version });
      }
    }
    this.retire(version);
    await this.settled();
  }

  /** The most recent earlier primary still loaded, other than `except`. */
  private previousPrimary(except: string | undefined): string | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const v = this.history[i]!;
      if (v !== except && this.versions.has(v)) return v;
    }
    return undefined;
  }

  private retire(version: string): void {
    const v = this.versions.get(version);
    if (v === undefined) return;
    this.versions.delete(version);
    this.history = this.history.filter((h) => h !== version);
    this.retireRunner(v.runner);
  }

  private retireRunner(runner: VersionRunner): void {
    const done = runner
      .drain()
      .then(() => runner.model?.dispose())
      .catch(() => undefined)
      .then(() => {
        runner.state = 'unloaded';
        this.retiring.delete(done);
        this.host.events.emit('unloaded', { name: this.name, version: runner.version });
      });
    this.retiring.add(done);
  }

  /** Resolves when every retired version has drained and been disposed. */
  async settled(): Promise<void> {
    while (this.retiring.size > 0) await Promise.all([...this.retiring]);
  }

  /** Waits for loads in progress to end (they fail once the deployment is removed). */
  async loadsDone(): Promise<void> {
    await this.serial;
  }

  /** Whether a version is loaded (serving or not). */
  hasVersion(version: string): boolean {
    return this.versions.has(version);
  }

  /** The signature of a loaded version. */
  signatureOf(version: string): ModelSignature {
    return this.ready(version).runner.model!.signature;
  }

  // ——— status ———————————————————————————————————————————————————————————————

  status(): DeploymentStatus {
    const p = this.policy;
    const step = this.step;
    return {
      name: this.name,
      primary: this.primary,
      policy: p,
      ...(p.type === 'rollout' ? { rollout: { step, weight: p.steps[step]!.weight } } : {}),
      loading: [...this.loading],
      versions: [...this.versions.keys()].map((v) => this.versionStatus(v)!),
    };
  }

  private versionStatus(version: string): VersionStatus | undefined {
    const v = this.versions.get(version);
    if (v === undefined) return undefined;
    const s = v.runner.stats.snapshot();
    const batching = v.runner.batchingStatus();
    return {
      version,
      state: v.runner.state,
      traffic: trafficShare(this.policy, this.step, version, this.primary),
      inFlight: v.runner.active,
      queued: v.runner.queued,
      requests: s.requests,
      errors: s.errors,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      ...(batching === undefined ? {} : { batching }),
      ...(this.screen === undefined
        ? {}
        : {
            screen: {
              records: s.screened,
              qualityViolations: s.qualityViolations,
              scored: s.scored,
              outliers: s.outliers,
            },
          }),
      warmup: { ...v.runner.warmup },
    };
  }
}
