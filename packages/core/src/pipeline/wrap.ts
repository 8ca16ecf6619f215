/**
 * A pipeline around a model: records in, answers out, still a `Model` so the Deployer,
 * Evaluator and Monitor take it like any other.
 */
import { invalidArgument, ModelshipError } from '../errors';
import type { Model, PredictOptions } from '../model/model';
import type { ModelSignature } from '../tensor/spec';
import { answers, type ResolvedOutput, resolveOutputs } from './outputs';
import type { Pipeline, PipelineRecord } from './pipeline';

/** One answer per record, keyed by the pipeline's answer fields. */
export type Answer = Record<string, unknown>;

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

/** The model {@link Pipeline.wrap} returns. */
export class PipelineModel implements Model<readonly PipelineRecord[], Answer[]> {
  readonly name: string;
  readonly version: string;
  /** The wrapped model's tensor signature (what the pipeline feeds it and reads from it). */
  readonly signature: ModelSignature;
  private readonly resolved: readonly ResolvedOutput[];
  private readonly modelOutputs: readonly string[];

  constructor(
    readonly pipeline: Pipeline,
    readonly model: Model,
  ) {
    if (!isModel(model)) throw invalidArgument('Pipeline.wrap', 'model must be a Model', model);
    const { inputs, outputs } = model.signature;
    const input = inputs.find((s) => s.name === pipeline.input);
    if (input === undefined)
      throw new ModelshipError(
        'INPUT_UNKNOWN',
        `Pipeline.wrap: the pipeline feeds input '${pipeline.input}', but model '${model.name}' takes ${inputs.map((s) => `'${s.name}'`).join(', ')}; set the pipeline's input`,
      );
    const others = inputs.filter((s) => s !== input);
    if (others.length > 0)
      throw new ModelshipError(
        'INPUT_MISSING',
        `Pipeline.wrap: model '${model.name}' also needs ${others.map((s) => `'${s.name}'`).join(', ')}, which the pipeline does not make`,
      );
    const k = input.shape?.at(-1);
    if (typeof k === 'number' && k >= 0 && k !== pipeline.width)
      throw new ModelshipError(
        'INPUT_SHAPE_MISMATCH',
        `Pipeline.wrap: the pipeline makes ${pipeline.width} columns (${pipeline.featureNames().slice(0, 8).join(', ')}${pipeline.width > 8 ? ', …' : ''}); model input '${input.name}' takes ${k}`,
      );
    if (input.dtype !== 'float32')
      throw new ModelshipError(
        'INPUT_DTYPE_MISMATCH',
        `Pipeline.wrap: the pipeline makes float32; model input '${input.name}' is ${input.dtype}`,
      );
    const specs = pipeline.output ?? Object.fromEntries(outputs.map((o) => [o.name, o.name]));
    this.resolved = resolveOutputs(specs, outputs, pipeline.labels, 'Pipeline.wrap');
    this.modelOutputs = [...new Set(this.resolved.map((r) => r.from))];
    this.name = model.name;
    this.version = model.version;
    this.signature = model.signature;
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
    const inputs = this.pipeline.transform(records);
    if (records.length === 0) return [];
    const out = await this.model.predict(inputs, { ...options, outputs: needed });
    return answers(resolved, out, records.length);
  }

  /** Disposes the wrapped model. */
  dispose(): Promise<void> {
    return this.model.dispose();
  }
}
