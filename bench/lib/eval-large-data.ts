/**
 * The table `pnpm bench evaluate-large` evaluates: `rows` × 12 features and a 0/1 label, written
 * as CSV to a path in /tmp. The same seed gives the same file, byte for byte, so runs on
 * different days read the same data. Run by hand: `tsx bench/lib/eval-large-data.ts
 * /tmp/eval-large.csv 2000000 [seed]`.
 */
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';

/** mulberry32: a tiny seeded generator; the data only has to be reproducible, not strong. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes the CSV unless a file of this name and the expected header already exists (the
 * name carries rows and seed). Features are normal with a class-dependent shift, a fifth of
 * the rows positive, so fraud.onnx's scores rank them well but not perfectly.
 */
export function writeEvalLarge(path: string, rows: number, seed = 26): string {
  if (existsSync(path) && statSync(path).size > 0) return path;
  const random = generator(seed);
  const normal = (): number => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const shift = [0.6, -0.4, 0.3, 0.8, -0.2, 0.5, -0.7, 0.2, 0.4, -0.3, 0.1, 0.6];
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, `${shift.map((_, j) => `f${j}`).join(',')},label\n`);
    let chunk = '';
    for (let i = 0; i < rows; i++) {
      const y = random() < 0.2 ? 1 : 0;
      for (let j = 0; j < 12; j++) chunk += `${(normal() + y * shift[j]!).toFixed(4)},`;
      chunk += `${y}\n`;
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return path;
}

if (process.argv[1]?.endsWith('eval-large-data.ts')) {
  const [path, rows, seed] = process.argv.slice(2);
  writeEvalLarge(path ?? '/tmp/eval-large.csv', Number(rows ?? 2_000_000), Number(seed ?? 26));
}
