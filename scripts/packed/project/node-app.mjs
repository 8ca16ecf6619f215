// A Node service as a user writes it against the installed @modelship/node: load the shipped
// fraud model, predict what numpy computed, evaluate on the holdout, serve one request over HTTP.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { asDType, createServer, Deployer, evaluate, loadModel, readCsv } from '@modelship/node';

const expected = JSON.parse(readFileSync('fixtures/expected.json', 'utf8')).fraud.cases[1];
const model = await loadModel('fixtures/fraud.onnx', { name: 'fraud', version: '1' });
assert.deepEqual(
  model.signature.inputs.map((s) => [s.name, s.dtype]),
  [['features', 'float32']],
);

const { data, shape } = expected.inputs.features;
const out = await model.predict({ features: { dtype: 'float32', shape, data: new Float32Array(data) } });
const got = [...asDType(out.probability, 'float32').data];
for (const [i, want] of expected.outputs.probability.data.entries())
  assert.ok(
    Math.abs(got[i] - want) <= 1e-6 + 1e-5 * Math.abs(want),
    `probability[${i}]: ${got[i]} vs ${want}`,
  );

const report = await evaluate(model, readCsv('fixtures/fraud.csv'), {
  bootstrap: { resamples: 50, seed: 1 },
});
assert.equal(report.samples, 500);
assert.ok(report.metrics.rocAuc.value > 0.95, `rocAuc ${report.metrics.rocAuc.value}`);

const deployer = new Deployer();
await deployer.deploy('fraud', model, { version: '1' });
const server = createServer(deployer, { closeDeployer: true });
try {
  const { url } = await server.listen(0, '127.0.0.1');
  const res = await fetch(`${url}/v2/models/fraud/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'features', shape, datatype: 'FP32', data }] }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  const served = body.outputs.find((o) => o.name === 'probability').data;
  for (const [i, want] of expected.outputs.probability.data.entries())
    assert.ok(Math.abs(served[i] - want) <= 1e-5, `served probability[${i}]: ${served[i]} vs ${want}`);
} finally {
  await server.close();
}
console.log(
  `node: predicted ${got.length} rows as numpy, rocAuc ${report.metrics.rocAuc.value.toFixed(4)} on 500 rows, served 1 request`,
);
