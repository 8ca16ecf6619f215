/**
 * Route fuzz: requests built from a corpus of methods, paths (traversal, percent-encoding,
 * prototype names, control characters, long names), content types and headers, against a
 * server with a repository, a Monitor, CORS and credentials. Every request gets an answer
 * below 500 with a JSON `{"error"}` body when it fails; nothing on disk or in the deployer
 * changes, and the server keeps serving. (The body fuzz, mutated inference requests, is in
 * ../server-ops.test.ts.) The figures are in docs/reliability.md.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/src/evaluate/bootstrap';
import { scratchRepository, serveRepository } from './harness';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const NAMES = [
  'iris',
  'fraud',
  'nope',
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'toString',
  '..',
  '.',
  '%2e%2e',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2fsecret',
  '%00',
  '%zz',
  '%',
  'a'.repeat(300),
  'ünïcödé',
  '%F0%9F%A6%8A',
  'iris%2F1',
  'iris;x',
  '',
];
const VERSIONS = [
  undefined,
  '1',
  '2',
  '0',
  '-1',
  '01',
  '99999999999999999999',
  'latest',
  '..',
  '%2e%2e',
  'constructor',
];
const TAILS = ['', '/ready', '/infer', '/metadata', ':predict', ':classify', '/load', '/unload', '/x'];
const PREFIXES = ['/v2/models/', '/v1/models/', '/v2/repository/models/', '/v2/repository/', '/v2/', '/'];
const FIXED = [
  '/v2',
  '/v2/health/live',
  '/v2/health/ready',
  '/v2/repository/index',
  '/v2/monitor',
  '/v2/monitor/ingest',
  '/metrics',
  '/dashboard',
  '//v2//models//iris',
  '/v2/models/iris/../../metrics',
  '/../../etc/passwd',
];
/** Real routes, `{n}` a name and `{v}` an optional `/versions/<v>`: most requests take one. */
const ROUTES: [string, string][] = [
  ['GET', '/v2/models/{n}{v}'],
  ['GET', '/v2/models/{n}{v}/ready'],
  ['POST', '/v2/models/{n}{v}/infer'],
  ['POST', '/v1/models/{n}{v}:predict'],
  ['GET', '/v1/models/{n}{v}'],
  ['GET', '/v1/models/{n}{v}/metadata'],
  ['POST', '/v2/repository/index'],
  ['POST', '/v2/repository/models/{n}/load'],
  ['POST', '/v2/repository/models/{n}/unload'],
  ['POST', '/v2/monitor/ingest'],
  ['GET', '/v2/monitor'],
  ['GET', '/metrics'],
  ['GET', '/v2/health/ready'],
];
const CONTENT_TYPES = [
  undefined,
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/json; charset=latin1',
];
const BODIES = [
  '',
  '{}',
  '{"ready": true}',
  '{"ready": "yes"}',
  '{"inputs": []}',
  '{"instances": [[1, 2, 3, 4]]}',
  '{"instances": [{"sepal_length": 1}]}',
  '{"records": [{"model": "constructor", "version": "1", "latencyMs": 1}]}',
  '{"__proto__": {"polluted": 1}}',
  'null',
  '[]',
  '{',
  '\u0000',
];
const HEADERS: Record<string, string>[] = [
  {},
  { authorization: 'Bearer admin' },
  { authorization: 'Bearer wrong' },
  { authorization: 'Basic YWRtaW46YWRtaW4=' },
  { authorization: 'Bearer' },
  { origin: 'https://evil.example' },
  { origin: 'https://app.example', authorization: 'Bearer admin' },
  { origin: 'null' },
  { 'inference-header-content-length': '-1' },
  { 'inference-header-content-length': '99999999999' },
  { 'x-routing-key': 'a'.repeat(1000) },
];

describe('fuzz: routes, methods, headers', () => {
  it('answers 2,000 generated requests below 500, changes nothing it may not, and keeps serving', async () => {
    const repo = scratchRepository('modelship-fuzz-');
    const root = repo.root;
    for (const model of ['digits', 'fraud', 'iris']) repo.copyExample(model);
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET');
    const listing = readdirSync(root, { recursive: true }).sort();
    const { url, deployer, close } = await serveRepository(root, {
      cors: { origin: 'https://app.example' },
      auth: { tokens: ['admin'], exempt: ['health', 'metadata', 'inference', 'metrics'] },
      maxBodyBytes: 1 << 16,
    });
    const random = seededRandom(17);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(random() * a.length)]!;
    const versionPart = (): string => {
      const version = pick(VERSIONS);
      return version === undefined || random() < 0.5 ? '' : `/versions/${version}`;
    };
    const request = (): [string, string] => {
      if (random() < 0.6) {
        const [method, template] = pick(ROUTES);
        const target = template.replace('{n}', pick(NAMES)).replace('{v}', versionPart());
        return [random() < 0.9 ? method : pick(METHODS), target];
      }
      if (random() < 0.25) return [pick(METHODS), pick(FIXED)];
      return [pick(METHODS), `${pick(PREFIXES)}${pick(NAMES)}${versionPart()}${pick(TAILS)}`];
    };
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const total = 2000;
    let next = 0;
    const send = async (): Promise<void> => {
      const [method, target] = request();
      const contentType = pick(CONTENT_TYPES);
      const headers: Record<string, string> = { ...pick(HEADERS) };
      if (contentType !== undefined) headers['content-type'] = contentType;
      const hasBody = method !== 'GET' && method !== 'HEAD';
      let res: Response;
      try {
        res = await fetch(url + target, { method, headers, ...(hasBody ? { body: pick(BODIES) } : {}) });
      } catch (e) {
        failures.push(`${method} ${target}: no answer (${(e as Error).message})`);
        return;
      }
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const line = `${method} ${target} ${JSON.stringify(headers)} → ${res.status} ${text.slice(0, 120)}`;
      if (res.status >= 500 && res.status !== 501) failures.push(line);
      if (text.includes('TOP-SECRET') || text.includes(root)) failures.push(`leaks: ${line}`);
      if (res.status >= 400 && method !== 'HEAD') {
        let ok = false;
        try {
          const body = JSON.parse(text) as Record<string, unknown>;
          // A health answer's 400 is the protocol's "false", not an error.
          ok = (typeof body.error === 'string' && body.error !== '') || body.ready === false;
        } catch {}
        if (!ok) failures.push(`not a JSON error: ${line}`);
      }
    };
    try {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next++ < total) await send();
        }),
      );
      if (process.env.RELIABILITY_FIGURES !== undefined)
        console.log(
          `route fuzz: ${total} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
        );
      expect(failures).toEqual([]);
      // Model control is off: nothing was loaded or unloaded, and the repository is as it was.
      expect(deployer.names().sort()).toEqual(['digits', 'fraud', 'iris']);
      expect(readdirSync(root, { recursive: true }).sort()).toEqual(listing);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(statuses.get(404)).toBeGreaterThan(500);
      expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(total);
      const ok = await fetch(`${url}/v2/models/iris/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
        }),
      });
      expect(ok.status).toBe(200);
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    } finally {
      await close();
      repo.remove();
    }
  }, 120_000);
});
