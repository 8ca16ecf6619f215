/**
 * TorchServe's API from core alone, through `createFetchHandler` (no Node server): JSON
 * tensors one example or a list, a multipart form, the paged model list from the query
 * string, and TorchServe-shaped errors. The full client from its docs, on real models and a
 * second port, is packages/node/test/torchserve.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { sumModel } from '../deploy/fakes.case';
import { createFetchHandler } from './index';

const deployers: Deployer[] = [];
afterEach(async () => {
  for (const d of deployers.splice(0)) await d.close();
});

/** `sum` (y = x0 + x1 + 100, input [batch, 2]) under versions 1 and 2, and `other`. */
async function handler(options: Parameters<typeof createFetchHandler>[1] = {}) {
  const deployer = new Deployer();
  deployers.push(deployer);
  await deployer.deploy('sum', sumModel('1', 100).model, { warmup: false, replace: false });
  await deployer.deploy('sum', sumModel('2', 200).model, { warmup: false, replace: false });
  await deployer.deploy('other', sumModel('1', 0).model, { warmup: false });
  const fetch = createFetchHandler(deployer, options);
  return async (path: string, init: RequestInit = {}) => {
    const res = await fetch(new Request(`http://localhost${path}`, init));
    return { status: res.status, body: (await res.json()) as unknown };
  };
}

describe("TorchServe's API in core", () => {
  it('answers a JSON tensor: one example, a list of examples, a version by path', async () => {
    const call = await handler();
    expect(await call('/ping')).toEqual({ status: 200, body: { status: 'Healthy' } });
    expect(await call('/predictions/sum', { method: 'POST', body: '[1, 2]' })).toEqual({
      status: 200,
      body: [203],
    });
    expect(await call('/predictions/sum/1', { method: 'PUT', body: '[[1, 2], [3, 4]]' })).toEqual({
      status: 200,
      body: [[103], [107]],
    });
    const form = new FormData();
    form.append('data', new Blob(['[5, 6]'], { type: 'application/json' }), 'x.json');
    expect(await call('/predictions/sum/1', { method: 'POST', body: form })).toEqual({
      status: 200,
      body: [111],
    });
    // A form by hand: the boundary's text inside a part (not after a line break) is the part's data.
    const raw = [
      '--zz',
      'content-disposition: form-data; name="other"',
      '',
      'ignored',
      '--zz',
      'content-disposition: form-data; name="data"',
      'content-type: application/json',
      '',
      '[7, 8] --zz',
      '--zz--',
      '',
    ].join('\r\n');
    const hand = (body: string) =>
      call('/predictions/sum/1', {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary="zz"' },
        body,
      });
    expect(await hand(raw)).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^malformed JSON in the prediction request/) },
    });
    expect(await hand(raw.replace('[7, 8] --zz', '[7, 8]'))).toEqual({ status: 200, body: [115] });
  });

  it('lists models a page at a time and describes their versions', async () => {
    const call = await handler();
    expect(await call('/models?limit=1')).toEqual({
      status: 200,
      body: { nextPageToken: '1', models: [{ modelName: 'other', modelUrl: 'other/1' }] },
    });
    expect((await call('/models?limit=1&next_page_token=1')).body).toEqual({
      models: [{ modelName: 'sum', modelUrl: 'sum/2' }],
    });
    const all = (await call('/models/sum/all')).body as {
      modelVersion: string;
      modelship: { default: boolean };
    }[];
    expect(all.map((d) => [d.modelVersion, d.modelship.default])).toEqual([
      ['1', false],
      ['2', true],
    ]);
  });

  it("answers failures in TorchServe's shape", async () => {
    const call = await handler({ maxBodyBytes: 64 });
    expect(await call('/predictions/sum/3', { method: 'POST', body: '[1, 2]' })).toEqual({
      status: 404,
      body: {
        code: 404,
        type: 'ModelVersionNotFoundException',
        message: "model 'sum' has no version '3' loaded (loaded: 1, 2)",
      },
    });
    expect(await call('/predictions/sum', { method: 'POST', body: '[1, 2, 3]' })).toMatchObject({
      status: 400,
      body: { code: 400, type: 'BadRequestException' },
    });
    // Refused before routing (the body limit) and still in the route's shape.
    expect(await call('/predictions/sum', { method: 'POST', body: `[${'1, '.repeat(40)}1]` })).toEqual({
      status: 413,
      body: {
        code: 413,
        type: 'BadRequestException',
        message: 'the body is over 64 bytes, the most this server takes',
      },
    });
    expect(await call('/models/sum', { method: 'DELETE' })).toMatchObject({
      status: 405,
      body: { code: 405, type: 'MethodNotAllowedException' },
    });
    expect(await call('/models?limit=%zz')).toEqual({
      status: 400,
      body: {
        code: 400,
        type: 'BadRequestException',
        message: 'the query parameter "limit=%zz" is not valid percent-encoding',
      },
    });
  });
});

describe("a page's preflight and TorchServe's PUT", () => {
  const preflight = async (options: Parameters<typeof createFetchHandler>[1]) => {
    const deployer = new Deployer();
    deployers.push(deployer);
    await deployer.deploy('sum', sumModel('1', 100).model, { warmup: false });
    const res = await createFetchHandler(
      deployer,
      options,
    )(
      new Request('http://localhost/predictions/sum', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
      }),
    );
    return { status: res.status, methods: res.headers.get('access-control-allow-methods') };
  };

  it('allows PUT while the TorchServe routes are mounted, and not when they are off', async () => {
    expect(await preflight({ cors: true })).toEqual({ status: 204, methods: 'GET, POST, PUT, OPTIONS' });
    expect(await preflight({ cors: true, torchserve: false })).toEqual({
      status: 204,
      methods: 'GET, POST, OPTIONS',
    });
  });
});
