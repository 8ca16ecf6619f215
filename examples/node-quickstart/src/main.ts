/**
 * Modelship quickstart: load the shipped fraud classifier with an integrity check, read its
 * signature, score held-out transactions, and see what a malformed request gets back.
 *
 *   pnpm quickstart        # from the repository root
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { asDType, computeIntegrity, formatShape, loadModel, ModelshipError } from '@modelship/node';

const fixtures = new URL('../../../fixtures/', import.meta.url);
const modelFile = fileURLToPath(new URL('models/fraud.onnx', fixtures));

// Pin the model's bytes. In a service this string lives in config beside the path; here it is
// computed so the example stays true when the fixture is regenerated.
const integrity = await computeIntegrity(await readFile(modelFile));
const model = await loadModel(modelFile, { name: 'fraud', version: '1', integrity });

console.log(`Loaded '${model.name}' version ${model.version} (${integrity})`);
for (const s of model.signature.inputs)
  console.log(`  input   ${s.name}: ${s.dtype} ${formatShape(s.shape)}`);
for (const s of model.signature.outputs)
  console.log(`  output  ${s.name}: ${s.dtype} ${formatShape(s.shape)}`);

// Held-out transactions, 12 features then the true label per CSV row: three legit, three fraud.
const csv = await readFile(new URL('data/fraud.csv', fixtures), 'utf8');
const all = csv
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',').map(Number));
const rows = [...all.filter((r) => r[12] === 0).slice(0, 3), ...all.filter((r) => r[12] === 1).slice(0, 3)];
const features = rows.map((r) => r.slice(0, 12));
const truth = rows.map((r) => r[12]);

// Nested arrays take the dtype the signature declares (float32 here).
const out = await model.predict({ features });
const probability = asDType(out.probability!, 'float32').data; // Float32Array
const label = asDType(out.label!, 'int64').data; // BigInt64Array

console.log('\nrow  probability  label  true label');
for (let i = 0; i < rows.length; i++) {
  console.log(
    `${String(i).padEnd(5)}${probability[i]!.toFixed(4).padEnd(13)}${String(label[i]).padEnd(7)}${truth[i]}`,
  );
}

// A request that does not fit the signature gets a typed error, not a crash.
try {
  await model.predict({ features: [[1, 2, 3]] });
} catch (e) {
  if (!ModelshipError.isInstance(e)) throw e;
  console.log(`\nA malformed request is refused: [${e.code}] ${e.message}`);
}

await model.dispose();
