/**
 * A request's way through a deployment: routed by the policy (a version named, or the split of
 * routing.ts), screened, given its deadline and abort signal, queued on its version's runner,
 * and, once answered, counted in the version's stats and the candidate's guard window, compared
 * with its copy, and reported in a `prediction` event.
 */
import { InputRejectedError, type InputScreen, type ScreenReport } from '../anomaly/screen';
import { AbortError, DeadlineExceededError, ModelshipError } from '../errors';
import { throwIfAborted } from '../model/abort';
import type { ModelInputs } from '../tensor/coerce';
import type { NamedTensors } from '../tensor/tensor';
import { routingPoint } from './hash';
import { Pair } from './pair';
import { advance, candidateOf, checkGuards, type RolloutState } from './rollout';
import { route } from './routing';
import { Job, type JobOwner, type VersionRunner } from './runner';
import type { DeployPredictOptions } from './types';

/** A loaded version as its deployment holds it. */
export interface Loaded {
  runner: VersionRunner;
  timeoutMs: number | undefined;
  replace: boolean;
  seq: number;
}

type Role = 'serve' | 'shadow' | 'compare' | 'explain';

interface DeployJob extends Job {
  role?: Role;
  screen?: ScreenReport;
  pair?: Pair;
  routingKey?: string;
}

/** Candidate requests between guard checks (a failure is checked at once). */
const GUARD_EVERY = 8;

/** What the request path reads and updates of its deployment (which settles its jobs). */
export interface RequestTarget extends RolloutState, JobOwner {
  /** Checks every request before it queues (see `Deployer.screen`). */
  readonly screen: InputScreen | undefined;
  readonly versions: ReadonlyMap<string, Loaded>;
  /** The loaded version `version`, or a `VERSION_NOT_READY` / `VERSION_NOT_FOUND` error. */
  ready(version: string): Loaded;
  /** The primary's loaded version, or a `VERSION_NOT_READY` error. */
  primaryLoaded(): Loaded;
}

