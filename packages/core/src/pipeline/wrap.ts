/**
 * A pipeline around a model: records in, answers out, still a `Model` so the Deployer,
 * Evaluator and Monitor take it like any other.
 */
import { InputError, invalidArgument, ModelshipError } from '../errors';
import type { Model, PredictOptions } from '../model/model';
import type { ModelSignature } from '../tensor/spec';
import type { Tensor } from '../tensor/tensor';
import { describeRecords, type RecordSignature } from './describe';
import { type ImageDecoder, type ImageOptions, isPixels } from './images';
import { answers, type OutputLabel, type OutputSpec, type ResolvedOutput, resolveOutputs } from './outputs';
import type { PipelineJson, PipelineRecord } from './spec';

/** One answer per record, keyed by the pipeline's answer fields. */
export type Answer = Record<string, unknown>;

/** Options of {@link Pipeline.wrap}. */
export interface WrapOptions {
  /**
   * Decodes an image field's value that is not decoded pixels yet (PNG bytes, a Blob…) before
   * the pipeline runs: `@modelship/browser`'s `decodeImage`, `@modelship/node`'s `decodePng`, or
   * your own (sharp, say).
   */
  decodeImage?: ImageDecoder;
  /**
   * Whether records may carry fields the pipeline does not read (default: the pipeline's own
   * `allowExtraFields`, false unless set): when false, such a record is an `INPUT_UNKNOWN` error.
   */
  allowExtraFields?: boolean;
}

/**
 * What a {@link PipelineModel} reads of its pipeline: the members of `Pipeline` it uses, named
 * here so this module needs nothing from pipeline.ts (which builds PipelineModels).
 */
export interface WrappedPipeline {
  readonly images: Readonly<Record<string, ImageOptions>>;
  readonly allowExtraFields: boolean;
  readonly width: number;
  readonly output: Readonly<Record<string, string | OutputSpec>> | undefined;
  readonly labels: readonly OutputLabel[] | undefined;
  inputNames(): string[];
  featureNames(): string[];
  checkFields(records: readonly PipelineRecord[]): void;
  transform(records: readonly PipelineRecord[]): Record<string, Tensor<'float32'>>;
  toJSON(): PipelineJson;
}

/** The dims after batch of the image tensor feeding `input`, if an image field feeds it. */
function imageDims(pipeline: WrappedPipeline, input: string): number[] | undefined {
  for (const [field, spec] of Object.entries(pipeline.images)) {
    if ((spec.input ?? field) !== input) continue;
    const c = spec.channels === 'gray' ? 1 : 3;
    if (spec.layout === 'flat') return [c * spec.height * spec.width];
    return spec.layout === 'NHWC' ? [spec.height, spec.width, c] : [c, spec.height, spec.width];
  }
  return undefined;
}

function isModel(m: unknown): m is Model {
  const x = m as Model;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.predict === 'function' &&
    typeof x.dispose === 'function' &&
    typeof x.signature === 'object' &&
    x.signature !== null &&
    Array.isArray(x.signature.inputs) &&
    Array.isArray(x.signature.outputs)
  );
}

