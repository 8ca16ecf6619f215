/**
 * How the `modelship` command fails: one line, `modelship: [CODE] message`, on stderr, and an
 * exit code a script can act on. The table below is the one place codes meet exit codes; it is
 * documented in docs/serving.md ("Exit codes").
 */
import { DATA_FAULT_CODES, ModelshipError } from '@modelship/core';

/** Exit code 2: the command line, or the data or file it names, is wrong; fix the call. */
export const EXIT_USAGE = 2;
/** Exit code 1: what the command line names failed (a model onnxruntime refuses, a crash). */
export const EXIT_FAILURE = 1;
/** Exit code 3 (`modelship predict`): the run finished, but some rows were rejected and not scored. */
export const EXIT_REJECTED = 3;
/** Exit code 130: stopped by Ctrl-C (SIGINT), as shells report it; nothing was written. */
export const EXIT_INTERRUPTED = 130;

/** The CLI's own error codes, beside the `ModelshipError` codes of the library. */
export type CliCode =
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_OPTION'
  | 'MISSING_ARGUMENT'
  | 'TOO_MANY_ARGUMENTS'
  | 'MISSING_OPTION_VALUE'
  | 'INVALID_OPTION'
  | 'FILE_NOT_FOUND'
  | 'INTERNAL';

/** A failure of the command itself, with its code and exit code. */
export class CliError extends Error {
  constructor(
    readonly code: CliCode,
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

/** A command-line mistake (a bad option value, a wrong combination): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, code: CliCode = 'INVALID_OPTION') {
    super(code, message, EXIT_USAGE);
  }
}

/**
 * Library errors that mean the data or options handed to the command do not fit the model:
 * exit code 2, like a wrong command line, so scripts can tell them from a broken model (1).
 */
const USER_DATA_CODES: ReadonlySet<string> = new Set([
  ...DATA_FAULT_CODES,
  'OUTPUT_UNKNOWN',
  'INVALID_ARGUMENT',
]);

/** Any thrown value as the CLI reports it: a code, a one-line message and the exit code. */
export function describeFailure(e: unknown): { code: string; message: string; exitCode: number } {
  if (e instanceof CliError) return { code: e.code, message: oneLine(e.message), exitCode: e.exitCode };
  if (ModelshipError.isInstance(e))
    return {
      code: e.code,
      message: oneLine(e.message),
      exitCode: USER_DATA_CODES.has(e.code) ? EXIT_USAGE : EXIT_FAILURE,
    };
  const system = (e as { code?: unknown }).code;
  if (system === 'ENOENT')
    return { code: 'FILE_NOT_FOUND', message: oneLine((e as Error).message), exitCode: EXIT_USAGE };
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'INTERNAL',
    message: `${oneLine(message)} (a bug: MODELSHIP_DEBUG=1 prints the stack)`,
    exitCode: EXIT_FAILURE,
  };
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
