import { invalidArgument } from '../errors';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { shuffleInPlace } from './permutation';
import { rowsOf } from './rows';
import type { ExplainRows } from './types';

/** Background rows above which `explain` adds a note: each costs one model row per coalition (shap warns likewise). */
export const LARGE_BACKGROUND = 100;

/**
 * `k` rows drawn without replacement, seeded (shap's `sample`): a background summary. All the
 * rows, in order, when there are no more than `k`.
 *
 * @example
 * const ex = await explain(model, rows, { background: sampleRows(train, 100, { seed: 1 }) });
 */
export function sampleRows(rows: ExplainRows, k: number, options: { seed?: number } = {}): Row[] {
  const where = 'sampleRows';
  if (!(Number.isSafeInteger(k) && k > 0)) throw invalidArgument(where, 'k must be a positive integer', k);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidArgument(where, 'seed must be an integer', seed);
  const all = rowsOf(rows, 'the rows', where);
  if (all.length <= k) return [...all];
  const order = Array.from({ length: all.length }, (_, i) => i);
  shuffleInPlace(order, seededRandom(seed));
  return order.slice(0, k).map((i) => all[i]!);
}

/** Why a background is costly, or nothing when it is not. */
export function backgroundNote(rows: number): string[] {
  if (rows <= LARGE_BACKGROUND) return [];
  return [
    `the background has ${rows} rows: every coalition costs ${rows} model rows; ${LARGE_BACKGROUND} rows usually suffice (sampleRows(background, ${LARGE_BACKGROUND}))`,
  ];
}
