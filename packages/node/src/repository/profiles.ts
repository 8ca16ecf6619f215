/**
 * `profile.json` beside a model: the reference profile of its training data, shipped with it
 * (docs/monitoring.md), which `modelship serve` watches drift against.
 */
import {
  formatShape,
  type ModelSignature,
  ModelshipError,
  type Monitor,
  type Pipeline,
  Profile,
  valuesPerRow,
  type WatchDriftOptions,
} from '@modelship/core';
import { readTextInside } from './contain';
import type { TextCache } from './text-cache';

/**
 * `<model>/profile.json`, if there is one; a file that is not a profile is MODEL_INVALID, one
 * resolving outside `root` (the repository) MODEL_REJECTED. With a `cache`, the same text gives
 * the same Profile object without parsing it again.
 */
export async function readProfile(
  file: string,
  root: string,
  cache?: TextCache,
): Promise<Profile | undefined> {
  const text = await readTextInside(root, file);
  if (text === undefined) return undefined;
  const parse = () => {
    try {
      return Profile.fromJSON(JSON.parse(text));
    } catch (e) {
      throw new ModelshipError('MODEL_INVALID', `profile.json is not a profile: ${(e as Error).message}`, {
        cause: e,
      });
    }
  };
  return cache === undefined ? parse() : cache.get(file, text, [], parse);
}

/**
 * Watches a served model's drift against its profile: of the records clients send when a
 * pipeline takes them (every profiled feature must be a field of the pipeline), else of the
 * values of each row of its input tensor, by position (the profile needs one feature per value:
 * per column of a `[batch, columns]` input, per pixel of a `[batch, 1, 8, 8]` image).
 * Throws MODEL_INVALID, watching nothing, when the profile does not fit the model.
 */
export function watchProfile(
  monitor: Monitor,
  name: string,
  profile: Profile,
  signature: ModelSignature,
  pipeline: Pipeline | undefined,
  options: Omit<WatchDriftOptions, 'records' | 'output' | 'features'> = {},
): void {
  const features = profile.features.map((f) => f.name);
  if (pipeline !== undefined) {
    const fields = new Set(pipeline.fields);
    const unknown = features.filter((f) => !fields.has(f));
    if (unknown.length > 0)
      throw new ModelshipError(
        'MODEL_INVALID',
        `profile.json profiles ${unknown.map((f) => `'${f}'`).join(', ')}, which pipeline.json does not take (fields: ${pipeline.fields.join(', ')})`,
      );
    monitor.watchDrift(name, profile, { ...options, records: true });
    return;
  }
  const input = signature.inputs[0];
  // One feature per value of a batch row: [batch, columns], or [batch, 1, 8, 8] from 64 pixels.
  const columns = input === undefined ? undefined : valuesPerRow(input);
  if (signature.inputs.length !== 1 || columns === undefined)
    throw new ModelshipError(
      'MODEL_INVALID',
      'profile.json needs a pipeline.json, or a model with one input whose dimensions after the batch are fixed ([batch, columns], [batch, 1, 8, 8])',
    );
  if (columns !== features.length)
    throw new ModelshipError(
      'MODEL_INVALID',
      `profile.json profiles ${features.length} features but input '${input!.name}' ${formatShape(input!.shape)} has ${columns} values per row`,
    );
  monitor.watchDrift(name, profile, { ...options, input: input!.name });
}
