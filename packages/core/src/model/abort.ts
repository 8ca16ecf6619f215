import { AbortError } from '../errors';
import type { AbortSignalLike } from './model';

/** Throws an {@link AbortError} when the signal has already fired. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw new AbortError(abortMessage(signal), { cause: signal.reason });
}

function abortMessage(signal: AbortSignalLike): string {
  const reason = signal.reason;
  if (reason instanceof Error && reason.message) return `the operation was aborted: ${reason.message}`;
  if (typeof reason === 'string' && reason) return `the operation was aborted: ${reason}`;
  return 'the operation was aborted';
}

/**
 * Settles with `work`, or rejects with an {@link AbortError} as soon as `signal` fires,
 * whichever comes first. The work itself is not stopped (onnxruntime cannot interrupt a run);
 * its result is dropped.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError(abortMessage(signal), { cause: signal.reason }));
    if (signal.aborted) {
      onAbort();
      work.catch(() => {});
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
