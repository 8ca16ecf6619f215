/**
 * HTTPS and gRPC over TLS, with and without client certificates, against clients that check
 * the server's certificate. Certificates are made here with openssl, for this run only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createServer, Deployer, loadModel, type ModelshipServer } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run';
import { modelPath } from './fixtures';
import { unary } from './protobuf';
import { startServe } from './serve-process';

const dir = mkdtempSync(join(tmpdir(), 'modelship-tls-'));
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFileSync(file(name));

/** A CA, a server certificate for 127.0.0.1 / localhost, a client certificate from the CA, and a self-signed "rogue" client. */
function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  ssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=modelship test CA',
    '-days',
    '2',
    '-out',
    'ca.pem',
  );
  const signed = (name: string, cn: string, ext: string) => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    writeFileSync(file(`${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now()),
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  signed('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('client', 'client', 'extendedKeyUsage=clientAuth\n');
  key('rogue.key');
  ssl('req', '-x509', '-new', '-key', 'rogue.key', '-subj', '/CN=rogue', '-days', '2', '-out', 'rogue.pem');
}

interface Answer {
  status: number;
  body: string;
}

/** A GET over HTTPS that checks the server's certificate against `ca`. */
function get(
  url: string,
  path: string,
  options: { ca?: Buffer; cert?: Buffer; key?: Buffer; token?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The error code a request fails with (the handshake refused), or `answered` with a status. */
async function refusal(p: Promise<Answer>): Promise<string> {
  try {
    return `answered ${(await p).status}`;
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).message;
  }
}

let deployer: Deployer;
beforeAll(async () => {
  makeCertificates();
  deployer = new Deployer();
  await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1' });
}, 60_000);
afterAll(async () => {
  await deployer.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withServer(
  options: Parameters<typeof createServer>[1],
  body: (s: ModelshipServer, url: string) => Promise<void>,
): Promise<void> {
  const server = createServer(deployer, options);
  try {
    const { url } = await server.listen(0, '127.0.0.1');
    await body(server, url);
  } finally {
    await server.close();
  }
}

describe('HTTPS', () => {
  it('serves over TLS to a client that checks the certificate; health stays open with tokens, the rest needs one', async () => {
    await withServer(
      { tls: { cert: pem('server.pem'), key: pem('server.key') }, auth: { tokens: ['tok'] } },
      async (_s, url) => {
        expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const ca = pem('ca.pem');
        expect(await get(url, '/v2/health/ready', { ca })).toEqual({ status: 200, body: '{"ready":true}' });
        expect((await get(url, '/v2/models/fraud', { ca })).status).toBe(401);
        const meta = await get(url, '/v2/models/fraud', { ca, token: 'tok' });
        expect([meta.status, JSON.parse(meta.body).name]).toEqual([200, 'fraud']);
        // A client that does not trust the CA refuses the server.
        expect(await refusal(get(url, '/v2/health/ready'))).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      },
    );
  });

  it('with a CA requires a client certificate from it: none and a self-signed one are refused in the handshake', async () => {
    const ca = pem('ca.pem');
    await withServer({ tls: { cert: pem('server.pem'), key: pem('server.key'), ca } }, async (_s, url) => {
      expect(
        (await get(url, '/v2/health/live', { ca, cert: pem('client.pem'), key: pem('client.key') })).status,
      ).toBe(200);
      // TLS 1.3: the server's alert, or a reset when the client wrote its request first.
      const none = await refusal(get(url, '/v2/health/live', { ca }));
      expect(none).toMatch(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/);
      const rogue = await refusal(
        get(url, '/v2/health/live', { ca, cert: pem('rogue.pem'), key: pem('rogue.key') }),
      );
      expect(rogue).toMatch(
        /^(ERR_SSL_TLSV13_ALERT_UNKNOWN_CA|ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE|ECONNRESET)$/,
      );
    });
  });

  it('refuses unusable TLS settings by name', () => {
    const make = (tls: unknown) => () => createServer(deployer, { tls: tls as never });
    expect(make({ cert: pem('server.pem'), key: pem('client.key') })).toThrow(
      'createServer: tls.key is not the private key of tls.cert',
    );
    expect(make({ cert: 'hello', key: pem('server.key') })).toThrow('createServer: tls.cert is not PEM');
    expect(make({ cert: pem('server.pem') })).toThrow('createServer: tls.key must be PEM text or its bytes');
    expect(make({ cert: pem('server.pem'), key: pem('server.key'), requestCert: true })).toThrow(
      "tls has an unknown field 'requestCert'",
    );
    expect(make({ cert: pem('server.pem'), key: pem('server.key'), ca: pem('server.key') })).toThrow(
      'createServer: tls.ca is not PEM',
    );
  });
});

describe('gRPC over TLS', () => {
  const live = (client: grpc.Client) => unary(client, 'ServerLive', Buffer.alloc(0));

  it('answers a client that checks the certificate; refuses a plaintext client', async () => {
    await withServer({ tls: { cert: pem('server.pem'), key: pem('server.key') } }, async (server) => {
      const { port } = await server.listenGrpc(0, '127.0.0.1');
      const secure = new grpc.Client(`localhost:${port}`, grpc.credentials.createSsl(pem('ca.pem')));
      const plain = new grpc.Client(`localhost:${port}`, grpc.credentials.createInsecure());
      try {
        expect((await live(secure)).get(1)).toEqual([1n]);
        await expect(live(plain)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      } finally {
        secure.close();
        plain.close();
      }
    });
  });

  it('with a CA requires the client certificate, as HTTPS does', async () => {
    const ca = pem('ca.pem');
    await withServer({ tls: { cert: pem('server.pem'), key: pem('server.key'), ca } }, async (server) => {
      const { port } = await server.listenGrpc(0, '127.0.0.1');
      const withCert = new grpc.Client(
        `localhost:${port}`,
        grpc.credentials.createSsl(ca, pem('client.key'), pem('client.pem')),
      );
      const without = new grpc.Client(`localhost:${port}`, grpc.credentials.createSsl(ca));
      try {
        expect((await live(withCert)).get(1)).toEqual([1n]);
        await expect(live(without)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
      } finally {
        withCert.close();
        without.close();
      }
    });
  });
});

describe('modelship serve --tls-cert --tls-key --tls-ca', () => {
  it('serves HTTPS with mutual TLS from the command line', async () => {
    const repo = mkdtempSync(join(dir, 'repo-'));
    execFileSync('mkdir', ['-p', join(repo, 'fraud', '1')]);
    writeFileSync(join(repo, 'fraud', '1', 'model.onnx'), readFileSync(modelPath('fraud')));
    const serve = startServe([
      repo,
      '--port',
      '0',
      '--tls-cert',
      file('server.pem'),
      '--tls-key',
      file('server.key'),
      '--tls-ca',
      file('ca.pem'),
    ]);
    try {
      const url = await serve.url;
      expect(url).toMatch(/^https:\/\//);
      for (let i = 0; i < 200 && !serve.output().includes('Ctrl-C'); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(serve.output()).toContain('client certificates      required (mutual TLS, --tls-ca)');
      const ok = await get(url.replace('localhost', '127.0.0.1'), '/v2/models/fraud/ready', {
        ca: pem('ca.pem'),
        cert: pem('client.pem'),
        key: pem('client.key'),
      });
      expect(ok.status).toBe(200);
      expect(await refusal(get(url, '/v2/health/ready', { ca: pem('ca.pem') }))).toMatch(
        /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/,
      );
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 60_000);

  it('refuses a certificate without its key, and a missing file, before it starts', async () => {
    const alone = await runCli(['serve', dir, '--tls-cert', file('server.pem')]);
    expect([alone.code, alone.err.split('\n')[0]]).toEqual([
      2,
      'modelship: [INVALID_OPTION] --tls-cert and --tls-key go together; received only --tls-cert',
    ]);
    const missing = await runCli([
      'serve',
      dir,
      '--tls-cert',
      file('server.pem'),
      '--tls-key',
      file('nope.key'),
    ]);
    expect([missing.code, missing.err]).toEqual([
      2,
      `modelship: [FILE_NOT_FOUND] --tls-key '${file('nope.key')}' does not exist\n`,
    ]);
  });
});
