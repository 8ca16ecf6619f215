/** Modelship's routes in a Hono app through the web-standard `handler.fetch`. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createInferenceHandler, type Deployer, type HandlerOptions } from '@modelship/node';
import { Hono } from 'hono';
import { INFERENCE_PATHS } from './paths';

export async function start(deployer: Deployer, options: HandlerOptions = {}) {
  const inference = createInferenceHandler(deployer, options);
  const app = new Hono();
  app.get('/hello', (c) => c.text('hello from hono'));
  for (const path of INFERENCE_PATHS) app.all(path, (c) => inference.fetch(c.req.raw));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
