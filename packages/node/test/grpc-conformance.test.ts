/**
 * gRPC details an independent client relies on (issue 16 §4): BYTES as any bytes, the
 * classification parameter refused as REST refuses it, contents of another type than the
 * datatype refused, and the repository extension's load overrides refused, never ignored.
 * Messages are written by hand from the protocol's published field numbers.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer, Deployer, functionModel, type ModelshipServer } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesField,
  cat,
  type Fields,
  packedFloats,
  packedVarints,
  read,
  str,
  text,
  unary,
  varint,
} from './protobuf';

const bytesEcho = functionModel(({ s }) => ({ t: s! }), {
  name: 'bytes',
  signature: {
    inputs: [{ name: 's', dtype: 'string', shape: ['n'] }],
    outputs: [{ name: 't', dtype: 'string', shape: ['n'] }],
  },
});
const echo = functionModel(({ x }) => ({ y: x! }), {
  name: 'echo',
  signature: {
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n'] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['n'] }],
  },
});

let deployer: Deployer;
let server: ModelshipServer;
let client: grpc.Client;
const loads: string[] = [];

beforeAll(async () => {
  deployer = new Deployer();
  await deployer.deploy('bytes', bytesEcho, { warmup: false });
  await deployer.deploy('echo', echo, { warmup: false });
  server = createServer(deployer, {
    modelControl: 'explicit',
    repository: {
      index: () => [],
      load: async (m) => {
        loads.push(m);
      },
      unload: async () => {},
    },
  });
  const { port } = await server.listenGrpc(0, '127.0.0.1');
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client.close();
  await server.close();
  await deployer.close();
});

const call = (method: string, body: Buffer): Promise<Fields> => unary(client, method, body);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: grpc.ServiceError) => ({ code: e.code, details: e.details }),
  );

/** An InferInputTensor (name 1, datatype 2, shape 3, contents 5). */
const input = (name: string, datatype: string, shape: number[], contents?: Buffer) =>
  cat(
    str(1, name),
    str(2, datatype),
    packedVarints(3, shape),
    ...(contents ? [bytesField(5, contents)] : []),
  );

const elements = [Buffer.from([0x00, 0xff]), Buffer.from('héllo ✓'), Buffer.alloc(0), Buffer.from([0xc3])];

describe('gRPC: BYTES', () => {
  it('carries arbitrary bytes in bytes_contents (repeated bytes), byte for byte', async () => {
    const contents = cat(...elements.map((e) => bytesField(8, e)));
    const res = await call(
      'ModelInfer',
      cat(str(1, 'bytes'), bytesField(5, input('s', 'BYTES', [4], contents))),
    );
    const out = read(res.get(5)![0] as Buffer);
    expect([text(out, 1), text(out, 2)]).toEqual(['t', 'BYTES']);
    const back = read(out.get(5)![0] as Buffer).get(8) as Buffer[];
    expect(back.map((b) => [...b])).toEqual(elements.map((e) => [...e]));
  });

  it('carries arbitrary bytes in raw_input_contents (4-byte length + bytes) and answers them raw', async () => {
    const raw = Buffer.concat(
      elements.flatMap((e) => {
        const n = Buffer.alloc(4);
        n.writeUInt32LE(e.byteLength);
        return [n, e];
      }),
    );
    const res = await call(
      'ModelInfer',
      cat(str(1, 'bytes'), bytesField(5, input('s', 'BYTES', [4])), bytesField(7, [...raw])),
    );
    expect((res.get(6)![0] as Buffer).equals(raw)).toBe(true);
  });
});

describe('gRPC: requests REST refuses are refused here too', () => {
  it('refuses the classification output parameter', async () => {
    // InferRequestedOutputTensor: name 1, parameters 2 (map entry: key 1, value 2 = InferParameter int64_param 2).
    const classification = bytesField(
      2,
      cat(str(1, 'classification'), bytesField(2, [...varint(2 << 3), 3])),
    );
    const request = cat(
      str(1, 'echo'),
      bytesField(5, input('x', 'FP32', [2], packedFloats(6, [1, 2]))),
      bytesField(6, cat(str(1, 'y'), classification)),
    );
    expect(await failure(call('ModelInfer', request))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: "output 'y': the classification extension is not supported",
    });
  });

  it('refuses contents of another type than the datatype', async () => {
    const ints = cat(str(1, 'echo'), bytesField(5, input('x', 'FP32', [2], packedVarints(2, [1, 2]))));
    expect(await failure(call('ModelInfer', ints))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details:
        "input 'x': datatype FP32 carries its values in fp32_contents, but the request has 2 in int_contents",
    });
    const both = cat(
      str(1, 'echo'),
      bytesField(5, input('x', 'FP32', [2], cat(packedFloats(6, [1, 2]), packedFloats(7, [3, 4])))),
    );
    expect(await failure(call('ModelInfer', both))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details:
        "input 'x': datatype FP32 carries its values in fp32_contents, but the request has 1 in fp64_contents",
    });
    const right = await call(
      'ModelInfer',
      cat(str(1, 'echo'), bytesField(5, input('x', 'FP32', [2], packedFloats(6, [1, 2])))),
    );
    expect(text(read(right.get(5)![0] as Buffer), 1)).toBe('y');
  });

  it('refuses repository load overrides (config, file:) without loading', async () => {
    loads.length = 0;
    // RepositoryModelLoadRequest: model_name 2, parameters 3 (map entry: key 1, value 2 = ModelRepositoryParameter).
    const config = bytesField(3, cat(str(1, 'config'), bytesField(2, str(3, '{"backend":"onnxruntime"}'))));
    const file = bytesField(3, cat(str(1, 'file:1/model.onnx'), bytesField(2, bytesField(4, [1, 2, 3]))));
    expect(await failure(call('RepositoryModelLoad', cat(str(2, 'echo'), config, file)))).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details:
        "load of model 'echo': parameters 'config', 'file:1/model.onnx' are not supported; this server loads the model's files as they are in the repository (write config.json and the version's files there, then load)",
    });
    expect(loads).toEqual([]);
    await call('RepositoryModelLoad', str(2, 'echo'));
    expect(loads).toEqual(['echo']);
  });
});
