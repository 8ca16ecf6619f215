/**
 * @modelship/browser bundled by a plain webpack 5 config (no loaders, no copy plugin), run in
 * Debian's Chromium: on the page and with `worker: true`, with the answers @modelship/node gives.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, toArray } from '@modelship/node';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript build script without declarations
import { buildExample } from '../build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};

let server: Server;
let browser: Browser;
let url: string;
let assets: string[];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  // webpack resolves @modelship/browser as a user's app would: the published dist/ build.
  execFileSync('pnpm', ['--filter', '@modelship/core', '--filter', '@modelship/browser', 'run', 'build'], {
    cwd: root,
    stdio: 'ignore',
  });
  assets = (await buildExample()) as string[];
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!));
    const file =
      path === '/'
        ? join(root, 'src/index.html')
        : path.startsWith('/models/')
          ? join(fixtures, path)
          : join(root, 'dist', path);
    if (!file.startsWith(root) && !file.startsWith(fixtures)) return void res.writeHead(403).end();
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('examples/browser-webpack', () => {
  it('emits the wasm file and the model worker with no configuration', () => {
    const emitted = readdirSync(join(root, 'dist'));
    expect(emitted.filter((f) => f.endsWith('.wasm')).length).toBe(1);
    expect(emitted).toContain('modelship-model.js');
    expect(assets).toContain('main.js');
  });

  it.each([false, true])('predicts what @modelship/node predicts (worker: %s)', async (worker) => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'yes');
    const csv = readFileSync(join(fixtures, 'data/digits-test.csv'), 'utf8').trim().split('\n').slice(1, 6);
    const pixels = csv.map((line) => line.split(',').slice(0, 64).map(Number));
    const result = await page.evaluate(
      ([p, w]) =>
        (
          window as unknown as {
            runDigits(
              p: number[][],
              w: boolean,
            ): Promise<{
              probabilities: number[];
              diagnostics: { worker: boolean; executionProvider: string };
            }>;
          }
        ).runDigits(p, w),
      [pixels, worker] as const,
    );
    expect(result.diagnostics).toMatchObject({ worker, executionProvider: 'wasm' });
    const node = await loadModel(join(fixtures, 'models/digits.onnx'));
    const want = toArray((await node.predict({ pixels })).probabilities!) as number[];
    await node.dispose();
    expect(result.probabilities.length).toBe(50);
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(result.probabilities[i]! - want[i]!)).toBeLessThan(1e-5);
    await page.close();
  });
});
