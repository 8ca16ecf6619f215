/**
 * Paired, interleaved per-call timing with CPU time: every round runs each variant for the same
 * number of calls, in alternating order, and records both the wall time and the process's CPU
 * time (user + sys, every thread) per call. A ratio is read per round (the two variants saw the
 * same machine within a millisecond of each other) and summarised by its median and quartiles,
 * so a busy host widens the quartiles instead of moving the median. CPU time per call is the
 * figure least disturbed by other processes: it does not count the time a thread waited for a
 * core.
 */
export interface PairedVariant {
  name: string;
  /** One call; awaited (or, with `callers` > 1, run by that many concurrent loops). */
  run: (caller: number) => Promise<unknown>;
}

export interface PairedOptions {
  /** Rounds (default 601). */
  rounds?: number;
  /** Calls per variant per round (default 20). */
  callsPerRound?: number;
  /** Concurrent callers sharing a round's calls, each awaiting its answer before the next (default 1). */
  callers?: number;
  /** Calls per variant before timing starts (default 2,000). */
  warmup?: number;
}

export interface PairedResult {
  name: string;
  /** Wall nanoseconds per call, per round, in round order. */
  wall: number[];
  /** CPU nanoseconds (user + sys, all threads) per call, per round, in round order. */
  cpu: number[];
}

export async function paired(
  variants: PairedVariant[],
  options: PairedOptions = {},
): Promise<PairedResult[]> {
  const rounds = options.rounds ?? 601;
  const calls = options.callsPerRound ?? 20;
  const callers = options.callers ?? 1;
  const warmup = options.warmup ?? 2000;
  const batch = (run: PairedVariant['run'], n: number): Promise<unknown> => {
    if (callers === 1)
      return (async () => {
        for (let i = 0; i < n; i++) await run(0);
      })();
    let next = 0;
    return Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        while (next++ < n) await run(c);
      }),
    );
  };
  for (const v of variants) await batch(v.run, warmup);
  const out = variants.map((v): PairedResult => ({ name: v.name, wall: [], cpu: [] }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = r % 2 === 0 ? k : variants.length - 1 - k;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await batch(variants[i]!.run, calls);
      const wall = Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      out[i]!.wall.push(wall / calls);
      out[i]!.cpu.push(((c.user + c.system) * 1000) / calls);
    }
  }
  return out;
}

export interface Spread {
  median: number;
  q1: number;
  q3: number;
}

/** Median and quartiles of `xs`. */
export function spread(xs: readonly number[]): Spread {
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), q1: at(0.25), q3: at(0.75) };
}

/**
 * Per-round `b / a` of wall time (`which: 'wall'`) or CPU time: with `a` the variant and `b` the
 * baseline it reads as a throughput ratio ("× baseline", above 1 is faster than the baseline).
 * Besides the quartiles, `lo`–`hi` is a 95% confidence interval of the median (the order
 * statistics n/2 ± 0.98·√n), which is what says whether two medians differ.
 */
export function ratio(
  a: PairedResult,
  b: PairedResult,
  which: 'wall' | 'cpu',
): Spread & { lo: number; hi: number } {
  const xa = a[which];
  const xb = b[which];
  const per: number[] = [];
  for (let i = 0; i < xa.length; i++) if (xa[i]! > 0) per.push(xb[i]! / xa[i]!);
  const s = Float64Array.from(per).sort();
  const n = s.length;
  const half = Math.ceil(0.98 * Math.sqrt(n));
  const mid = n >> 1;
  return { ...spread(per), lo: s[Math.max(0, mid - half)]!, hi: s[Math.min(n - 1, mid + half)]! };
}

/** `median [95% interval of the median] (quartiles)`. */
export function formatRatio(s: Spread & { lo: number; hi: number }): string {
  return `${s.median.toFixed(3)} [${s.lo.toFixed(3)}–${s.hi.toFixed(3)}] (${s.q1.toFixed(2)}–${s.q3.toFixed(2)})`;
}
