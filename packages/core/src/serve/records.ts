/**
 * Records in, answers out, for models served with a pipeline: the pipeline turns the records
 * into the model's input tensor, the Deployer routes and batches as for any request, and the
 * model's outputs come back as one answer object per record (KServe V1 `instances` /
 * `predictions`).
 */
import type { ScreenReport } from '../anomaly/screen';
import type { Model } from '../model/model';
import type { Pipeline, PipelineRecord } from '../pipeline/pipeline';
import { fromBase64 } from '../signing/encoding';
import { describeValue as describe, HttpError } from './http-error';
import type { HandlerRequest, PipelineSource, ServeContext } from './types';

/** The pipeline the server uses for `model`, if it has one. */
export function pipelineFor(ctx: ServeContext, model: string): Pipeline | undefined {
  const source = ctx.options.pipelines;
  if (source === undefined) return undefined;
  if (typeof (source as PipelineSource).pipeline === 'function')
    return (source as PipelineSource).pipeline(model);
  return Object.hasOwn(source, model) ? (source as Readonly<Record<string, Pipeline>>)[model] : undefined;
}

/** Runs `records` through `pipeline` and the deployed model; answers per record. */
export async function predictRecords(
  ctx: ServeContext,
  pipeline: Pipeline,
  name: string,
  version: string | undefined,
  req: HandlerRequest,
  records: unknown,
  screened?: { screen?: ScreenReport },
): Promise<Record<string, unknown>[]> {
  if (!Array.isArray(records) || records.length === 0)
    throw new HttpError(400, `instances must be a non-empty list of records, received ${describe(records)}`);
  records.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r))
      throw new HttpError(
        400,
        `instance ${i} is ${describe(r)}; model '${name}' takes records (objects of fields: ${pipeline.fields.join(', ')})`,
      );
  });
  const width = pipeline.width;
  if (records.length * width > ctx.options.maxTensorElements)
    throw new HttpError(
      413,
      `${records.length} records make ${records.length * width} input elements; this server takes at most ${ctx.options.maxTensorElements} per tensor`,
    );
  const target = ctx.deployer.model(name, version === undefined ? {} : { version });
  // The Deployer stands in for the model, so routing, batching, deadlines and metrics stay its own.
  const viaDeployer: Model = {
    name,
    version: target.version,
    signature: target.signature,
    predict: (inputs, options) =>
      ctx.deployer.predict(name, inputs, {
        ...(version === undefined ? {} : { version }),
        ...(options?.outputs === undefined ? {} : { outputs: options.outputs }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        ...(ctx.options.timeoutMs === undefined ? {} : { timeoutMs: ctx.options.timeoutMs }),
        ...(req.headers['x-routing-key'] === undefined ? {} : { routingKey: req.headers['x-routing-key'] }),
        // the deployment's input screen checks the records the client sent, not the encoded tensor
        records: records as PipelineRecord[],
        onScreen: (report: ScreenReport) => {
          if (screened !== undefined) screened.screen = report;
        },
      }),
    dispose: async () => {},
  };
  const decode = ctx.options.decodeImage;
  const answers = await pipeline
    .wrap(viaDeployer, {
      // JSON carries image bytes as {"b64": "..."} (TF Serving's convention) or a base64 string.
      decodeImage: (v: unknown) => {
        let bytes: Uint8Array | undefined;
        // Bytes that came as they are (a TorchServe request's image body).
        if (v instanceof Uint8Array) bytes = v;
        else {
          const b64 = typeof v === 'string' ? v : (v as { b64?: unknown } | null)?.b64;
          if (typeof b64 !== 'string')
            throw new Error('send the image as {"b64": "<base64 bytes>"} or a base64 string');
          bytes = fromBase64(b64);
          if (bytes === undefined) throw new Error('the image is not base64');
        }
        if (decode === undefined)
          throw new Error(
            'this server has no image decoder: pass decodeImage to the handler to take image fields',
          );
        return decode(bytes);
      },
    })
    .predict(records as PipelineRecord[]);
  ctx.options.monitor?.observeRecords(name, records as PipelineRecord[]);
  return answers;
}
