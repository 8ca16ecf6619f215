/**
 * The parser alone, for `pnpm bench evaluate-large`: reads the table with `readCsvColumns` into
 * typed column blocks (the batches `modelship eval` gives the model) and prints JSON with the
 * seconds it took, measured in the process as the Python side measures `read_csv`, and the CPU
 * seconds. Run by hand: `tsx --conditions=@modelship/source bench/lib/eval-large-read.ts file.csv`.
 */
import { readCsvColumns } from '@modelship/node';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: eval-large-read.ts <file.csv>');
const t0 = performance.now();
const c0 = process.cpuUsage();
let rows = 0;
let sum = 0;
for await (const block of readCsvColumns(path).blocks(21_845)) {
  rows += block.length;
  for (const column of block.columns) sum += column.numbers[0]!;
}
const cpu = process.cpuUsage(c0);
console.log(
  JSON.stringify({ read: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, rows, sum }),
);
