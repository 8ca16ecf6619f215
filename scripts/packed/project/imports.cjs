// Every entry required as CommonJS; prints the export names for imports.mjs's to compare.
const assert = require('node:assert/strict');
const path = require('node:path');

const names = {};
for (const entry of [
  '@modelship/core',
  '@modelship/core/baselines',
  '@modelship/core/batch',
  '@modelship/core/serve',
  '@modelship/node',
  '@modelship/browser',
  '@modelship/browser/webgpu',
]) {
  const where = require.resolve(entry);
  assert.ok(where.startsWith(path.join(__dirname, 'node_modules')), `${entry} resolved outside: ${where}`);
  assert.ok(where.endsWith('.cjs'), `${entry} required ${where}, not the CommonJS build`);
  names[entry] = Object.keys(require(entry)).sort();
}
assert.equal(require('@modelship/node').Profile, require('@modelship/core').Profile);
// The matchers need Vitest, which cannot be required: the testing entries say so in Vitest's words.
for (const entry of ['@modelship/core/testing', '@modelship/core/testing/setup']) {
  assert.ok(require.resolve(entry).endsWith('.cjs'));
  assert.throws(() => require(entry), /Vitest cannot be imported in a CommonJS module using require\(\)/);
}
process.stdout.write(JSON.stringify(names));
