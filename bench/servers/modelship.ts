/** `modelship serve`'s server on the same model, with dynamic batching, as the bench runs it. */
import { createServer, Deployer, loadModel } from '@modelship/node';

const [, , modelPath, portArg, batching] = process.argv;
const deployer = new Deployer();
await deployer.deploy('fraud', () => loadModel(modelPath!), {
  version: '1',
  ...(batching === 'on' ? { batching: { maxBatchSize: 64, maxQueueDelayMs: 0 } } : {}),
});
const server = createServer(deployer, { metrics: true });
await server.listen(Number(portArg), '127.0.0.1');
process.send?.('ready');