/** The model {@link Pipeline.wrap} returns; `pipeline` is the `Pipeline` it was made from. */
export class PipelineModel<P extends WrappedPipeline = WrappedPipeline>
  implements Model<readonly PipelineRecord[], Answer[]>
{
  readonly name: string;
  readonly version: string;
  /** The wrapped model's tensor signature (what the pipeline feeds it and reads from it). */
  readonly signature: ModelSignature;
  private readonly resolved: readonly ResolvedOutput[];
  private readonly modelOutputs: readonly string[];

  private readonly decodeImage: ImageDecoder | undefined;
  private readonly allowExtraFields: boolean;

  constructor(
    readonly pipeline: P,
    readonly model: Model,
    options: WrapOptions = {},
  ) {
    if (!isModel(model)) throw invalidArgument('Pipeline.wrap', 'model must be a Model', model);
    if (options.decodeImage !== undefined && typeof options.decodeImage !== 'function')
      throw invalidArgument('Pipeline.wrap', 'decodeImage must be a function', options.decodeImage);
    this.decodeImage = options.decodeImage;
    if (options.allowExtraFields !== undefined && typeof options.allowExtraFields !== 'boolean')
      throw invalidArgument('Pipeline.wrap', 'allowExtraFields must be a boolean', options.allowExtraFields);
    this.allowExtraFields = options.allowExtraFields ?? pipeline.allowExtraFields;
    const { inputs, outputs } = model.signature;
    const made = pipeline.inputNames();
    for (const name of made)
      if (!inputs.some((s) => s.name === name))
        throw new ModelshipError(
          'INPUT_UNKNOWN',
          `Pipeline.wrap: the pipeline feeds input '${name}', but model '${model.name}' takes ${inputs.map((s) => `'${s.name}'`).join(', ')}; set the pipeline's input`,
        );
    const others = inputs.filter((s) => !made.includes(s.name));
    if (others.length > 0)
      throw new ModelshipError(
        'INPUT_MISSING',
        `Pipeline.wrap: model '${model.name}' also needs ${others.map((s) => `'${s.name}'`).join(', ')}, which the pipeline does not make`,
      );
    for (const spec of inputs) {
      const image = imageDims(pipeline, spec.name);
      const want = image ?? [pipeline.width];
      const have = spec.shape?.slice(1);
      const bad =
        have !== undefined &&
        (have.length !== want.length ||
          have.some((d, i) => typeof d === 'number' && d >= 0 && d !== want[i]));
      if (bad && image === undefined)
        throw new ModelshipError(
          'INPUT_SHAPE_MISMATCH',
          `Pipeline.wrap: the pipeline makes ${pipeline.width} columns (${pipeline.featureNames().slice(0, 8).join(', ')}${pipeline.width > 8 ? ', …' : ''}); model input '${spec.name}' takes ${String(have!.at(-1))}`,
        );
      if (bad)
        throw new ModelshipError(
          'INPUT_SHAPE_MISMATCH',
          `Pipeline.wrap: the pipeline makes images of [batch, ${want.join(', ')}]; model input '${spec.name}' takes [batch, ${have!.join(', ')}]`,
        );
      if (spec.dtype !== 'float32')
        throw new ModelshipError(
          'INPUT_DTYPE_MISMATCH',
          `Pipeline.wrap: the pipeline makes float32; model input '${spec.name}' is ${spec.dtype}`,
        );
    }
    const specs = pipeline.output ?? Object.fromEntries(outputs.map((o) => [o.name, o.name]));
    this.resolved = resolveOutputs(specs, outputs, pipeline.labels, 'Pipeline.wrap');
    this.modelOutputs = [...new Set(this.resolved.map((r) => r.from))];
    this.name = model.name;
    this.version = model.version;
    this.signature = model.signature;
  }

  /** The fields a record takes and the fields its answer has, for metadata that describes the records route. */
  recordSignature(): RecordSignature {
    return describeRecords(this.pipeline.toJSON(), this.resolved, this.signature.outputs);
  }

  /** The answer fields each record gets. */
  get answerFields(): string[] {
    return this.resolved.map((r) => r.name);
  }

  /**
   * Transforms the records, runs the model on them as one batch and returns one answer per
   * record. `options.outputs` names answer fields (not model outputs) to keep. A bad record is
   * an `InputError` naming the record and field; nothing runs then.
   */
  async predict(records: readonly PipelineRecord[], options: PredictOptions = {}): Promise<Answer[]> {
    let resolved = this.resolved;
    let needed = this.modelOutputs;
    if (options.outputs !== undefined) {
      const unknown = options.outputs.filter((n) => !this.resolved.some((r) => r.name === n));
      if (unknown.length > 0)
        throw new ModelshipError(
          'OUTPUT_UNKNOWN',
          `model '${this.name}' answers ${this.answerFields.map((n) => `'${n}'`).join(', ')}; not ${unknown.map((n) => `'${n}'`).join(', ')}`,
        );
      resolved = this.resolved.filter((r) => options.outputs!.includes(r.name));
      needed = [...new Set(resolved.map((r) => r.from))];
    }
    if (!this.allowExtraFields && Array.isArray(records)) this.pipeline.checkFields(records);
    const inputs = this.pipeline.transform(await this.decoded(records));
    if (records.length === 0) return [];
    const out = await this.model.predict(inputs, { ...options, outputs: needed });
    return answers(resolved, out, records.length);
  }

  /** Records with their image fields decoded by the hook, when any needs it (copies; the caller's stay as they are). */
  private async decoded(records: readonly PipelineRecord[]): Promise<readonly PipelineRecord[]> {
    const fields = Object.keys(this.pipeline.images);
    if (fields.length === 0 || this.decodeImage === undefined || !Array.isArray(records)) return records;
    const decode = this.decodeImage;
    const pending = (r: PipelineRecord, f: string) => Object.hasOwn(r, f) && !isPixels(r[f]);
    return Promise.all(
      records.map(async (r, i) => {
        if (typeof r !== 'object' || r === null || !fields.some((f) => pending(r, f))) return r;
        const copy: Record<string, unknown> = { ...r };
        for (const f of fields) {
          if (!pending(r, f)) continue;
          try {
            // What the record holds goes to the decoder as it is: the decoder checks it (see ImageDecoder).
            copy[f] = await decode(r[f] as never);
          } catch (e) {
            throw new InputError(
              'INPUT_INVALID',
              `record ${i}, field '${f}': the image could not be decoded: ${(e as Error).message}`,
              { cause: e },
            );
          }
        }
        return copy;
      }),
    );
  }

  /** Disposes the wrapped model. */
  dispose(): Promise<void> {
    return this.model.dispose();
  }
}
