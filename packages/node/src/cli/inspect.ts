/** `modelship inspect` and `modelship hash`: a model's signature, a file's integrity string. */
import { computeIntegrity, formatShape } from '@modelship/core';
import type { Command } from 'commander';
import { loadModel } from '../load-model';
import { UsageError } from './errors';
import { readBytes } from './files';

type Out = (s: string) => void;

export function registerInspect(program: Command, out: Out, done: (code: number) => void): void {
  program
    .command('inspect')
    .summary("show a model's inputs, outputs and integrity string")
    .description("Shows a model's inputs, outputs and integrity string.")
    .argument('<model>', 'an .onnx or .ort file')
    .option('--json', 'print it as JSON')
    .action(async (path: string, values: { json?: boolean }) => done(await inspect(path, values, out)));
  program
    .command('hash')
    .summary("print a file's SRI integrity string")
    .description(
      "Prints a file's Subresource Integrity string, for loadModel's integrity option or a repository's config.json.",
    )
    .argument('<file>', 'any file')
    .option('--algorithm <name>', 'sha256, sha384 or sha512 (default: sha256)')
    .action(async (path: string, values: { algorithm?: string }) => done(await hash(path, values, out)));
}

async function inspect(path: string, values: { json?: boolean }, out: Out): Promise<number> {
  const bytes = await readBytes(path, 'the model');
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
      ...model.signature.outputs.map((s) => [
        'output',
        s.name,
        s.dtype,
        formatShape(s.shape) + (s.labels === undefined ? '' : `  labels: ${s.labels.join(', ')}`),
      ]),
      // Outputs onnxruntime-js cannot return, listed so none goes unseen.
      ...(model.signature.unsupportedOutputs ?? []).map((u) => ['output', u.name, u.type, '(not returned)']),
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
    out(`${model.name}  ${(bytes.byteLength / 1024).toFixed(1)} KiB  ${integrity}`);
    for (const r of rows) out(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}`);
    return 0;
  } finally {
    await model.dispose();
  }
}

async function hash(path: string, values: { algorithm?: string }, out: Out): Promise<number> {
  const algorithm = values.algorithm ?? 'sha256';
  if (!['sha256', 'sha384', 'sha512'].includes(algorithm))
    throw new UsageError(`--algorithm must be sha256, sha384 or sha512, not '${algorithm}'`);
  out(await computeIntegrity(await readBytes(path, 'the file'), algorithm as 'sha256'));
  return 0;
}
