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

/**
 * What `predictCommand` writes to, as a test that presses Ctrl-C uses it: stderr is collected in
 * `err`, and the first progress line (`predict: …`, the run is under way) sends SIGINT once.
 */
export function interruptingPredictIo() {
  const err: string[] = [];
  const state = { interrupted: false };
  const io = {
    out: () => {},
    err: (line: string) => {
      err.push(line);
      if (!state.interrupted && line.startsWith('predict:')) {
        state.interrupted = true;
        process.emit('SIGINT');
      }
    },
    tty: false,
    everyMs: 0,
  };
  return { io, err, state };
}
