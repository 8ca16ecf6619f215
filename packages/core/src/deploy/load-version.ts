import { DeadlineExceededError, invalidArgument, ModelLoadError, ModelshipError } from '../errors';
import { checkSignature } from '../model/function-model';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { ModelSignature } from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { prepareInputs } from '../tensor/validate';
import type { Clock } from './clock';
import { VersionRunner } from './runner';
import { batchDimensionProblem, rowsOf, stackInputs } from './stack';
import type { DeploymentHost, DeployOptions, ModelSource, WarmupStatus } from './types';
import { warmupInputs } from './warmup';

/**
 * Brings one version from its source to a warmed-up runner, off the request path, emitting
 * `loaded`, `warmedUp`, `warmupSkipped`, `loadFailed` and `batchingDisabled`. A version that
 * fails to load, fails a warmup sample it was given, or does not warm up in time is disposed
 * and the error thrown: it never reaches traffic. A synthetic warmup (zeros) that fails is
 * only a guess that did not suit the model: the version serves, its warmup marked skipped.
 */
export async function loadVersion(
  host: DeploymentHost,
  name: string,
  version: string,
  source: ModelSource,
  o: DeployOptions,
): Promise<VersionRunner> {
  const { clock, events } = host;
  const runner = new VersionRunner(version, {
    name,
    clock,
    batching: o.batching,
    admission: { maxConcurrency: o.maxConcurrency, maxQueue: o.maxQueue },
  });
  const deadline = <T>(work: Promise<T>, stage: string, onLate?: (value: T) => void): Promise<T> =>
    o.loadTimeoutMs === undefined
      ? work
      : withDeadline(clock, o.loadTimeoutMs, work, onLate, () => {
          const ms = o.loadTimeoutMs;
          return new DeadlineExceededError(
            `model '${name}' version '${version}' did not ${stage} within ${ms} ms (loadTimeoutMs)`,
            { details: { model: name, version, loadTimeoutMs: ms } },
          );
        });
  const t0 = clock.now();
  let model: Model;
  try {
    const loaded =
      typeof source === 'function'
        ? await deadline(source(), 'load', (late) => {
            // A model that arrives after the deadline is never used: free it.
            if (typeof late?.dispose === 'function') late.dispose().catch(() => undefined);
          })
        : source;
    checkModel(loaded);
    model = loaded;
  } catch (e) {
    events.emit('loadFailed', { name, version, stage: 'load', error: e });
    throw ModelshipError.isInstance(e)
      ? e
      : new ModelLoadError(
          'MODEL_INVALID',
          `model '${name}' version '${version}' failed to load: ${message(e)}`,
          {
            cause: e,
          },
        );
  }
  events.emit('loaded', { name, version, ms: clock.now() - t0 });
  runner.attach(model);
  runner.state = 'warming';
  try {
    const t1 = clock.now();
    const { error, ...status } = await deadline(warmup(model, runner, o), 'warm up');
    runner.warmup = status;
    if (status.runs > 0) events.emit('warmedUp', { name, version, ms: clock.now() - t1, runs: status.runs });
    if (status.state === 'skipped')
      events.emit('warmupSkipped', { name, version, reason: status.reason!, error });
  } catch (e) {
    events.emit('loadFailed', { name, version, stage: 'warmup', error: e });
    // Not awaited: a warmup that timed out may still be running, and dispose waits for it.
    model.dispose().catch(() => undefined);
    throw new ModelshipError(
      'WARMUP_FAILED',
      `model '${name}' version '${version}' failed its warmup: ${message(e)}`,
      {
        cause: e,
        // A failed sample says which one it was.
        details: {
          ...(ModelshipError.isInstance(e) && e.code === 'WARMUP_FAILED' ? e.details : {}),
          model: name,
          version,
        },
      },
    );
  }
  const off = runner.batchingStatus();
  if (off !== undefined && !off.enabled) {
    events.emit('batchingDisabled', { name, version, reason: off.reason ?? '' });
  }
  return runner;
}

