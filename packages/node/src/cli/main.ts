/**
 * The `modelship` command. Exit codes: 0 success, 1 the model or file failed (its error code
 * and message are printed), 2 the command line or the data given to it was wrong.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { computeIntegrity, formatShape, ModelshipError } from '@modelship/core';
import { loadModel } from '../load-model';
import { EVAL_USAGE, evalCommand } from './eval';
import { SERVE_USAGE, serveCommand } from './serve';
import { UsageError } from './usage';

const USAGE = `Usage: modelship <command> [options]

Commands:
  inspect <model.onnx> [--json]     Show a model's inputs, outputs and integrity string
  hash <file> [--algorithm sha256]  Print a file's SRI integrity string (sha256, sha384, sha512)
  eval <model.onnx> <data> [...]    Evaluate a model on a CSV/TSV/JSONL file (modelship eval --help)
  serve <repository> [...]          Serve a model repository over HTTP (modelship serve --help)
  help                              Show this help
`;

/**
 * Errors that mean the data or options handed to the command do not fit the model: exit code
 * 2, like a wrong command line, so scripts can tell them from a broken model (1).
 */
const USER_DATA_CODES = new Set([
  'DATASET_INVALID',
  'OUTPUT_UNKNOWN',
  'INVALID_ARGUMENT',
  'INPUT_MISSING',
  'INPUT_UNKNOWN',
  'INPUT_DTYPE_MISMATCH',
  'INPUT_RANK_MISMATCH',
  'INPUT_SHAPE_MISMATCH',
  'INPUT_DATA_LENGTH_MISMATCH',
  'INPUT_NOT_FINITE',
  'INPUT_INVALID',
]);

export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'inspect':
        return await inspect(rest, out);
      case 'hash':
        return await hash(rest, out);
      case 'eval':
        if (rest.includes('--help') || rest.includes('-h')) {
          out(EVAL_USAGE);
          return 0;
        }
        return await evalCommand(rest, { out, progress: progressStream() });
      case 'serve':
        if (rest.includes('--help') || rest.includes('-h')) {
          out(SERVE_USAGE);
          return 0;
        }
        return await serveCommand(rest, { out });
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`modelship: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (ModelshipError.isInstance(e)) {
      process.stderr.write(`modelship: [${e.code}] ${e.message}\n`);
      return USER_DATA_CODES.has(e.code) ? 2 : 1;
    }
    throw e;
  }
}

/** Progress goes to stderr when a person is watching it (a TTY), or when MODELSHIP_PROGRESS=1. */
function progressStream(): ((s: string) => void) | undefined {
  if (!process.stderr.isTTY && process.env.MODELSHIP_PROGRESS !== '1') return undefined;
  return (s) => process.stderr.write(s);
}

function onePath(args: string[], options: ParseArgsConfig['options']) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (parsed.positionals.length !== 1)
    throw new UsageError(`expected one file, received ${parsed.positionals.length}`);
  return {
    path: parsed.positionals[0]!,
    values: parsed.values as Record<string, string | boolean | undefined>,
  };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new ModelshipError('MODEL_NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
    });
  }
}

async function inspect(args: string[], out: (s: string) => void): Promise<number> {
  const { path, values } = onePath(args, { json: { type: 'boolean' } });
  const bytes = await readBytes(path);
  const integrity = await computeIntegrity(bytes);
  const model = await loadModel(bytes, { name: path.replace(/^.*[\\/]/, '').replace(/\.(onnx|ort)$/, '') });
  try {
    if (values.json === true) {
      out(
        JSON.stringify(
          { name: model.name, bytes: bytes.byteLength, integrity, signature: model.signature },
          null,
          2,
        ),
      );
      return 0;
    }
    const rows = [
      ...model.signature.inputs.map((s) => ['input', s.name, s.dtype, formatShape(s.shape)]),
      ...model.signature.outputs.map((s) => ['output', s.name, s.dtype, formatShape(s.shape)]),
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    out(`${model.name}  ${(bytes.byteLength / 1024).toFixed(1)} KiB  ${integrity}`);
    for (const r of rows) out(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}`);
    return 0;
  } finally {
    await model.dispose();
  }
}

async function hash(args: string[], out: (s: string) => void): Promise<number> {
  const { path, values } = onePath(args, { algorithm: { type: 'string', default: 'sha256' } });
  const algorithm = values.algorithm as string;
  if (!['sha256', 'sha384', 'sha512'].includes(algorithm))
    throw new UsageError(`--algorithm must be sha256, sha384 or sha512, not '${algorithm}'`);
  out(await computeIntegrity(await readBytes(path), algorithm as 'sha256'));
  return 0;
}