/** Routes, screens and queues one request; resolves with its answer. */
export function predictRequest(
  d: RequestTarget,
  inputs: ModelInputs,
  o: DeployPredictOptions | undefined,
): Promise<NamedTensors> {
  let target: Loaded;
  let report: ScreenReport | undefined;
  let copy: Loaded | undefined;
  let copyRole: Role = 'shadow';
  try {
    if (o?.version !== undefined) {
      target = d.ready(o.version);
    } else {
      const p = d.policy;
      target = d.primaryLoaded();
      if (p.type !== 'single') {
        const point = o?.routingKey === undefined ? d.host.random() : routingPoint(o.routingKey, d.name);
        const r = route(p, d.step, point, target, d.versions, d.host.random);
        target = r.target;
        copy = r.copy;
        copyRole = r.copyRole;
      }
    }
    throwIfAborted(o?.signal);
    o?.onRoute?.(target.runner.version);
    // An explainer's rows mix a request's with background rows: not inputs to screen or count.
    if (d.screen !== undefined && o?.kind !== 'explain') report = screenRequest(d, target, inputs, o);
  } catch (e) {
    return Promise.reject(e);
  }
  const timeoutMs = o?.timeoutMs ?? target.timeoutMs;
  if (copy === undefined && timeoutMs === undefined && o?.signal === undefined && target.runner.startsNow) {
    // Nothing can settle this request but its answer: it is answered through the model call's
    // promise (see `runNow`), with the same job, stats and events as below.
    const job: DeployJob = new Job(d, inputs, o?.outputs, d.host.clock.now(), noop, noop);
    if (o?.routingKey !== undefined) job.routingKey = o.routingKey;
    if (report !== undefined) job.screen = report;
    if (o?.kind === 'explain') job.role = 'explain';
    return target.runner.runNow(job);
  }
  return new Promise<NamedTensors>((resolve, reject) => {
    const job: DeployJob = new Job(d, inputs, o?.outputs, d.host.clock.now(), resolve, reject);
    if (o?.routingKey !== undefined) job.routingKey = o.routingKey;
    if (report !== undefined) job.screen = report;
    if (o?.kind === 'explain') job.role = 'explain';
    if (o?.signal !== undefined || timeoutMs !== undefined)
      watch(d, job, o?.signal, timeoutMs, target.runner.version);
    if (copy !== undefined) {
      const pair =
        copyRole === 'shadow'
          ? new Pair(target.runner.version, copy.runner.version)
          : new Pair(copy.runner.version, target.runner.version);
      job.pair = pair;
      target.runner.submit(job);
      const twin: DeployJob = new Job(d, inputs, o?.outputs, d.host.clock.now(), noop, noop);
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
function screenRequest(
  d: RequestTarget,
  target: Loaded,
  inputs: ModelInputs,
  o: DeployPredictOptions | undefined,
): ScreenReport {
  const version = target.runner.version;
  const isCandidate = d.window !== undefined && candidateOf(d) === version;
  const count = (r: ScreenReport) => {
    target.runner.stats.recordScreen(r);
    if (isCandidate) d.window!.candidate.recordScreen(r);
    else if (d.window !== undefined && version === d.primary) d.window.primary.recordScreen(r);
  };
  let report: ScreenReport;
  try {
    report = d.screen!.screen(inputs, o?.records);
  } catch (e) {
    if (!(e instanceof InputRejectedError)) throw e;
    count(e.report);
    d.host.reported.add(e);
    const events = d.host.events;
    if (events.listenerCount('prediction') > 0)
      events.emit('prediction', {
        name: d.name,
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
    if (isCandidate) checkGuards(d);
    throw e;
  }
  count(report);
  o?.onScreen?.(report);
  return report;
}

function watch(
  d: RequestTarget,
  job: Job,
  signal: DeployPredictOptions['signal'],
  timeoutMs: number | undefined,
  version: string,
): void {
  if (timeoutMs !== undefined) {
    job.timer = d.host.clock.setTimeout(() => {
      job.fail(
        new DeadlineExceededError(
          `model '${d.name}' version '${version}' did not answer within ${timeoutMs} ms`,
          {
            details: { model: d.name, version, timeoutMs },
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

/** Records a finished job (answered or failed): stats, guard window, comparison, `prediction` event, guard check. */
export function settleJob(d: RequestTarget, j: Job, output: NamedTensors | undefined, error: unknown): void {
  const job = j as DeployJob;
  const role = job.role ?? 'serve';
  const runner = job.runner!;
  const version = runner.version;
  // A copy turned away by a full queue was never run: it is dropped, not counted as a failure.
  if (role !== 'serve' && ModelshipError.isInstance(error) && error.code === 'MODEL_OVERLOADED') return;
  const now = d.host.clock.now();
  const latency = now - job.createdAt;
  const failed = error !== undefined;
  // An explainer's calls are thousands of synthetic rows: not requests to count or guard on.
  const counted = role !== 'explain';
  if (counted) runner.stats.record(latency, failed);
  const candidate = candidateOf(d);
  const isCandidate = candidate === version && d.window !== undefined && counted;
  // (not for an explainer's synthetic rows, which nothing counts)
  const estimate = output === undefined || !counted ? undefined : d.screen?.expectedCorrect(output);
  if (estimate !== undefined && role === 'serve') runner.stats.recordEstimate(estimate);
  const window = d.window;
  if (window !== undefined && counted) {
    const side = isCandidate
      ? window.candidate
      : version === d.primary && role === 'serve'
        ? window.primary
        : undefined;
    side?.record(latency, failed);
    if (estimate !== undefined) side?.recordEstimate(estimate);
  }
  if (job.pair !== undefined) arrive(d, job.pair, version, output, error, latency);
  if (failed && typeof error === 'object' && error !== null) d.host.reported.add(error);
  const events = d.host.events;
  if (events.listenerCount('prediction') > 0) {
    events.emit('prediction', {
      name: d.name,
      version,
      kind: role,
      latencyMs: latency,
      queueMs: job.startedAt < 0 ? 0 : job.startedAt - (job.enqueuedAt < 0 ? job.createdAt : job.enqueuedAt),
      batchSize: job.batchSize,
      routingKey: job.routingKey,
      inputs: job.inputs,
      outputs: output,
      error,
      ...(job.screen === undefined || role !== 'serve' ? {} : { screen: job.screen }),
    });
  }
  if (isCandidate && (failed || d.window!.candidate.requests % GUARD_EVERY === 0)) {
    // advance() checks the guards first.
    if (d.policy.type === 'rollout') advance(d);
    else checkGuards(d);
  }
}

function arrive(
  d: RequestTarget,
  pair: Pair,
  version: string,
  output: NamedTensors | undefined,
  error: unknown,
  ms: number,
): void {
  if (!pair.arrive(version, output, error, ms)) return;
  const p = d.policy;
  const gap = pair.disagreement(p.type === 'single' || p.type === 'ab' ? {} : p.compare);
  if (gap !== undefined && candidateOf(d) === pair.candidate) d.window?.candidate.recordComparison(gap);
  d.host.events.emit('compared', {
    name: d.name,
    primary: pair.primary,
    candidate: pair.candidate,
    disagreement: gap,
    primaryMs: pair.primaryMs,
    candidateMs: pair.candidateMs,
    ...(pair.candidateError === undefined ? {} : { candidateError: pair.candidateError }),
  });
}

function noop(): void {}
