/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, `@grpc/grpc-js`):
 * the same routes, credentials, limits and errors as REST, with tensor contents by datatype or
 * as raw bytes (`raw_input_contents` / `raw_output_contents`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type DType, type NamedTensors, type Tensor, tensor } from '@modelship/core';
import {
  Answered,
  binaryData,
  bytesElement,
  checkModelControl,
  collectInputs,
  datatypeOf,
  dtypeOf,
  elementBytes,
  findSpec,
  fromBinary,
  HttpError,
  httpFailure,
  type InputItem,
  modelReady,
  NO_BYTES,
  predictFor,
  REFUSALS,
  type RouteScope,
  readShape,
  refuseClassification,
  refuseLoadParameters,
  refuseWhileDraining,
  reportRefusal,
  type ServeContext,
  serverReady,
} from '@modelship/core/serve';
import type { PayloadCapture } from '../payload-log/payload-log';
import type { InferenceHandler } from './handler';
import { ClientGone } from './node-io';
import { type CheckedTls, checkTls, type TlsOptions } from './tls';

/** TLS as grpc-js takes it: with a CA, client certificates are required (mutual TLS), as over HTTPS. */
function credentials(tls: CheckedTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.ca !== undefined,
  );
}

/** Where the .proto file is: beside the sources in the repository, beside `dist` when installed. */
function protoPath(): string {
  const candidates = ['../../proto/inference.proto', '../proto/inference.proto'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`inference.proto not found (looked in ${candidates.join(', ')})`);
  return found;
}

let definition: grpc.GrpcObject | undefined;

/** The service definition, loaded once. 64-bit integers arrive as strings, so none is rounded. */
function service(): grpc.ServiceDefinition {
  definition ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(protoPath(), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  );
  return ((definition.inference as grpc.GrpcObject).GRPCInferenceService as grpc.ServiceClientConstructor)
    .service;
}

const GRPC_STATUS: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  413: grpc.status.RESOURCE_EXHAUSTED,
  499: grpc.status.CANCELLED,
  501: grpc.status.UNIMPLEMENTED,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

type Params = Record<string, { parameter_choice?: string } & Record<string, unknown>>;

/** `map<string, InferParameter>` as plain values. */
function parameters(p: Params | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p ?? {})) {
    const choice = v.parameter_choice;
    if (choice === undefined) continue;
    const value = v[choice];
    out[k] = choice === 'int64_param' || choice === 'uint64_param' ? Number(value) : value;
  }
  return out;
}

const CONTENTS_FIELD: Record<DType, string | undefined> = {
  bool: 'bool_contents',
  int8: 'int_contents',
  int16: 'int_contents',
  int32: 'int_contents',
  int64: 'int64_contents',
  uint8: 'uint_contents',
  uint16: 'uint_contents',
  uint32: 'uint_contents',
  uint64: 'uint64_contents',
  float32: 'fp32_contents',
  float64: 'fp64_contents',
  string: 'bytes_contents',
  float16: undefined, // raw contents only, as the protocol says
};

interface GrpcTensor {
  name: string;
  datatype: string;
  shape: string[];
  parameters?: Params;
  contents?: Record<string, unknown[]> | null;
}

function fromContents(t: GrpcTensor, spec: { name: string }): Tensor {
  const where = `input '${spec.name}'`;
  const dtype = dtypeOf(t.datatype, where);
  const shape = readShape(
    t.shape.map((d) => Number(d)),
    where,
  );
  const field = CONTENTS_FIELD[dtype];
  if (field === undefined)
    throw new HttpError(400, `${where}: ${t.datatype} travels only in raw_input_contents`);
  // A value in another type's field would be dropped without a word: refuse it.
  const stray = Object.entries(t.contents ?? {}).find(
    ([f, values]) => f !== field && Array.isArray(values) && values.length > 0,
  );
  if (stray !== undefined)
    throw new HttpError(
      400,
      `${where}: datatype ${t.datatype} carries its values in ${field}, but the request has ${stray[1].length} in ${stray[0]}`,
    );
  let data: unknown[] = (t.contents?.[field] as unknown[] | undefined) ?? [];
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new HttpError(
      400,
      `${where}: shape [${shape.join(', ')}] holds ${size} elements but ${field} has ${data.length}`,
    );
  }
  if (dtype === 'int64' || dtype === 'uint64') data = data.map((v) => BigInt(v as string));
  else if (dtype === 'string') data = data.map((b) => bytesElement(b as Uint8Array));
  try {
    return tensor(dtype, data as never, shape);
  } catch (e) {
    throw new HttpError(400, `${where}: ${(e as Error).message}`);
  }
}

