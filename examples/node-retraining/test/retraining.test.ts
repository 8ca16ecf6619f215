import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('examples/node-retraining', () => {
  it('retrains on the drift alert’s window, proves the candidate better, and rolls it out', () => {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const out = execFileSync(
      process.execPath,
      [tsx, '--conditions=@modelship/source', fileURLToPath(new URL('../src/main.ts', import.meta.url))],
      { encoding: 'utf8' },
    );
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(
      /^ALERT {5}churn version 1: driftShare is 0\.5(000)?, above 0\.4 \(300 rows in the drift window\)$/,
    );
    const m = /^RETRAINED on 300 new rows: accuracy (0\.\d+) → (0\.\d+) \(p=(\S+), better: b\)$/.exec(
      lines[1]!,
    );
    expect(m, lines[1]).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(Number(m![1]) + 0.05);
    expect(Number(m![3])).toBeLessThan(0.001);
    expect(lines[2]).toBe('PROMOTED  churn version 2');
    expect(lines.at(-1)).toBe('SERVING   v2 100%');
  }, 120_000);
});
