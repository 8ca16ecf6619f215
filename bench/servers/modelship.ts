/**
 * `modelship serve`'s server on one model, as the bench runs it: batching on or off, and
 * optionally two processes sharing the port through node:cluster (what `--workers 2` does),
 * optionally onnxruntime's intra-op threads per process (what `--threads` does; `-` for the
 * default), and optionally the session on n worker threads (what `--instances n` does).
 */
import cluster from 'node:cluster';
import { createServer, Deployer, loadModel } from '@modelship/node';

const [, , modelPath, portArg, batching, workersArg, threadsArg, instancesArg] = process.argv;
const workers = Number(workersArg ?? '1');

if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', () => {
      if (++ready === workers) process.send?.('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const deployer = new Deployer();
  await deployer.deploy(
    'fraud',
    () =>
      loadModel(modelPath!, {
        ...(threadsArg === undefined || threadsArg === '-' ? {} : { intraOpNumThreads: Number(threadsArg) }),
        instances: Number(instancesArg ?? '0'),
      }),
    {
      version: '1',
      ...(batching === 'on' ? { batching: { maxBatchSize: 64, maxQueueDelayMs: 0 } } : {}),
    },
  );
  const server = createServer(deployer, { metrics: true });
  await server.listen(Number(portArg), '127.0.0.1');
  process.send?.('ready');
}
