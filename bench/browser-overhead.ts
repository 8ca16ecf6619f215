/**
 * `predict` overhead in Chromium: @modelship/browser against raw onnxruntime-web (wasm, one
 * thread) on the same model, measured in one page, interleaved. Drives Debian's Chromium.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { formatNs, table } from './lib/interleave';

const root = fileURLToPath(new URL('./browser/', import.meta.url));

export async function browserOverhead(): Promise<string> {
  const config = {
    root,
    publicDir: fileURLToPath(new URL('../fixtures/', import.meta.url)),
    logLevel: 'warn' as const,
    optimizeDeps: { exclude: ['onnxruntime-web'] },
    resolve: { conditions: ['@modelship/source', 'module', 'browser', 'development|production'] },
    build: { target: 'es2022', outDir: fileURLToPath(new URL('./browser/dist/', import.meta.url)) },
  };
  await build(config);
  // Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
  };
  const server = await preview({ ...config, preview: { port: 0, host: '127.0.0.1', headers } });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => 'benchmark' in window);
    const rows = await page.evaluate(() =>
      (
        window as unknown as {
          benchmark(): Promise<{ batch: number; rawNs: number; oursNs: number; ratio: number }[]>;
        }
      ).benchmark(),
    );
    return table(
      ['batch', 'onnxruntime-web run', 'modelship predict', 'ratio'],
      rows.map((r) => [String(r.batch), formatNs(r.rawNs), formatNs(r.oursNs), r.ratio.toFixed(3)]),
    );
  } finally {
    await browser.close();
    await server.close();
  }
}
