/**
 * Core's signature verification in real Chromium (WebCrypto, no Node): core's TypeScript is
 * served to the page module by module (transpiled, unbundled), and the page verifies our
 * signatures on P-256, P-384 and P-521 and the upstream tool's, and refuses tampering.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signModel } from '../../core/src/signing/sign';
import { memoryFiles } from '../../core/src/signing/test-files';
import { fixturesDir } from './fixtures';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const coreSrc = fileURLToPath(new URL('../../core/src/', import.meta.url));

let server: Server;
let base: string;
beforeAll(async () => {
  // /src/<path> serves core's <path>.ts as JavaScript; anything else is an empty page.
  server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/src\//, '');
    const file = `${coreSrc}${path}.ts`;
    if (!req.url?.startsWith('/src/') || path.includes('..') || !existsSync(file)) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>signatures</title>');
      return;
    }
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface Case {
  bundle: string;
  /** Files as base64 (numbers would make the page's arguments large). */
  files: Record<string, string>;
  keys: string[];
}

async function signed(namedCurve: 'P-256' | 'P-384' | 'P-521'): Promise<{ bundle: string; pem: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  const hash = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' }[namedCurve];
  const bundle = await signModel(memoryFiles({ 'model.onnx': MODEL, 'weights.bin': WEIGHTS }), {
    modelName: 'm',
    publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    sign: async (data) => nodeSign(hash, data, { key: privateKey, dsaEncoding: 'der' }),
  });
  return { bundle, pem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

const MODEL = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
const WEIGHTS = new Uint8Array(150_000).map((_, i) => (i * 13) & 0xff);

describe('signature verification in Chromium', () => {
  it('verifies P-256, P-384, P-521 and upstream signatures with WebCrypto, and refuses tampering by code', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: set CHROMIUM_PATH`);
    const cases: Record<string, Case> = {};
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    const files = { 'model.onnx': b64(MODEL), 'weights.bin': b64(WEIGHTS) };
    const other = (await signed('P-256')).pem;
    for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
      const { bundle, pem } = await signed(curve);
      cases[`${curve} ok`] = { bundle, files, keys: [pem] };
      cases[`${curve} tampered`] = {
        bundle,
        files: { ...files, 'weights.bin': b64(new Uint8Array([...WEIGHTS.slice(0, -1), 0])) },
        keys: [pem],
      };
      cases[`${curve} wrong key`] = { bundle, files, keys: [other] };
    }
    const up = `${fixturesDir}model-signing/v1.1.0-elliptic-key/`;
    cases['upstream ok'] = {
      bundle: readFileSync(`${up}model.sig`, 'utf8'),
      files: {
        'signme-1': b64(readFileSync(`${up}signme-1`)),
        'signme-2': b64(readFileSync(`${up}signme-2`)),
      },
      keys: [readFileSync(`${fixturesDir}model-signing/keys/signing-key-pub.pem`, 'utf8')],
    };
    cases['upstream extra file'] = {
      ...cases['upstream ok']!,
      files: { ...cases['upstream ok']!.files, extra: 'AQ==' },
    };

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      // A module script of the page's own (vitest would rewrite an import() written here).
      await page.addScriptTag({
        type: 'module',
        content: `import * as core from '${base}/src/signing/index'; window.core = core;`,
      });
      await page.waitForFunction(() => (globalThis as { core?: unknown }).core !== undefined);
      const results = await page.evaluate(
        async ({ cases }) => {
          // biome-ignore lint/suspicious/noExplicitAny: core's module as the page loaded it
          const core = (globalThis as unknown as { core: any }).core;
          const out: Record<string, string> = {};
          for (const [name, c] of Object.entries(cases as Record<string, Case>)) {
            const bytes = Object.fromEntries(
              Object.entries(c.files).map(([k, v]) => [
                k,
                Uint8Array.from(atob(v), (ch) => ch.charCodeAt(0)),
              ]),
            );
            const files = {
              list: async () => Object.keys(bytes),
              read: async (p: string) =>
                bytes[p] === undefined
                  ? undefined
                  : (async function* () {
                      for (let i = 0; i < bytes[p]!.length; i += 1 << 20)
                        yield bytes[p]!.subarray(i, i + (1 << 20));
                    })(),
            };
            try {
              await core.verifyModelSignature(c.bundle, files, { publicKeys: c.keys });
              out[name] = 'verified';
            } catch (e) {
              out[name] = (e as { code?: string }).code ?? `not typed: ${e}`;
            }
          }
          // The incremental SHA-256 agrees with the browser's own on sizes around block edges.
          const agree: boolean[] = [];
          for (const size of [0, 55, 56, 64, 65, 1000, 65537]) {
            const data = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
            const h = new core.Sha256();
            h.update(data.subarray(0, size >> 1));
            h.update(data.subarray(size >> 1));
            const mine = [...h.digest()].join();
            const theirs = [...new Uint8Array(await crypto.subtle.digest('SHA-256', data))].join();
            agree.push(mine === theirs);
          }
          return { out, agree, secure: (globalThis as { isSecureContext?: boolean }).isSecureContext };
        },
        { cases },
      );
      expect(results.secure).toBe(true);
      expect(results.agree).toEqual([true, true, true, true, true, true, true]);
      expect(results.out).toEqual({
        'P-256 ok': 'verified',
        'P-256 tampered': 'SIGNED_FILE_MISMATCH',
        'P-256 wrong key': 'SIGNATURE_INVALID',
        'P-384 ok': 'verified',
        'P-384 tampered': 'SIGNED_FILE_MISMATCH',
        'P-384 wrong key': 'SIGNATURE_INVALID',
        'P-521 ok': 'verified',
        'P-521 tampered': 'SIGNED_FILE_MISMATCH',
        'P-521 wrong key': 'SIGNATURE_INVALID',
        'upstream ok': 'verified',
        'upstream extra file': 'UNSIGNED_FILE',
      });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
