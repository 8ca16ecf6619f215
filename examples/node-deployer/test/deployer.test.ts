import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('examples/node-deployer', () => {
  it('batches, rolls a broken canary back, shadows, rolls out, refuses a corrupt file and rolls back', () => {
    const run = spawnSync('pnpm', ['run', '--silent', 'start'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    // 64 requests in far fewer model calls than requests
    const calls = Number(/64 concurrent requests answered in (\d+) model calls/.exec(out)![1]);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(64);
    expect(out).toMatch(
      /rolled back v2 to v1: outputs disagree with the primary's on 100% of rows, above maxDisagreement 0\.05 \(\d+ compared\)/,
    );
    expect(out).toMatch(/after \d+ requests the policy is 'single'/);
    expect(out).toContain('100 requests compared with the shadow, 0 disagreed');
    expect(out).toContain(
      [
        '  rollout of v3: step 0, weight 0.1',
        '  rollout of v3: step 1, weight 0.5',
        '  rollout of v3: step 2, weight 1',
        '  promoted fraud v3 (was v1)',
      ].join('\n'),
    );
    expect(out).toMatch(/v4 failed to load: the model data is not an ONNX model/);
    expect(out).toContain('deploy refused [MODEL_INVALID]; primary is still v3');
    expect(out).toContain('rolled back v3 to v1: operator: roll back\n  now serving v1');
    const table = out
      .split('\n')
      .filter((l) => /^\d\s+ready/.test(l))
      .map((l) => l.split(/\s+/));
    expect(table.map((r) => [r[0], r[2]])).toEqual([
      ['1', '1'],
      ['2', '0'],
      ['3', '0'],
    ]);
    // no request failed on any version
    expect(table.map((r) => r[4])).toEqual(['0', '0', '0']);
  });
});
