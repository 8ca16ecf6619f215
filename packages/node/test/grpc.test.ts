/**
 * The gRPC service against an independent client: requests are protobuf bytes written by hand
 * from the protocol's published field numbers (not from our .proto), sent over real loopback
 * gRPC, and the answers decoded the same way.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, Deployer, loadModel, type ModelshipServer } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelPath } from './fixtures';
import {
  bytesField,
  cat,
  type Fields,
  packedFloats,
  packedInts,
  packedVarints,
  read,
  str,
  text,
  unary,
} from './protobuf';

// ——— the server ———————————————————————————————————————————————————————————————

let deployer: Deployer;
let server: ModelshipServer;
let client: grpc.Client;
const rows = [
  [0.1, -0.2, 0.3, 1.4, -0.5, 0.6, 0.7, -1.8, 0.9, 1.0, -1.1, 0.2],
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
];

beforeAll(async () => {
  deployer = new Deployer();
  await deployer.deploy('fraud', () => loadModel(modelPath('fraud')), { version: '4' });
  server = createServer(deployer, { auth: { tokens: ['tok'] } });
  const { port } = await server.listenGrpc(0, '127.0.0.1');
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await server.close();
  await deployer.close();
});

function call(method: string, body: Buffer, token: string | null = 'tok'): Promise<Fields> {
  return unary(client, method, body, token === null ? {} : { authorization: `Bearer ${token}` });
}

describe('gRPC: inference.GRPCInferenceService', () => {
  it('answers ServerLive, ServerReady and ModelReady', async () => {
    expect((await call('ServerLive', Buffer.alloc(0), null)).get(1)).toEqual([1n]);
    expect((await call('ServerReady', Buffer.alloc(0), null)).get(1)).toEqual([1n]);
    expect((await call('ModelReady', cat(str(1, 'fraud'), str(2, '4')), null)).get(1)).toEqual([1n]);
    // A false bool may be left out (proto3's default) or written as 0.
    expect((await call('ModelReady', str(1, 'ghost'), null)).get(1) ?? [0n]).toEqual([0n]);
  });

  it('answers ModelMetadata with the published field numbers', async () => {
    const m = await call('ModelMetadata', str(1, 'fraud'));
    expect(text(m, 1)).toBe('fraud');
    expect(m.get(2)!.map(String)).toEqual(['4']);
    expect(text(m, 3)).toBe('onnxruntime_onnx');
    const input = read(m.get(4)![0] as Buffer);
    expect([text(input, 1), text(input, 2)]).toEqual(['features', 'FP32']);
    expect(packedInts(input.get(3)![0] as Buffer)).toEqual([-1n, 12n]);
    expect(m.get(5)!.map((o) => text(read(o as Buffer), 1))).toEqual(['probability', 'label']);
  });

  it('runs ModelInfer with typed contents, echoing the id and naming the version', async () => {
    const model = await loadModel(modelPath('fraud'));
    const direct = await model.predict({ features: rows });
    await model.dispose();
    const input = cat(
      str(1, 'features'),
      str(2, 'FP32'),
      packedVarints(3, [2, 12]),
      bytesField(5, packedFloats(6, rows.flat())),
    );
    const res = await call('ModelInfer', cat(str(1, 'fraud'), str(3, 'req-7'), bytesField(5, input)));
    expect([text(res, 1), text(res, 2), text(res, 3)]).toEqual(['fraud', '4', 'req-7']);
    const [probability, label] = res.get(5)!.map((b) => read(b as Buffer));
    expect([text(probability!, 1), text(probability!, 2)]).toEqual(['probability', 'FP32']);
    const p = read(probability!.get(5)![0] as Buffer).get(6)![0] as Buffer;
    expect(Array.from(new Float32Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength)))).toEqual(
      Array.from(direct.probability!.data as Float32Array),
    );
    expect(text(label!, 2)).toBe('INT64');
    expect(packedInts(read(label!.get(5)![0] as Buffer).get(3)![0] as Buffer)).toEqual(
      Array.from(direct.label!.data as BigInt64Array),
    );
  });

  it('takes raw_input_contents and answers with raw_output_contents', async () => {
    const input = cat(str(1, 'features'), str(2, 'FP32'), packedVarints(3, [2, 12]));
    const raw = Buffer.from(new Float32Array(rows.flat()).buffer);
    const res = await call(
      'ModelInfer',
      cat(
        str(1, 'fraud'),
        str(2, '4'),
        bytesField(5, input),
        bytesField(6, str(1, 'label')),
        bytesField(7, [...raw]),
      ),
    );
    const out = read(res.get(5)![0] as Buffer);
    expect(text(out, 1)).toBe('label');
    expect(out.get(5)).toBeUndefined(); // no typed contents beside raw ones
    const bytes = res.get(6)![0] as Buffer;
    expect(bytes.byteLength).toBe(16);
    const model = await loadModel(modelPath('fraud'));
    const direct = await model.predict({ features: rows });
    await model.dispose();
    expect(
      Array.from(new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 16))),
    ).toEqual(Array.from(direct.label!.data as BigInt64Array));
  });

  it('maps failures to gRPC status codes with the message', async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: grpc.ServiceError) => ({ code: e.code, details: e.details }),
      );
    expect(await err(call('ModelMetadata', str(1, 'ghost')))).toEqual({
      code: grpc.status.NOT_FOUND,
      details: "no model named 'ghost' is deployed (deployed: fraud)",
    });
    const shortData = cat(
      str(1, 'features'),
      str(2, 'FP32'),
      packedVarints(3, [1, 12]),
      bytesField(5, packedFloats(6, [1, 2])),
    );
    expect(await err(call('ModelInfer', cat(str(1, 'fraud'), bytesField(5, shortData))))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: "input 'features': shape [1, 12] holds 12 elements but fp32_contents has 2",
    });
    // An output named twice is refused, as REST refuses it.
    const features = cat(str(1, 'features'), str(2, 'FP32'), packedVarints(3, [2, 12]));
    const raw = [...Buffer.from(new Float32Array(rows.flat()).buffer)];
    expect(
      await err(
        call(
          'ModelInfer',
          cat(
            str(1, 'fraud'),
            bytesField(5, features),
            bytesField(6, str(1, 'label')),
            bytesField(6, str(1, 'label')),
            bytesField(7, raw),
          ),
        ),
      ),
    ).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: "output 'label' is requested twice" });
    expect(await err(call('ModelMetadata', str(1, 'fraud'), null)), 'no token').toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
    expect(await err(call('ModelMetadata', str(1, 'fraud'), 'nope')), 'bad token').toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    expect(await err(call('RepositoryIndex', Buffer.alloc(0))), 'index').toMatchObject({
      code: grpc.status.UNIMPLEMENTED,
    });
  });
});
