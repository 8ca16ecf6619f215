import { InputRejectedError, type InputScreen, type ScreenReport } from '../anomaly/screen';
import { AbortError, DeadlineExceededError, invalidArgument, ModelshipError } from '../errors';
import { throwIfAborted } from '../model/abort';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors } from '../tensor/tensor';
import { disagreement } from './compare';
import { routingPoint } from './hash';
import { loadVersion } from './load-version';
import { guardBreach, type ResolvedPolicy, resolvePolicy } from './policy';
import { Job, type JobOwner, type VersionRunner, versionNotFound } from './runner';
import { GuardStats } from './stats';
import type {
  DeploymentHost,
  DeploymentStatus,
  DeployOptions,
  DeployPredictOptions,
  ModelSource,
  VersionStatus,
} from './types';

interface Loaded {
  runner: VersionRunner;
  timeoutMs: number | undefined;
  replace: boolean;
  seq: number;
}

type Role = 'serve' | 'shadow' | 'compare' | 'explain';

/** A request served by one version and copied to another, for comparison. */
class Pair {
  primaryOut: NamedTensors | undefined;
  candidateOut: NamedTensors | undefined;
  primaryMs = -1;
  candidateMs = -1;
  candidateError: unknown;
  arrived = 0;

  constructor(
    readonly primary: string,
    readonly candidate: string,
  ) {}
}

interface DeployJob extends Job {
  role?: Role;
  screen?: ScreenReport;
  pair?: Pair;
  routingKey?: string;
}

const GUARD_EVERY = 8;

/**
 * One named deployment: its loaded versions, the primary, the traffic policy and the guard
 * window of a candidate. Switching traffic is a synchronous assignment, so a request is routed
 * either before or after a switch, never half way.
 */
