// The Vite app in Debian's Chromium (playwright-core): the dev server and the production
// build, each on the main thread and with `worker: true`, must give numpy's probabilities
// for the digits cases; the build must emit onnxruntime-web's wasm-only binary and no other.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { build, createServer, preview } from 'vite';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
assert.ok(
  existsSync(CHROMIUM),
  `Chromium not found at ${CHROMIUM} (pnpm run setup:chromium, or set CHROMIUM_PATH)`,
);

const cases = JSON.parse(readFileSync('fixtures/expected.json', 'utf8')).digits.cases;
const rows = [];
const want = [];
for (const c of cases) {
  const { data, shape } = c.inputs.pixels;
  for (let r = 0; r < shape[0]; r++) rows.push(data.slice(r * 64, (r + 1) * 64));
  want.push(...c.outputs.probabilities.data);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const lines = [];

async function check(base, label, pages) {
  for (const path of pages) {
    for (const worker of [false, true]) {
      const what = `${label} ${path}${worker ? ' worker: true' : ''}`;
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      try {
        await page.goto(`${base}${path}`);
        await page.waitForFunction(() => 'packed' in window, undefined, { timeout: 30_000 });
        const got = await page.evaluate(
          ({ rows, worker }) =>
            window.packed.predict(rows, worker).then(
              (r) => r,
              (e) => ({ error: `[${e.code}] ${e.message}` }),
            ),
          { rows, worker },
        );
        assert.ok(
          !got.error,
          `${what}: ${got.error}${problems.length ? `\n  ${problems.join('\n  ')}` : ''}`,
        );
        assert.equal(got.worker, worker, `${what}: diagnostics.worker`);
        assert.equal(got.provider, 'wasm', `${what}: executionProvider`);
        assert.equal(got.probabilities.length, want.length);
        for (const [i, p] of want.entries())
          assert.ok(
            Math.abs(got.probabilities[i] - p) <= 1e-5,
            `${what}: probability ${i}: ${got.probabilities[i]} vs ${p}`,
          );
      } finally {
        await page.close();
      }
    }
  }
  lines.push(`${label}: ${pages.length * 2} pages gave numpy's ${want.length} probabilities`);
}

try {
  const dev = await createServer({ server: { port: 0, host: '127.0.0.1' } });
  await dev.listen();
  try {
    await check(dev.resolvedUrls.local[0].replace(/\/$/, ''), 'vite dev', ['/', '/webgpu.html']);
  } finally {
    await dev.close();
  }

  await build();
  const wasm = readdirSync('dist/assets').filter((f) => f.endsWith('.wasm'));
  const sizes = wasm.map((f) => `${f} ${(statSync(`dist/assets/${f}`).size / 1e6).toFixed(1)} MB`);
  assert.equal(wasm.length, 1, `the build emitted ${wasm.length} .wasm files: ${sizes.join(', ')}`);
  assert.match(wasm[0], /^ort-wasm-simd-threaded-[\w-]+\.wasm$/, `not the wasm-only binary: ${sizes[0]}`);
  lines.push(`vite build: ${sizes[0]}`);
  const server = await preview({ preview: { port: 0, host: '127.0.0.1' } });
  try {
    await check(server.resolvedUrls.local[0].replace(/\/$/, ''), 'vite build', ['/']);
  } finally {
    await server.close();
  }
} finally {
  await browser.close();
}
console.log(lines.join('\n'));