function toContents(t: Tensor): Record<string, unknown[]> {
  const field = CONTENTS_FIELD[t.dtype]!;
  const data = t.data as ArrayLike<unknown>;
  let values: unknown[];
  if (t.dtype === 'int64' || t.dtype === 'uint64') values = Array.from(data, (v) => String(v));
  else if (t.dtype === 'bool') values = Array.from(data, (v) => v !== 0);
  else if (t.dtype === 'string') values = (t.data as (string | Uint8Array)[]).map(elementBytes);
  else values = Array.from(data);
  return { [field]: values };
}

/** Registers the inference service on a gRPC server, answering through `handler`'s deployer and rules. */
export function addInferenceService(server: grpc.Server, handler: InferenceHandler): void {
  const ctx = handler.context;
  type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
  const unary =
    (scope: RouteScope, run: (request: Record<string, unknown>, call: Call, ctx: ServeContext) => unknown) =>
    (call: Call, callback: grpc.sendUnaryData<unknown>): void => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      const started = performance.now();
      const req = { method: 'GRPC', path: call.getPath(), headers, body: NO_BYTES };
      // Payload logging sees ModelInfer as it sees REST inference, once authorized (no body
      // sizes: gRPC decoded the message).
      let capture: PayloadCapture | undefined;
      const logged = (status: number) =>
        capture?.end({ status, headers: { 'content-type': 'application/grpc' }, body: NO_BYTES });
      (async () => {
        await handler.authorize(req, scope);
        const model = call.request?.model_name;
        if (scope === 'inference' && handler.payloadLog !== undefined && typeof model === 'string')
          capture = handler.payloadLog.begin(model, (call.request.model_version as string) || undefined, req);
        return run(call.request, call, capture === undefined ? ctx : capture.context(ctx));
      })().then(
        (value) => {
          logged(200);
          callback(null, value);
        },
        (e: unknown) => {
          const f = httpFailure(e);
          logged(f.status);
          const name = call.request?.model_name;
          if (scope === 'inference' && typeof name === 'string' && REFUSALS.has(f.status)) {
            const version = call.request.model_version;
            reportRefusal(
              ctx.deployer,
              [name, typeof version === 'string' && version !== '' ? version : undefined],
              e,
              f,
              performance.now() - started,
            );
          }
          callback({ code: GRPC_STATUS[f.status] ?? grpc.status.INTERNAL, details: f.message });
        },
      );
    };

  server.addService(service(), {
    ServerLive: unary('health', () => ({ live: true })),
    ServerReady: unary('health', () => ({ ready: serverReady(ctx) })),
    ModelReady: unary('health', (r) => ({
      ready: modelReady(ctx, String(r.name), (r.version as string) || undefined),
    })),
    ServerMetadata: unary('metadata', () => ({
      name: ctx.options.serverName ?? 'modelship',
      version: ctx.options.serverVersion ?? '0.1.0',
      extensions: ctx.options.repository === undefined ? [] : ['model_repository'],
    })),
    ModelMetadata: unary('metadata', (r) => {
      const name = String(r.name);
      const version = (r.version as string) || undefined;
      const signature = ctx.deployer.signature(name, version);
      const meta = (s: {
        name: string;
        dtype: DType;
        shape: readonly (number | string | null)[] | null;
      }) => ({
        name: s.name,
        datatype: datatypeOf(s.dtype),
        shape: s.shape === null ? [-1] : s.shape.map((d) => (typeof d === 'number' ? d : -1)),
      });
      return {
        name,
        versions: ctx.deployer.status(name).versions.map((v) => v.version),
        platform: 'onnxruntime_onnx',
        inputs: signature.inputs.map(meta),
        outputs: signature.outputs.map(meta),
      };
    }),
    ModelInfer: unary('inference', async (r, call, ctx) => {
      refuseWhileDraining(ctx);
      const name = String(r.model_name);
      const version = (r.model_version as string) || undefined;
      const signature = ctx.deployer.signature(name, version);
      const list = (r.inputs as GrpcTensor[]) ?? [];
      const raw = (r.raw_input_contents as Buffer[]) ?? [];
      const useRaw = raw.length > 0;
      if (useRaw && raw.length !== list.length)
        throw new HttpError(400, `raw_input_contents has ${raw.length} entries for ${list.length} inputs`);
      if (
        useRaw &&
        list.some(
          (t) =>
            t.contents !== null &&
            t.contents !== undefined &&
            Object.values(t.contents).some((v) => v.length > 0),
        )
      )
        throw new HttpError(400, 'an input has contents although the request carries raw_input_contents');
      const items: InputItem[] = list.map((t, i) => ({
        name: t.name,
        shape: t.shape.map((d) => Number(d)),
        decode: (spec) =>
          useRaw
            ? fromBinary(
                spec.name,
                t.datatype,
                t.shape.map((d) => Number(d)),
                new Uint8Array(raw[i]!),
              )
            : fromContents(t, spec),
      }));
      const inputs: NamedTensors = collectInputs(items, signature, name, ctx.options.maxTensorElements);

      const requested = ((r.outputs as { name: string; parameters?: Params }[]) ?? []).map((o) => {
        const spec = findSpec(signature.outputs, o.name, 'output', name);
        refuseClassification(parameters(o.parameters), spec.name);
        return spec.name;
      });
      // As over REST: an output named twice is a mistake, not two answers.
      const twice = requested.find((n, i) => requested.indexOf(n) !== i);
      if (twice !== undefined) throw new HttpError(400, `output '${twice}' is requested twice`);
      const names = requested.length > 0 ? requested : signature.outputs.map((s) => s.name);
      const gone = new ClientGone();
      call.on('cancelled', () => gone.abort(new Error('the client cancelled the call')));
      const deadline = call.getDeadline();
      const deadlineMs =
        deadline instanceof Date
          ? deadline.getTime() - Date.now()
          : Number.isFinite(deadline)
            ? Number(deadline) - Date.now()
            : undefined;
      if (deadlineMs !== undefined && deadlineMs <= 0)
        throw new HttpError(504, 'the deadline passed before the request ran');
      const params = parameters(r.parameters as Params);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      const answered = new Answered();
      const outputs = await predictFor(
        ctx,
        name,
        version,
        inputs,
        names,
        params,
        { headers, signal: gone },
        answered,
        deadlineMs,
      );
      // Raw in, raw out (and FP16 always raw); typed contents otherwise.
      const anyHalf = names.some((n) => outputs[n]!.dtype === 'float16');
      const rawOut = useRaw || anyHalf || params.binary_data_output === true;
      return {
        model_name: name,
        model_version: answered.version ?? '',
        id: r.id ?? '',
        outputs: names.map((n) => {
          const t = outputs[n]!;
          return {
            name: n,
            datatype: datatypeOf(t.dtype),
            shape: t.shape,
            ...(rawOut ? {} : { contents: toContents(t) }),
          };
        }),
        raw_output_contents: rawOut ? names.map((n) => Buffer.from(binaryData(outputs[n]!))) : [],
      };
    }),
    RepositoryIndex: unary('management', (r) => {
      const repository = ctx.options.repository;
      if (repository === undefined)
        throw new HttpError(501, 'this server has no model repository to control');
      return { models: repository.index().filter((e) => r.ready !== true || e.state === 'READY') };
    }),
    RepositoryModelLoad: unary('management', async (r) => {
      const repository = ctx.options.repository;
      if (repository === undefined)
        throw new HttpError(501, 'this server has no model repository to control');
      checkModelControl(ctx, 'load', undefined);
      refuseLoadParameters(String(r.model_name), Object.keys((r.parameters as object | undefined) ?? {}));
      await repository.load(String(r.model_name));
      return {};
    }),
    RepositoryModelUnload: unary('management', async (r) => {
      const repository = ctx.options.repository;
      if (repository === undefined)
        throw new HttpError(501, 'this server has no model repository to control');
      checkModelControl(ctx, 'unload', undefined);
      await repository.unload(String(r.model_name));
      return {};
    }),
  });
}

/**
 * Starts a gRPC server with the inference service on `port` (0 picks one) and `host` (default
 * the loopback address), over TLS when `tls` is given; resolves with the bound port.
 */
export async function listenGrpc(
  handler: InferenceHandler,
  port: number,
  host = '127.0.0.1',
  tls?: TlsOptions,
): Promise<{ server: grpc.Server; port: number }> {
  const max = handler.context.options.maxBodyBytes;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': -1,
  });
  addInferenceService(server, handler);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials(tls === undefined ? undefined : checkTls(tls)), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port: bound };
}
