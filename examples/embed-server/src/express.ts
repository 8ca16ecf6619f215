/** Modelship's routes in an Express app, beside its own: `app.use(handler.node)`. */
import type { AddressInfo } from 'node:net';
import { createInferenceHandler, type Deployer, type HandlerOptions } from '@modelship/node';
import express from 'express';

export async function start(deployer: Deployer, options: HandlerOptions = {}) {
  const app = express();
  app.get('/hello', (_req, res) => {
    res.type('text/plain').send('hello from express');
  });
  // Mount before any body parser: the handler reads the raw body itself (JSON or binary tensors).
  app.use(createInferenceHandler(deployer, options).node);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
