/** Runs the `modelship` command in-process, capturing what it prints and its exit code. */
import { vi } from 'vitest';
import { main } from '../src/cli/main';

/**
 * @param onErr sees each write to stderr as it happens (a test can act on a progress line).
 */
export async function runCli(
  argv: string[],
  onErr: (s: string) => void = () => {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err.push(String(s));
    onErr(String(s));
    return true;
  });
  try {
    const code = await main(argv, (s) => out.push(s));
    return { code, out: out.join('\n'), err: err.join('') };
  } finally {
    spy.mockRestore();
  }
}
