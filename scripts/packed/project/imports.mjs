// Every entry of every package, imported as ESM from the installed tarballs: each resolves
// inside this project's node_modules, and the entries of one package share one copy of core.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const entries = {
  '@modelship/core': ['Profile', 'Pipeline', 'Deployer', 'evaluate', 'tensor', 'ModelshipError'],
  '@modelship/core/baselines': ['LogisticRegression', 'LinearRegression', 'baselineFromJSON'],
  '@modelship/core/batch': ['predictBatches', 'textFormatter', 'rejectionsText'],
  '@modelship/core/serve': ['createFetchHandler', 'createInferenceHandler', 'InferenceHandler', 'HttpError'],
  '@modelship/core/testing': ['modelMatchers', 'addNoise', 'shift', 'scale', 'compareFlat'],
  '@modelship/core/testing/setup': [],
  '@modelship/node': [
    'loadModel',
    'createServer',
    'readCsv',
    'Profile',
    'LogisticRegression',
    'predictBatches',
    'rowFileSink',
  ],
  '@modelship/browser': ['loadModel', 'decodeImage', 'createTelemetry', 'Profile', 'Deployer'],
  '@modelship/browser/webgpu': ['loadModel', 'decodeImage', 'createTelemetry', 'Profile', 'Deployer'],
};
const names = {};
for (const [entry, expected] of Object.entries(entries)) {
  const where = fileURLToPath(import.meta.resolve(entry));
  assert.ok(where.startsWith(`${here}node_modules/`), `${entry} resolved outside the project: ${where}`);
  const m = await import(entry);
  for (const name of expected) assert.ok(name in m, `${entry} has no export '${name}'`);
  names[entry] = Object.keys(m).sort();
}
const core = await import('@modelship/core');
const node = await import('@modelship/node');
const browser = await import('@modelship/browser');
const webgpu = await import('@modelship/browser/webgpu');
const baselines = await import('@modelship/core/baselines');
// One copy of core behind every entry: the same class objects, not look-alikes.
assert.equal(node.Profile, core.Profile, '@modelship/node re-exports another copy of Profile');
assert.equal(browser.Profile, core.Profile, '@modelship/browser re-exports another copy of Profile');
assert.equal(webgpu.Deployer, browser.Deployer, 'the two browser entries carry two copies of core');
assert.equal(node.LogisticRegression, baselines.LogisticRegression, 'two copies of the baselines');
const serve = await import('@modelship/core/serve');
assert.equal(node.HttpError, serve.HttpError, 'two copies of the serving core');
const batch = await import('@modelship/core/batch');
assert.equal(node.predictBatches, batch.predictBatches, 'two copies of batch scoring');
assert.notEqual(webgpu.loadModel, browser.loadModel);
// One copy of core per format in the whole package: its subpaths import shared chunks rather
// than carry their own (a second copy makes a second Profile, and `instanceof` fails).
const dist = dirname(fileURLToPath(import.meta.resolve('@modelship/core')));
for (const ext of ['.js', '.cjs']) {
  const copies = readdirSync(dist, { recursive: true })
    .filter(
      (f) =>
        f.endsWith(ext) &&
        /Symbol\.for\(["']modelship\.error["']\)/.test(readFileSync(join(dist, f), 'utf8')),
    )
    .sort();
  assert.equal(
    copies.length,
    1,
    `@modelship/core's ${ext} files hold ${copies.length} copies of core: ${copies.join(', ')}`,
  );
}
// The CommonJS build exports the same names (checked in imports.cjs, which writes them out).
process.stdout.write(JSON.stringify(names));
