import { describe, InputError, invalidArgument, ModelLoadError, ModelshipError } from '../errors';
import { type DeclaredSignature, type DeclaredValue, readOnnxSignature } from '../load/onnx-graph';
import type { ByteSource } from '../load/protobuf';
import { rewriteZipMaps, type ZipMapOutput } from '../load/zipmap';
import { isDType } from '../tensor/dtype';
import {
  type Dim,
  describeUnsupported,
  type ModelSignature,
  type TensorSpec,
  type UnsupportedOutput,
} from '../tensor/spec';
import type { NamedTensors, Tensor } from '../tensor/tensor';
import { BaseModel, type BaseModelOptions } from './base-model';
import type {
  OnnxRuntime,
  OrtSession,
  OrtSessionHandler,
  OrtSessionOptions,
  OrtTensor,
  OrtValueMetadata,
} from './onnx-runtime';

export interface OnnxModelOptions extends BaseModelOptions {
  /**
   * Passed to `InferenceSession.create`, with `logSeverityLevel` defaulting to 4 (fatal only):
   * onnxruntime's own log lines stay out of a service's logs and its errors reach the caller as
   * {@link ModelshipError}s. Set `logSeverityLevel` (0 verbose … 3 error) to see them again.
   */
  sessionOptions?: OrtSessionOptions;
  /**
   * Where the model's bytes can be read when `model` is a path onnxruntime opens itself, so the
   * signature is still read as the graph declares it (a scalar is `[]`, an undeclared shape
   * `null`). Without it such a model's signature comes from onnxruntime's metadata alone, which
   * reports both as `[]` (read as `null`).
   */
  graphSource?: ByteSource;
  /**
   * Run one inference at a time on the session. onnxruntime-web's wasm backend refuses a second
   * `run` while one is going ("Session already started"), so the browser binding turns this on;
   * onnxruntime-node runs calls concurrently and leaves it off (default `false`).
   */
  exclusiveRuns?: boolean;
}

/**
 * A {@link Model} backed by an onnxruntime `InferenceSession`. Written once against the API
 * onnxruntime-node and onnxruntime-web share; `@modelship/node` and `@modelship/browser` make
 * it with their own runtime module and their own way of getting the bytes.
 */
export class OnnxModel extends BaseModel {
  /** The onnxruntime session, for what Modelship does not wrap (profiling, say). */
  readonly session: OrtSession;
  private readonly runtime: OnnxRuntime;
  private readonly exclusive: boolean;
  /** The tail of the queue of runs when runs are exclusive. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private readonly allOutputs: readonly string[];
  /** The declared dtype of each of `allOutputs`. */
  private readonly allDtypes: readonly string[];
  /** True when onnxruntime must be told which outputs: some it cannot return. */
  private readonly fetchAll: boolean;
  /** The session's backend handler, called directly when it has one (see `run`). */
  private readonly handler: OrtSessionHandler | undefined;
  /** `allOutputs` as the handler takes them. */
  private readonly allFetches: Record<string, null> = {};

  private constructor(
    runtime: OnnxRuntime,
    session: OrtSession,
    signature: ModelSignature,
    options: OnnxModelOptions,
  ) {
    super(signature, options);
    this.runtime = runtime;
    this.session = session;
    this.exclusive = options.exclusiveRuns === true;
    this.allOutputs = signature.outputs.map((o) => o.name);
    this.allDtypes = signature.outputs.map((o) => o.dtype);
    this.fetchAll = signature.unsupportedOutputs !== undefined;
    for (const name of this.allOutputs) this.allFetches[name] = null;
    const handler = (session as { handler?: Partial<OrtSessionHandler> }).handler;
    this.handler =
      !this.exclusive && typeof handler?.run === 'function' ? (handler as OrtSessionHandler) : undefined;
  }

