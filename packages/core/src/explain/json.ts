import { invalidArgument } from '../errors';
import type { Explanation } from './types';

/** An {@link Explanation} as plain data (all but `topFeatures`): what a server answers and `--json` prints. */
export type ExplanationJSON = Omit<Explanation, 'topFeatures'>;

/**
 * The plain-object form of an explanation, ready for `JSON.stringify` (no methods, fresh
 * arrays and objects, so changing it leaves the explanation as it was).
 *
 * @example
 * const ex = await explain(model, rows, { background });
 * JSON.stringify(explanationToJSON(ex)); // {"method":"kernel","features":[…],"baseValue":0.23,…}
 */
export function explanationToJSON(ex: Explanation): ExplanationJSON {
  const where = 'explanationToJSON';
  if (typeof ex !== 'object' || ex === null)
    throw invalidArgument(where, 'the argument must be an explanation (what explain returns)', ex);
  const { method, features, baseValue, predictions, values, evaluations, notes } = ex;
  if (
    typeof method !== 'string' ||
    !Array.isArray(features) ||
    typeof baseValue !== 'number' ||
    !Array.isArray(predictions) ||
    !Array.isArray(values) ||
    values.length !== predictions.length ||
    typeof evaluations !== 'number' ||
    !Array.isArray(notes)
  )
    throw invalidArgument(
      where,
      'the argument must be an explanation with method, features, baseValue, predictions, values (one per prediction), evaluations and notes',
      ex,
    );
  return {
    method,
    features: [...features],
    baseValue,
    predictions: [...predictions],
    // fromEntries, so a feature named like an Object.prototype key stays an own property
    values: values.map((row) => Object.fromEntries(features.map((f) => [f, row[f]!]))),
    evaluations,
    notes: [...notes],
  };
}
