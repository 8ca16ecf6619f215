/**
 * Modelship's routes in a Fastify app. They live in their own encapsulated plugin whose content
 * type parser leaves the body unread, so the handler reads the raw bytes (JSON or binary).
 */
import { createInferenceHandler, type Deployer, type HandlerOptions } from '@modelship/node';
import Fastify from 'fastify';
import { INFERENCE_PATHS } from './paths';

export async function start(deployer: Deployer, options: HandlerOptions = {}) {
  const app = Fastify();
  const inference = createInferenceHandler(deployer, options);
  app.get('/hello', async () => 'hello from fastify');
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const forward = (
      request: { raw: import('node:http').IncomingMessage },
      reply: { hijack(): void; raw: import('node:http').ServerResponse },
    ) => {
      reply.hijack();
      inference.node(request.raw, reply.raw);
    };
    for (const url of INFERENCE_PATHS) scope.all(url, forward);
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: address, close: () => app.close() };
}
