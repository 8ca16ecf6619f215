/**
 * A model's explanation background, `<model>/explain/background.jsonl` (or the file config.json's
 * `explain.background` names): one record or one row of numbers per line, read when
 * `POST /v1/models/{name}:explain` first needs it and again when the file changes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LARGE_BACKGROUND, ModelshipError, sampleRows } from '@modelship/core';
import type { ExplainSettings } from '@modelship/core/serve';
import type { ExplainConfig } from './config';
import { resolveInside } from './contain';

/** Where the background is looked for when config.json names none. */
export const BACKGROUND_FILE = 'explain/background.jsonl';

/** The largest background file read (16 MiB): a background is about 100 rows, not a data set. */
export const MAX_BACKGROUND_BYTES = 16 * 1024 * 1024;

function invalid(message: string, cause?: unknown): ModelshipError {
  return new ModelshipError('MODEL_INVALID', message, cause === undefined ? {} : { cause });
}

type BackgroundRow = Record<string, unknown> | number[];

/** Parses a JSON Lines background: every line an object, or every line an array of finite numbers. */
export function parseBackground(text: string, shown: string): BackgroundRow[] {
  const rows: BackgroundRow[] = [];
  let kind: 'records' | 'rows' | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const at = `${shown} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw invalid(`${at} is not JSON: ${(e as Error).message}`, e);
    }
    const isRow = Array.isArray(value);
    if (!isRow && (typeof value !== 'object' || value === null))
      throw invalid(`${at} must be a record (a JSON object) or a row of numbers (a JSON array)`);
    if (isRow) {
      const bad = (value as unknown[]).findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0 || (value as unknown[]).length === 0)
        throw invalid(
          `${at}: a row must hold finite numbers only${bad >= 0 ? ` (value ${bad} is not one)` : ''}`,
        );
    }
    const k = isRow ? 'rows' : 'records';
    if (kind !== undefined && k !== kind)
      throw invalid(
        `${at} is a ${isRow ? 'row' : 'record'}, the lines before are ${kind}; use one kind throughout`,
      );
    kind = k;
    rows.push(value as BackgroundRow);
  }
  if (rows.length === 0) throw invalid(`${shown} holds no rows (one record or row of numbers per line)`);
  return rows;
}

/** Settings read from disk, with what identifies the file and config they were read from. */
export interface ReadSettings {
  settings: ExplainSettings;
  key: string;
}

/**
 * Reads a model's explain settings: the background file (refused when it resolves outside the
 * model's folder, is larger than {@link MAX_BACKGROUND_BYTES} or is not JSON Lines) with
 * config.json's `explain` defaults; `cached` is returned as it is while neither changed. Undefined when there is no background file and config.json
 * names none; a file config.json names that does not exist is MODEL_INVALID.
 */
export async function readExplainSettings(
  root: string,
  modelDir: string,
  config: ExplainConfig | undefined,
  cached?: ReadSettings,
): Promise<ReadSettings | undefined> {
  const file = join(modelDir, config?.background ?? BACKGROUND_FILE);
  const shown = relative(root, file);
  let real: string;
  try {
    real = await resolveInside(modelDir, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (ModelshipError.isInstance(e))
        throw invalid(
          `${shown}: an explanation background must lie inside the model folder ${relative(root, modelDir)}`,
        );
      throw e;
    }
    if (config?.background === undefined) return undefined;
    throw invalid(`${shown} (config.json explain.background) does not exist`);
  }
  const info = await stat(real);
  if (!info.isFile()) throw invalid(`${shown} is not a file`);
  if (info.size > MAX_BACKGROUND_BYTES)
    throw invalid(
      `${shown} is ${info.size} bytes; a background file is read up to ${MAX_BACKGROUND_BYTES} bytes (about ${LARGE_BACKGROUND} rows is the usual size)`,
    );
  const key = `${real}\u0000${info.size}\u0000${info.mtimeMs}\u0000${JSON.stringify(config ?? {})}`;
  if (cached?.key === key) return cached;
  const all = parseBackground(await readFile(real, 'utf8'), shown);
  const { background: _file, maxRows = LARGE_BACKGROUND, ...defaults } = config ?? {};
  // Sampled by index, so rows of numbers are drawn exactly as records are (shap's `sample`).
  const picked = sampleRows(
    all.map((_, i) => ({ i })),
    maxRows,
    { seed: defaults.seed ?? 0 },
  );
  const background = picked.map((p) => all[p.i as number]!);
  const notes =
    background.length < all.length
      ? [
          `the background is ${background.length} rows sampled from the ${all.length} of ${shown} (config.json explain.maxRows, default ${LARGE_BACKGROUND})`,
        ]
      : [];
  return { settings: { ...defaults, background, source: shown, notes }, key };
}
