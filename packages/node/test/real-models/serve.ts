/**
 * A model repository on disk served over REST (OIP JSON) and gRPC on ports the OS picks, with
 * a client for each: how the real-model suite talks to the server as a user's client would.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type DType, type NamedTensors, type Tensor, tensor } from '@modelship/core';
import { createServer, Deployer, FileSystemRepository, type ModelshipServer } from '@modelship/node';
import { expect } from 'vitest';

const OIP: Partial<Record<DType, string>> = { float32: 'FP32', float64: 'FP64', int64: 'INT64' };

/** An OIP REST request body for these inputs (also a warmup sample's content). */
export function oipBody(inputs: Record<string, Tensor>): string {
  return JSON.stringify({
    inputs: Object.entries(inputs).map(([name, t]) => ({
      name,
      shape: t.shape,
      datatype: OIP[t.dtype],
      data: Array.from(t.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v)),
    })),
  });
}

const protoPath = fileURLToPath(new URL('../../proto/inference.proto', import.meta.url));

export interface Served {
  url: string;
  infer: (model: string, inputs: Record<string, Tensor>) => Promise<NamedTensors>;
  ready: (model: string) => Promise<boolean>;
  close: () => Promise<void>;
}

/** A repository holding `versions` (name → model file, warmup samples), served over REST and gRPC. */
export async function serveRepository(
  versions: { name: string; path: string; warmup?: Record<string, Tensor>[] }[],
): Promise<Served> {
  const root = mkdtempSync(join(tmpdir(), 'modelship-real-'));
  for (const v of versions) {
    const dir = join(root, v.name, '1');
    mkdirSync(dir, { recursive: true });
    copyFileSync(v.path, join(dir, 'model.onnx'));
    if (v.warmup !== undefined) {
      mkdirSync(join(dir, 'warmup'));
      v.warmup.forEach((inputs, i) => {
        writeFileSync(join(dir, 'warmup', `${String(i + 1).padStart(2, '0')}.json`), oipBody(inputs));
      });
    }
  }
  const deployer = new Deployer();
  const repository = new FileSystemRepository(root, { settleMs: 0, pollIntervalMs: 600_000 });
  repository.attach(deployer);
  let server: ModelshipServer | undefined;
  let client: grpc.Client | undefined;
  try {
    await repository.start();
    server = createServer(deployer, { repository, closeDeployer: true });
    const { url } = await server.listen(0, '127.0.0.1');
    const { port } = await server.listenGrpc(0, '127.0.0.1');
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(protoPath, { keepCase: true, longs: String, defaults: true }),
    ) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
    const service = new pkg.inference.GRPCInferenceService(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    client = service;
    const modelInfer = (request: unknown) =>
      new Promise<{
        outputs: { name: string; datatype: string; shape: string[] }[];
        raw_output_contents: Buffer[];
      }>((resolve, reject) =>
        (
          service as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: never) => void) => void>
        ).ModelInfer!.call(service, request, (e, v) => (e ? reject(e) : resolve(v))),
      );
    const served: Served = {
      url,
      infer: async (model, inputs) => {
        const entries = Object.entries(inputs);
        const res = await modelInfer({
          model_name: model,
          inputs: entries.map(([name, t]) => ({ name, datatype: OIP[t.dtype], shape: t.shape.map(String) })),
          raw_input_contents: entries.map(([, t]) => {
            const d = t.data as ArrayBufferView;
            return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
          }),
        });
        const out: Record<string, Tensor> = {};
        res.outputs.forEach((o, i) => {
          const raw = res.raw_output_contents[i]!;
          const bytes = new Uint8Array(raw).buffer;
          expect(o.datatype).toBe('FP32');
          out[o.name] = tensor('float32', new Float32Array(bytes), o.shape.map(Number));
        });
        return out;
      },
      ready: async (model) => (await fetch(`${url}/v2/models/${model}/ready`)).status === 200,
      close: async () => {
        client?.close();
        await repository.stop();
        await server?.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
    return served;
  } catch (e) {
    client?.close();
    await repository.stop();
    if (server !== undefined) await server.close();
    else await deployer.close();
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** Runs the model's REST infer and returns its outputs as tensors (or the error status). */
export async function restInfer(url: string, model: string, inputs: Record<string, Tensor>) {
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: oipBody(inputs),
  });
  const json = (await res.json()) as {
    error?: string;
    outputs?: { name: string; datatype: string; shape: number[]; data: number[] }[];
  };
  return { status: res.status, json };
}
