/** Reading a saved baseline model of either kind. */
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './decision-tree';
import { LinearRegression } from './linear-regression';
import { LogisticRegression } from './logistic-regression';
import { RandomForestClassifier } from './random-forest';

/**
 * A baseline model from its JSON (`LogisticRegression` or `LinearRegression`, by `kind`), so a
 * repository can serve a `model.json` where no ONNX export exists. `options` overrides the saved
 * name and version.
 */
export function baselineFromJSON(
  json: unknown,
  options: Pick<BaseModelOptions, 'name' | 'version'> = {},
):
  | LogisticRegression
  | LinearRegression
  | DecisionTreeClassifier
  | DecisionTreeRegressor
  | RandomForestClassifier {
  const kind = (json as { kind?: unknown } | null)?.kind;
  if (kind === 'logisticRegression') return LogisticRegression.fromJSON(json, options);
  if (kind === 'linearRegression') return LinearRegression.fromJSON(json, options);
  if (kind === 'decisionTreeClassifier') return DecisionTreeClassifier.fromJSON(json, options);
  if (kind === 'decisionTreeRegressor') return DecisionTreeRegressor.fromJSON(json, options);
  if (kind === 'randomForestClassifier') return RandomForestClassifier.fromJSON(json, options);
  throw invalidArgument(
    'baselineFromJSON',
    "not a modelship baseline: kind must be 'logisticRegression', 'linearRegression', 'decisionTreeClassifier', 'decisionTreeRegressor' or 'randomForestClassifier'",
    kind,
  );
}
