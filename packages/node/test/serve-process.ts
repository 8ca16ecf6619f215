/** `modelship serve` in a child process, as a user runs it, from the TypeScript sources. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bin = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
// tsx as a loader in the one process, not its CLI: the CLI relays signals to a child and, when
// the child's acknowledgement takes over 30 ms (a loaded machine), signals it again and kills it
// (exit 143), which is not what a server under SIGTERM does.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Starts `modelship serve …args`; `url` resolves once it listens, and rejects if it exits first
 * or has not started within `startMs`.
 */
export function startServe(args: string[], env: Record<string, string> = {}, startMs = 90_000) {
  const child = spawn(
    process.execPath,
    ['--import', tsx, '--conditions=@modelship/source', bin, 'serve', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captured(child);
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output()}`)), startMs);
    child.stdout!.on('data', () => {
      const m = /listening on (https?:\/\/\S+)/.exec(output());
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output()}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output };
}

/** Everything `child` writes to stdout and stderr so far, in order. */
export function captured(child: ChildProcess): () => string {
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  return () => output;
}
