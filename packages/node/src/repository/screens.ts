/**
 * `<model>/monitor/quality.json` and `<model>/monitor/outliers.json`: the input screen a served
 * model's requests pass before they queue (docs/monitoring.md, "Bad records and outliers").
 * quality.json holds the data-quality options and needs the model's profile.json; outliers.json
 * holds a fitted detector (`detector.toJSON()`), bare or as `{ "detector", "mode", "sampleRate" }`;
 * monitor/performance.json a fitted CBPE estimator (`PerformanceEstimator` or
 * `MulticlassPerformanceEstimator`, `toJSON()`), bare or as
 * `{ "estimator", "output" }`, for estimated accuracy before labels arrive.
 */
import {
  InputScreen,
  ModelshipError,
  type OutlierScreenOptions,
  type Pipeline,
  type Profile,
} from '@modelship/core';
import {
  DataQualityChecker,
  type DataQualityOptions,
  detectorFromJSON,
  MulticlassPerformanceEstimator,
  PerformanceEstimator,
} from '@modelship/core/anomaly';
import { readTextInside } from './contain';
import type { TextCache } from './text-cache';

function invalid(file: string, e: unknown): ModelshipError {
  return new ModelshipError('MODEL_INVALID', `${file}: ${(e as Error).message}`, { cause: e });
}

/**
 * The input screen described by a model folder's monitor files, or undefined without them.
 * Throws MODEL_INVALID (naming the file) when a file is not valid JSON, does not fit the
 * profile, or quality.json has no profile.json to hold records to. With a `cache`, the same
 * files, profile (object) and pipeline fields give the same screen without parsing anything.
 */
export async function readScreen(
  dir: string,
  root: string,
  profile: Profile | undefined,
  pipeline?: Pipeline,
  cache?: TextCache,
): Promise<InputScreen | undefined> {
  const qualityText = await readTextInside(root, `${dir}/monitor/quality.json`);
  const outliersText = await readTextInside(root, `${dir}/monitor/outliers.json`);
  const performanceText = await readTextInside(root, `${dir}/monitor/performance.json`);
  if (qualityText === undefined && outliersText === undefined && performanceText === undefined)
    return undefined;
  const build = () => buildScreen(qualityText, outliersText, performanceText, profile, pipeline);
  if (cache === undefined) return build();
  // undefined is not a text: a missing file and an empty one differ
  const text = JSON.stringify([qualityText, outliersText, performanceText]);
  return cache.get(`${dir}/monitor`, text, [profile, pipeline?.fields.join('\u0000')], build);
}

function buildScreen(
  qualityText: string | undefined,
  outliersText: string | undefined,
  performanceText: string | undefined,
  profile: Profile | undefined,
  pipeline: Pipeline | undefined,
): InputScreen {
  let performance:
    | { estimator: PerformanceEstimator | MulticlassPerformanceEstimator; output?: string }
    | undefined;
  if (performanceText !== undefined) {
    try {
      const json = JSON.parse(performanceText) as Record<string, unknown> | null;
      const wrapped = typeof json === 'object' && json !== null && Object.hasOwn(json, 'estimator');
      if (wrapped) {
        for (const key of Object.keys(json!))
          if (!['estimator', 'output'].includes(key))
            throw new Error(`unknown field '${key}' (known: estimator, output)`);
        if (json!.output !== undefined && typeof json!.output !== 'string')
          throw new Error('output must be an output name');
      }
      performance = {
        estimator: estimatorFromJSON(wrapped ? json!.estimator : json),
        ...(wrapped && json!.output !== undefined ? { output: json!.output as string } : {}),
      };
    } catch (e) {
      throw invalid('monitor/performance.json', e);
    }
  }
  let quality: DataQualityChecker | undefined;
  if (qualityText !== undefined) {
    if (profile === undefined)
      throw new ModelshipError(
        'MODEL_INVALID',
        'monitor/quality.json checks records against profile.json, which this model does not have',
      );
    try {
      quality = new DataQualityChecker(profile, JSON.parse(qualityText) as DataQualityOptions);
    } catch (e) {
      throw invalid('monitor/quality.json', e);
    }
  }
  let outliers: OutlierScreenOptions | undefined;
  if (outliersText !== undefined) {
    try {
      const json = JSON.parse(outliersText) as Record<string, unknown> | null;
      const wrapped = typeof json === 'object' && json !== null && Object.hasOwn(json, 'detector');
      if (wrapped) {
        for (const key of Object.keys(json!))
          if (!['detector', 'mode', 'sampleRate'].includes(key))
            throw new Error(`unknown field '${key}' (known: detector, mode, sampleRate)`);
      }
      outliers = {
        detector: detectorFromJSON(wrapped ? json!.detector : json),
        ...(wrapped && json!.mode !== undefined ? { mode: json!.mode as OutlierScreenOptions['mode'] } : {}),
        ...(wrapped && json!.sampleRate !== undefined ? { sampleRate: json!.sampleRate as number } : {}),
      };
    } catch (e) {
      throw invalid('monitor/outliers.json', e);
    }
  }
  if (pipeline !== undefined && (quality !== undefined || outliers !== undefined)) {
    // With a pipeline the checks read the records clients send: their fields must be the pipeline's.
    const fields = new Set(pipeline.fields);
    const names = [...(profile?.features.map((f) => f.name) ?? []), ...(outliers?.detector.features ?? [])];
    const unknown = [...new Set(names.filter((f) => !fields.has(f)))];
    if (unknown.length > 0)
      throw new ModelshipError(
        'MODEL_INVALID',
        `monitor/: the screen checks ${unknown.map((f) => `'${f}'`).join(', ')}, which pipeline.json does not take (fields: ${pipeline.fields.join(', ')})`,
      );
  }
  try {
    return new InputScreen({
      ...(pipeline === undefined ? {} : { records: true }),
      ...(quality === undefined ? {} : { quality }),
      ...(outliers === undefined ? {} : { outliers }),
      ...(performance === undefined ? {} : { performance }),
      // Tensor rows are read in the profile's feature order; records by name.
      ...(profile === undefined ? {} : { features: profile.features.map((f) => f.name) }),
    });
  } catch (e) {
    throw invalid(outliersText === undefined ? 'monitor/quality.json' : 'monitor/outliers.json', e);
  }
}

/** A binary (`cbpe`) or multiclass (`cbpe-multiclass`) estimator's JSON read back. */
function estimatorFromJSON(json: unknown): PerformanceEstimator | MulticlassPerformanceEstimator {
  return (json as { kind?: unknown } | null)?.kind === 'cbpe-multiclass'
    ? MulticlassPerformanceEstimator.fromJSON(json)
    : PerformanceEstimator.fromJSON(json);
}
