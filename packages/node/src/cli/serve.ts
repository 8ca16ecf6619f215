/**
 * `modelship serve <repository>`: serves a model repository over the Open Inference Protocol,
 * TF Serving's REST API and Prometheus metrics, keeps it in step with the disk, and shuts down
 * gracefully on SIGTERM or SIGINT.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Deployer, formatShape } from '@modelship/core';
import { FileSystemRepository } from '../repository/repository';
import { createServer, type ModelshipServer } from '../server/server';
import { UsageError } from './usage';

export const SERVE_USAGE = `Usage: modelship serve <repository> [options]

Serves every model in <repository> (<model>/<version>/model.onnx, optional config.json) and
loads, swaps and removes versions as the directory changes.

Options:
  --port <n>            HTTP port (default: 8000; 0 picks a free one)
  --grpc-port <n>       Also serve the protocol over gRPC on this port (0 picks a free one)
  --host <address>      Address to listen on (default: 0.0.0.0)
  --token <t>           Require Authorization: Bearer <t> (repeatable; also MODELSHIP_TOKENS=a,b)
  --cors [origin]       Allow browser clients (any origin, or the one given)
  --max-body-mb <n>     Largest request body in MiB (default: 64)
  --timeout-ms <n>      Per-request deadline, queue included (default: none)
  --poll-ms <n>         How often to look for new versions (default: 1000)
  --threads <n>         onnxruntime intra-op threads per session (default: onnxruntime's choice)
`;

function positive(name: string, v: string | undefined, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0) || (integer && !Number.isInteger(n)) || v.trim() === '')
    throw new UsageError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, not '${v}'`);
  return n;
}

export interface ServeHooks {
  out: (s: string) => void;
  /** Called once listening (tests use it); the command then runs until a signal. */
  started?: (server: ModelshipServer, url: string) => void;
}

export async function serveCommand(args: string[], hooks: ServeHooks): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      port: { type: 'string' },
      'grpc-port': { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string', multiple: true },
      cors: { type: 'string' },
      'max-body-mb': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(`serve takes one repository directory, received ${positionals.length}`);
  const root = resolve(positionals[0]!);
  const port = positive('port', values.port) ?? 8000;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const grpcPort = positive('grpc-port', values['grpc-port']);
  if (grpcPort !== undefined && grpcPort > 65535)
    throw new UsageError(`--grpc-port must be at most 65535, not ${grpcPort}`);
  const tokens = [
    ...(values.token ?? []),
    ...(process.env.MODELSHIP_TOKENS?.split(',').filter((t) => t !== '') ?? []),
  ];
  const maxBodyMb = positive('max-body-mb', values['max-body-mb'], false) ?? 64;
  const timeoutMs = positive('timeout-ms', values['timeout-ms']);
  const pollIntervalMs = positive('poll-ms', values['poll-ms']) ?? 1000;
  const threads = positive('threads', values.threads);
  const out = hooks.out;

  const deployer = new Deployer();
  const repository = new FileSystemRepository(root, {
    pollIntervalMs,
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  });
  repository.attach(deployer);
  const failures: string[] = [];
  repository.on('loadFailed', ({ model, version, error }) => {
    const line = `${model} version ${version} failed to load: ${(error as Error).message}`;
    if (started) out(`${stamp()} ${line}`);
    else failures.push(line);
  });
  repository.on('problem', (p) => {
    if (started) out(`${stamp()} ${JSON.stringify(p)}`);
  });
  let started = false;
  repository.on('versionServing', ({ model, version }) => {
    if (started) out(`${stamp()} ${model} version ${version} is serving`);
  });
  repository.on('versionRemoved', ({ model, version }) => {
    if (started) out(`${stamp()} ${model} version ${version} was removed`);
  });
  await repository.start();
  // Files copied in just now are still settling; give them a few polls so the first listing is whole.
  for (let waited = 0; waited < 5000 && hasWaiting(repository); waited += 50) await sleep(50);

  const server = createServer(deployer, {
    maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(tokens.length === 0 ? {} : { auth: { tokens } }),
    ...(values.cors === undefined
      ? {}
      : { cors: values.cors === '' || values.cors === '*' ? true : { origin: values.cors } }),
    repository,
    closeDeployer: true,
  });
  const { url } = await server.listen(port, values.host ?? '0.0.0.0');
  const grpc =
    grpcPort === undefined ? undefined : await server.listenGrpc(grpcPort, values.host ?? '0.0.0.0');
  started = true;

  out(`modelship serving ${root}`);
  const names = deployer.names().sort();
  const rows = names.map((name) => {
    const s = deployer.status(name);
    const sig = deployer.model(name).signature;
    const io = `${sig.inputs.map((i) => `${i.name} ${i.dtype} ${formatShape(i.shape)}`).join(', ')} → ${sig.outputs.map((o) => o.name).join(', ')}`;
    const batching = s.versions.find((v) => v.version === s.primary)?.batching;
    const note =
      batching === undefined ? '' : batching.enabled ? 'dynamic batching' : `no batching: ${batching.reason}`;
    return [name, `version ${s.primary}`, io, note];
  });
  if (rows.length === 0) out('  no models yet: add <model>/<version>/model.onnx and it loads within a poll');
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}`.trimEnd());
  for (const f of failures) out(`  warning: ${f}`);
  out(`listening on ${url}${tokens.length > 0 ? ' (bearer tokens required)' : ''}`);
  out(`  Open Inference Protocol  POST ${url}/v2/models/{name}/infer   GET /v2/health/ready`);
  out(`  TF Serving REST          POST ${url}/v1/models/{name}:predict`);
  out(`  Prometheus metrics       GET  ${url}/metrics`);
  out(`  Repository control       POST ${url}/v2/repository/index, /v2/repository/models/{name}/load|unload`);
  if (grpc !== undefined)
    out(`  gRPC                     inference.GRPCInferenceService on port ${grpc.port}`);
  out('Ctrl-C (SIGINT) or SIGTERM lets requests in flight finish, then stops.');
  hooks.started?.(server, url);

  return await new Promise<number>((done) => {
    server.closeOnSignals(() => {
      void repository.stop().then(() => {
        out(`${stamp()} stopped`);
        done(0);
      });
    });
  });
}

function hasWaiting(repository: FileSystemRepository): boolean {
  return Object.values(repository.status()).some((versions) =>
    versions.some((v) => v.state === 'waiting' || v.state === 'loading'),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stamp(): string {
  return new Date().toISOString();
}
