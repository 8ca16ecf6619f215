/**
 * Which Modelship the benches measure. By default the built packages (`packages/*\/dist`, what
 * users install and run): `pnpm bench` builds them first. With BENCH_SOURCE=1 (`pnpm
 * bench:source`) the TypeScript sources through tsx instead, which is quicker to iterate on but
 * slower to run: tsx compiles with esbuild's keepNames, so every named closure made per call
 * pays a `defineProperty`, and each process and worker thread compiles its imports at start.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const FROM_SOURCE = process.env.BENCH_SOURCE === '1';

/** The node flags that make a child process resolve `@modelship/*` the same way as this one. */
export const CONDITIONS: string[] = FROM_SOURCE ? ['--conditions=@modelship/source'] : [];

/** tsx's loader, for child processes that run a bench's own TypeScript file. */
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The `modelship` CLI: `[command, ...args]` that start it (node on dist/cli.js, or tsx on the sources). */
export function cliCommand(): string[] {
  if (FROM_SOURCE)
    return [
      '--import',
      TSX,
      ...CONDITIONS,
      fileURLToPath(new URL('../../packages/node/src/cli/bin.ts', import.meta.url)),
    ];
  return [distCli()];
}

/** packages/node/dist/cli.js, checked to exist (`pnpm build` makes it). */
export function distCli(): string {
  const cli = fileURLToPath(new URL('../../packages/node/dist/cli.js', import.meta.url));
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`pnpm build\` (or BENCH_SOURCE=1 for the sources)`);
  return cli;
}