async function warmup(
  model: Model,
  runner: VersionRunner,
  o: DeployOptions,
): Promise<WarmupStatus & { error?: unknown }> {
  const w = o.warmup ?? true;
  if (w === false) return { state: 'off', runs: 0 };
  const runsEach = w === true ? 1 : (w.runs ?? 1);
  const signature = model.signature;
  let runs = 0;
  const skip = (what: string, e: unknown) => ({
    state: 'skipped' as const,
    runs,
    reason: `${what} failed: ${message(e)}`,
    ...(ModelshipError.isInstance(e) ? { code: e.code } : {}),
    error: e,
  });
  let first: ModelInputs | undefined;
  if (w !== true && w.inputs !== undefined) {
    // Real samples: each must succeed, or the version is refused.
    const samples = typeof w.inputs === 'function' ? await w.inputs(signature) : w.inputs;
    if (!Array.isArray(samples) || samples.length === 0)
      throw invalidArgument('deploy', 'warmup.inputs must give a non-empty array of requests', samples);
    first = samples[0];
    for (let r = 0; r < runsEach; r++) {
      for (let i = 0; i < samples.length; i++) {
        try {
          await model.predict(samples[i]!);
        } catch (e) {
          const which = w.names?.[i] ?? `${i + 1} of ${samples.length}`;
          throw new ModelshipError('WARMUP_FAILED', `sample ${which}: ${message(e)}`, {
            cause: e,
            details: { sample: i, ...(w.names?.[i] === undefined ? {} : { name: w.names[i] }) },
          });
        }
        runs++;
      }
    }
  } else {
    try {
      for (let r = 0; r < runsEach; r++) {
        await model.predict(warmupInputs(signature, 1));
        runs++;
      }
    } catch (e) {
      return skip('the synthetic warmup (zeros, symbolic dimensions 1)', e);
    }
  }
  // A batch at the largest size allocates what real batches will need, and proves that the
  // outputs keep the batch dimension; if they do not, batching is turned off, not guessed at.
  // Made of the first sample when it stacks to that size, otherwise of zeros: Modelship's own
  // construction either way, so its failure skips the rest of the warmup, never the version.
  const batching = o.batching;
  if (runner.batchingEnabled && batching !== undefined && batching.maxBatchSize > 1) {
    const n = batching.maxBatchSize;
    const stacked = first === undefined ? undefined : repeatRows(signature, first, n);
    let out: NamedTensors;
    try {
      out = await model.predict(stacked ?? warmupInputs(signature, n));
    } catch (e) {
      const what = stacked === undefined ? 'zeros' : 'the first sample repeated';
      return skip(`the warmup batch at maxBatchSize ${n} (${what})`, e);
    }
    runs++;
    const problem = batchDimensionProblem(out, n);
    if (problem !== undefined) runner.disableBatching(problem.message);
  }
  return { state: 'warmed', runs };
}

/** `sample` stacked to `n` rows along the batch dimension, or `undefined` when it does not divide `n`. */
function repeatRows(
  signature: ModelSignature,
  sample: ModelInputs,
  n: number,
): Record<string, Tensor> | undefined {
  const inputs = prepareInputs(signature, sample);
  const names = signature.inputs.map((s) => s.name);
  const rows = rowsOf(inputs, names);
  if (rows === undefined || rows === 0 || n % rows !== 0) return undefined;
  return stackInputs(new Array<Record<string, Tensor>>(n / rows).fill(inputs), names, n);
}

/**
 * Settles with `work`, or rejects with `timeout()` after `ms`, so a loader or warmup that never
 * ends cannot hold up a model's deploys for good. A value that arrives after the deadline goes
 * to `onLate`.
 */
function withDeadline<T>(
  clock: Clock,
  ms: number,
  work: Promise<T>,
  onLate: ((value: T) => void) | undefined,
  timeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = clock.setTimeout(() => {
      late = true;
      reject(timeout());
    }, ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        if (!late) resolve(value);
        else onLate?.(value);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        if (!late) reject(e);
      },
    );
  });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function checkModel(m: unknown): asserts m is Model {
  const model = m as Model;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof model.predict !== 'function' ||
    typeof model.dispose !== 'function'
  ) {
    throw invalidArgument(
      'deploy',
      'the source must be a Model (signature, predict, dispose) or a function resolving to one',
      m,
    );
  }
  checkSignature(model.signature, 'deploy');
}
