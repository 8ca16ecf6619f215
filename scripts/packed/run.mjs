#!/usr/bin/env node
// What a user installs is what we test: build, `pnpm pack` every package (workspace: versions
// rewritten), install the tarballs with plain npm into a new project under os.tmpdir(), and
// there run ESM and CJS imports, tsc --strict (node16, bundler, legacy node), a Node service,
// a Vitest suite with every matcher, and a Vite app (dev and build, page and worker) in
// Chromium. Ends with one line, `packed: N of M checks passed in Ts`; exits 1 on any failure.
//
//   pnpm test:packed [--no-build] [--keep]          (node scripts/packed/run.mjs)
//   --no-build  use the dist/ folders as they are (the root `ci` script builds just before)
//   --keep      leave the temporary project in place and print its path
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = fileURLToPath(new URL('../../', import.meta.url));
const template = fileURLToPath(new URL('./project/', import.meta.url));
const args = new Set(process.argv.slice(2));
const packages = ['core', 'node', 'browser'];
const started = performance.now();
const results = [];

/** Runs a command; resolves to its stdout, rejects with its output when it fails. */
function run(command, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(out);
      const output = `${out}${err}`.trim().split('\n').slice(-40).join('\n');
      reject(new Error(`${command} ${argv.join(' ')} exited ${code ?? signal}\n${output}`));
    });
  });
}

/** One check: timed, its failure recorded and printed, never thrown. */
async function check(name, fn) {
  const t = performance.now();
  const took = () => `${((performance.now() - t) / 1000).toFixed(1)}s`;
  const indent = (text) => text.trim().split('\n').join('\n     ');
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${took()})${note ? `\n     ${indent(note)}` : ''}`);
    return true;
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name} (${took()})\n     ${indent(String(e?.message ?? e))}`);
    return false;
  }
}

/** The version of a dev tool the workspace uses, resolved from where the workspace uses it. */
function versionOf(name, from) {
  return createRequire(join(root, from, 'package.json'))(`${name}/package.json`).version;
}

const work = mkdtempSync(join(tmpdir(), 'modelship-packed-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');

function finish() {
  const passed = results.filter((r) => r.ok).length;
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (args.has('--keep')) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
  console.log(`packed: ${passed} of ${results.length} checks passed in ${seconds}s`);
  process.exit(passed === results.length && results.length > 0 ? 0 : 1);
}

const setup =
  (args.has('--no-build') ||
    (await check('build', () => run('pnpm', ['run', 'build'], { cwd: root }).then(() => '')))) &&
  (await check('pack: README, LICENSE, no workspace: or example.invalid in any tarball', async () => {
    mkdirSync(tarballs);
    const lines = [];
    for (const p of packages) {
      await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', p) });
    }
    for (const file of readdirSync(tarballs)) {
      const listing = (await run('tar', ['-tzf', join(tarballs, file)])).split('\n');
      for (const needed of ['package/README.md', 'package/LICENSE', 'package/package.json'])
        if (!listing.includes(needed)) throw new Error(`${file} has no ${needed.slice(8)}`);
      const manifest = await run('tar', ['-xzOf', join(tarballs, file), 'package/package.json']);
      if (manifest.includes('workspace:')) throw new Error(`${file}: a workspace: version was not rewritten`);
      if (manifest.includes('example.invalid')) throw new Error(`${file}: a placeholder example.invalid URL`);
      lines.push(`${file}: ${listing.filter(Boolean).length} files`);
    }
    if (lines.length !== packages.length)
      throw new Error(`expected ${packages.length} tarballs, got ${lines}`);
    return lines.join('\n');
  })) &&
  (await check('npm install of the tarballs into a new project in the temp dir', async () => {
    cpSync(template, app, { recursive: true });
    mkdirSync(join(app, 'fixtures'));
    for (const f of [
      'models/fraud.onnx',
      'models/fraud_baseline.onnx',
      'models/digits.onnx',
      'models/expected.json',
      'data/fraud.csv',
    ])
      cpSync(join(root, 'fixtures', f), join(app, 'fixtures', f.split('/')[1]));
    const tgz = Object.fromEntries(
      readdirSync(tarballs).map((f) => [
        `@modelship/${f.replace(/^modelship-(\w+)-.*$/, '$1')}`,
        `file:${join(tarballs, f)}`,
      ]),
    );
    const manifest = {
      name: 'modelship-packed-check',
      private: true,
      type: 'module',
      dependencies: tgz,
      // The packages' own dependencies on each other resolve to these tarballs, never the registry.
      overrides: Object.fromEntries(Object.keys(tgz).map((name) => [name, `$${name}`])),
      devDependencies: {
        typescript: versionOf('typescript', '.'),
        vitest: versionOf('vitest', '.'),
        '@types/node': versionOf('@types/node', '.'),
        vite: versionOf('vite', 'examples/browser-vite'),
        'playwright-core': versionOf('playwright-core', 'examples/browser-vite'),
      },
    };
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // onnxruntime-node's install script fetches CUDA libraries from outside the registry on
    // Linux x64; a CPU install skips it, as README.md tells users to.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
      cwd: app,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    const installed = createRequire(join(app, 'package.json'));
    return packages
      .map((p) => `@modelship/${p}@${installed(`@modelship/${p}/package.json`).version}`)
      .join(', ');
  }));
if (!setup) finish();

const node = (file, argv = []) => run(process.execPath, [file, ...argv], { cwd: app });
const bin = (name, argv, env = {}) =>
  run(join(app, 'node_modules', '.bin', name), argv, { cwd: app, env: { ...process.env, ...env } });

// The checks below are independent: they run side by side, as many at once as there are cores.
const checks = [
  [
    'ESM import and CJS require of every entry, the same names, one copy of core',
    async () => {
      const esm = JSON.parse(await node('imports.mjs'));
      const cjs = JSON.parse(await node('imports.cjs'));
      for (const [entry, names] of Object.entries(cjs)) {
        const missing = esm[entry].filter((n) => !names.includes(n));
        const extra = names.filter((n) => !esm[entry].includes(n));
        if (missing.length || extra.length)
          throw new Error(
            `${entry}: CJS lacks ${missing.join(', ') || '-'}; CJS adds ${extra.join(', ') || '-'}`,
          );
      }
      return Object.entries(esm)
        .map(([entry, names]) => `${entry}: ${names.length} exports`)
        .join('\n');
    },
  ],
  ...['node16', 'bundler', 'node10'].map((resolution) => [
    `tsc --strict, moduleResolution ${resolution === 'node10' ? 'node (legacy)' : resolution}`,
    () => bin('tsc', ['-p', `tsconfig.${resolution}.json`]),
  ]),
  [
    'a Node script: load fraud.onnx, predict, evaluate, serve one request; the modelship bin',
    async () => {
      const hash = (await bin('modelship', ['hash', 'fixtures/fraud.onnx'])).trim();
      if (!/^sha256-[A-Za-z0-9+/]{43}=$/.test(hash)) throw new Error(`modelship hash printed ${hash}`);
      return `${await node('node-app.mjs')}modelship hash: ${hash}`;
    },
  ],
  [
    'vitest with every @modelship/core/testing matcher',
    async () =>
      stripVTControlCharacters(await bin('vitest', ['run', '--reporter=dot'], { CI: 'true' }))
        .split('\n')
        .find((l) => /Tests\s/.test(l))
        ?.trim(),
  ],
  ['a Vite app in Chromium: dev server and build, page and worker', () => node('browser.mjs')],
];
const queue = [...checks];
await Promise.all(
  Array.from({ length: Math.max(1, availableParallelism()) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await check(...next);
  }),
);
finish();
