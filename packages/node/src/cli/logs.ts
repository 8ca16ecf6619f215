/**
 * `modelship logs decrypt`: an encrypted prediction log (`predictions.jsonl.jwe`, and the
 * rotated files beside it) back to JSON lines.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelshipError } from '@modelship/core';
import type { Command } from 'commander';
import { DEFAULT_LOG_KEY_ENV, decryptPredictionLog } from '../log-encryption';
import { KEY_HELP, type KeyFlags, keyOf, writeNew } from './encrypt';
import { CliError, UsageError } from './errors';

interface LogsDecryptFlags extends KeyFlags {
  output?: string;
  force?: boolean;
}

export function registerLogs(program: Command, out: (s: string) => void, done: (code: number) => void): void {
  const decrypt = program
    .command('logs')
    .summary('read the prediction log (decrypt an encrypted one)')
    .command('decrypt')
    .summary('decrypt an encrypted prediction log to JSON lines')
    .description(
      `Decrypts predictions.jsonl.jwe files written by modelship serve --log-key-file/--log-key-env (or PredictionLog's encryption option). Given the log directory, reads every rotated file, oldest first, then the current one. A line a crash tore or that was changed is reported; the others are written. The key comes from --key-file, --key-env or $${DEFAULT_LOG_KEY_ENV}.`,
    )
    .argument('<paths...>', 'encrypted log files, or the log directory')
    .option('--key-file <file>', KEY_HELP)
    .option('--key-env <name>', `an environment variable holding the key (default: ${DEFAULT_LOG_KEY_ENV})`)
    .option('-o, --output <file>', 'write the JSON lines to this new file (mode 600) rather than to stdout')
    .option('--force', 'overwrite the output file')
    .action(async (paths: string[], flags: LogsDecryptFlags) => done(await decryptLogs(paths, flags, out)));
  // main tags the top-level commands with where a parse error happened; this one is a level down.
  decrypt.exitOverride((e) => {
    throw Object.assign(e, { command: decrypt });
  });
}

async function decryptLogs(
  paths: string[],
  flags: LogsDecryptFlags,
  out: (s: string) => void,
): Promise<number> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw new CliError('FILE_NOT_FOUND', `the log '${path}' does not exist`);
    if (!info.isDirectory()) files.push(path);
    else {
      // Rotated files (predictions-<time>) sort before the current one, oldest first.
      const found = (await readdir(path)).filter((f) => /^predictions(-.+)?\.jsonl\.jwe$/.test(f)).sort();
      if (found.length === 0)
        throw new UsageError(`the log directory '${path}' holds no predictions*.jsonl.jwe`);
      files.push(...found.map((f) => join(path, f)));
    }
  }
  const key = await keyOf(flags, DEFAULT_LOG_KEY_ENV);
  const lines: string[] = [];
  const damaged: string[] = [];
  let first: string | undefined;
  for (const file of files) {
    const read = await decryptPredictionLog(await readFile(file, 'utf8'), { key, source: file });
    lines.push(...read.lines);
    for (const d of read.damaged) {
      first ??= d.code;
      damaged.push(`${file} line ${d.line} (${d.code})`);
    }
  }
  if (flags.output !== undefined)
    await writeNew(
      flags.output,
      lines.length === 0 ? '' : `${lines.join('\n')}\n`,
      flags.force === true,
      0o600,
      '--output',
    );
  else if (lines.length > 0) out(lines.join('\n'));
  if (first !== undefined)
    throw new ModelshipError(
      first as ModelshipError['code'],
      `${damaged.length} line(s) did not decrypt, the other ${lines.length} were written: ${damaged.join(', ')}`,
    );
  return 0;
}