export class Deployment implements JobOwner {
  private readonly versions = new Map<string, Loaded>();
  private readonly loading = new Set<string>();
  primary: string | undefined;
  private history: string[] = [];
  policy: ResolvedPolicy = { type: 'single' };
  private window: GuardStats | undefined;
  private step = 0;
  private stepStartedAt = 0;
  private stepTimer: unknown;
  private serial: Promise<unknown> = Promise.resolve();
  private seq = 0;
  removed = false;
  /** Checks every request before it queues (see `Deployer.screen`). */
  screen: InputScreen | undefined;
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    readonly name: string,
    private readonly host: DeploymentHost,
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
    this.endPolicy();
    this.primary = version;
    this.history = this.history.filter((v) => v !== version);
    if (old !== undefined && old !== version) this.history.push(old);
    this.host.events.emit('promoted', { name: this.name, version, previous: old });
    if (loaded.replace && old !== undefined && old !== version) this.retire(old);
  }

  setPolicy(policy: unknown, candidate?: string): void {
    const p = resolvePolicy('setPolicy', policy, candidate);
    if (p.type === 'single') {
      this.endPolicy();
      this.host.events.emit('policyChanged', { name: this.name, policy: p });
      return;
    }
    this.checkTargets('setPolicy', p, undefined);
    this.endPolicy();
    this.policy = p;
    this.host.events.emit('policyChanged', { name: this.name, policy: p });
    if (p.type === 'rollout') this.enterStep(0);
    else if (p.type !== 'ab') this.window = new GuardStats();
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
    const candidate = this.candidate();
    if (candidate !== undefined) {
      this.rollbackCandidate(candidate, reason);
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
    this.endPolicy();
    this.history = this.history.filter((v) => v !== previous);
    this.primary = previous;
    this.host.events.emit('rolledBack', { name: this.name, version: current, restored: previous, reason });
    return previous;
  }

  private rollbackCandidate(candidate: string, reason: string): void {
    const window = this.window?.snapshot();
    this.endPolicy();
    this.host.events.emit('rolledBack', {
      name: this.name,
      version: candidate,
      restored: this.primary,
      reason,
      window,
    });
    this.host.events.emit('policyChanged', { name: this.name, policy: this.policy });
  }

  private endPolicy(): void {
    if (this.stepTimer !== undefined) this.host.clock.clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
    this.policy = { type: 'single' };
    this.window = undefined;
    this.step = 0;
  }

  private candidate(): string | undefined {
    const p = this.policy;
    return p.type === 'canary' || p.type === 'shadow' || p.type === 'rollout' ? p.version : undefined;
  }

  private enterStep(i: number): void {
    const p = this.policy;
    if (p.type !== 'rollout') return;
    this.step = i;
    this.stepStartedAt = this.host.clock.now();
    this.window = new GuardStats();
    if (this.stepTimer !== undefined) this.host.clock.clearTimeout(this.stepTimer);
    this.stepTimer = undefined;
    const s = p.steps[i]!;
    this.host.events.emit('rolloutStep', { name: this.name, version: p.version, step: i, weight: s.weight });
    if (s.durationMs !== undefined && s.durationMs > 0) {
      this.stepTimer = this.host.clock.setTimeout(() => {
        this.stepTimer = undefined;
        this.advance();
      }, s.durationMs);
    }
    this.advance();
  }

  /** Moves a rollout on when its step has been held long enough and its guards hold. */
  private advance(): void {
    const p = this.policy;
    if (p.type !== 'rollout' || this.window === undefined) return;
    if (this.checkGuards()) return;
    const s = p.steps[this.step]!;
    if (s.durationMs !== undefined && this.host.clock.now() - this.stepStartedAt < s.durationMs) return;
    if (s.minRequests !== undefined && this.window.candidate.requests < s.minRequests) return;
    if (this.step + 1 < p.steps.length) this.enterStep(this.step + 1);
    else this.promote(p.version);
  }

  /** True when a guard fired (and the candidate was rolled back). */
  private checkGuards(): boolean {
    const p = this.policy;
    if (p.type === 'single' || p.type === 'ab' || p.guards === undefined || this.window === undefined)
      return false;
    const window = this.window.snapshot();
    let reason: string | undefined;
    try {
      reason = guardBreach(p.guards, window);
    } catch (e) {
      reason = `guards.check threw: ${message(e)}`;
    }
    if (reason === undefined) return false;
    this.rollbackCandidate(p.version, reason);
    return true;
  }

  // ——— predict ——————————————————————————————————————————————————————————————

  predict(inputs: ModelInputs, o: DeployPredictOptions | undefined): Promise<NamedTensors> {
    let target: Loaded;
    let report: ScreenReport | undefined;
    let copy: Loaded | undefined;
    let copyRole: Role = 'shadow';
    try {
      if (o?.version !== undefined) {
        target = this.ready(o.version);
      } else {
        const p = this.policy;
        const primary = this.primaryLoaded();
        target = primary;
        if (p.type !== 'single') {
          const point =
            o?.routingKey === undefined ? this.host.random() : routingPoint(o.routingKey, this.name);
          if (p.type === 'ab') {
            let acc = 0;
            for (const v in p.weights) {
              acc += p.weights[v]!;
              if (point < acc) {
                target = this.versions.get(v) ?? primary;
                break;
              }
            }
          } else if (p.type === 'shadow') {
            if (p.sampleRate >= 1 || this.host.random() < p.sampleRate) copy = this.versions.get(p.version);
          } else {
            const weight = p.type === 'canary' ? p.weight : p.steps[this.step]!.weight;
            // The candidate takes the low end of [0, 1): as its weight grows, keys only move to it.
            if (point < weight) {
              target = this.versions.get(p.version) ?? primary;
              if (target !== primary && p.guards?.maxDisagreement !== undefined) {
                copy = primary;
                copyRole = 'compare';
              }
            }
          }
        }
      }
      throwIfAborted(o?.signal);
      o?.onRoute?.(target.runner.version);
      // An explainer's rows mix a request's with background rows: not inputs to screen or count.
      if (this.screen !== undefined && o?.kind !== 'explain') report = this.screenRequest(target, inputs, o);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeoutMs = o?.timeoutMs ?? target.timeoutMs;
    return new Promise<NamedTensors>((resolve, reject) => {
      const job: DeployJob = new Job(this, inputs, o?.outputs, this.host.clock.now(), resolve, reject);
      if (o?.routingKey !== undefined) job.routingKey = o.routingKey;
      if (report !== undefined) job.screen = report;
      if (o?.kind === 'explain') job.role = 'explain';
      if (o?.signal !== undefined || timeoutMs !== undefined)
        this.watch(job, o?.signal, timeoutMs, target.runner.version);
      if (copy !== undefined) {
        const pair =
          copyRole === 'shadow'
            ? new Pair(target.runner.version, copy.runner.version)
            : new Pair(copy.runner.version, target.runner.version);
        job.pair = pair;
        target.runner.submit(job);
        const twin: DeployJob = new Job(this, inputs, o?.outputs, this.host.clock.now(), noop, noop);
        twin.role = copyRole;
        twin.pair = pair;
        copy.runner.submit(twin);
        return;
      }
      target.runner.submit(job);
    });
  }

  /**
   * Runs the deployment's screen on a request routed to `target` and counts what it found for
   * that version; a request the screen refuses is reported as a failed prediction and thrown.
   */
  private screenRequest(
    target: Loaded,
    inputs: ModelInputs,
    o: DeployPredictOptions | undefined,
  ): ScreenReport {
    const version = target.runner.version;
    const isCandidate = this.window !== undefined && this.candidate() === version;
    const count = (r: ScreenReport) => {
      target.runner.stats.recordScreen(r);
      if (isCandidate) this.window!.candidate.recordScreen(r);
      else if (this.window !== undefined && version === this.primary) this.window.primary.recordScreen(r);
    };
    let report: ScreenReport;
    try {
      report = this.screen!.screen(inputs, o?.records);
    } catch (e) {
      if (!(e instanceof InputRejectedError)) throw e;
      count(e.report);
      this.host.reported.add(e);
      const events = this.host.events;
      if (events.listenerCount('prediction') > 0)
        events.emit('prediction', {
          name: this.name,
          version,
          kind: 'serve',
          latencyMs: 0,
          queueMs: 0,
          batchSize: 0,
          routingKey: o?.routingKey,
          inputs,
          outputs: undefined,
          error: e,
          screen: e.report,
        });
      if (isCandidate) this.checkGuards();
      throw e;
    }
    count(report);
    o?.onScreen?.(report);
    return report;
  }

  private watch(
    job: Job,
    signal: DeployPredictOptions['signal'],
    timeoutMs: number | undefined,
    version: string,
  ): void {
    if (timeoutMs !== undefined) {
      job.timer = this.host.clock.setTimeout(() => {
        job.fail(
          new DeadlineExceededError(
            `model '${this.name}' version '${version}' did not answer within ${timeoutMs} ms`,
            {
              details: { model: this.name, version, timeoutMs },
            },
          ),
        );
      }, timeoutMs);
    }
    if (signal !== undefined) {
      const onAbort = () => job.fail(new AbortError(undefined, { cause: signal.reason }));
      job.signal = signal;
      job.onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  clearTimer(timer: unknown): void {
    this.host.clock.clearTimeout(timer);
  }

  settle(j: Job, output: NamedTensors | undefined, error: unknown): void {
    const job = j as DeployJob;
    const role = job.role ?? 'serve';
    const runner = job.runner!;
    const version = runner.version;
    // A copy turned away by a full queue was never run: it is dropped, not counted as a failure.
    if (role !== 'serve' && ModelshipError.isInstance(error) && error.code === 'MODEL_OVERLOADED') return;
    const now = this.host.clock.now();
    const latency = now - job.createdAt;
    const failed = error !== undefined;
    // An explainer's calls are thousands of synthetic rows: not requests to count or guard on.
    const counted = role !== 'explain';
    if (counted) runner.stats.record(latency, failed);
    const candidate = this.candidate();
    const isCandidate = candidate === version && this.window !== undefined && counted;
    // (not for an explainer's synthetic rows, which nothing counts)
    const estimate = output === undefined || !counted ? undefined : this.screen?.expectedCorrect(output);
    if (estimate !== undefined && role === 'serve') runner.stats.recordEstimate(estimate);
    if (this.window !== undefined && counted) {
      if (isCandidate) {
        this.window.candidate.record(latency, failed);
        if (estimate !== undefined) this.window.candidate.recordEstimate(estimate);
      } else if (version === this.primary && role === 'serve') {
        this.window.primary.record(latency, failed);
        if (estimate !== undefined) this.window.primary.recordEstimate(estimate);
      }
    }
    if (job.pair !== undefined) this.arrive(job.pair, version, output, error, latency);
    if (failed && typeof error === 'object' && error !== null) this.host.reported.add(error);
    const events = this.host.events;
    if (events.listenerCount('prediction') > 0) {
      events.emit('prediction', {
        name: this.name,
        version,
        kind: role,
        latencyMs: latency,
        queueMs:
          job.startedAt < 0 ? 0 : job.startedAt - (job.enqueuedAt < 0 ? job.createdAt : job.enqueuedAt),
        batchSize: job.batchSize,
        routingKey: job.routingKey,
        inputs: job.inputs,
        outputs: output,
        error,
        ...(job.screen === undefined || role !== 'serve' ? {} : { screen: job.screen }),
      });
    }
    if (isCandidate && (failed || this.window!.candidate.requests % GUARD_EVERY === 0)) {
      // advance() checks the guards first.
      if (this.policy.type === 'rollout') this.advance();
      else this.checkGuards();
    }
  }

  private arrive(
    pair: Pair,
    version: string,
    output: NamedTensors | undefined,
    error: unknown,
    ms: number,
  ): void {
    if (version === pair.primary && pair.primaryMs < 0) {
      pair.primaryOut = output;
      pair.primaryMs = ms;
    } else {
      pair.candidateOut = output;
      pair.candidateMs = ms;
      pair.candidateError = error;
    }
    if (++pair.arrived < 2) return;
    let d: number | undefined;
    if (pair.primaryOut !== undefined && pair.candidateOut !== undefined) {
      const p = this.policy;
      const compare = p.type === 'single' || p.type === 'ab' ? {} : p.compare;
      try {
        d = disagreement(pair.primaryOut, pair.candidateOut, compare);
      } catch (e) {
        pair.candidateError ??= e;
      }
      if (d !== undefined && this.candidate() === pair.candidate) this.window?.candidate.recordComparison(d);
    }
    this.host.events.emit('compared', {
      name: this.name,
      primary: pair.primary,
      candidate: pair.candidate,
      disagreement: d,
      primaryMs: pair.primaryMs,
      candidateMs: pair.candidateMs,
      ...(pair.candidateError === undefined ? {} : { candidateError: pair.candidateError }),
    });
  }

  // ——— versions —————————————————————————————————————————————————————————————

  private primaryLoaded(): Loaded {
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

  private ready(version: string): Loaded {
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
      this.endPolicy();
      this.primary = undefined;
      for (const v of [...this.versions.keys()]) this.retire(v);
      await this.settled();
      return;
    }
    this.ready(version);
    const p = this.policy;
    if (this.candidate() === version || (p.type === 'ab' && version in p.weights)) {
      this.endPolicy();
      this.host.events.emit('policyChanged', { name: this.name, policy: this.policy });
    }
    if (this.primary === version) {
      this.primary = undefined;
      const others = [...this.versions.entries()].filter(([v]) => v !== version);
      const next = this.previousPrimary(version) ?? others.sort((a, b) => b[1].seq - a[1].seq)[0]?.[0];
      if (next !== undefined) {
        this.endPolicy();
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

  /** The signature of a loaded version. */
  /** Whether a version is loaded (serving or not). */
  hasVersion(version: string): boolean {
    return this.versions.has(version);
  }

  signatureOf(version: string): ModelSignature {
    return this.ready(version).runner.model!.signature;
  }

  // ——— status ———————————————————————————————————————————————————————————————

  status(): DeploymentStatus {
    const p = this.policy;
    return {
      name: this.name,
      primary: this.primary,
      policy: p,
      ...(p.type === 'rollout' ? { rollout: { step: this.step, weight: p.steps[this.step]!.weight } } : {}),
      loading: [...this.loading],
      versions: [...this.versions.keys()].map((v) => this.versionStatus(v)!),
    };
  }

  private traffic(version: string): number {
    const p = this.policy;
    const primary = version === this.primary ? 1 : 0;
    switch (p.type) {
      case 'single':
      case 'shadow':
        return primary;
      case 'ab':
        return p.weights[version] ?? 0;
      default: {
        const w = p.type === 'canary' ? p.weight : p.steps[this.step]!.weight;
        return version === p.version ? w : primary * (1 - w);
      }
    }
  }

  private versionStatus(version: string): VersionStatus | undefined {
    const v = this.versions.get(version);
    if (v === undefined) return undefined;
    const s = v.runner.stats.snapshot();
    const batching = v.runner.batchingStatus();
    return {
      version,
      state: v.runner.state,
      traffic: this.traffic(version),
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

function noop(): void {}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
