import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('examples/node-monitoring', () => {
  it('rolls the flaky canary back on the alert, sees the drift and scores the late labels', () => {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const out = execFileSync(
      process.execPath,
      [tsx, '--conditions=@modelship/source', fileURLToPath(new URL('../src/main.ts', import.meta.url))],
      {
        encoding: 'utf8',
      },
    );
    const lines = out.trim().split('\n');
    expect(lines.find((l) => l.startsWith('ALERT'))).toMatch(
      /^ALERT {5}fraud version 2: errorRate is 0\.\d+, above 0\.1 \(\d+ requests in the last 60 s\)$/,
    );
    expect(lines.find((l) => l.startsWith('ROLLBACK'))).toMatch(
      /^ROLLBACK {2}fraud version 2: fraud version 2: errorRate is/,
    );
    expect(lines.find((l) => l.startsWith('DRIFT'))).toMatch(
      /^DRIFT {5}1 of 12 features: f3 \(ks p=\d\.\de-\d+\)$/,
    );
    expect(lines.find((l) => l.startsWith('LIVE      fraud v1'))).toMatch(/accuracy 0\.9\d\d/);
    expect(lines.at(-1)).toBe('SERVING   v1 100%, v2 0%');
  });
});
