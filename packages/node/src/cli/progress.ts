/**
 * The progress line of `modelship eval` and `modelship explain` on stderr: each phase with its own unit (rows while
 * scoring, metrics while scoring them, resamples while bootstrapping), the share done and an estimate of the time left,
 * redrawn at most ten times a second. (cli-progress and friends draw the same bar with more
 * dependencies; this is the one line we need.)
 */
import type { EvaluateProgress } from '@modelship/core';

export interface ProgressLine {
  /** Bytes of the data file read so far: the share of the scoring done. */
  bytes(read: number, total: number): void;
  /** The Evaluator's progress. */
  step(p: EvaluateProgress): void;
  /**
   * Any other phase (`modelship explain`'s importance, dependence, Shapley values): its name, its
   * unit, the amount done and the total expected, when known. A new phase restarts the clock.
   */
  count(phase: string, unit: string, done: number, total: number | undefined): void;
  /** Clears the line. */
  done(): void;
}

/**
 * @param write where the line goes (stderr).
 * @param now the clock (tests pass their own).
 * @param first the phase while the data file is read (`bytes` moves the bar only then).
 * @param rate also show the rate (`310k rows/s`; `modelship predict`).
 */
export function progressLine(
  write: (s: string) => void,
  now: () => number = Date.now,
  first = 'scoring',
  rate = false,
): ProgressLine {
  let phase = first;
  let unit = 'rows';
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
    const amount =
      total === undefined
        ? `${count.toLocaleString('en-US')} ${unit}`
        : `${count.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`;
    const speed = rate && t > started ? `  ${perSecond(count, t - started)} ${unit}/s` : '';
    write(
      `\r${phase.padEnd(13)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%  ${amount}${speed}  ${eta(f, t - started)}\x1b[K`,
    );
    shown = true;
  };
  function update(name: string, unitName: string, done: number, expected: number | undefined): void {
    const switched = name !== phase;
    if (switched) {
      phase = name;
      unit = unitName;
      started = now();
      fraction = 0;
    }
    count = done;
    total = expected;
    if (expected !== undefined) fraction = expected > 0 ? done / expected : 1;
    draw(switched || (expected !== undefined && done >= expected));
  }
  return {
    bytes: (read, size) => {
      if (phase !== first) return;
      fraction = size > 0 ? read / size : 0;
      draw();
    },
    step: (p) => {
      if (p.phase === 'bootstrap') update('bootstrapping', 'resamples', p.done, p.total);
      else if (p.phase === 'metrics') update('metrics', 'metrics', p.done, p.total);
      else {
        count = p.done;
        if (p.total !== undefined) fraction = p.total > 0 ? p.done / p.total : 1;
        draw(p.total !== undefined && p.done === p.total);
      }
    },
    count: update,
    done: () => {
      if (shown) write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** `count` over `ms` per second, short: "850", "12.5k", "310k", "1.2M". */
export function perSecond(count: number, ms: number): string {
  const r = (count * 1000) / ms;
  if (r < 1000) return String(Math.round(r));
  if (r < 1e6) return r < 1e5 ? `${(r / 1000).toFixed(1)}k` : `${Math.round(r / 1000)}k`;
  return `${(r / 1e6).toFixed(1)}M`;
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
