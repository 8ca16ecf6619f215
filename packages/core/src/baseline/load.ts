/** Reading a saved baseline model of any kind. */
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './decision-tree';
import { LinearRegression } from './linear-regression';
import { LinearSVC } from './linear-svc';
import { LogisticRegression } from './logistic-regression';
import { RandomForestClassifier } from './random-forest';
import { SGDClassifier } from './sgd-classifier';
import { SGDRegressor } from './sgd-regressor';

// A function, not a module-level table: reading the classes' statics at load would keep every
// model in a bundle that imports only one of them.
const readers = () => ({
  logisticRegression: LogisticRegression.fromJSON,
  linearRegression: LinearRegression.fromJSON,
  sgdClassifier: SGDClassifier.fromJSON,
  sgdRegressor: SGDRegressor.fromJSON,
  linearSVC: LinearSVC.fromJSON,
  decisionTreeClassifier: DecisionTreeClassifier.fromJSON,
  decisionTreeRegressor: DecisionTreeRegressor.fromJSON,
  randomForestClassifier: RandomForestClassifier.fromJSON,
});

/** Any baseline model `baselineFromJSON` reads. */
export type Baseline =
  | LogisticRegression
  | LinearRegression
  | SGDClassifier
  | SGDRegressor
  | LinearSVC
  | DecisionTreeClassifier
  | DecisionTreeRegressor
  | RandomForestClassifier;

/**
 * A baseline model from its JSON (by `kind`: `logisticRegression`, `linearRegression`,
 * `sgdClassifier`, `sgdRegressor`, `linearSVC`, `decisionTreeClassifier`,
 * `decisionTreeRegressor`, `randomForestClassifier`), so a repository can serve a `model.json`
 * where no ONNX export exists. `options` overrides the saved name and version.
 */
export function baselineFromJSON(
  json: unknown,
  options: Pick<BaseModelOptions, 'name' | 'version'> = {},
): Baseline {
  const kind = (json as { kind?: unknown } | null)?.kind;
  const table = readers();
  const read =
    typeof kind === 'string' && Object.hasOwn(table, kind) ? table[kind as keyof typeof table] : undefined;
  if (read === undefined)
    throw invalidArgument(
      'baselineFromJSON',
      `not a modelship baseline: kind must be one of ${Object.keys(table)
        .map((k) => `'${k}'`)
        .join(', ')}`,
      kind,
    );
  return read(json, options);
}