  /**
   * Creates the session from model bytes (or a path or URL the runtime itself can read) and
   * reads the signature from its metadata. onnxruntime's refusal becomes a `MODEL_REJECTED`
   * {@link ModelLoadError} with onnxruntime's error as `cause`.
   */
  static async create(
    runtime: OnnxRuntime,
    model: Uint8Array | string,
    options: OnnxModelOptions = {},
  ): Promise<OnnxModel> {
    if (typeof runtime?.InferenceSession?.create !== 'function' || typeof runtime.Tensor !== 'function') {
      throw invalidArgument(
        'OnnxModel.create',
        'runtime must be an onnxruntime module (onnxruntime-node or -web)',
        runtime,
      );
    }
    // Read before the session is made: onnxruntime-web may take the bytes over.
    let declared = await declaredSignature(typeof model === 'string' ? options.graphSource : model);
    // A converter's ZipMap output (a sequence of maps onnxruntime-js cannot return) is served as
    // the probability tensor it was made from: the graph is rewritten in memory, never on disk.
    let zipMaps: readonly ZipMapOutput[] = [];
    if (declared?.outputs.some((o) => o.kind === 'sequence of maps')) {
      const bytes = typeof model === 'string' ? await readAll(options.graphSource!) : model;
      const rewrite = bytes === undefined ? undefined : safeRewrite(bytes);
      if (rewrite !== undefined) {
        model = rewrite.bytes;
        zipMaps = rewrite.outputs;
        declared = await declaredSignature(rewrite.bytes);
      }
    }
    const sessionOptions: OrtSessionOptions = { ...options.sessionOptions };
    sessionOptions.logSeverityLevel ??= QUIET;
    let session: OrtSession;
    try {
      session =
        typeof model === 'string'
          ? await runtime.InferenceSession.create(model, sessionOptions)
          : await runtime.InferenceSession.create(model, sessionOptions);
    } catch (e) {
      throw new ModelLoadError(
        'MODEL_REJECTED',
        `onnxruntime could not load model '${options.name ?? 'model'}': ${ortMessage(e)}`,
        {
          cause: e,
        },
      );
    }
    try {
      return new OnnxModel(runtime, session, signatureFromSession(session, declared, zipMaps), options);
    } catch (e) {
      await session.release().catch(() => {});
      throw e;
    }
  }

  protected run(
    inputs: Record<string, Tensor>,
    outputs: readonly string[],
    all: boolean,
  ): Promise<NamedTensors> {
    const feeds: Record<string, OrtTensor> = {};
    // Validation has checked that exactly the declared inputs are present.
    for (const spec of this.signature.inputs) {
      const t = inputs[spec.name]!;
      if (t.dtype === 'string') checkOrtStrings(spec.name, t.data as (string | Uint8Array)[]);
      feeds[spec.name] = new this.runtime.Tensor(t.dtype, t.data, t.shape);
    }
    // Without fetches onnxruntime returns every output and skips resolving names; a model with
    // outputs it cannot return always names the ones it can. No closure on this path:
    // capturing the feeds in one measurably slowed every call (bench/).
    if (this.fetchAll) all = false;
    // onnxruntime-common's `session.run` checks the feeds and fetches again (validation has),
    // makes a fetch list and a result object, and adds an async layer: about 6% of a small
    // model's call (bench/predict-overhead). Its backend handler (onnxruntime-common's
    // `InferenceSessionHandler`), when the session has one, does the run and is called directly;
    // exclusive runs (onnxruntime-web) keep `session.run`.
    const pending =
      this.handler !== undefined
        ? this.handler.run(feeds, all ? this.allFetches : fetchesOf(outputs), NO_OPTIONS)
        : this.exclusive
          ? this.enqueue(feeds, all ? undefined : outputs)
          : all
            ? this.session.run(feeds)
            : this.session.run(feeds, outputs);
    // One `then` that both makes the result and ends the run (see `endsRuns`); its callbacks are
    // made once per model where possible: a closure per call showed in the benchmark.
    return pending.then(all ? this.finishAll : (results) => this.finish(results, outputs), this.fail);
  }

  protected override get endsRuns(): boolean {
    return true;
  }

  private readonly finishAll = (results: Record<string, OrtTensor>): NamedTensors | Promise<NamedTensors> =>
    this.finish(results, this.allOutputs, this.allDtypes);

  /** The outputs as core tensors; the run ends once they are made (downloaded, for device outputs). */
  private finish(
    results: Record<string, OrtTensor>,
    outputs: readonly string[],
    dtypes?: readonly string[],
  ): NamedTensors | Promise<NamedTensors> {
    let out: NamedTensors | Promise<NamedTensors>;
    try {
      out = this.collect(results, outputs, dtypes);
    } catch (e) {
      this.runEnded();
      throw e;
    }
    if (out instanceof Promise) return out.then(this.settleOk, this.settleErr);
    this.runEnded();
    return out;
  }

  private readonly fail = (e: unknown): never => {
    this.runEnded();
    throw new ModelshipError(
      'INFERENCE_FAILED',
      `model '${this.name}' version '${this.version}' failed: ${ortMessage(e)}`,
      {
        cause: e,
      },
    );
  };

