/**
 * The Vite example in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): build it, serve it, predict in the page, and compare with
 * @modelship/node on the same inputs; then caching, integrity and drawing.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  computeIntegrity,
  createServer,
  Deployer,
  explain,
  explainImage,
  loadModel,
  Monitor,
  readCsv,
  toArray,
} from '@modelship/node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { casesOf, tabular } from '../../../packages/node/test/fixtures';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = `${root}test/screenshots`;

let server: PreviewServer;
let browser: Browser;
let url: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  await build({ root, logLevel: 'warn' });
  server = await preview({ root, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  url = server.resolvedUrls!.local[0]!;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openDemo(page: Page, query = ''): Promise<void> {
  await page.goto(`${url}${query}`);
  await page.waitForFunction(
    () => document.querySelector('#status')?.textContent !== 'Loading model…',
    undefined,
    { timeout: 30_000 },
  );
}

/** Checks probabilities computed in the page against @modelship/node's for the same rows, to 1e-5. */
async function expectSameAsNode(rows: number[][], probabilities: number[][]): Promise<void> {
  const node = await loadModel(
    fileURLToPath(new URL('../../../fixtures/models/digits.onnx', import.meta.url)),
  );
  try {
    for (let i = 0; i < rows.length; i++) {
      const want = toArray((await node.predict({ pixels: [rows[i]!] })).probabilities!) as number[];
      for (let k = 0; k < 10; k++) expect(Math.abs(probabilities[i]![k]! - want[k]!)).toBeLessThan(1e-5);
    }
  } finally {
    await node.dispose();
  }
}

