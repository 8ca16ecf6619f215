/**
 * The progress line of `modelship eval` on stderr: each phase with its own unit (rows while
 * scoring, resamples while bootstrapping), the share done and an estimate of the time left,
 * redrawn at most ten times a second. (cli-progress and friends draw the same bar with more
 * dependencies; this is the one line we need.)
 */
import type { EvaluateProgress } from '@modelship/core';

export interface ProgressLine {
  /** Bytes of the data file read so far: the share of the scoring done. */
  bytes(read: number, total: number): void;
  /** The Evaluator's progress. */
  step(p: EvaluateProgress): void;
  /** Clears the line. */
  done(): void;
}

/**
 * @param write where the line goes (stderr).
 * @param now the clock (tests pass their own).
 */
export function progressLine(write: (s: string) => void, now: () => number = Date.now): ProgressLine {
  let phase: 'scoring' | 'bootstrapping' = 'scoring';
  let fraction = 0;
  let count = 0;
  let total: number | undefined;
  let started = now();
  let last = -Infinity;
  let shown = false;
  const draw = (force = false): void => {
    const t = now();
    if (!force && t - last < 100) return;
    last = t;
    const width = 28;
    const f = Math.min(1, fraction);
    const filled = Math.round(f * width);
    const unit = phase === 'scoring' ? 'rows' : 'resamples';
    const amount =
      total === undefined
        ? `${count.toLocaleString('en-US')} ${unit}`
        : `${count.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`;
    write(
      `\r${phase.padEnd(13)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${amount}  ${eta(f, t - started)}\x1b[K`,
    );
    shown = true;
  };
  return {
    bytes: (read, size) => {
      if (phase !== 'scoring') return;
      fraction = size > 0 ? read / size : 0;
      draw();
    },
    step: (p) => {
      const switched = p.phase === 'bootstrap' && phase !== 'bootstrapping';
      if (switched) {
        phase = 'bootstrapping';
        started = now();
        fraction = 0;
      }
      count = p.done;
      total = p.phase === 'bootstrap' ? p.total : undefined;
      if (p.total !== undefined) fraction = p.total > 0 ? p.done / p.total : 1;
      draw(switched || (p.total !== undefined && p.done === p.total));
    },
    done: () => {
      if (shown) write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** "ETA 12s", "ETA 3m05s", "done in 4s", or "ETA --" before there is a rate to go on. */
function eta(fraction: number, elapsedMs: number): string {
  if (fraction >= 1) return `done in ${duration(elapsedMs)}`;
  if (fraction <= 0 || elapsedMs < 200) return 'ETA --';
  return `ETA ${duration((elapsedMs * (1 - fraction)) / fraction)}`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