  /** Runs after the runs already queued (onnxruntime-web allows one at a time per session). */
  private enqueue(
    feeds: Record<string, OrtTensor>,
    fetches: readonly string[] | undefined,
  ): Promise<Record<string, OrtTensor>> {
    const start = () => (fetches === undefined ? this.session.run(feeds) : this.session.run(feeds, fetches));
    // Start at once when the session is idle; otherwise wait behind the last queued run.
    const pending = this.queued === 0 ? start() : this.queue.then(start, start);
    this.queued++;
    this.queue = pending.then(
      () => this.queued--,
      () => this.queued--,
    );
    return pending;
  }

  /** `dtypes`, when given, are the declared dtypes of `outputs`, in the same order. */
  private collect(
    results: Record<string, OrtTensor>,
    outputs: readonly string[],
    dtypes?: readonly string[],
  ): NamedTensors | Promise<NamedTensors> {
    const out: NamedTensors = {};
    let onDevice: string[] | undefined;
    for (let i = 0; i < outputs.length; i++) {
      const name = outputs[i]!;
      const r = results[name];
      if (r === undefined) {
        throw new ModelshipError(
          'INFERENCE_FAILED',
          `model '${this.name}': onnxruntime returned no output '${name}'`,
        );
      }
      if (r.location === undefined || r.location === 'cpu' || r.location === 'cpu-pinned') {
        out[name] = toCoreTensor(r, r.data, dtypes?.[i]);
      } else {
        onDevice ??= [];
        onDevice.push(name);
      }
    }
    if (onDevice === undefined) return out;
    return Promise.all(onDevice.map(async (name) => [name, await fromDevice(results[name]!)] as const)).then(
      (pairs) => {
        for (const [name, t] of pairs) out[name] = t;
        return out;
      },
    );
  }

  protected async release(): Promise<void> {
    await this.session.release();
  }
}

/** Run options of a call that sets none; the handler only reads them. */
const NO_OPTIONS: object = Object.freeze({});

function fetchesOf(outputs: readonly string[]): Record<string, null> {
  const fetches: Record<string, null> = {};
  for (const name of outputs) fetches[name] = null;
  return fetches;
}

/** onnxruntime takes strings as UTF-8 C strings: raw bytes cannot pass, and a NUL would silently cut a string. */
function checkOrtStrings(name: string, data: readonly (string | Uint8Array)[]): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (typeof v !== 'string')
      throw new InputError(
        'INPUT_INVALID',
        `input '${name}': element ${i} is ${v.byteLength} raw bytes that are not UTF-8 text; onnxruntime's string tensors carry text only`,
        { details: { input: name, index: i } },
      );
    if (v.includes('\u0000')) {
      throw new InputError(
        'INPUT_INVALID',
        `input '${name}': element ${i} contains a NUL character, which onnxruntime would cut the string at`,
        { details: { input: name, index: i } },
      );
    }
  }
}

function toCoreTensor(t: OrtTensor, data: unknown = t.data, declared?: string): Tensor {
  // The declared dtype skips the lookup, a measurable step of a valid call (bench/predict-overhead).
  if (t.type !== declared && !isDType(t.type)) {
    throw new ModelshipError(
      'MODEL_UNSUPPORTED',
      `onnxruntime returned a tensor of type '${t.type}', which Modelship does not support`,
    );
  }
  // onnxruntime makes fresh dims for every output tensor, so they can be shared.
  return { dtype: t.type, shape: t.dims, data } as Tensor;
}

/** Downloads an output left on a GPU (WebGPU) into CPU memory and frees the device buffer. */
async function fromDevice(t: OrtTensor): Promise<Tensor> {
  return toCoreTensor(t, await t.getData!(true));
}

