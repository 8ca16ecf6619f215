import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('examples/node-quickstart', () => {
  it('runs as the README says and prints the model, its predictions and a refused request', () => {
    const run = spawnSync('pnpm', ['run', '--silent', 'start'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^Loaded 'fraud' version 1 \(sha256-[A-Za-z0-9+/]{43}=\)$/m);
    expect(out).toContain('  input   features: float32 [batch, 12]');
    expect(out).toContain('  output  probability: float32 [batch]');
    expect(out).toContain('  output  label: int64 [batch]');
    // Probabilities as numpy computes them from the fixture's weights (fixtures/models/expected.json
    // covers the same model); three legit rows, three fraud rows, one false positive.
    const table = out
      .split('\n')
      .filter((l) => /^\d+\s/.test(l))
      .map((l) => l.trim().split(/\s+/));
    expect(table.map((r) => r[3])).toEqual(['0', '0', '0', '1', '1', '1']);
    expect(table.map((r) => r[2])).toEqual(['0', '0', '1', '1', '1', '1']);
    for (const r of table) expect(Number(r[2])).toBe(Number(r[1]) > 0.5 ? 1 : 0);
    expect(out).toContain(
      "A malformed request is refused: [INPUT_SHAPE_MISMATCH] input 'features': dimension 1 must be 12 [batch, 12], received 3 [1, 3]",
    );
  });
});
