/**
 * `modelship serve <repository>`: serves a model repository over the Open Inference Protocol,
 * TF Serving's REST API and Prometheus metrics, keeps it in step with the disk, and shuts down
 * gracefully on SIGTERM or SIGINT.
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import {
  Deployer,
  formatShape,
  type InputScreen,
  type InstanceEvent,
  Monitor,
  type Pipeline,
  type Profile,
} from '@modelship/core';
import type { ExplainSource } from '@modelship/core/serve';
import type { Command } from 'commander';
import { DEFAULT_KEY_ENV } from '../decryption';
import { loadModel, WORKER_THRESHOLD_MS } from '../load-model';
import { PredictionLog } from '../prediction-log';
import { resolveInside } from '../repository/contain';
import { readExplainSettings } from '../repository/explain';
import { readProfile, watchProfile } from '../repository/profiles';
import { FileSystemRepository } from '../repository/repository';
import { readPipeline } from '../repository/scan';
import { readScreen } from '../repository/screens';
import { createServer, type ModelshipServer } from '../server/server';
import { UsageError } from './errors';
import { mustExist } from './files';
import { LOG_HASH_KEY_ENV, type LogFlags, predictionLogOptions } from './log-options';
import { PAYLOAD_LOG_HELP, type PayloadLogFlags, payloadLogFromFlags } from './payload-log';

/** The options of `modelship serve`, as commander parses them (keys as in --config files). */
export interface ServeFlags extends LogFlags, PayloadLogFlags {
  port?: string;
  grpcPort?: string;
  managementPort?: string;
  host?: string;
  /** `none` (default) or `explicit`. */
  modelControl?: string;
  token?: string[];
  /** `true` when given with no value: any origin. */
  cors?: string | true;
  maxBodyMb?: string;
  timeoutMs?: string;
  maxConnections?: string;
  /** Milliseconds; `bodyTimeoutMs` in a --config file. */
  bodyTimeout?: string;
  pollMs?: string;
  threads?: string;
  workers?: string;
  instances?: string;
  modelName?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export function registerServe(
  program: Command,
  out: (s: string) => void,
  done: (code: number) => void,
): void {
  program
    .command('serve')
    .summary('serve a model repository over HTTP (and gRPC)')
    .description(
      'Serves every model in <repository> (<model>/<version>/model.onnx, optional config.json and ' +
        'pipeline.json) and loads, swaps and removes versions as the directory changes. A model with a ' +
        'pipeline.json also takes records: POST /v1/models/<model>:predict {"instances": [{...}]}. A ' +
        "directory that holds model.onnx itself (as KServe's storage initializer lays one out) is served " +
        'as one model.',
    )
    .argument('<repository>', 'the model repository directory')
    .option('--port <n>', 'HTTP port (default: 8000; 0 picks a free one)')
    .option('--grpc-port <n>', 'also serve the protocol over gRPC on this port (0 picks a free one)')
    .option(
      '--management-port <n>',
      "serve TorchServe's management API (GET /models...) on this port rather than the main one, as TorchServe's 8081",
    )
    .option(
      '--host <address>',
      'address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 for all)',
    )
    .option(
      '--model-control <m>',
      'none (default): the repository API lists models but refuses load/unload; explicit: allows them (with --token, only to holders of a token)',
    )
    .option(
      '--token <t>',
      'require Authorization: Bearer <t> (repeatable; also MODELSHIP_TOKENS=a,b)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--tls-cert <file>', 'serve HTTPS (and gRPC over TLS) with this PEM certificate chain')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--tls-ca <file>', 'require client certificates that chain to these CA certificates (mutual TLS)')
    .option('--cors [origin]', 'allow browser clients: from any origin, or only from the one given')
    .option('--max-body-mb <n>', 'largest request body in MiB (default: 64)')
    .option('--timeout-ms <n>', 'per-request deadline, queue included (default: none)')
    .option(
      '--max-connections <n>',
      'connections open at once; a request on one past it gets 503 (default: 1024)',
    )
    .option('--body-timeout <ms>', 'a request body that sends nothing this long gets 408 (default: 10000)')
    .option('--poll-ms <n>', 'how often to look for new versions (default: 1000)')
    .option(
      '--threads <n>',
      "onnxruntime intra-op threads per session (default: onnxruntime's choice; with --workers, the cores divided among the workers)",
    )
    .option('--workers <n>', 'serve from n processes sharing the port (node:cluster), each with every model')
    .option(
      '--instances <n|auto>',
      `where inference runs, unless a model's config.json says (default: auto): auto puts a model whose warm call takes ${WORKER_THRESHOLD_MS} ms or more on a worker thread, so health checks and 503s answer while it runs; n: n worker threads per version (Triton's instance_group count); 0: every model in-thread`,
    )
    .option(
      '--model-name <name>',
      'name of the model when the directory holds model.onnx (default: its name)',
    )
    .option(
      '--log-dir <dir>',
      'append a JSON line per prediction to <dir>/predictions.jsonl (rotated at 50 MiB)',
    )
    .option('--log-payload <mode>', PAYLOAD_LOG_HELP.mode)
    .option('--log-payload-url <url>', PAYLOAD_LOG_HELP.url)
    .option('--log-payload-file <path.jsonl>', PAYLOAD_LOG_HELP.file)
    .option('--log-payload-sample <rate>', PAYLOAD_LOG_HELP.sample)
    .option('--log-payload-policy <file.json>', PAYLOAD_LOG_HELP.policy)
    .option(
      '--log-policy <file.json>',
      `log inputs and outputs as this policy says ({ fields, default, hashKey }; hashKey also from $${LOG_HASH_KEY_ENV}); without it, none are logged`,
    )
    .option(
      '--log-key-file <file>',
      'encrypt the prediction log (predictions.jsonl.jwe) and the payload log file with this 256-bit key',
    )
    .option(
      '--log-key-env <name>',
      'encrypt the prediction log and the payload log file with the key in this environment variable',
    )
    .option(
      '--config <file.json>',
      'server settings in a file: port, grpcPort, managementPort, host, modelControl, tokens, authExempt, cors, maxBodyMb, maxTensorElements, timeoutMs, maxConnections, bodyTimeoutMs, drainTimeoutMs, pollMs, threads, workers, instances, logDir, logPolicy, logKeyFile, logKeyEnv, maxExplainRows, maxConcurrentExplains, tlsCert, tlsKey, tlsCa, logPayload, logPayloadUrl, logPayloadFile, logPayloadSample, logPayloadPolicy (flags given on the command line win)',
    )
    .action(async (repository: string, values: ServeFlags) =>
      done(await serveCommand(repository, values, { out })),
    );
}

function positive(name: string, v: string | undefined, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0) || (integer && !Number.isInteger(n)) || v.trim() === '')
    throw new UsageError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, not '${v}'`);
  return n;
}

/**
 * `--cors` as the server option: no value (or `*`) is any origin; a value must be an origin
 * such as `https://app.example`, so a repository path swallowed as the value is caught.
 */