/** The whole model from a piece-by-piece source (ZipMap models are small: trees and linear models). */
async function readAll(source: ByteSource): Promise<Uint8Array | undefined> {
  try {
    const bytes = await source.read(0, source.size);
    return bytes.length === source.size ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The rewrite, or none when the bytes cannot be read as protobuf (onnxruntime then says why). */
function safeRewrite(bytes: Uint8Array): ReturnType<typeof rewriteZipMaps> {
  try {
    return rewriteZipMaps(bytes);
  } catch {
    return undefined;
  }
}

/** How onnxruntime-web's metadata writes an unknown dimension: -1 read as a uint32. */
const UNKNOWN_DIM_WEB = 0xffffffff;

/** onnxruntime's `logSeverityLevel` for fatal errors only, Modelship's default. */
const QUIET = 4;

/**
 * The graph's own declarations, or `undefined` when there are no bytes to read or they cannot
 * be read: the declarations only refine onnxruntime's metadata, and onnxruntime itself says
 * what is wrong with a model it cannot load.
 */
async function declaredSignature(
  source: Uint8Array | ByteSource | undefined,
): Promise<DeclaredSignature | undefined> {
  if (source === undefined) return undefined;
  try {
    return await readOnnxSignature(source);
  } catch {
    return undefined;
  }
}

/**
 * Reads a model's signature from its session metadata. Outputs that are not tensors
 * (sequences and maps, as some converters emit) cannot be returned by onnxruntime-js: they are
 * listed in `unsupportedOutputs` with their kind, not in `outputs`; an input that is not a
 * tensor makes the model unusable, so it is refused. `zipMaps` (from {@link rewriteZipMaps})
 * put class labels on the outputs they name.
 *
 * onnxruntime-js reports a scalar and an undeclared shape alike as `[]`; with `declared` (what
 * the ONNX graph itself says, see {@link readOnnxSignature}) a scalar is `[]` and an undeclared
 * shape `null`. Without it `[]` is read as `null` ("rank unknown").
 */
export function signatureFromSession(
  session: OrtSession,
  declared?: DeclaredSignature,
  zipMaps: readonly ZipMapOutput[] = [],
): ModelSignature {
  const inputsMeta = session.inputMetadata;
  const outputsMeta = session.outputMetadata;
  if (inputsMeta === undefined || outputsMeta === undefined) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      'this onnxruntime build does not report input/output metadata; Modelship needs onnxruntime-js 1.22 or newer',
    );
  }
  const inputs: TensorSpec[] = [];
  for (const m of inputsMeta) {
    if (!m.isTensor) {
      throw new ModelLoadError(
        'MODEL_UNSUPPORTED',
        `input '${m.name}' is not a tensor (a sequence or map), which onnxruntime-js cannot feed`,
      );
    }
    inputs.push(toSpec(m, 'input', find(declared?.inputs, m.name)));
  }
  const outputs: TensorSpec[] = [];
  const unsupported: UnsupportedOutput[] = [];
  for (const m of outputsMeta) {
    const d = find(declared?.outputs, m.name);
    if (!m.isTensor) {
      unsupported.push({ name: m.name, kind: d?.kind ?? 'unknown', type: d?.type ?? 'unknown' });
      continue;
    }
    const spec = toSpec(m, 'output', d);
    const labels = zipMaps.find((z) => z.name === m.name)?.labels;
    outputs.push(labels === undefined ? spec : { ...spec, labels });
  }
  if (outputs.length === 0) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      `the model has no tensor outputs that onnxruntime-js can return (${unsupported.map((u) => `'${u.name}' is ${describeUnsupported(u)}`).join(', ')})`,
    );
  }
  return unsupported.length === 0
    ? { inputs, outputs }
    : { inputs, outputs, unsupportedOutputs: unsupported };
}

function find(values: readonly DeclaredValue[] | undefined, name: string): DeclaredValue | undefined {
  return values?.find((v) => v.name === name);
}

function toSpec(m: OrtValueMetadata, kind: string, declared: DeclaredValue | undefined): TensorSpec {
  if (!isDType(m.type)) {
    throw new ModelLoadError(
      'MODEL_UNSUPPORTED',
      `${kind} '${m.name}' has element type ${describe(m.type)}, which Modelship does not support`,
    );
  }
  const raw = m.shape ?? [];
  // onnxruntime-js reports an undeclared shape as [], the same as a scalar's, so without the
  // graph's declaration [] is read as "rank unknown" (onnxruntime still checks the rank when it
  // runs); an unnamed dynamic dimension comes as '' (or -1 in older builds) and is unknown.
  // onnxruntime-web reports a dimension with neither size nor name as 2^32 - 1 (-1 as a uint32).
  const reported: Dim[] = raw.map((d) =>
    typeof d === 'number' ? (d >= 0 && d < UNKNOWN_DIM_WEB ? d : null) : d === '' ? null : d,
  );
  const shape = declared?.dtype === null ? null : declared?.shape;
  if (shape === undefined || shape === null || shape.length !== reported.length)
    return { name: m.name, dtype: m.type, shape: reported.length === 0 ? null : reported };
  // Same rank: the graph's names and unknowns, but a size onnxruntime fixed (a free dimension
  // override, say) is what it will enforce.
  return {
    name: m.name,
    dtype: m.type,
    shape: shape.map((d, i) => (typeof reported[i] === 'number' ? reported[i]! : d)),
  };
}

function ortMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.length > 2000 ? `${msg.slice(0, 2000)}…` : msg;
}
