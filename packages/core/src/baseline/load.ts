/** Reading a saved baseline model of either kind. */
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { LinearRegression } from './linear-regression';
import { LogisticRegression } from './logistic-regression';

/**
 * A baseline model from its JSON (`LogisticRegression` or `LinearRegression`, by `kind`), so a
 * repository can serve a `model.json` where no ONNX export exists. `options` overrides the saved
 * name and version.
 */
export function baselineFromJSON(
  json: unknown,
  options: Pick<BaseModelOptions, 'name' | 'version'> = {},
): LogisticRegression | LinearRegression {
  const kind = (json as { kind?: unknown } | null)?.kind;
  if (kind === 'logisticRegression') return LogisticRegression.fromJSON(json, options);
  if (kind === 'linearRegression') return LinearRegression.fromJSON(json, options);
  throw invalidArgument(
    'baselineFromJSON',
    "not a modelship baseline: kind must be 'logisticRegression' or 'linearRegression'",
    kind,
  );
}
