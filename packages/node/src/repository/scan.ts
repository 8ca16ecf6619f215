import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type InputScreen, ModelshipError, Pipeline, type Profile, parseLabels } from '@modelship/core';
import { DEFAULT_CONFIG, isVersion, type ModelConfig, parseModelConfig } from './config';
import { readTextInside, resolveInside } from './contain';
import { readProfile } from './profiles';
import { readScreen } from './screens';
import type { TextCache } from './text-cache';

/** One version folder as found on disk. */
export interface VersionOnDisk {
  version: string;
  file: string;
  size: number;
  mtimeMs: number;
}

export interface ModelOnDisk {
  name: string;
  dir: string;
  config: ModelConfig;
  /** `<model>/pipeline.json`, with the config's labels file when it names one. */
  pipeline: Pipeline | undefined;
  /** `<model>/profile.json`: the training data's profile, for drift (a bad one is a problem, not a refusal). */
  profile?: Profile | undefined;
  /** `<model>/monitor/quality.json` and `outliers.json`: the input screen (a bad one is a problem, not a refusal). */
  screen?: InputScreen | undefined;
  versions: VersionOnDisk[];
}

/** Something in the repository that will not be served, and why. */
export interface RepositoryProblem {
  model?: string;
  version?: string;
  path: string;
  reason: string;
}

export interface ScanResult {
  models: ModelOnDisk[];
  problems: RepositoryProblem[];
}

/**
 * A model's pipeline.json, if it has one, labelled by its labels file; both must lie inside
 * `root` (the repository, or the directory served as one model).
 */
export async function readPipeline(
  file: string,
  labelsFile: string | undefined,
  root: string,
): Promise<Pipeline | undefined> {
  const text = await readTextInside(root, file);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelshipError('MODEL_INVALID', `pipeline.json is not JSON: ${(e as Error).message}`);
  }
  const pipeline = Pipeline.fromJSON(json);
  if (labelsFile === undefined || pipeline.labels !== undefined) return pipeline;
  const labels = await readTextInside(root, labelsFile);
  if (labels === undefined)
    throw new ModelshipError('MODEL_INVALID', `the labels file ${basename(labelsFile)} does not exist`);
  return pipeline.withLabels(parseLabels(labels));
}

/**
 * The model file of a version folder: `model.onnx`, `model.json` (a TypeScript baseline), or an
 * encrypted `model.onnx.jwe` / `model.onnx.enc` (decrypted in memory when it loads).
 */
export async function modelFileOf(vdir: string): Promise<string | { reason: string }> {
  const present = await Promise.all(
    MODEL_FILES.map((f) =>
      lstat(join(vdir, f)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const names = MODEL_FILES.filter((_, i) => present[i]);
  if (names.length === 0) return { reason: 'no model.onnx (or baseline model.json) in the version folder' };
  if (names.length > 1) return { reason: `the version folder holds ${names.join(' and ')}; keep one` };
  return join(vdir, names[0]!);
}

const MODEL_FILES = ['model.onnx', 'model.json', 'model.onnx.jwe', 'model.onnx.enc'] as const;

/** Model folder names: letters, digits, `.`, `_`, `-`; never `.` or `..`. */
export function isModelName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name);
}

/**
 * Reads `<root>/<model>/<version>/model.onnx` and `<root>/<model>/config.json`. Nothing here
 * loads a model; anything that cannot be served becomes a {@link RepositoryProblem}. A symbolic
 * link is followed only when it stays inside the repository. A `cache` kept between scans
 * holds the profiles and input screens built from files whose text has not changed.
 */
export async function scanRepository(root: string, options: { cache?: TextCache } = {}): Promise<ScanResult> {
  const { cache } = options;
  const realRoot = await realpath(root);
  const models: ModelOnDisk[] = [];
  const problems: RepositoryProblem[] = [];
  // False only for a path resolving outside the root; a missing file is for the caller to report.
  const inside = (path: string): Promise<boolean> =>
    resolveInside(realRoot, path).then(
      () => true,
      (e: unknown) => !ModelshipError.isInstance(e),
    );
  for (const entry of await readdir(realRoot, { withFileTypes: true })) {
    const name = entry.name;
    const dir = join(realRoot, name);
    if (name.startsWith('.')) continue;
    if (!isModelName(name)) {
      problems.push({
        path: dir,
        reason: `'${name}' is not a valid model name (letters, digits, '.', '_', '-')`,
      });
      continue;
    }
    if (!(await inside(dir))) {
      problems.push({ model: name, path: dir, reason: 'symbolic link points outside the repository' });
      continue;
    }
    if (!(await stat(dir)).isDirectory()) continue;
    /** A file of this model that could not be read or was refused. */
    const refused = (path: string, e: unknown): void => {
      problems.push({ model: name, path, reason: ModelshipError.isInstance(e) ? e.message : String(e) });
    };
    let config = DEFAULT_CONFIG;
    const configFile = join(dir, 'config.json');
    try {
      const text = await readTextInside(realRoot, configFile);
      if (text !== undefined) config = parseModelConfig(text, `${name}/config.json`);
    } catch (e) {
      refused(configFile, e);
      continue;
    }
    if (config.labels !== undefined) {
      // A labels file the config names must be there, pipeline or not: a typo is a load error.
      const labelsFile = join(dir, config.labels);
      const found = await stat(labelsFile).catch(() => undefined);
      if (found === undefined || !found.isFile()) {
        problems.push({
          model: name,
          path: labelsFile,
          reason: `the labels file '${config.labels}' named in config.json ${found === undefined ? 'does not exist' : 'is not a file'}`,
        });
        continue;
      }
    }
    let pipeline: Pipeline | undefined;
    const pipelineFile = join(dir, 'pipeline.json');
    try {
      pipeline = await readPipeline(
        pipelineFile,
        config.labels === undefined ? undefined : join(dir, config.labels),
        realRoot,
      );
    } catch (e) {
      refused(pipelineFile, e);
      continue;
    }
    // Drift is watched against profile.json; a broken one is reported and the model still serves.
    const profileFile = join(dir, 'profile.json');
    const profile = await readProfile(profileFile, realRoot, cache).catch((e: unknown) => {
      refused(profileFile, e);
      return undefined;
    });
    const screen = await readScreen(dir, realRoot, profile, pipeline, cache).catch((e: unknown) => {
      refused(join(dir, 'monitor'), e);
      return undefined;
    });
    const versions: VersionOnDisk[] = [];
    for (const v of await readdir(dir, { withFileTypes: true })) {
      if (!v.isDirectory() && !v.isSymbolicLink()) continue;
      const vdir = join(dir, v.name);
      if (!isVersion(v.name)) continue; // like Triton: other folders are not versions
      const found = await modelFileOf(vdir);
      if (typeof found !== 'string') {
        problems.push({ model: name, version: v.name, path: vdir, reason: found.reason });
        continue;
      }
      const file = found;
      if (!(await inside(vdir)) || !(await inside(file).catch(() => true))) {
        problems.push({
          model: name,
          version: v.name,
          path: vdir,
          reason: 'symbolic link points outside the repository',
        });
        continue;
      }
      const info = await stat(file).catch(() => undefined);
      if (info === undefined || !info.isFile()) {
        problems.push({
          model: name,
          version: v.name,
          path: file,
          reason: `${basename(file)} is not a file`,
        });
        continue;
      }
      versions.push({ version: v.name, file, size: info.size, mtimeMs: info.mtimeMs });
    }
    models.push({ name, dir, config, pipeline, profile, screen, versions });
  }
  cache?.sweep();
  return { models, problems };
}
