#!/usr/bin/env node
// Runs the whole Vitest suite and ends with one plain line, `vitest: N passed, N failed`, so
// that CI and people read the same count. Exits non-zero when anything failed or nothing ran.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const out = '.vitest-results.json';
rmSync(out, { force: true });
const run = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
if (!existsSync(out)) {
  console.error('vitest wrote no results');
  process.exit(run.status || 1);
}
const r = JSON.parse(readFileSync(out, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(
  `vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`,
);
if (r.numTotalTests === 0) {
  console.error('no test ran');
  process.exit(1);
}
process.exit(run.status === 0 && r.numFailedTests === 0 && r.success ? 0 : 1);
