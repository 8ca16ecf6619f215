/** Raw HTTP/1.1 over a socket, for tests that write requests byte for byte as a spec does. */
import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header values by lower-case name. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends `request` as it is to `127.0.0.1:port` and resolves with the answer once the server
 * closes the connection (send `Connection: close`). `halfClose` (default true) ends the
 * client's side after writing; node:http may then drop an answer that is not ready yet
 * (its `httpAllowHalfOpen` is off), so requests answered asynchronously pass false.
 */
export function sendRaw(
  port: number,
  request: string | Buffer,
  options: { halfClose?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0]!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: all.subarray(split + 4) });
    });
    if (options.halfClose === false) socket.write(request);
    else socket.end(request);
  });
}