function corsOption(v: string | true | undefined): true | { origin: string } | undefined {
  if (v === undefined) return undefined;
  if (v === true || v === '' || v === '*') return true;
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(v))
    throw new UsageError(
      `--cors takes an origin such as https://app.example (or no value, for any origin), not '${v}'`,
    );
  return { origin: v };
}

export interface ServeHooks {
  out: (s: string) => void;
  /** Called once listening (tests use it); the command then runs until a signal. */
  started?: (server: ModelshipServer, url: string) => void;
}

export async function serveCommand(directory: string, flags: ServeFlags, hooks: ServeHooks): Promise<number> {
  await mustExist(directory, 'the repository', true);
  const root = resolve(directory);
  if (flags.config !== undefined) await mustExist(flags.config, '--config');
  const config = flags.config === undefined ? {} : await readConfig(flags.config);
  const values: ServeFlags = { ...flags };
  // A setting from the file, as the flag's string form, unless the flag was given (the flags'
  // keys are the file's, but for --body-timeout's bodyTimeoutMs).
  for (const [key, setting] of [
    ['port', 'port'],
    ['grpcPort', 'grpcPort'],
    ['managementPort', 'managementPort'],
    ['host', 'host'],
    ['modelControl', 'modelControl'],
    ['maxBodyMb', 'maxBodyMb'],
    ['timeoutMs', 'timeoutMs'],
    ['maxConnections', 'maxConnections'],
    ['bodyTimeout', 'bodyTimeoutMs'],
    ['pollMs', 'pollMs'],
    ['threads', 'threads'],
    ['workers', 'workers'],
    ['instances', 'instances'],
    ['logDir', 'logDir'],
    ['logKeyFile', 'logKeyFile'],
    ['logKeyEnv', 'logKeyEnv'],
    ['tlsCert', 'tlsCert'],
    ['tlsKey', 'tlsKey'],
    ['tlsCa', 'tlsCa'],
    ['logPayload', 'logPayload'],
    ['logPayloadUrl', 'logPayloadUrl'],
    ['logPayloadFile', 'logPayloadFile'],
    ['logPayloadSample', 'logPayloadSample'],
    ['logPayloadPolicy', 'logPayloadPolicy'],
  ] as const) {
    const v = config[setting];
    if (values[key] === undefined && v !== undefined) values[key] = String(v);
  }
  if (values.cors === undefined && config.cors !== undefined && config.cors !== false)
    values.cors = config.cors === true ? '*' : String((config.cors as { origin?: unknown }).origin ?? '*');
  const cors = corsOption(values.cors);
  const port = positive('port', values.port) ?? 8000;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const grpcPort = positive('grpc-port', values.grpcPort);
  if (grpcPort !== undefined && grpcPort > 65535)
    throw new UsageError(`--grpc-port must be at most 65535, not ${grpcPort}`);
  const managementPort = positive('management-port', values.managementPort);
  if (managementPort !== undefined && managementPort > 65535)
    throw new UsageError(`--management-port must be at most 65535, not ${managementPort}`);
  const tokens = [
    ...(values.token ?? []),
    ...((config.tokens as string[] | undefined) ?? []),
    ...(process.env.MODELSHIP_TOKENS?.split(',').filter((t) => t !== '') ?? []),
  ];
  const modelControl = values.modelControl ?? 'none';
  if (modelControl !== 'none' && modelControl !== 'explicit')
    throw new UsageError(`--model-control must be none or explicit, not '${modelControl}'`);
  const host = values.host ?? '127.0.0.1';
  const tls = await tlsFiles(values);
  const logOptions = await predictionLogOptions(values, config);
  const payloadLog = await payloadLogFromFlags(values, logOptions.encryption);
  const maxBodyMb = positive('max-body-mb', values.maxBodyMb, false) ?? 64;
  const timeoutMs = positive('timeout-ms', values.timeoutMs);
  const maxConnections = positive('max-connections', values.maxConnections);
  if (maxConnections === 0) throw new UsageError('--max-connections must be at least 1, not 0');
  const bodyTimeoutMs = positive('body-timeout', values.bodyTimeout);
  if (bodyTimeoutMs === 0) throw new UsageError('--body-timeout must be at least 1 ms, not 0');
  const pollIntervalMs = positive('poll-ms', values.pollMs) ?? 1000;
  const workers = positive('workers', values.workers) ?? 1;
  if (workers < 1 || workers > 64) throw new UsageError(`--workers must be from 1 to 64, not ${workers}`);
  if (workers > 1 && cluster.isPrimary) return supervise(workers, hooks.out);
  const instances: number | 'auto' =
    values.instances === undefined || values.instances === 'auto'
      ? 'auto'
      : positive('instances', values.instances)!;
  if (instances !== 'auto' && instances > 256)
    throw new UsageError(`--instances must be auto or from 0 to 256, not ${instances}`);
  // Workers share the cores: unless told otherwise, each process's sessions get its share of
  // them (and a model on n threads, a nth of that each), so the onnxruntime thread pools do not
  // fight over the machine (measured in docs/performance.md).
  const given = positive('threads', values.threads);
  const shared = cluster.isWorker && given === undefined;
  const cores = shared
    ? Math.max(1, Math.floor(availableParallelism() / Number(process.env.MODELSHIP_WORKERS ?? '1')))
    : undefined;
  const threads = shared ? cores : given;
  // In a cluster, the first worker prints the listing; every worker logs what happens to it.
  const index = Number(process.env.MODELSHIP_WORKER ?? '0');
  const quiet = cluster.isWorker && index !== 0;
  const prefix = cluster.isWorker ? `[worker ${index}] ` : '';
  const out = quiet ? () => {} : hooks.out;
  const log = (s: string) => hooks.out(`${stamp()} ${prefix}${s}`);

  const deployer = new Deployer();
  const monitor = new Monitor();
  monitor.attach(deployer);
  monitor.start();
  const predictionLog =
    values.logDir === undefined ? undefined : new PredictionLog(resolve(values.logDir), logOptions);
  predictionLog?.attach(deployer);
  const single = existsSync(join(root, 'model.onnx'));
  if (values.modelName !== undefined && !single)
    throw new UsageError(`--model-name applies to a directory holding model.onnx; ${root} has none`);
  /** Versions whose sessions run on worker threads, with how many, for the listing. */
  const onThreads = new Map<string, number>();
  const onInstanceEvent = (e: InstanceEvent): void => {
    const key = `${e.model}\u0000${e.version}`;
    if (e.type === 'started') onThreads.set(key, e.instances);
    else if (e.type === 'stopped') onThreads.delete(key);
    else {
      const which = `${e.model} version ${e.version}: worker thread ${e.instance}`;
      log(
        e.type === 'exited'
          ? `${which} stopped (${e.error.message}); ${e.failedCalls} call(s) failed; replacing it`
          : e.type === 'replaced'
            ? `${which} replaced`
            : `${which} could not be replaced: ${(e.error as Error).message}`,
      );
    }
  };
  // Explicit --threads is per session; otherwise the process's share of cores is divided.
  const load = {
    instances,
    onInstanceEvent,
    ...(given === undefined ? {} : { intraOpNumThreads: given }),
    ...(cores === undefined ? {} : { cores }),
  };
  // Encrypted versions without a key source in their config.json take $MODELSHIP_MODEL_KEY.
  const repository = new FileSystemRepository(root, {
    pollIntervalMs,
    ...load,
    decryption: { key: { env: DEFAULT_KEY_ENV } },
  });
  const singlePipelines: Record<string, Pipeline> = {};
  let singleProfile: Profile | undefined;
  if (single) {
    // One model, as KServe lays it out: no versions on disk, nothing to watch.
    const name = values.modelName ?? basename(root);
    const pipelineFile = join(root, 'pipeline.json');
    try {
      const pipeline = await readPipeline(pipelineFile, undefined, root);
      if (pipeline !== undefined) singlePipelines[name] = pipeline;
    } catch (e) {
      throw new UsageError(`${pipelineFile}: ${(e as Error).message}`);
    }
    singleProfile = await readProfile(join(root, 'profile.json'), root).catch((e: unknown) => {
      throw new UsageError(`${join(root, 'profile.json')}: ${(e as Error).message}`);
    });
    await deployer.deploy(
      name,
      async () => {
        const model = await loadModel(await resolveInside(root, join(root, 'model.onnx')), {
          name,
          version: '1',
          ...load,
        });
        try {
          singlePipelines[name]?.wrap(model);
        } catch (e) {
          await model.dispose();
          throw new UsageError(`${pipelineFile} does not fit model.onnx: ${(e as Error).message}`);
        }
        return model;
      },
      {
        version: '1',
      },
    );
  } else repository.attach(deployer);
  const failures: string[] = [];
  repository.on('loadFailed', ({ model, version, error }) => {
    const line = `${model} version ${version} failed to load: ${(error as Error).message}`;
    if (started) log(line);
    else failures.push(line);
  });
  repository.on('problem', (p) => {
    const line = `${p.model === undefined ? '' : `${p.model}${p.version === undefined ? '' : ` version ${p.version}`}: `}${p.reason} (${relative(root, p.path) || '.'})`;
    if (started) log(line);
    else failures.push(line);
  });
  let started = false;
  // Drift against the profile.json shipped beside a model, (re)started when a version serves.
  const watched = new Map<string, Profile>();
  const watchDrift = (name: string): void => {
    const profile = single ? singleProfile : repository.profile(name);
    if (profile === undefined || watched.get(name) === profile || !deployer.names().includes(name)) return;
    try {
      watchProfile(
        monitor,
        name,
        profile,
        deployer.signature(name),
        single ? singlePipelines[name] : repository.pipeline(name),
      );
      watched.set(name, profile);
    } catch (e) {
      const line = `${name}: drift is not watched: ${(e as Error).message}`;
      if (started) log(line);
      else failures.push(line);
    }
  };
  // The input screen of monitor/quality.json and monitor/outliers.json, on every request.
  let singleScreen: InputScreen | undefined;
  const applyScreen = (name: string): void => {
    if (!deployer.names().includes(name)) return;
    const screen = single ? singleScreen : repository.screen(name);
    try {
      deployer.screen(name, screen);
    } catch (e) {
      const line = `${name}: the input screen is not applied: ${(e as Error).message}`;
      if (started) log(line);
      else failures.push(line);
      return;
    }
    if (screen?.performance !== undefined)
      monitor.watchPerformance(name, screen.performance.estimator, {
        ...(screen.performance.output === undefined ? {} : { output: screen.performance.output }),
      });
  };
  if (single) {
    const name = values.modelName ?? basename(root);
    singleScreen = await readScreen(root, root, singleProfile, singlePipelines[name]).catch((e: unknown) => {
      throw new UsageError(`${join(root, 'monitor')}: ${(e as Error).message}`);
    });
    applyScreen(name);
  }
  repository.on('screenChanged', ({ model }) => {
    applyScreen(model);
    if (started)
      log(`${model}: input screen ${repository.screen(model) === undefined ? 'removed' : 'loaded'}`);
  });
  repository.on('versionServing', ({ model, version }) => {
    if (started) log(`${model} version ${version} is serving`);
    watchDrift(model);
    applyScreen(model);
  });
  repository.on('versionChanged', ({ model, version, outcome, reason }) => {
    log(
      outcome === 'reloaded'
        ? `${model} version ${version} changed on disk and was reloaded from the new bytes`
        : `${model} version ${version} changed on disk and was NOT reloaded (${reason}); the bytes loaded before keep serving`,
    );
  });
  repository.on('versionRemoved', ({ model, version }) => {
    if (started) log(`${model} version ${version} was removed`);
  });
  deployer.on('warmupSkipped', ({ name, version, reason }) => {
    log(`${name} version ${version} serves without warmup: ${reason}`);
  });
  if (!single) {
    await repository.start();
    // Files copied in just now are still settling; give them a few polls so the first listing is whole.
    for (let waited = 0; waited < 5000 && hasWaiting(repository); waited += 50) await sleep(50);
  }

  for (const name of deployer.names()) watchDrift(name);

  const server = createServer(deployer, {
    maxBodyBytes: Math.round(maxBodyMb * 1024 * 1024),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(maxConnections === undefined ? {} : { maxConnections }),
    ...(managementPort === undefined ? {} : { managementPort }),
    ...(bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs }),
    ...(tokens.length === 0
      ? {}
      : {
          auth: {
            tokens,
            ...(config.authExempt === undefined ? {} : { exempt: config.authExempt as never }),
          },
        }),
    ...(config.maxTensorElements === undefined
      ? {}
      : { maxTensorElements: config.maxTensorElements as number }),
    ...(config.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: config.drainTimeoutMs as number }),
    ...explainLimits(config),
    explain: single ? singleExplain(root, values.modelName ?? basename(root)) : repository,
    ...(cors === undefined ? {} : { cors }),
    ...(tls === undefined ? {} : { tls }),
    ...(single ? {} : { repository }),
    modelControl,
    pipelines: single ? singlePipelines : repository,
    monitor,
    closeDeployer: true,
    // config.json's payloadLog refines the flags' settings per model.
    ...(payloadLog === undefined
      ? {}
      : { payloadLog: { ...payloadLog, ...(single ? {} : { models: repository }) } }),
  });
  const { url, management } = await server.listen(port, host);
  const grpc = grpcPort === undefined ? undefined : await server.listenGrpc(grpcPort, host);
  started = true;

  out(
    `modelship serving ${root}${cluster.isWorker ? ` from ${process.env.MODELSHIP_WORKERS} worker processes, ${threads ?? 'default'} onnxruntime thread${threads === 1 ? '' : 's'} each${shared ? ` (${availableParallelism()} cores shared; --threads to change)` : ''}` : ''}`,
  );
  const names = deployer.names().sort();
  const rows = names.map((name) => {
    const s = deployer.status(name);
    const sig = deployer.model(name).signature;
    const io = `${sig.inputs.map((i) => `${i.name} ${i.dtype} ${formatShape(i.shape)}`).join(', ')} → ${sig.outputs.map((o) => o.name).join(', ')}`;
    const batching = s.versions.find((v) => v.version === s.primary)?.batching;
    const pool = onThreads.get(`${name}\u0000${s.primary}`);
    const note = [
      batching === undefined ? '' : batching.enabled ? 'dynamic batching' : `no batching: ${batching.reason}`,
      pool === undefined ? '' : `${pool} worker thread${pool === 1 ? '' : 's'}`,
    ]
      .filter((n) => n !== '')
      .join('; ');
    const pipeline = single ? singlePipelines[name] : repository.pipeline(name);
    const takes =
      pipeline === undefined
        ? ''
        : `records (${pipeline.fields.join(', ')}) through pipeline.json${note === '' ? '' : '; '}`;
    const drift = watched.has(name)
      ? `${takes === '' && note === '' ? '' : '; '}drift watched against profile.json`
      : '';
    return [name, `version ${s.primary}`, io, `${takes}${note}${drift}`];
  });
  if (rows.length === 0) out('  no models yet: add <model>/<version>/model.onnx and it loads within a poll');
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')}`.trimEnd());
  for (const f of failures) out(`  warning: ${f}`);
  out(`listening on ${url}${tokens.length > 0 ? ' (bearer tokens required)' : ''}`);
  out(`  Open Inference Protocol  POST ${url}/v2/models/{name}/infer   GET /v2/health/ready`);
  out(`  TF Serving REST          POST ${url}/v1/models/{name}:predict`);
  if (names.some((n) => (single ? singlePipelines[n] : repository.pipeline(n)) !== undefined))
    out(`  Records (pipeline.json)  POST ${url}/v1/models/{name}:predict  {"instances": [{...}]}`);
  out(
    `  Explanations             POST ${url}/v1/models/{name}:explain  (with <model>/explain/background.jsonl)`,
  );
  out(`  TorchServe inference     POST ${url}/predictions/{name}   GET /ping`);
  out(`  TorchServe management    GET  ${management?.url ?? url}/models`);
  out(`  Prometheus metrics       GET  ${url}/metrics`);
  if (payloadLog !== undefined)
    out(
      `  Payload log              ${payloadLog.mode} → ${[values.logPayloadUrl, values.logPayloadFile].filter(Boolean).join(', ')}${payloadLog.sampleRate === undefined ? '' : ` (sample ${payloadLog.sampleRate})`}; ${payloadLog.policy === undefined ? 'metadata only (no --log-payload-policy)' : 'payload fields as --log-payload-policy says'}`,
    );
  out(`  Dashboard                GET  ${url}/dashboard`);
  if (!single)
    out(
      modelControl === 'explicit'
        ? `  Repository control       POST ${url}/v2/repository/index, /v2/repository/models/{name}/load|unload`
        : `  Repository index         POST ${url}/v2/repository/index  (load/unload: --model-control explicit)`,
    );
  if (grpc !== undefined)
    out(
      `  gRPC                     inference.GRPCInferenceService on port ${grpc.port}${tls === undefined ? '' : ' (TLS)'}`,
    );
  if (tls?.ca !== undefined) out('  client certificates      required (mutual TLS, --tls-ca)');
  out('Ctrl-C (SIGINT) or SIGTERM lets requests in flight finish, then stops.');
  hooks.started?.(server, url);

  return await new Promise<number>((done) => {
    server.closeOnSignals(() => {
      monitor.stop();
      void Promise.all([repository.stop(), predictionLog?.close()]).then(() => {
        if (!quiet || cluster.isPrimary) out(`${stamp()} ${prefix}stopped`);
        // A cluster worker's IPC channel would keep it alive: let go of it.
        if (cluster.isWorker) cluster.worker?.disconnect();
        done(0);
      });
    });
  });
}

