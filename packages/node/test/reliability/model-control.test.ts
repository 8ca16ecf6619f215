/**
 * Safe defaults: model control is off unless enabled (Triton's `none` mode), a browser page
 * cannot load or unload models with a CORS "simple" request, and the server listens on the
 * loopback address unless told otherwise.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, Deployer, type HandlerOptions } from '@modelship/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratchRepository, serveRepository } from './harness';

let repo: ReturnType<typeof scratchRepository>;
beforeEach(() => {
  repo = scratchRepository('modelship-control-');
  repo.copyExample('iris');
});
afterEach(() => repo.remove());

const serve = (options: HandlerOptions) => serveRepository(repo.root, options);

describe('model control', () => {
  it("is 'none' by default: load and unload get 403, the index stays readable", async () => {
    const s = await serve({});
    try {
      for (const action of ['load', 'unload']) {
        expect(await s.post(`/v2/repository/models/iris/${action}`)).toEqual({
          status: 403,
          json: {
            error: `explicit model ${action} is not allowed: model control is 'none' (start the server with --model-control explicit, or modelControl: 'explicit')`,
          },
        });
      }
      // The curl from the review, a CORS "simple" request: refused, and the model still serves.
      expect(
        (await s.post('/v2/repository/models/iris/unload', { 'content-type': 'text/plain' }, 'x')).status,
      ).toBe(403);
      expect(s.deployer.names()).toEqual(['iris']);
      expect((await s.post('/v2/repository/index')).json).toEqual([
        { name: 'iris', version: '1', state: 'READY', reason: '' },
      ]);
    } finally {
      await s.close();
    }
  });

  it("'explicit' allows them, with credentials when there are tokens", async () => {
    const s = await serve({ modelControl: 'explicit', auth: { tokens: ['admin'] } });
    try {
      expect((await s.post('/v2/repository/models/iris/unload')).status).toBe(401);
      expect(
        (await s.post('/v2/repository/models/iris/unload', { authorization: 'Bearer nope' })).status,
      ).toBe(403);
      expect(s.deployer.names()).toEqual(['iris']);
      expect(await s.post('/v2/repository/models/iris/unload', { authorization: 'Bearer admin' })).toEqual({
        status: 200,
        json: {},
      });
      expect(s.deployer.names()).toEqual([]);
      expect(await s.post('/v2/repository/models/iris/load', { authorization: 'Bearer admin' })).toEqual({
        status: 200,
        json: {},
      });
      expect(s.deployer.names()).toEqual(['iris']);
    } finally {
      await s.close();
    }
  });

  it('never lets a page whose origin CORS does not allow load or unload (no preflight needed for a simple request)', async () => {
    const s = await serve({ modelControl: 'explicit', cors: { origin: 'https://admin.example' } });
    try {
      const fromPage = (origin: string) =>
        s.post('/v2/repository/models/iris/unload', { origin, 'content-type': 'text/plain' }, '');
      expect(await fromPage('https://evil.example')).toEqual({
        status: 403,
        json: {
          error:
            'a page at "https://evil.example" may not unload models: its origin is not allowed by the CORS setting',
        },
      });
      expect((await fromPage('null')).status).toBe(403);
      expect(s.deployer.names()).toEqual(['iris']);
      // The allowed page may; so may a client that is not a browser (no Origin).
      expect((await fromPage('https://admin.example')).status).toBe(200);
      expect((await s.post('/v2/repository/models/iris/load')).status).toBe(200);
    } finally {
      await s.close();
    }
    // Without CORS, any page is refused.
    const t = await serve({ modelControl: 'explicit' });
    try {
      expect(
        (await t.post('/v2/repository/models/iris/unload', { origin: 'http://localhost:3000' })).status,
      ).toBe(403);
      expect(t.deployer.names()).toEqual(['iris']);
    } finally {
      await t.close();
    }
  });

  it('applies to gRPC too: RepositoryModelUnload is PERMISSION_DENIED unless explicit', async () => {
    for (const modelControl of ['none', 'explicit'] as const) {
      const s = await serve({ modelControl });
      const { port } = await s.server.listenGrpc(0, '127.0.0.1');
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      try {
        // RepositoryModelUnloadRequest { model_name = 2 }, written by hand.
        const request = Buffer.concat([Buffer.from([0x12, 4]), Buffer.from('iris')]);
        const outcome = await new Promise<string>((resolve) =>
          client.makeUnaryRequest(
            '/inference.GRPCInferenceService/RepositoryModelUnload',
            (b: Buffer) => b,
            (b: Buffer) => b,
            request,
            (e) => resolve(e === null ? 'OK' : `${grpc.status[e.code!]} ${e.details}`),
          ),
        );
        expect(outcome).toBe(
          modelControl === 'none'
            ? "PERMISSION_DENIED explicit model unload is not allowed: model control is 'none' (start the server with --model-control explicit, or modelControl: 'explicit')"
            : 'OK',
        );
        expect(s.deployer.names()).toEqual(modelControl === 'none' ? ['iris'] : []);
      } finally {
        client.close();
        await s.close();
      }
    }
  });

  it('refuses a model control mode it does not know', () => {
    expect(() => createServer(new Deployer(), { modelControl: 'poll' as never })).toThrow(
      `createInferenceHandler: modelControl must be 'none' or 'explicit', not "poll"`,
    );
  });
});

describe('listening address', () => {
  it('is the loopback address unless another is given', async () => {
    const server = createServer(new Deployer(), { closeDeployer: true });
    try {
      const { host, url } = await server.listen(0);
      expect(host).toBe('127.0.0.1');
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await server.close();
    }
  });
});
