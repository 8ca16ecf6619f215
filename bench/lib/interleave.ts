/**
 * Interleaved timing: every round runs each variant once, in alternating order, so that drift
 * in the machine (frequency scaling, another process, GC pressure) hits all variants alike.
 * The figure per variant is the median over rounds of the mean time per operation.
 */
export interface Variant {
  name: string;
  /** One operation; awaited. */
  run: () => Promise<unknown>;
}

export interface VariantResult {
  name: string;
  /** Per-round mean nanoseconds per operation, in round order. */
  rounds: number[];
  /** Median over rounds of the mean nanoseconds per operation. */
  medianNs: number;
  /** Fastest and slowest round, ns per operation. */
  minNs: number;
  maxNs: number;
}

export interface InterleaveOptions {
  rounds?: number;
  /** Operations per variant per round. */
  opsPerRound?: number;
  /** Operations per variant before timing starts. */
  warmup?: number;
}

export async function interleave(
  variants: Variant[],
  options: InterleaveOptions = {},
): Promise<VariantResult[]> {
  const rounds = options.rounds ?? 1001;
  const ops = options.opsPerRound ?? 20;
  const warmup = options.warmup ?? 2000;
  for (const v of variants) for (let i = 0; i < warmup; i++) await v.run();
  const samples = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
    for (const i of order) {
      const v = variants[i]!;
      const start = process.hrtime.bigint();
      for (let k = 0; k < ops; k++) await v.run();
      samples[i]!.push(Number(process.hrtime.bigint() - start) / ops);
    }
  }
  return variants.map((v, i) => {
    const s = [...samples[i]!].sort((a, b) => a - b);
    return { name: v.name, rounds: samples[i]!, medianNs: median(s), minNs: s[0]!, maxNs: s[s.length - 1]! };
  });
}

function median(sorted: number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The median over rounds of `a`'s time divided by `b`'s in the same round. Pairing by round
 * cancels slow drifts that hit both, so it is steadier than a ratio of medians on a busy machine.
 */
export function pairedRatio(a: VariantResult, b: VariantResult): number {
  return median(a.rounds.map((t, i) => t / b.rounds[i]!).sort((x, y) => x - y));
}

export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** Prints a small aligned table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
