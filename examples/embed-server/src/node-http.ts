/** Modelship's routes inside a plain `node:http` server: requests it has no route for go on to the app. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInferenceHandler, type Deployer, type HandlerOptions } from '@modelship/node';

export async function start(deployer: Deployer, options: HandlerOptions = {}) {
  const inference = createInferenceHandler(deployer, options);
  const server = createServer((req, res) =>
    inference.node(req, res, () => {
      // The app's own routes.
      if (req.method === 'GET' && req.url === '/hello') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from node:http');
        return;
      }
      res.writeHead(404).end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
