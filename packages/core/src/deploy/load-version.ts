import { DeadlineExceededError, invalidArgument, ModelLoadError, ModelshipError } from '../errors';
import { checkSignature } from '../model/function-model';
import type { Model } from '../model/model';
import type { ModelInputs } from '../tensor/coerce';
import type { Clock } from './clock';
import { VersionRunner } from './runner';
import { batchDimensionProblem } from './stack';
import type { DeploymentHost, DeployOptions, ModelSource } from './types';
import { warmupInputs } from './warmup';

/**
 * Brings one version from its source to a warmed-up runner, off the request path, emitting
 * `loaded`, `warmedUp`, `loadFailed` and `batchingDisabled`. A version that fails to load or to
 * warm up is disposed and the error thrown: it never reaches traffic.
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
    const runs = await deadline(warmup(model, runner, o), 'warm up');
    if (runs > 0) events.emit('warmedUp', { name, version, ms: clock.now() - t1, runs });
  } catch (e) {
    events.emit('loadFailed', { name, version, stage: 'warmup', error: e });
    // Not awaited: a warmup that timed out may still be running, and dispose waits for it.
    model.dispose().catch(() => undefined);
    throw new ModelshipError(
      'WARMUP_FAILED',
      `model '${name}' version '${version}' failed its warmup: ${message(e)}`,
      {
        cause: e,
        details: { model: name, version },
      },
    );
  }
  const off = runner.batchingStatus();
  if (off !== undefined && !off.enabled) {
    events.emit('batchingDisabled', { name, version, reason: off.reason ?? '' });
  }
  return runner;
}

async function warmup(model: Model, runner: VersionRunner, o: DeployOptions): Promise<number> {
  const w = o.warmup ?? true;
  if (w === false) return 0;
  const runsEach = w === true ? 1 : (w.runs ?? 1);
  const samples: ModelInputs[] =
    w === true || w.inputs === undefined ? [warmupInputs(model.signature, 1)] : [...w.inputs];
  let runs = 0;
  for (let r = 0; r < runsEach; r++) {
    for (const sample of samples) {
      await model.predict(sample);
      runs++;
    }
  }
  // A batch at the largest size allocates what real batches will need, and proves that the
  // outputs keep the batch dimension; if they do not, batching is turned off, not guessed at.
  const batching = o.batching;
  if (runner.batchingEnabled && batching !== undefined && batching.maxBatchSize > 1) {
    const n = batching.maxBatchSize;
    const out = await model.predict(warmupInputs(model.signature, n));
    runs++;
    const problem = batchDimensionProblem(out, n);
    if (problem !== undefined) runner.disableBatching(problem.message);
  }
  return runs;
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
