/**
 * The handler contract (cases.ts) through every front that runs in Node: our node:http server,
 * the fetch handler called with a `Request` (no server), and the handler mounted in Express,
 * Fastify and Hono exactly as examples/embed-server mounts it. chromium.test.ts runs it in a
 * service worker.
 */
import { createFetchHandler } from '@modelship/core/serve';
import { createServer } from '@modelship/node';
import { start as express } from '../../../../examples/embed-server/src/express';
import { start as fastify } from '../../../../examples/embed-server/src/fastify';
import { start as hono } from '../../../../examples/embed-server/src/hono';
import type { Front } from './cases';
import { nodeSubject, sendFetch, sendHttp } from './node-fronts';
import { runContract } from './run';

/** A front over HTTP: the app on port 0, closed (and the models disposed) even if starting fails. */
function overHttp(
  start: (s: Awaited<ReturnType<typeof nodeSubject>>) => Promise<{ url: string; close(): Promise<void> }>,
): () => Promise<Front> {
  return async () => {
    const subject = await nodeSubject();
    let app: { url: string; close(): Promise<void> };
    try {
      app = await start(subject);
    } catch (e) {
      await subject.close();
      throw e;
    }
    const port = Number(new URL(app.url).port);
    return {
      ...subject.direct,
      send: (r) => sendHttp(port, r),
      async close() {
        try {
          await app.close();
        } finally {
          await subject.close();
        }
      },
    };
  };
}

runContract(
  'node:http',
  overHttp(async ({ deployer, options }) => {
    const server = createServer(deployer, options);
    const { url } = await server.listen(0, '127.0.0.1');
    return { url, close: () => server.close() };
  }),
);

runContract('fetch', async () => {
  const subject = await nodeSubject();
  const handler = createFetchHandler(subject.deployer, subject.options);
  return { ...subject.direct, send: (r) => sendFetch(handler, r), close: () => subject.close() };
});

runContract(
  'express',
  overHttp(({ deployer, options }) => express(deployer, options)),
);
runContract(
  'fastify',
  overHttp(({ deployer, options }) => fastify(deployer, options)),
);
runContract(
  'hono',
  overHttp(({ deployer, options }) => hono(deployer, options)),
);
