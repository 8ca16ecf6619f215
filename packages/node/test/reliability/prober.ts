/**
 * An HTTP client in a process of its own, as a kubelet's probes are: requests sent from the
 * test's process would run on the server's own thread (the server under test listens in it), so
 * each one's time would include the client's work, and the client's garbage would pause the
 * server (an in-process `fetch` loop caused 19 of the 21 collections on that thread over 3,000
 * probes; docs/reliability.md). The child sends one request when told and reports its status,
 * body and time, measured in the child.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProbeAnswer {
  status: number;
  body: string;
  ms: number;
}

// Plain JavaScript for `node -e`: one keep-alive connection, one request per message.
const CHILD = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
process.on('message', ({ id, method, url, body }) => {
  const t0 = performance.now();
  const req = http.request(url, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => process.send({ id, status: res.statusCode, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
  });
  req.on('error', (e) => process.send({ id, status: 0, body: String(e), ms: performance.now() - t0 }));
  req.end(body);
});
process.on('disconnect', () => process.exit(0));
process.send('ready');
`;

/** Starts the prober; `request` resolves with the answer as the child saw it. */
export async function startProber(): Promise<{
  request(method: 'GET' | 'POST', url: string, body?: string): Promise<ProbeAnswer>;
  close(): void;
}> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (a: ProbeAnswer) => void>();
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the prober exited with ${code}`)));
  });
  child.on('message', (m: ProbeAnswer & { id: number }) => {
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  let next = 0;
  return {
    request: (method, url, body) =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        child.send({ id, method, url, body });
      }),
    close: () => {
      child.disconnect?.();
      child.kill();
    },
  };
}
