/**
 * Slow clients cannot hold the server: connections past `maxConnections` are answered 503 and
 * closed, and a body that stalls for `bodyTimeoutMs` gets 408 and its connection closes. Raw
 * sockets (node:net) send headers and then trickle or stall.
 */
import { connect, type Socket } from 'node:net';
import { createServer, Deployer, functionModel, type ModelshipServer, tensor } from '@modelship/node';
import { afterEach, describe, expect, it, vi } from 'vitest';

const echo = () =>
  functionModel(({ x }) => ({ y: tensor('float32', x!.data as Float32Array, [1, 1]) }), {
    name: 'echo',
    signature: {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
    },
  });

let server: ModelshipServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof createServer>[1]): Promise<number> {
  const deployer = new Deployer();
  await deployer.deploy('echo', echo(), { warmup: false });
  server = createServer(deployer, { ...options, closeDeployer: true });
  return (await server.listen(0, '127.0.0.1')).port;
}

/** A raw connection; `answer` resolves with all it received once the server closes it. */
function open(port: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const answer = new Promise<string>((done) =>
      socket.on('close', () => done(Buffer.concat(chunks).toString())),
    );
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, answer }));
    socket.once('error', reject);
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [2.5] }] });
const head = (length: number) =>
  `POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('maxConnections', () => {
  it('answers 503 with Connection: close on a connection past the limit, and takes one again when a place frees', async () => {
    const port = await start({ maxConnections: 2 });
    // Two slow clients hold both places: headers begun, never finished.
    const held = [await open(port), await open(port)];
    for (const h of held) h.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    await until(() => server!.connections === 2);
    const third = await open(port);
    third.socket.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await third.answer;
    expect(refused).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refused.toLowerCase()).toContain('connection: close');
    expect(refused.toLowerCase()).toContain('retry-after: 1');
    expect(refused).toContain(
      '{"error":"this server has 2 connections open, its maxConnections; try again"}',
    );
    expect(server!.connections).toBe(2);
    // A connection past the limit that sends nothing is closed, not kept.
    const silent = await open(port);
    expect(await silent.answer).toBe('');
    // A held client leaves; the next connection is served.
    held[0]!.socket.destroy();
    await until(() => server!.connections === 1);
    const next = await open(port);
    next.socket.end(`${head(body.length)}${body}`);
    const answer = await next.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('"data":[2.5]');
  });
});

describe('bodyTimeoutMs', () => {
  it('answers 408 and closes the connection when a body stalls, and serves a body that trickles', async () => {
    const port = await start({ bodyTimeoutMs: 1500 });
    const stalled = await open(port);
    stalled.socket.write(`${head(body.length)}${body.slice(0, 10)}`);
    const answer = await stalled.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('{"error":"the request body sent nothing for 1500 ms"}');
    // Headers alone, no body byte at all: the same.
    const silent = await open(port);
    silent.socket.write(head(body.length));
    expect(await silent.answer).toMatch(/^HTTP\/1\.1 408 /);
    // A byte at a time, each well inside the idle limit, is read to the end.
    const slow = await open(port);
    slow.socket.write(head(body.length));
    for (const ch of body) {
      slow.socket.write(ch);
      await new Promise((r) => setTimeout(r, 5));
    }
    slow.socket.end();
    const served = await slow.answer;
    expect(served).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(served).toContain('"data":[2.5]');
    expect(server!.handler.inFlight).toBe(0);
  });
});

describe('body timers', () => {
  it('sets no timer for a body that arrives with its headers, and one for a body still on its way', async () => {
    const port = await start({ bodyTimeoutMs: 4321 });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const bodyTimers = () => spy.mock.calls.filter((c) => c[1] === 4321).length;
      for (let i = 0; i < 5; i++) {
        const whole = await open(port);
        whole.socket.end(`${head(body.length)}${body}`);
        expect(await whole.answer).toContain('"data":[2.5]');
      }
      expect(bodyTimers()).toBe(0);
      const partial = await open(port);
      partial.socket.write(`${head(body.length)}${body.slice(0, 10)}`);
      await until(() => bodyTimers() === 1);
      partial.socket.end(body.slice(10));
      expect(await partial.answer).toContain('"data":[2.5]');
      expect(bodyTimers()).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('large JSON bodies', () => {
  it('reads data past 1 MiB in slices and answers exactly, and refuses a bad element near its end', async () => {
    const deployer = new Deployer();
    const sum = functionModel(
      ({ x }) => {
        const d = x!.data as Float32Array;
        let total = 0;
        for (let i = 0; i < d.length; i++) total += d[i]!;
        return { y: tensor('float32', [total, d[d.length - 1]!], [1, 2]) };
      },
      {
        name: 'sum',
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 1000] }],
          outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
        },
      },
    );
    await deployer.deploy('sum', sum, { warmup: false });
    server = createServer(deployer, { closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const rows = Array.from({ length: 300 }, (_, i) =>
      Array.from({ length: 1000 }, (_, j) => (i % 7) + j / 8),
    );
    const text = JSON.stringify({
      inputs: [{ name: 'x', shape: [300, 1000], datatype: 'FP32', data: rows }],
    });
    expect(text.length).toBeGreaterThan(1 << 20);
    const ok = await fetch(`${url}/v2/models/sum/infer`, { method: 'POST', body: text });
    expect(ok.status).toBe(200);
    const expected = Float32Array.from(rows.flat());
    const total = Math.fround(Array.from(expected).reduce((a, v) => a + v, 0));
    const out = ((await ok.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    expect(out).toEqual([total, expected[expected.length - 1]]);
    const bad = text.replace(/,([^,]*)\]\]\}\]\}$/, ',1e309]]}]}');
    const refused = await fetch(`${url}/v2/models/sum/infer`, { method: 'POST', body: bad });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      error: "input 'x': element 299999 is 1e309, outside the float32 range",
    });
  });
});