/** The first `n` rows of the digits test split: 64 pixels each, 0..16. */
function digitRows(n: number): number[][] {
  return readFileSync(new URL('../../../fixtures/data/digits-test.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1, n + 1)
    .map((line) => line.split(',').slice(0, 64).map(Number));
}

/** Draws a "1" on the pad (one vertical stroke down the middle) and waits for the prediction. */
async function drawOne(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  await page.mouse.move(box.x + 128, box.y + 30);
  await page.mouse.down();
  for (let y = 30; y <= 226; y += 14) await page.mouse.move(box.x + 128, box.y + y);
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('#digit')?.textContent !== '–');
}

/** The occlusion heat map @modelship/node computes for the same 8×8 pixels and class. */
async function nodeHeatmap(pixels: number[], digit: number): Promise<number[]> {
  const node = await loadModel(
    fileURLToPath(new URL('../../../fixtures/models/digits.onnx', import.meta.url)),
  );
  try {
    const ex = await explainImage(node, [pixels], {
      layout: 'flat',
      height: 8,
      width: 8,
      patchSize: 1,
      class: digit,
    });
    return [...ex.heatmap.data];
  } finally {
    await node.dispose();
  }
}

/** The page's own types are not visible here: the members of `window.modelshipDemo` the explain tests use. */
interface ExplainDemo {
  ready: Promise<unknown>;
  toPixels(): number[][];
  explainDigit(
    pixels: number[][],
    digit?: number,
  ): Promise<{
    class: number;
    score: number;
    evaluations: number;
    heatmap: { shape: number[]; data: Float64Array };
  }>;
  explainDigitInWorker(pixels: number[]): Promise<{ class: number; heatmap: Float64Array }>;
  explained:
    | { class: number; score: number; evaluations: number; heatmap: { data: Float64Array } }
    | undefined;
  api: {
    loadModel(
      url: string,
      o?: object,
    ): Promise<{ dispose(): Promise<void>; diagnostics: { worker: boolean } }>;
    explain(
      model: unknown,
      rows: object[],
      o: object,
    ): Promise<{ baseValue: number; values: Record<string, number>[] }>;
  };
}

describe('examples/browser-vite in Chromium', () => {
  it('predicts in the page exactly what @modelship/node predicts', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    expect(await page.textContent('#status')).toBe('Ready: draw a digit');
    const rows = digitRows(20);
    for (const c of casesOf('digits')) {
      const flat = toArray(c.inputs.pixels!) as number[];
      for (let r = 0; r < flat.length; r += 64) rows.push(flat.slice(r, r + 64));
    }
    const inPage = await page.evaluate(
      (pixels) =>
        Promise.all(
          pixels.map((p) =>
            (
              window as unknown as { modelshipDemo: { predict(x: number[][]): Promise<number[]> } }
            ).modelshipDemo.predict([p]),
          ),
        ),
      rows,
    );
    await expectSameAsNode(rows, inPage);
    await context.close();
  });

  it('runs the core Deployer in the page: an A/B split between a main-thread and a worker model, batched', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const rows = digitRows(40);
    const result = await page.evaluate(async (pixels) => {
      type Api = {
        loadModel(url: string, o?: object): Promise<unknown>;
        // biome-ignore lint/suspicious/noExplicitAny: the page's own types are not visible here
        Deployer: new () => any;
      };
      const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
      const deployer = new api.Deployer();
      const batching = { maxBatchSize: 16, maxQueueDelayMs: 2 };
      await deployer.deploy('digits', await api.loadModel('/models/digits.onnx'), {
        version: 'main',
        batching,
      });
      await deployer.deploy('digits', await api.loadModel('/models/digits.onnx', { worker: true }), {
        version: 'worker',
        batching,
        policy: { type: 'ab', weights: { main: 0.5, worker: 0.5 } },
      });
      const byKey: Record<string, string> = {};
      deployer.on('prediction', (e: { version: string; routingKey: string }) => {
        byKey[e.routingKey] = e.version;
      });
      const outputs = await Promise.all(
        pixels.map((p, i) => deployer.predict('digits', { pixels: [p] }, { routingKey: `user-${i}` })),
      );
      const answered = pixels.map((_, i) => byKey[`user-${i}`]!);
      // the same key reaches the same version again
      const again: string[] = [];
      deployer.on('prediction', (e: { version: string }) => again.push(e.version));
      for (let i = 0; i < 5; i++)
        await deployer.predict('digits', { pixels: [pixels[i]] }, { routingKey: `user-${i}` });
      const status = deployer.status('digits');
      await deployer.close();
      return {
        probabilities: outputs.map((o: { probabilities: { data: Float32Array } }) => [
          ...o.probabilities.data,
        ]),
        answered,
        again,
        versions: status.versions.map(
          (v: { version: string; requests: number; batching: { meanBatchSize: number } }) => ({
            version: v.version,
            requests: v.requests,
            meanBatchSize: v.batching.meanBatchSize,
          }),
        ),
      };
    }, rows);
    await expectSameAsNode(rows, result.probabilities);
    const main = result.answered.filter((v) => v === 'main').length;
    expect(main + result.answered.filter((v) => v === 'worker').length).toBe(40);
    // 40 keys split 50/50: both versions answer, within 4 standard deviations (±12.6)
    expect(Math.abs(main - 20)).toBeLessThan(12.7);
    expect(result.again).toEqual(result.answered.slice(0, 5));
    for (const v of result.versions) expect(v.meanBatchSize).toBeGreaterThan(1);
    await context.close();
  });

  it('runs the core Evaluator in the page: a streamed CSV, the same report as Node', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const csv = readFileSync(new URL('../../../fixtures/data/digits-test.csv', import.meta.url), 'utf8');
    // The CSV arrives in page-sized chunks, as a fetch body or an upload would.
    const chunks = Array.from({ length: Math.ceil(csv.length / 4096) }, (_, i) =>
      csv.slice(i * 4096, (i + 1) * 4096),
    );
    const inPage = await page.evaluate(async (parts) => {
      const demo = (
        window as unknown as {
          modelshipDemo: {
            ready: Promise<unknown>;
            api: {
              evaluate(
                m: unknown,
                d: unknown,
                o: unknown,
              ): Promise<{
                samples: number;
                metrics: Record<string, { value: number; low: number; high: number }>;
                confusion: unknown;
              }>;
              parseCsv(c: string[]): AsyncIterable<unknown>;
              renderReportHtml(r: unknown): string;
            };
          };
        }
      ).modelshipDemo;
      const model = await demo.ready;
      const steps: number[] = [];
      const report = await demo.api.evaluate(model, demo.api.parseCsv(parts), {
        batchSize: 100,
        bootstrap: { resamples: 200, seed: 3 },
        onProgress: (p: { phase: string; done: number }) => {
          if (p.phase === 'predict') steps.push(p.done);
        },
      });
      return { report, steps, html: demo.api.renderReportHtml(report).length };
    }, chunks);
    const model = await loadModel(
      fileURLToPath(new URL('../../../fixtures/models/digits.onnx', import.meta.url)),
    );
    const { evaluate, parseCsv } = await import('@modelship/node');
    const inNode = await evaluate(model, parseCsv([csv]), { bootstrap: { resamples: 200, seed: 3 } });
    await model.dispose();
    expect(inPage.steps).toEqual([100, 200, 300, 400, 450]);
    expect(inPage.report.samples).toBe(450);
    expect(inPage.report.confusion).toEqual(inNode.confusion);
    expect(Object.keys(inPage.report.metrics)).toEqual(Object.keys(inNode.metrics));
    for (const [name, m] of Object.entries(inNode.metrics)) {
      // wasm and native onnxruntime agree to float32 rounding; the metrics follow.
      expect(inPage.report.metrics[name]!.value, name).toBeCloseTo(m.value, 6);
      expect(inPage.report.metrics[name]!.low, name).toBeCloseTo(m.low!, 6);
      expect(inPage.report.metrics[name]!.high, name).toBeCloseTo(m.high!, 6);
    }
    expect(inNode.metrics.accuracy!.value).toBeCloseTo(0.9733333333333334, 12);
    expect(inPage.html).toBeGreaterThan(10_000);
    await context.close();
  });

  it('runs the core Monitor in the page: latency windows, an alert, and drift of the inputs', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const csv = readFileSync(new URL('../../../fixtures/data/digits-test.csv', import.meta.url), 'utf8')
      .trim()
      .split('\n');
    const header = csv[0]!.split(',').slice(0, 64);
    const rows = csv.slice(1).map((line) => line.split(',').slice(0, 64).map(Number));
    const result = await page.evaluate(
      async ({ rows, header }) => {
        type Api = {
          loadModel(url: string, o?: object): Promise<unknown>;
          // biome-ignore lint/suspicious/noExplicitAny: the page's own types are not visible here
          Deployer: new () => any;
          // The page's own types are not visible here: the handful of members this test uses.
          Monitor: new (
            o?: object,
          ) => {
            attach(d: unknown): void;
            on(event: string, f: (a: { message: string }) => void): void;
            addAlert(rule: object): void;
            watchDrift(model: string, profile: unknown, o?: object): void;
            drift(model: string): { share: number; datasetDrift: boolean };
            check(): void;
            snapshot(): { model: string; requests: number; latencyMs: { p50: number; p99: number } }[];
          };
          Profile: { fromDataset(rows: object[]): unknown };
        };
        const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
        const deployer = new api.Deployer();
        await deployer.deploy('digits', await api.loadModel('/models/digits.onnx'), { version: '1' });
        const monitor = new api.Monitor({ windowMs: 60_000, intervalMs: 1_000 });
        monitor.attach(deployer);
        const alerts: string[] = [];
        monitor.on('alert', (a: { message: string }) => alerts.push(a.message));
        monitor.addAlert({ name: 'busy', metric: 'requests', above: 100, minRequests: 1 });
        const asRecord = (r: number[]) => Object.fromEntries(r.map((v, i) => [header[i], v]));
        const profile = api.Profile.fromDataset(rows.slice(0, 225).map(asRecord));
        monitor.watchDrift('digits', profile, { windowRows: 200 });
        // The second half of the test set: the same distribution as the profile's half.
        for (let i = 225; i < 425; i++) await deployer.predict('digits', { pixels: [rows[i]!] });
        const calm = monitor.drift('digits');
        // Then inverted images (16 − pixel): every pixel distribution moves.
        for (let i = 225; i < 425; i++)
          await deployer.predict('digits', { pixels: [rows[i]!.map((v) => 16 - v)] });
        const inverted = monitor.drift('digits');
        monitor.check();
        const [snapshot] = monitor.snapshot();
        await deployer.close();
        return {
          snapshot,
          alerts,
          calm: calm.share,
          invertedShare: inverted.share,
          invertedDrift: inverted.datasetDrift,
        };
      },
      { rows, header },
    );
    expect(result.snapshot).toMatchObject({
      model: 'digits',
      version: '1',
      requests: 400,
      errors: 0,
      errorRate: 0,
    });
    expect(result.snapshot!.latencyMs.p50).toBeGreaterThan(0);
    expect(result.snapshot!.latencyMs.p99).toBeGreaterThanOrEqual(result.snapshot!.latencyMs.p50);
    expect(result.alerts).toEqual([
      'digits version 1: requests is 400, above 100 (400 requests in the last 60 s)',
    ]);
    expect(result.calm).toBeLessThan(0.1);
    expect(result.invertedDrift).toBe(true);
    expect(result.invertedShare).toBeGreaterThan(0.5);
    await context.close();
  });

  it("sends the page's predictions to a Modelship server's Monitor (telemetry over CORS, with a token)", async () => {
    const monitor = new Monitor();
    const server = createServer(new Deployer(), {
      monitor,
      cors: true,
      auth: { tokens: ['page-token'] },
      // The page's model is not deployed on this server: telemetry for it is allowed by name.
      ingestModels: ['digits'],
      closeDeployer: true,
    });
    const { url } = await server.listen(0, '127.0.0.1');
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const rows = digitRows(25);
    const sent = await page.evaluate(
      async ({ rows, endpoint }) => {
        type Api = {
          loadModel(url: string, o?: object): Promise<unknown>;
          Deployer: new () => {
            deploy(name: string, model: unknown, o?: object): Promise<unknown>;
            predict(name: string, inputs: object): Promise<unknown>;
            close(): Promise<void>;
          };
          createTelemetry(o: object): { attach(d: unknown): void; close(): Promise<void> };
        };
        const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
        const deployer = new api.Deployer();
        await deployer.deploy('digits', await api.loadModel('/models/digits.onnx'), { version: 'in-page' });
        const errors: string[] = [];
        const telemetry = api.createTelemetry({
          endpoint,
          token: 'page-token',
          flushMs: 60_000,
          onError: (e: Error) => errors.push(e.message),
        });
        telemetry.attach(deployer);
        for (const r of rows) await deployer.predict('digits', { pixels: [r] });
        await telemetry.close();
        await deployer.close();
        return errors;
      },
      { rows, endpoint: `${url}/v2/monitor/ingest` },
    );
    expect(sent).toEqual([]);
    expect(monitor.snapshot()).toEqual([
      expect.objectContaining({ model: 'digits', version: 'in-page', requests: 25, errors: 0 }),
    ]);
    expect(monitor.snapshot()[0]!.latencyMs.p50).toBeGreaterThan(0);
    await context.close();
    await server.close();
  });

  it('sends only what the log policy lets out of the page (HMAC computed in the page, checked against node:crypto)', async () => {
    // A bare endpoint that keeps each body exactly as the page sent it.
    const bodies: string[] = [];
    const sink = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, {
          'access-control-allow-origin': '*',
          'access-control-allow-headers': 'content-type',
          'content-type': 'application/json',
        });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await openDemo(page);
      const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v2/monitor/ingest`;
      const errors = await page.evaluate(async (endpoint) => {
        type Api = {
          createTelemetry(o: object): {
            observeRows(m: string, r: unknown[][]): void;
            close(): Promise<void>;
          };
        };
        const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
        const errors: string[] = [];
        const telemetry = api.createTelemetry({
          endpoint,
          flushMs: 60_000,
          onError: (e: Error) => errors.push(e.message),
          policy: {
            fields: { 'inputs.*.0': 'hash', 'inputs.digits.1': 'keep', 'inputs.digits.2': { truncate: 2 } },
            hashKey: 'a page key of at least 16 bytes',
          },
        });
        telemetry.observeRows('digits', [
          ['carol@example.com', 3, '😀😁😂', 'secret-column'],
          ['dave@example.com', 4, 'abc', 'secret-column'],
        ]);
        await telemetry.close();
        return errors;
      }, endpoint);
      expect(errors).toEqual([]);
      expect(bodies).toHaveLength(1);
      for (const planted of ['carol', 'dave', 'secret-column']) expect(bodies[0]).not.toContain(planted);
      const hmac = (s: string) =>
        createHmac('sha256', 'a page key of at least 16 bytes').update(s).digest('hex');
      expect(JSON.parse(bodies[0]!)).toEqual({
        records: [],
        inputs: [
          {
            model: 'digits',
            rows: [
              [hmac('carol@example.com'), 3, '😀😁', null],
              [hmac('dave@example.com'), 4, 'ab', null],
            ],
          },
        ],
      });
    } finally {
      await context.close();
      await new Promise((resolve) => sink.close(resolve));
    }
  });

  it('runs an image pipeline in the page: PNG blobs decoded by the browser, digits out as Node computes them', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const rows = digitRows(20);
    // The gray level each 0..16 pixel becomes in an 8-bit PNG.
    const grays = rows.map((r) => r.map((v) => Math.round((v * 255) / 16)));
    const result = await page.evaluate(async (images) => {
      type Api = {
        loadModel(url: string): Promise<unknown>;
        // biome-ignore lint/suspicious/noExplicitAny: the page's own types are not visible here
        Pipeline: any;
        argmax(labels?: unknown, o?: object): unknown;
        decodeImage(v: unknown): Promise<unknown>;
      };
      const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
      // Each digit drawn on a canvas and encoded as a PNG blob by the browser.
      const blobs = await Promise.all(
        images.map((g) => {
          const canvas = new OffscreenCanvas(8, 8);
          const ctx = canvas.getContext('2d')!;
          const data = new ImageData(8, 8);
          for (const [i, v] of g.entries()) data.data.set([v, v, v, 255], i * 4);
          ctx.putImageData(data, 0, 0);
          return canvas.convertToBlob({ type: 'image/png' });
        }),
      );
      const pipeline = api.Pipeline.fit([{}], {
        images: {
          image: { width: 8, height: 8, channels: 'gray', scale: 16 / 255, layout: 'flat', input: 'pixels' },
        },
        output: { digit: api.argmax(undefined, { from: 'probabilities' }), probabilities: 'probabilities' },
      });
      const served = pipeline.wrap(await api.loadModel('/models/digits.onnx'), {
        decodeImage: api.decodeImage,
      });
      const answers = await served.predict(blobs.map((image) => ({ image })));
      const decoded = (await api.decodeImage(blobs[0])) as {
        width: number;
        height: number;
        channels: number;
        data: Uint8ClampedArray;
      };
      await served.dispose();
      return {
        answers: answers as { digit: number; probabilities: number[] }[],
        first: {
          width: decoded.width,
          height: decoded.height,
          channels: decoded.channels,
          gray: [...decoded.data].filter((_, i) => i % 4 === 0),
        },
      };
    }, grays);
    // The browser's PNG round trip is lossless: the page saw exactly these gray levels.
    expect(result.first).toEqual({ width: 8, height: 8, channels: 4, gray: grays[0] });
    // The digits and probabilities @modelship/node gives on the same pixels (gray · 16/255).
    await expectSameAsNode(
      grays.map((g) => g.map((v) => v * (16 / 255))),
      result.answers.map((a) => a.probabilities),
    );
    for (const a of result.answers)
      expect(a.digit).toBe(a.probabilities.indexOf(Math.max(...a.probabilities)));
    await context.close();
  });

  it('runs the session in a Web Worker with the same answers, and stops it on dispose', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page, '?worker=1');
    expect(await page.textContent('#diagnostics')).toMatch(/^wasm in a worker · /);
    const rows = casesOf('digits').map((c) => toArray(c.inputs.pixels!).slice(0, 64) as number[]);
    const result = await page.evaluate(async (pixels) => {
      const demo = (
        window as unknown as {
          modelshipDemo: {
            ready: Promise<{
              predict(inputs: unknown): Promise<unknown>;
              dispose(): Promise<void>;
              diagnostics: { worker: boolean };
            }>;
            predict(x: number[][]): Promise<number[]>;
          };
        }
      ).modelshipDemo;
      const model = await demo.ready;
      const probabilities = await Promise.all(pixels.map((p) => demo.predict([p])));
      await model.dispose();
      const after = await model.predict({ pixels: [pixels[0]] }).then(
        () => 'answered',
        (e: { code?: string }) => e.code,
      );
      return { worker: model.diagnostics.worker, probabilities, after };
    }, rows);
    expect(result.worker).toBe(true);
    expect(result.after).toBe('MODEL_DISPOSED');
    await expectSameAsNode(rows, result.probabilities);
    // The worker is gone once disposed: Chromium lists no dedicated worker for the page. The
    // page learns of the termination over CDP a moment after dispose resolves, so poll for it.
    await expect.poll(() => page.workers().length, { timeout: 5000 }).toBe(0);
    await context.close();
  });

  it('uses the cache on the second visit and reports how it loaded', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const first = await page.evaluate(
      async () =>
        (
          await (window as never as { modelshipDemo: { ready: Promise<{ diagnostics: unknown }> } })
            .modelshipDemo.ready
        ).diagnostics,
    );
    expect(first).toMatchObject({ executionProvider: 'wasm', cache: 'stored', crossOriginIsolated: true });
    expect((first as { skipped: { provider: string }[] }).skipped).toEqual([]);
    await openDemo(page);
    const second = await page.evaluate(
      async () =>
        (
          await (window as never as { modelshipDemo: { ready: Promise<{ diagnostics: unknown }> } })
            .modelshipDemo.ready
        ).diagnostics,
    );
    expect(second).toMatchObject({ cache: 'hit' });
    expect(
      await page.evaluate(async () =>
        (await caches.open('modelship-models-v1').then((c) => c.keys())).map((r) => new URL(r.url).pathname),
      ),
    ).toEqual(['/models/digits.onnx']);
    await context.close();
  });

  it('evicts cached models, and loads anyway when the storage quota is full', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const result = await page.evaluate(async () => {
      type Api = {
        loadModel(
          url: string,
          o: object,
        ): Promise<{ diagnostics: { cache: string; notices: string[] }; dispose(): Promise<void> }>;
        evictModel(url: string): Promise<number>;
        listCachedModels(): Promise<string[]>;
      };
      const demo = (window as unknown as { modelshipDemo: { ready: Promise<unknown>; api: Api } })
        .modelshipDemo;
      await demo.ready;
      const path = (u: string) => new URL(u).pathname;
      const before = (await demo.api.listCachedModels()).map(path);
      const removed = await demo.api.evictModel('/models/digits.onnx');
      const after = await demo.api.listCachedModels();
      // A full quota: Cache.put rejects as browsers do when storage runs out.
      Cache.prototype.put = () => Promise.reject(new DOMException('quota reached', 'QuotaExceededError'));
      const model = await demo.api.loadModel('/models/iris.onnx', { cache: true });
      const { cache, notices } = model.diagnostics;
      await model.dispose();
      return { before, removed, after, cache, notices };
    });
    expect(result.before).toEqual(['/models/digits.onnx']);
    expect(result.removed).toBe(1);
    expect(result.after).toEqual([]);
    expect(result.cache).toBe('failed');
    expect(result.notices).toContain(
      "the browser's storage quota has no room for 438 bytes of model; it was loaded but not cached",
    );
    await context.close();
  });

  it('refuses a model whose hash does not match, and says so on the page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const wrong = await computeIntegrity(new Uint8Array([1, 2, 3]));
    await openDemo(page, `?integrity=${encodeURIComponent(wrong)}`);
    expect(await page.textContent('#status')).toMatch(
      /^Could not load the model \[INTEGRITY_MISMATCH\]: integrity check failed for '\/models\/digits.onnx'/,
    );
    await context.close();
  });

  it('lets a person draw a digit and shows the prediction', async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 560 } });
    const page = await context.newPage();
    await openDemo(page);
    await drawOne(page);
    expect(await page.textContent('#digit')).toBe('1');
    expect(await page.textContent('#confidence')).toMatch(/^\d+\.\d% sure$/);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: `${shots}/digit-1.png` });
    await context.close();
  });

  it('shows which pixels drove the digit: a heat map computed in the page, as Node computes it, over the ink', async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 560 } });
    const page = await context.newPage();
    await openDemo(page);
    await drawOne(page);
    await page.waitForFunction(
      () => (document.querySelector('#heat') as HTMLElement).dataset.digit !== undefined,
    );
    const shown = await page.evaluate(() => {
      const demo = (window as unknown as { modelshipDemo: ExplainDemo }).modelshipDemo;
      const ex = demo.explained!;
      // the overlay's alpha at the centre of each of the 8×8 cells
      const heat = document.querySelector<HTMLCanvasElement>('#heat')!;
      const { data } = heat.getContext('2d')!.getImageData(0, 0, heat.width, heat.height);
      const alpha = Array.from(
        { length: 64 },
        (_, p) => data[((Math.floor(p / 8) * 32 + 16) * heat.width + (p % 8) * 32 + 16) * 4 + 3]!,
      );
      return {
        digit: document.querySelector('#digit')!.textContent,
        caption: document.querySelector('#why')!.textContent,
        pixels: demo.toPixels()[0]!,
        class: ex.class,
        score: ex.score,
        evaluations: ex.evaluations,
        heatmap: [...ex.heatmap.data],
        alpha,
      };
    });
    expect(shown.digit).toBe('1');
    expect(shown.class).toBe(1);
    expect(shown.caption).toBe('Tinted cells drove the 1: red raised its probability, blue lowered it.');
    // 64 occluded images and the drawing itself
    expect(shown.evaluations).toBe(65);
    const ink = shown.pixels.flatMap((v, p) => (v > 0 ? [p] : []));
    expect(ink.length).toBeGreaterThan(4);
    // hiding a blank pixel changes nothing: the map is nonzero exactly where the ink is, and so is the tint
    expect(shown.heatmap.flatMap((v, p) => (v !== 0 ? [p] : []))).toEqual(ink);
    expect(shown.alpha.flatMap((a, p) => (a > 0 ? [p] : []))).toEqual(ink);
    const want = await nodeHeatmap(shown.pixels, 1);
    for (let p = 0; p < 64; p++) expect(Math.abs(shown.heatmap[p]! - want[p]!)).toBeLessThan(1e-5);
    // the stroke as a whole is what made it a 1
    expect(shown.heatmap.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.1);
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: `${shots}/digit-1-why.png` });
    await context.close();
  });

  it("explains in the page, with the session in a worker, and wholly in a worker: explainImage and explain give Node's values", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page, '?worker=1');
    expect(await page.textContent('#diagnostics')).toMatch(/^wasm in a worker · /);
    const digits = digitRows(3);
    const iris: Record<string, number>[] = [];
    for await (const r of readCsv(fileURLToPath(new URL('../../../fixtures/data/iris.csv', import.meta.url))))
      iris.push(r as Record<string, number>);
    const rows = [iris[0]!, iris[60]!, iris[120]!];
    const background = iris.filter((_, i) => i % 10 === 5);
    const result = await page.evaluate(
      async ({ digits, rows, background }) => {
        const demo = (window as unknown as { modelshipDemo: ExplainDemo }).modelshipDemo;
        // the demo's model runs in a worker (?worker=1): explainImage reaches it through predict
        const images = [];
        for (const d of digits) {
          const ex = await demo.explainDigit([d]);
          // and the whole explainer in the app's own worker, with its own copy of the model
          const off = await demo.explainDigitInWorker(d);
          images.push({
            class: ex.class,
            shape: ex.heatmap.shape,
            heatmap: [...ex.heatmap.data],
            offPage: { class: off.class, heatmap: [...off.heatmap] },
          });
        }
        const tabular: Record<string, { baseValue: number; values: Record<string, number>[] }> = {};
        for (const worker of [false, true]) {
          const model = await demo.api.loadModel('/models/iris.onnx', { worker });
          const ex = await demo.api.explain(model, rows, { background, class: 2 });
          tabular[worker ? 'worker' : 'page'] = { baseValue: ex.baseValue, values: ex.values };
          await model.dispose();
        }
        return { images, tabular };
      },
      { digits, rows, background },
    );
    // the app's explain worker ran beside the model's (?worker=1)
    expect(page.workers().map((w) => new URL(w.url()).pathname)).toContainEqual(
      expect.stringMatching(/\/explain-worker[^/]*\.js$/),
    );
    for (const [i, d] of digits.entries()) {
      const image = result.images[i]!;
      expect(image.shape).toEqual([8, 8]);
      const want = await nodeHeatmap(d, image.class);
      for (let p = 0; p < 64; p++) expect(Math.abs(image.heatmap[p]! - want[p]!)).toBeLessThan(1e-5);
      expect(image.offPage.class).toBe(image.class);
      for (let p = 0; p < 64; p++) expect(Math.abs(image.offPage.heatmap[p]! - want[p]!)).toBeLessThan(1e-5);
      expect(image.heatmap.flatMap((v, p) => (v !== 0 ? [p] : []))).toEqual(
        d.flatMap((v, p) => (v !== 0 ? [p] : [])),
      );
    }
    const node = await loadModel(
      fileURLToPath(new URL('../../../fixtures/models/iris.onnx', import.meta.url)),
    );
    try {
      const want = await explain(node, rows, { background, class: 2 });
      for (const where of ['page', 'worker']) {
        const got = result.tabular[where]!;
        expect(Math.abs(got.baseValue - want.baseValue)).toBeLessThan(1e-6);
        for (let r = 0; r < rows.length; r++)
          for (const f of ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
            expect(Math.abs(got.values[r]![f]! - want.values[r]![f]!)).toBeLessThan(1e-6);
      }
      // the virginica row's petals carry its class
      expect(want.values[2]!.petal_length! + want.values[2]!.petal_width!).toBeGreaterThan(0.2);
    } finally {
      await node.dispose();
    }
    await context.close();
  });

  it('loads a converter classifier with ZipMap, on the page and in a worker: probabilities and class labels', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openDemo(page);
    const c = tabular.rf_iris_str!;
    const result = await page.evaluate(
      async ({ inputs, rows }) => {
        type Loaded = {
          signature: { outputs: { name: string; shape: unknown; labels?: unknown }[] };
          predict(i: object): Promise<Record<string, { shape: number[]; data: ArrayLike<unknown> }>>;
          dispose(): Promise<void>;
        };
        type Api = { loadModel(url: string, o?: object): Promise<Loaded> };
        const { api } = (window as unknown as { modelshipDemo: { api: Api } }).modelshipDemo;
        const answers = [];
        for (const options of [{}, { worker: true }]) {
          const model = await api.loadModel('/models/tabular/rf_iris_str.onnx', options);
          const out = await model.predict({
            input: { dtype: 'float32', shape: [rows, 4], data: Float32Array.from(inputs) },
          });
          answers.push({
            outputs: model.signature.outputs,
            probabilities: Array.from(out.output_probability!.data as ArrayLike<number>),
            shape: out.output_probability!.shape,
            labels: Array.from(out.output_label!.data as ArrayLike<string>),
          });
          await model.dispose();
        }
        return answers;
      },
      { inputs: c.inputs, rows: c.rows },
    );
    for (const r of result) {
      expect(r.outputs).toEqual([
        { name: 'output_label', dtype: 'string', shape: [null] },
        {
          name: 'output_probability',
          dtype: 'float32',
          shape: [null, 3],
          labels: ['setosa', 'versicolor', 'virginica'],
        },
      ]);
      expect(r.shape).toEqual([c.rows, 3]);
      for (const [i, p] of r.probabilities.entries()) expect(p).toBeCloseTo(c.probabilities![i]!, 6);
      expect(r.labels).toEqual(c.predicted);
    }
    await context.close();
  });
});

describe('encrypted models in Chromium (loadModel with decryption)', () => {
  it('decrypts a JWE and a chunked file with WebCrypto in the page, on the page and in a worker; a wrong key is refused', async () => {
    const { encryptModel } = await import('@modelship/node');
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 255); // test-only
    const plain = readFileSync(new URL('../../../fixtures/models/digits.onnx', import.meta.url));
    const jwe = await encryptModel(plain, { key, kid: 'browser' });
    const chunked = await encryptModel(plain, { key, format: 'chunked', chunkSize: 4096 });
    const context = await browser.newContext();
    const page = await context.newPage();
    const served: string[] = [];
    await page.route('**/models/digits.onnx.*', (route) => {
      const name = new URL(route.request().url()).pathname;
      served.push(name);
      const body = name.endsWith('.jwe') ? jwe : name.endsWith('.enc') ? chunked : undefined;
      return body === undefined
        ? route.fulfill({ status: 404 })
        : route.fulfill({ status: 200, body: Buffer.from(body), contentType: 'application/octet-stream' });
    });
    await openDemo(page);
    const rows = casesOf('digits').map((c) => (toArray(c.inputs.pixels!) as number[]).slice(0, 64));
    const result = await page.evaluate(
      async ({ key, rows }) => {
        type Loaded = {
          name: string;
          predict(x: object): Promise<{ probabilities: { data: Float32Array } }>;
          dispose(): Promise<void>;
        };
        const { api } = (
          window as unknown as {
            modelshipDemo: { api: { loadModel(url: string, o?: object): Promise<Loaded> } };
          }
        ).modelshipDemo;
        const kek = await crypto.subtle.importKey('raw', new Uint8Array(key), 'AES-KW', false, ['unwrapKey']);
        const asked: (string | null)[] = [];
        const fromJwe = await api.loadModel('/models/digits.onnx.jwe', {
          decryption: {
            key: async (kid: string | undefined) => {
              asked.push(kid ?? null);
              return kek;
            },
          },
        });
        const fromChunks = await api.loadModel('/models/digits.onnx.enc', {
          decryption: { key: new Uint8Array(key) },
          worker: true,
        });
        const probabilities = async (m: Loaded) =>
          Promise.all(rows.map(async (r) => [...(await m.predict({ pixels: [r] })).probabilities.data]));
        const out = {
          names: [fromJwe.name, fromChunks.name],
          jwe: await probabilities(fromJwe),
          chunked: await probabilities(fromChunks),
          asked,
          wrong: '',
          missing: '',
        };
        await fromJwe.dispose();
        await fromChunks.dispose();
        const codeOf = (p: Promise<unknown>) =>
          p.then(
            () => 'loaded',
            (e: { code?: string }) => e.code ?? String(e),
          );
        out.wrong = await codeOf(
          api.loadModel('/models/digits.onnx.jwe', { decryption: { key: new Uint8Array(32) } }),
        );
        out.missing = await codeOf(api.loadModel('/models/digits.onnx.enc'));
        return out;
      },
      { key: [...key], rows },
    );
    expect(result.names).toEqual(['digits', 'digits']);
    expect(result.asked).toEqual(['browser']);
    expect([result.wrong, result.missing]).toEqual(['DECRYPTION_KEY_MISMATCH', 'DECRYPTION_KEY_MISSING']);
    await expectSameAsNode(rows, result.jwe);
    await expectSameAsNode(rows, result.chunked);
    expect(served).toContain('/models/digits.onnx.jwe');
    await context.close();
  });
});
