/**
 * The baseline: a plain `node:http` + onnxruntime-node server for the same protocol request,
 * written the way a user would without Modelship (parse JSON, one session.run per request).
 */
import { createServer } from 'node:http';
import * as ort from 'onnxruntime-node';

const [, , modelPath, portArg] = process.argv;
const session = await ort.InferenceSession.create(modelPath!);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const input = body.inputs[0];
      const feeds = {
        [input.name]: new ort.Tensor('float32', Float32Array.from(input.data.flat()), input.shape),
      };
      const out = await session.run(feeds);
      const outputs = Object.entries(out).map(([name, t]) => ({
        name,
        datatype: t.type === 'float32' ? 'FP32' : 'INT64',
        shape: t.dims,
        data: Array.from(t.data as ArrayLike<number | bigint>, Number),
      }));
      const text = JSON.stringify({ model_name: 'model', outputs });
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        .end(text);
    } catch (e) {
      res.writeHead(400).end(JSON.stringify({ error: String(e) }));
    }
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.send?.('ready'));
