/**
 * Requests the server refuses for what they sent (a body it cannot decode, a tensor of the wrong
 * dtype or shape) count as failed requests of their model everywhere a failure is counted: the
 * Monitor behind the dashboard, `modelship_inference_request_failure_total` and the prediction
 * log, exactly once each, whether the server or the model's own validation refused them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createServer, Deployer, loadModel, Monitor, PredictionLog } from '@modelship/node';
import { describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';
import { bytesField, varint } from './protobuf';

const ROW = [0.1, -0.2, 0.3, 1.4, -0.5, 0.6, 0.7, -1.8, 0.9, 1.0, -1.1, 0.2];

function failures(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(
    /^modelship_inference_request_failure_total\{model="([^"]+)",version="([^"]+)",reason="([^"]+)"\} (\d+)$/gm,
  ))
    out[`${m[1]}/${m[2]}/${m[3]}`] = Number(m[4]);
  return out;
}

describe('refused requests count as failures of their model', () => {
  it('in the Monitor, the failure counter (by reason) and the prediction log, once each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refusals-'));
    const deployer = new Deployer();
    const monitor = new Monitor();
    monitor.attach(deployer);
    const log = new PredictionLog(dir, { flushMs: 1 });
    log.attach(deployer);
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1', warmup: false });
    const server = createServer(deployer, { monitor, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const grpcServer = await server.listenGrpc(0, '127.0.0.1');
    try {
      const post = (path: string, body: string) =>
        fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const good = { inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: ROW }] };
      expect((await post('/v2/models/fraud/infer', JSON.stringify(good))).status).toBe(200);
      // Refused by the server while decoding: malformed JSON, a dtype the model does not take.
      expect((await post('/v2/models/fraud/infer', '{"inputs": [')).status).toBe(400);
      const int32 = {
        inputs: [{ name: 'features', shape: [1, 12], datatype: 'INT32', data: ROW.map(() => 1) }],
      };
      expect((await post('/v2/models/fraud/infer', JSON.stringify(int32))).status).toBe(400);
      // A shape the model does not take, on the TF Serving route, naming the version.
      const tf = await post(
        '/v1/models/fraud/versions/1:predict',
        JSON.stringify({ instances: [[1, 2, 3]] }),
      );
      expect(tf.status).toBe(400);
      // Not a model's failure: an unknown model, an unknown version.
      expect((await post('/v2/models/nope/infer', JSON.stringify(good))).status).toBe(404);
      expect((await post('/v2/models/fraud/versions/9/infer', JSON.stringify(good))).status).toBe(404);

      // Over gRPC: an INT32 tensor for the FP32 input, written from the protocol's field numbers.
      const client = new grpc.Client(`127.0.0.1:${grpcServer.port}`, grpc.credentials.createInsecure());
      const tensorMsg = Buffer.concat([
        bytesField(1, Buffer.from('features')),
        bytesField(2, Buffer.from('INT32')),
        bytesField(3, Buffer.from([...varint(1), ...varint(12)])),
        bytesField(5, bytesField(2, Buffer.from(ROW.flatMap(() => varint(1))))),
      ]);
      const request = Buffer.concat([bytesField(1, Buffer.from('fraud')), bytesField(5, tensorMsg)]);
      const code = await new Promise<number>((resolve) => {
        client.makeUnaryRequest(
          '/inference.GRPCInferenceService/ModelInfer',
          (b: Buffer) => b,
          (b: Buffer) => b,
          request,
          (err) => resolve(err?.code ?? 0),
        );
      });
      client.close();
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      // Malformed JSON; INT32 over REST and gRPC; the short TF Serving row.
      expect(failures(metrics)).toEqual({
        'fraud/1/INVALID_ARGUMENT': 1,
        'fraud/1/INPUT_DTYPE_MISMATCH': 2,
        'fraud/1/INPUT_SHAPE_MISMATCH': 1,
      });
      expect(metrics).toMatch(/^modelship_inference_request_success_total\{model="fraud",version="1"\} 1$/m);

      const [series] = monitor.snapshot();
      expect(monitor.snapshot()).toHaveLength(1);
      expect(series).toMatchObject({ model: 'fraud', version: '1', requests: 5, errors: 4 });

      await log.flush();
      const lines = (await readFile(join(dir, 'predictions.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { model: string; version: string; error?: string });
      expect(lines).toHaveLength(5);
      // Every reason is an error code (bounded), never a message.
      expect(lines.map((l) => l.error ?? 'ok').sort()).toEqual([
        'INPUT_DTYPE_MISMATCH',
        'INPUT_DTYPE_MISMATCH',
        'INPUT_SHAPE_MISMATCH',
        'INVALID_ARGUMENT',
        'ok',
      ]);
    } finally {
      await server.close();
      await log.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Deployer.reportRefused', () => {
  it('reports a refusal once, to the version named or the primary, and nothing for unknown models', async () => {
    const deployer = new Deployer();
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '1', warmup: false });
    await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), {
      version: '2',
      warmup: false,
      replace: false,
    });
    const seen: { version: string; code: unknown; kind: string; batchSize: number }[] = [];
    deployer.on('prediction', (e) =>
      seen.push({
        version: e.version,
        code: (e.error as { code?: unknown }).code,
        kind: e.kind,
        batchSize: e.batchSize,
      }),
    );
    const err = Object.assign(new Error('bad'), { code: 'INVALID_ARGUMENT' });
    expect(deployer.reportRefused('fraud', err)).toBe(true);
    expect(deployer.reportRefused('fraud', err)).toBe(false); // the same error again
    expect(deployer.reportRefused('fraud', new Error('x'), { version: '1', latencyMs: 2 })).toBe(true);
    expect(deployer.reportRefused('fraud', new Error('x'), { version: '7' })).toBe(false);
    expect(deployer.reportRefused('nope', new Error('x'))).toBe(false);
    // An error the model's own validation raised inside predict was reported there already.
    const e = await deployer.predict('fraud', { features: [[1, 2, 3]] }).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('INPUT_SHAPE_MISMATCH');
    expect(deployer.reportRefused('fraud', e)).toBe(false);
    expect(seen.map((s) => s.version)).toEqual(['2', '1', '2']);
    expect(seen.every((s) => s.kind === 'serve')).toBe(true);
    expect(seen[2]!.code).toBe('INPUT_SHAPE_MISMATCH');
    expect(() => deployer.reportRefused('fraud', undefined)).toThrow(/error must be given/);
    expect(() => deployer.reportRefused('fraud', new Error('x'), { latencyMs: -1 })).toThrow(/latencyMs/);
    await deployer.close();
  });
});
