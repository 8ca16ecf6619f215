/**
 * A body over the limit gets its 413 read by the client: the server answers with
 * `Connection: close`, closes only its sending side and drops the rest of the body, instead of
 * destroying the socket while the client is still writing (which the client saw as EPIPE).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { createServer, Deployer } from '@modelship/node';
import { describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;

/**
 * Sends `size` bytes (declared with Content-Length, or chunked) and resolves, once the request
 * is over, with what came back and any error on the way (even after the answer arrived).
 */
function post(port: number, size: number, chunked: boolean): Promise<string> {
  let answer = 'no answer';
  const errors: string[] = [];
  return new Promise<string>((done) => {
    const resolve = (s: string): void => {
      answer = s;
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v2/models/none/infer',
        headers: chunked ? {} : { 'content-length': size },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve(`${res.statusCode} ${res.headers.connection} ${body}`));
        res.on('error', (e) => resolve(`response error ${e.message}`));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => errors.push(`request error ${e.code} ${e.message}`));
    req.on('close', () => setImmediate(() => done([answer, ...errors].join('; '))));
    // Written in 64 KiB pieces, as a client streaming a file would.
    const piece = Buffer.alloc(64 * 1024, 0x78);
    let left = size;
    const write = (): void => {
      while (left > 0) {
        const n = Math.min(left, piece.byteLength);
        left -= n;
        if (!req.write(n === piece.byteLength ? piece : piece.subarray(0, n))) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

describe('413 for a body over the limit', () => {
  it('reaches the client whole, with Connection: close, declared or chunked', async () => {
    const server = createServer(new Deployer(), { maxBodyBytes: MiB, closeDeployer: true });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const answers: string[] = [];
      for (let i = 0; i < 10; i++) {
        answers.push(await post(port, 8 * MiB, false));
        answers.push(await post(port, 8 * MiB, true));
      }
      expect(answers.filter((_a, i) => i % 2 === 0)).toEqual(
        Array(10).fill(
          `413 close {"error":"the body is ${8 * MiB} bytes; this server takes at most ${MiB}"}`,
        ),
      );
      expect(answers.filter((_a, i) => i % 2 === 1)).toEqual(
        Array(10).fill(`413 close {"error":"the body is over ${MiB} bytes, the most this server takes"}`),
      );
      // fetch (undici) too.
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/none/infer`, {
        method: 'POST',
        body: 'x'.repeat(2 * MiB),
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
    } finally {
      await server.close();
    }
  });

  it('drops at most the limit plus 64 MiB of a refused body, then cuts the connection', async () => {
    const server = createServer(new Deployer(), { maxBodyBytes: 1024, closeDeployer: true });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      // A client that never reads and never stops: 200 MiB declared, written as fast as it goes.
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      let answer = '';
      socket.on('data', (c) => {
        answer += c;
      });
      socket.on('error', () => {});
      const declared = 200 * MiB;
      socket.write(`POST /v2/models/none/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${declared}\r\n\r\n`);
      const piece = Buffer.alloc(MiB, 0x78);
      let written = 0;
      while (written < declared && !socket.destroyed) {
        if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r).once('close', r));
        written += piece.byteLength;
      }
      await new Promise((r) => (socket.destroyed ? r(undefined) : socket.once('close', r)));
      expect(answer).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      // Cut well before the end: the kernel buffers hold a few MiB beyond what the server read.
      expect(written).toBeLessThan(declared);
    } finally {
      await server.close();
    }
  });
});
