/**
 * Triton's model repository extension over REST: index, unload and load against a
 * FileSystemRepository, with credentials always required for these management routes.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, Deployer, FileSystemRepository } from '@modelship/node';
import { describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('../../../examples/model-repository/', import.meta.url));

describe('model repository extension', () => {
  it('lists, unloads and loads models, and asks for credentials', async () => {
    const root = mkdtempSync(join(tmpdir(), 'modelship-repo-'));
    cpSync(example, root, { recursive: true });
    const deployer = new Deployer();
    const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 60_000 });
    repository.attach(deployer);
    await repository.start();
    const server = createServer(deployer, {
      repository,
      modelControl: 'explicit',
      closeDeployer: true,
      auth: { tokens: ['admin'], exempt: ['health', 'metadata', 'inference', 'metrics'] },
    });
    const { url } = await server.listen(0, '127.0.0.1');
    const admin = { authorization: 'Bearer admin' };
    const post = (path: string, body = '', headers: Record<string, string> = admin) =>
      fetch(url + path, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        json: (await r.json()) as unknown,
      }));
    try {
      expect((await (await fetch(`${url}/v2`)).json()) as { extensions: string[] }).toMatchObject({
        extensions: ['binary_tensor_data', 'classification', 'model_repository'],
      });
      // Management needs credentials even though inference and metadata are open here.
      expect((await post('/v2/repository/index', '', {})).status).toBe(401);
      const index = await post('/v2/repository/index');
      expect(index).toEqual({
        status: 200,
        json: [
          { name: 'digits', version: '1', state: 'READY', reason: '' },
          { name: 'fraud', version: '1', state: 'UNAVAILABLE', reason: 'not selected by the version policy' },
          { name: 'fraud', version: '2', state: 'READY', reason: '' },
          { name: 'iris', version: '1', state: 'READY', reason: '' },
        ],
      });
      expect((await post('/v2/repository/index', '{"ready": true}')).json).toHaveLength(3);

      expect(await post('/v2/repository/models/iris/unload')).toEqual({ status: 200, json: {} });
      expect((await fetch(`${url}/v2/models/iris/ready`)).status).toBe(400);
      expect((await fetch(`${url}/v2/models/iris`)).status).toBe(404);
      expect((await post('/v2/repository/index')).json).toContainEqual({
        name: 'iris',
        version: '',
        state: 'UNAVAILABLE',
        reason: 'unloaded',
      });
      // The poller does not bring an unloaded model back.
      await repository.sync();
      expect(deployer.names()).not.toContain('iris');

      expect(await post('/v2/repository/models/iris/load')).toEqual({ status: 200, json: {} });
      expect((await fetch(`${url}/v2/models/iris/ready`)).status).toBe(200);
      expect(await post('/v2/repository/models/nope/load')).toEqual({
        status: 404,
        json: { error: "the repository has no model 'nope'" },
      });
      expect((await post('/v2/repository/models/nope/unload')).status).toBe(404);
    } finally {
      await repository.stop();
      await server.close();
    }
  });

  it('answers 501 when the server has no repository', async () => {
    const deployer = new Deployer();
    const server = createServer(deployer, { closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const res = await fetch(`${url}/v2/repository/index`, { method: 'POST' });
    expect(res.status).toBe(501);
    expect(await res.json()).toEqual({ error: 'this server has no model repository to control' });
    await server.close();
  });
});
