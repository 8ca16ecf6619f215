/**
 * The handler contract in Chromium (Debian's /usr/bin/chromium, driven by playwright-core): a
 * service worker answers the page's requests with core's fetch handler over fraud.onnx on
 * onnxruntime-web, and the page runs the same model directly for the values to compare. The
 * worker and page are bundled from TypeScript with esbuild; nothing is built beforehand.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { modelPath } from '../fixtures';
import type { ContractRequest, FraudOutputs, Front } from './cases';
import { runContract } from './run';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = fileURLToPath(new URL('.', import.meta.url));

/** The page and its service worker as ES modules, from the TypeScript sources. */
async function bundle(): Promise<Record<string, Uint8Array>> {
  const out = await build({
    entryPoints: { page: `${here}chromium/page.ts`, 'service-worker': `${here}chromium/service-worker.ts` },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/',
    conditions: ['@modelship/source'],
    logLevel: 'error',
  });
  return Object.fromEntries(out.outputFiles.map((f) => [f.path, f.contents]));
}

/** The wasm onnxruntime-web's bundled build asks for, beside the script that imports it. */
function ortWasm(): string {
  const browserPackage = fileURLToPath(new URL('../../../browser/package.json', import.meta.url));
  return createRequire(browserPackage).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
}

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>contract</title><script type="module" src="/page.js"></script>';

async function serve(files: Record<string, Uint8Array>): Promise<{ server: Server; url: string }> {
  const wasm = readFileSync(ortWasm());
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const js = files[path];
    if (path === '/' || path === '/index.html') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (js !== undefined) res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else if (path === '/assets/fraud.onnx')
      res
        .writeHead(200, { 'content-type': 'application/octet-stream' })
        .end(readFileSync(modelPath('fraud')));
    else if (path.endsWith('.wasm')) res.writeHead(200, { 'content-type': 'application/wasm' }).end(wasm);
    // Only a request the service worker let through reaches here.
    else
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`not answered by the service worker: ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface PageContract {
  ready: Promise<void>;
  send(r: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{
    status: number;
    headers: Record<string, string>;
    body: string;
  }>;
  predict(rows: number[][]): Promise<FraudOutputs>;
  predictRecords(records: Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
}
/** The page's `contract` (written out inside each evaluate: the callback runs in the page). */
type InPage = { contract: PageContract };

runContract('chromium', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: set CHROMIUM_PATH`);
  const { server, url } = await serve(await bundle());
  let browser: Browser | undefined;
  let page: Page;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { contract?: unknown }).contract !== undefined);
    await page.evaluate(() => (globalThis as unknown as InPage).contract.ready);
  } catch (e) {
    await browser?.close();
    await new Promise((resolve) => server.close(resolve));
    throw e;
  }
  const send = async (r: ContractRequest) => {
    const body = typeof r.body === 'string' ? new TextEncoder().encode(r.body) : r.body;
    const answer = await page.evaluate((sent) => (globalThis as unknown as InPage).contract.send(sent), {
      method: r.method,
      path: r.path,
      ...(r.headers === undefined ? {} : { headers: r.headers }),
      ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64') }),
    });
    return { ...answer, body: new Uint8Array(Buffer.from(answer.body, 'base64')) };
  };
  const front: Front = {
    send,
    predict: (rows) => page.evaluate((r) => (globalThis as unknown as InPage).contract.predict(r), rows),
    predictRecords: (records) =>
      page.evaluate((r) => (globalThis as unknown as InPage).contract.predictRecords(r), records),
    async close() {
      try {
        await browser!.close();
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
  return front;
});
