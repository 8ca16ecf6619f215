import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  type ModelInputs,
  ModelLoadError,
  type ModelSignature,
  type ModelshipError,
  type WarmupOptions,
} from '@modelship/core';
import { decodeInferRequest } from '@modelship/core/serve';
import type { ModelConfig } from './config';

/** A version's warmup requests as read from disk: parsed JSON, not yet decoded. */
export interface WarmupSamples {
  /** Paths relative to the repository root, for messages. */
  names: string[];
  bodies: unknown[];
}

/**
 * Reads a version's warmup requests, TF Serving's `assets.extra/tf_serving_warmup_requests` and
 * Triton's `model_warmup` in the Open Inference Protocol's words: every `*.json` file of
 * `<model>/<version>/warmup/` (or of the folder or file config.json's `warmup.samples` names,
 * inside the model's folder), in file-name order, each one REST infer request body
 * `{"inputs": [{"name", "shape", "datatype", "data"}]}`.
 *
 * Returns `undefined` when a version has no warmup folder (the Deployer then warms up on zeros).
 * A file that cannot be read or is not JSON, a location outside the model's folder, or a
 * configured location that does not exist is a `MODEL_INVALID` error naming the file.
 */
export async function readWarmupSamples(
  root: string,
  modelDir: string,
  version: string,
  config: ModelConfig,
): Promise<WarmupSamples | undefined> {
  const configured = config.warmup?.samples;
  const where = join(modelDir, configured ?? join(version, 'warmup'));
  const name = relative(root, where) || '.';
  let real: string;
  try {
    real = await realpath(where);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && configured === undefined) return undefined;
    throw invalid(`${name} (config.json warmup.samples) cannot be read: ${(e as Error).message}`, e);
  }
  const realModel = await realpath(modelDir);
  if (!real.startsWith(realModel + sep))
    throw invalid(`${name}: warmup samples must lie inside the model folder ${relative(root, modelDir)}`);
  let files: string[];
  if ((await stat(real)).isDirectory()) {
    files = (await readdir(real, { withFileTypes: true }))
      .filter((e) => e.name.endsWith('.json') && !e.name.startsWith('.'))
      .map((e) => e.name)
      // Code-point order, the same on every machine and locale.
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((f) => join(where, f));
    if (files.length === 0) {
      if (configured === undefined) return undefined;
      throw invalid(`${name} (config.json warmup.samples) holds no .json warmup requests`);
    }
  } else files = [where];
  const samples: WarmupSamples = { names: [], bodies: [] };
  for (const file of files) {
    const label = relative(root, file);
    const real = await realpath(file).catch(() => file);
    if (!real.startsWith(realModel + sep))
      throw invalid(`${label}: warmup samples must lie inside the model folder ${relative(root, modelDir)}`);
    let text: string;
    try {
      text = await readFile(real, 'utf8');
    } catch (e) {
      throw invalid(`${label} cannot be read: ${(e as Error).message}`, e);
    }
    try {
      samples.bodies.push(JSON.parse(text));
    } catch (e) {
      throw invalid(`${label} is not JSON: ${(e as Error).message}`, e);
    }
    samples.names.push(label);
  }
  return samples;
}

/**
 * The Deployer's warmup option for samples read from disk: each decoded against the loaded
 * version's signature as `POST /v2/models/{name}/infer` decodes a request, so a sample that
 * does not fit the version, or fails in it, refuses the version. `configured` is what
 * config.json's `deploy.warmup` says (`false` turns every warmup off; `runs` is kept).
 */
export function warmupFrom(
  samples: WarmupSamples,
  model: string,
  configured: unknown,
): WarmupOptions | false {
  if (configured === false) return false;
  const base = typeof configured === 'object' && configured !== null ? (configured as WarmupOptions) : {};
  return {
    ...base,
    names: samples.names,
    inputs: (signature: ModelSignature): ModelInputs[] =>
      samples.bodies.map((body, i) => {
        try {
          return decodeInferRequest(body, signature, model);
        } catch (e) {
          throw invalid(`${samples.names[i]}: ${(e as Error).message}`, e);
        }
      }),
  };
}

function invalid(message: string, cause?: unknown): ModelshipError {
  return new ModelLoadError('MODEL_INVALID', message, cause === undefined ? {} : { cause });
}