/**
 * The primary of `--workers n`: forks the workers (they share the listening sockets), replaces
 * one that dies, and on SIGTERM/SIGINT asks each to drain and waits for all of them.
 */
function supervise(count: number, out: (s: string) => void): Promise<number> {
  let stopping = false;
  const fork = (index: number): void => {
    const worker = cluster.fork({ MODELSHIP_WORKER: String(index), MODELSHIP_WORKERS: String(count) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      out(`${stamp()} worker ${index} exited (${signal ?? `code ${code}`}); starting another`);
      fork(index);
    });
  };
  for (let i = 0; i < count; i++) fork(i);
  return new Promise<number>((done) => {
    const stop = (): void => {
      if (stopping) process.exit(1);
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && !w.isDead());
      let left = alive.length;
      if (left === 0) done(0);
      for (const w of alive) {
        w!.once('exit', () => {
          if (--left === 0) {
            out(`${stamp()} stopped`);
            done(0);
          }
        });
        w!.process.kill('SIGTERM');
      }
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

const CONFIG_KEYS: Record<string, 'number' | 'string' | 'strings' | 'cors' | 'instances' | 'policy'> = {
  port: 'number',
  grpcPort: 'number',
  managementPort: 'number',
  host: 'string',
  modelControl: 'string',
  tokens: 'strings',
  authExempt: 'strings',
  cors: 'cors',
  maxBodyMb: 'number',
  maxTensorElements: 'number',
  timeoutMs: 'number',
  maxConnections: 'number',
  bodyTimeoutMs: 'number',
  drainTimeoutMs: 'number',
  pollMs: 'number',
  threads: 'number',
  workers: 'number',
  instances: 'instances',
  logDir: 'string',
  logPolicy: 'policy',
  logKeyFile: 'string',
  logKeyEnv: 'string',
  maxExplainRows: 'number',
  maxConcurrentExplains: 'number',
  tlsCert: 'string',
  tlsKey: 'string',
  tlsCa: 'string',
  logPayload: 'string',
  logPayloadUrl: 'string',
  logPayloadFile: 'string',
  logPayloadSample: 'number',
  logPayloadPolicy: 'string',
};

/** `maxExplainRows` and `maxConcurrentExplains` of a `--config` file, which must be positive integers. */
function explainLimits(config: Record<string, unknown>): {
  maxExplainRows?: number;
  maxConcurrentExplains?: number;
} {
  const out: { maxExplainRows?: number; maxConcurrentExplains?: number } = {};
  for (const key of ['maxExplainRows', 'maxConcurrentExplains'] as const) {
    const v = config[key];
    if (v === undefined) continue;
    if (!(Number.isSafeInteger(v) && (v as number) >= 1))
      throw new UsageError(`--config: '${key}' must be a positive integer, not ${JSON.stringify(v)}`);
    out[key] = v as number;
  }
  return out;
}

/** The explanation background of a directory served as one model: its explain/background.jsonl. */
function singleExplain(root: string, name: string): ExplainSource {
  return {
    explainSettings: async (model) =>
      model === name ? (await readExplainSettings(root, root, undefined))?.settings : undefined,
  };
}

/** `--tls-cert`, `--tls-key`, `--tls-ca` read: a certificate needs its key, a CA needs both. */
async function tlsFiles(values: ServeFlags): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer } | undefined> {
  const { tlsCert, tlsKey, tlsCa } = values;
  if (tlsCert === undefined && tlsKey === undefined && tlsCa === undefined) return undefined;
  if (tlsCert === undefined || tlsKey === undefined)
    throw new UsageError(
      `--tls-cert and --tls-key go together${tlsCa === undefined ? '' : ', and --tls-ca needs both'}; received only ${[tlsCert && '--tls-cert', tlsKey && '--tls-key', tlsCa && '--tls-ca'].filter(Boolean).join(' and ')}`,
    );
  const read = async (path: string, flag: string): Promise<Buffer> => {
    await mustExist(path, flag);
    return readFile(path);
  };
  return {
    cert: await read(tlsCert, '--tls-cert'),
    key: await read(tlsKey, '--tls-key'),
    ...(tlsCa === undefined ? {} : { ca: await read(tlsCa, '--tls-ca') }),
  };
}

/** Reads and checks a `--config` file: a JSON object of known settings. */
async function readConfig(file: string): Promise<Record<string, unknown>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config ${file}: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UsageError(`--config ${file} must hold a JSON object`);
  for (const [key, value] of Object.entries(raw)) {
    const kind = CONFIG_KEYS[key];
    if (kind === undefined)
      throw new UsageError(
        `--config ${file}: unknown setting '${key}' (known: ${Object.keys(CONFIG_KEYS).join(', ')})`,
      );
    const ok =
      kind === 'number'
        ? typeof value === 'number' && Number.isFinite(value) && value >= 0
        : kind === 'string'
          ? typeof value === 'string'
          : kind === 'strings'
            ? Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')
            : kind === 'instances'
              ? value === 'auto' || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
              : kind === 'policy'
                ? typeof value === 'string' ||
                  (typeof value === 'object' && value !== null && !Array.isArray(value))
                : typeof value === 'boolean' ||
                  (typeof value === 'object' &&
                    value !== null &&
                    typeof (value as { origin?: unknown }).origin === 'string');
    if (!ok) throw new UsageError(`--config ${file}: '${key}' has the wrong type (${JSON.stringify(value)})`);
  }
  return raw as Record<string, unknown>;
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
