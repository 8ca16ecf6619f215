/**
 * Draining with keep-alive clients: every request that reaches a connection after the drain
 * began gets an answer (a 503 with `Connection: close` for inference), never a TCP reset; then
 * new connections are refused. The figures are in docs/reliability.md.
 */
import { Agent, request } from 'node:http';
import { createServer, Deployer, functionModel, tensor } from '@modelship/node';
import { describe, expect, it } from 'vitest';

const BODY = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });

/** A model that takes a turn of the event loop, so requests overlap. */
function echo() {
  return functionModel(
    async ({ x }) => {
      await new Promise((r) => setImmediate(r));
      return { y: tensor('float32', x!.data as Float32Array, x!.shape) };
    },
    {
      name: 'echo',
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch'] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch'] }],
      },
    },
  );
}

type Outcome =
  | { kind: 'answer'; status: number; connection: string | undefined; body: string; afterDrain: boolean }
  | { kind: 'refused' | 'reset' | 'other'; error: string };

function send(agent: Agent, port: number, drainStarted: () => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v2/models/echo/infer',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          resolve({
            kind: 'answer',
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            body,
            afterDrain: drainStarted(),
          }),
        );
        res.on('error', (e) => resolve({ kind: 'reset', error: e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      const kind =
        e.code === 'ECONNREFUSED'
          ? 'refused'
          : e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.message === 'socket hang up'
            ? 'reset'
            : 'other';
      resolve({ kind, error: `${e.code ?? ''} ${e.message}` });
    });
    req.end(BODY);
  });
}

/** Runs `clients` keep-alive clients back to back, drains the server mid-stream, and tallies what each request got. */
export async function drainRun(clients: number): Promise<{
  ok: number;
  lateServiceUnavailable: number;
  refused: number;
  resets: number;
  other: string[];
  badAnswers: string[];
  idleRefused: number;
}> {
  const deployer = new Deployer();
  await deployer.deploy('echo', echo(), { warmup: false });
  const server = createServer(deployer, { closeDeployer: true });
  const { port } = await server.listen(0, '127.0.0.1');
  let draining = false;
  const outcomes: Outcome[] = [];
  const agents: Agent[] = [];
  let warmed = 0;
  let onWarm: () => void = () => {};
  const allWarm = new Promise<void>((r) => {
    onWarm = r;
  });
  const loop = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    for (let n = 0; ; n++) {
      const o = await send(agent, port, () => draining);
      outcomes.push(o);
      if (n === 2 && ++warmed === clients) onWarm();
      if (o.kind !== 'answer') return;
    }
  };
  // Clients that made one request and keep their connection idle through the drain.
  const idleAgents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  for (const a of idleAgents) expect((await send(a, port, () => false)).kind).toBe('answer');
  const loops = Array.from({ length: clients }, loop);
  await allWarm;
  draining = true;
  await server.close();
  await Promise.all(loops);
  // The server closed the idle connections; once each client has seen its close, a new request
  // opens a new connection, which is refused.
  for (const a of idleAgents) await expect.poll(() => Object.keys(a.freeSockets).length).toBe(0);
  const idle = await Promise.all(idleAgents.map((a) => send(a, port, () => true)));
  for (const a of [...agents, ...idleAgents]) a.destroy();
  const badAnswers: string[] = [];
  let ok = 0;
  let late = 0;
  for (const o of outcomes) {
    if (o.kind !== 'answer') continue;
    if (o.status === 200) ok++;
    else if (
      o.status === 503 &&
      o.afterDrain &&
      o.connection === 'close' &&
      o.body === '{"error":"the server is shutting down"}'
    )
      late++;
    else badAnswers.push(`${o.status} ${o.connection} ${o.body}`);
  }
  return {
    ok,
    lateServiceUnavailable: late,
    refused: outcomes.filter((o) => o.kind === 'refused').length,
    resets: outcomes.filter((o) => o.kind === 'reset').length,
    other: outcomes.flatMap((o) => (o.kind === 'other' ? [o.error] : [])),
    badAnswers,
    idleRefused: idle.filter((o) => o.kind === 'refused').length,
  };
}

describe('drain with keep-alive clients', () => {
  it('answers every late request with 503 and Connection: close, resets none, then refuses', async () => {
    for (let run = 0; run < 3; run++) {
      const r = await drainRun(48);
      if (process.env.RELIABILITY_FIGURES !== undefined)
        console.log(`drain run ${run + 1}: ${JSON.stringify(r)}`);
      expect(r.resets).toBe(0);
      expect(r.other).toEqual([]);
      expect(r.badAnswers).toEqual([]);
      // Every client ends on a refused connection: each one's last connection was closed after an answer.
      expect(r.refused).toBe(48);
      expect(r.ok).toBeGreaterThanOrEqual(48 * 3);
      // Clients idle through the drain find their connection closed and a new one refused.
      expect(r.idleRefused).toBe(4);
    }
  });
});
