/**
 * Modelship quickstart: load the shipped fraud classifier, check its integrity, read its
 * signature, score a few transactions, and see what a bad request gets back.
 *
 *   pnpm quickstart                 # from the repository root
 *   pnpm start [model.onnx]         # from this folder, with your own model
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { computeIntegrity, formatShape, loadModel, ModelshipError, toArray } from '@modelship/node';

const path =
  process.argv[2] ?? fileURLToPath(new URL('../../../fixtures/models/fraud.onnx', import.meta.url));

// Pin the model's bytes: in a real service this string lives in config, next to the path.
const integrity = await computeIntegrity(await readFile(path));
const model = await loadModel(path, { name: 'fraud', version: '1', integrity });

console.log(`Loaded '${model.name}' version ${model.version} (${integrity})`);
for (const s of model.signature.inputs)
  console.log(`  input   ${s.name}: ${s.dtype} ${formatShape(s.shape)}`);
for (const s of model.signature.outputs)
  console.log(`  output  ${s.name}: ${s.dtype} ${formatShape(s.shape)}`);

const input = model.signature.inputs[0]!;
const width = typeof input.shape?.[1] === 'number' ? input.shape[1] : 1;
// Three transactions: all-zero features, then two rows with a clear direction.
const rows = [new Array(width).fill(0), new Array(width).fill(1.5), new Array(width).fill(-1.5)];
const out = await model.predict({ [input.name]: rows });

console.log('\nPredictions');
const columns = Object.keys(out);
console.log(['row', ...columns].map((c) => c.padEnd(12)).join(''));
for (let i = 0; i < rows.length; i++) {
  const cells = columns.map((c) => {
    const values = toArray(out[c]!);
    const per = values.length / rows.length;
    return values
      .slice(i * per, (i + 1) * per)
      .map((v) => (typeof v === 'number' ? v.toFixed(4) : String(v)))
      .join(' ');
  });
  console.log([String(i), ...cells].map((c) => c.padEnd(12)).join(''));
}

// A request that does not fit the signature gets a typed error, not a crash.
try {
  await model.predict({ [input.name]: [[1, 2, 3]] });
} catch (e) {
  if (!ModelshipError.isInstance(e)) throw e;
  console.log(`\nA malformed request is refused: [${e.code}] ${e.message}`);
}

await model.dispose();
