import type { Explanation } from './types';

/** An `Explanation` as plain data: what `JSON.stringify` writes, without the `topFeatures` method. */
export type ExplanationJSON = Omit<Explanation, 'topFeatures'>;

/**
 * An explanation as a plain object, the form the server's `:explain` answers and
 * `modelship explain --json` print.
 *
 * @example
 * JSON.stringify(explanationToJSON(await explain(model, rows, { background })));
 */
export function explanationToJSON(ex: Explanation): ExplanationJSON {
  return {
    method: ex.method,
    features: ex.features,
    baseValue: ex.baseValue,
    predictions: ex.predictions,
    values: ex.values,
    evaluations: ex.evaluations,
    notes: ex.notes,
  };
}
