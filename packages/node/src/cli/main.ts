/**
 * The `modelship` command: subcommands, help, `--version` and suggestions come from commander;
 * every failure is one line `modelship: [CODE] message` with the exit code of errors.ts
 * (0 success, 1 what was named failed, 2 the command line or its data was wrong).
 */
import { Command, CommanderError } from 'commander';
import { registerDecrypt, registerEncrypt } from './encrypt';
import { type CliError, describeFailure, EXIT_USAGE } from './errors';
import { registerEval } from './eval';
import { registerExplain } from './explain';
import { registerInspect } from './inspect';
import { registerLogs } from './logs';
import { registerPredict } from './predict';
import { registerServe } from './serve';
import { registerSigning } from './signing';
import { packageVersion } from './version';

/** Commander's error codes as ours (all exit code 2, the command line is wrong). */
const PARSE_CODES: Record<string, CliError['code']> = {
  'commander.unknownCommand': 'UNKNOWN_COMMAND',
  'commander.unknownOption': 'UNKNOWN_OPTION',
  'commander.missingArgument': 'MISSING_ARGUMENT',
  'commander.excessArguments': 'TOO_MANY_ARGUMENTS',
  'commander.optionMissingArgument': 'MISSING_OPTION_VALUE',
  'commander.invalidArgument': 'INVALID_OPTION',
};

/** The program, writing help and results through `out` (one call per line block). */
export function createProgram(out: (s: string) => void, done: (code: number) => void): Command {
  const program = new Command('modelship')
    .description('Inspect, evaluate, explain and serve ONNX models.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: modelship help <command>)')
    .helpCommand('help [command]', 'show the help of a command')
    .showSuggestionAfterError(true)
    // Options after a subcommand are its own (`predict merge <dir> -o file` is not predict's -o).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => out(s.replace(/\n$/, '')),
      writeErr: (s) => process.stderr.write(s),
      // Errors are printed by main, in one format.
      outputError: () => {},
    })
    .exitOverride();
  registerInspect(program, out, done);
  registerEval(program, out, done);
  registerExplain(program, out, done);
  registerServe(program, out, done);
  registerSigning(program, out, done);
  registerEncrypt(program, out, done);
  registerDecrypt(program, out, done);
  registerLogs(program, out, done);
  registerPredict(program, out, done);
  // Subcommands inherit the settings above when created; they remember which command failed.
  for (const command of program.commands)
    command.exitOverride((e) => {
      throw Object.assign(e, { command });
    });
  return program;
}

/** Runs the command line `argv` (without node and the script) and resolves to the exit code. */
export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  let code = 0;
  const program = createProgram(out, (c) => {
    code = c;
  });
  // `help <typo>`: commander would print the general help; say what is wrong, as `<typo>` alone does.
  const [first, second] = argv;
  if (first === 'help' && second !== undefined && !program.commands.some((c) => c.name() === second))
    argv = [second];
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help, --version, `help <command>`: printed already.
      if (e.exitCode === 0) return 0;
      const command = (e as { command?: Command }).command ?? program;
      if (e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync') {
        // `modelship` alone printed its help to stderr.
        return EXIT_USAGE;
      }
      const ours = PARSE_CODES[e.code] ?? 'INVALID_OPTION';
      // "error: unknown option '--lable'\n(Did you mean --label?)" → one line naming the command.
      const [, said = e.message, suggestion] = /^(?:error: )?([^\n]*)(?:\n\(Did you mean (.*)\?\))?/s.exec(
        e.message,
      )!;
      // `logs decrypt`: the command with the ones above it.
      const name =
        command.parent && command.parent !== program
          ? `${command.parent.name()} ${command.name()}`
          : command.name();
      const where =
        command === program || said.includes(`'${command.name()}'`) ? '' : ` for modelship ${name}`;
      const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
      process.stderr.write(`modelship: [${ours}] ${said}${where}${hint}\n\n${command.helpInformation()}`);
      return EXIT_USAGE;
    }
    const failure = describeFailure(e);
    process.stderr.write(`modelship: [${failure.code}] ${failure.message}\n`);
    if (process.env.MODELSHIP_DEBUG === '1' && e instanceof Error && e.stack !== undefined)
      process.stderr.write(`${e.stack}\n`);
    return failure.exitCode;
  }
}
