/** scikit-learn's `SGDRegressor` in TypeScript: a linear regressor fitted by plain SGD (`sgd.ts`). */
import type { BaseModelOptions } from '../model/base-model';
import { type DesignMatrix, readDesign } from './design';
import {
  type LinearRegressorFields,
  LinearRegressorModel,
  readRegressorJson,
  readTargets,
} from './linear-regressor';
import { plainSgd, type SgdOptions, type SgdRegressorLoss, savedLoss, sgdSettings } from './sgd';

export interface SGDRegressorOptions extends SgdOptions, BaseModelOptions {
  /** `'squared_error'` (default), `'huber'`, `'epsilon_insensitive'` or `'squared_epsilon_insensitive'`. */
  loss?: SgdRegressorLoss;
  /** Name of the model input (default `'features'`). */
  input?: string;
}

/** The serialised form of an {@link SGDRegressor}. */
export interface SGDRegressorJson extends LinearRegressorFields {
  format: 'modelship-baseline';
  kind: 'sgdRegressor';
  version: 1;
  loss: SgdRegressorLoss;
}

const LOSSES: readonly SgdRegressorLoss[] = [
  'squared_error',
  'huber',
  'epsilon_insensitive',
  'squared_epsilon_insensitive',
];

/**
 * A linear regressor fitted by stochastic gradient descent, as scikit-learn's `SGDRegressor`
 * (default schedule `invscaling` with `eta0` 0.01, `powerT` 0.25). Output `prediction`.
 *
 * @example
 * const model = SGDRegressor.fit(X, y, { penalty: 'elasticnet', randomState: 1 });
 */
export class SGDRegressor extends LinearRegressorModel {
  /** Epochs the fit took. */
  readonly nIter: number;

  private constructor(
    readonly loss: SgdRegressorLoss,
    coef: readonly number[],
    intercept: number,
    input: string,
    options: BaseModelOptions,
    nIter: number,
  ) {
    super(coef, intercept, input, options);
    this.nIter = nIter;
  }

  /** Fits on rows `X` and targets `y`; see {@link SGDRegressorOptions}. */
  static fit(X: DesignMatrix, y: readonly number[], options: SGDRegressorOptions = {}): SGDRegressor {
    const where = 'SGDRegressor.fit';
    const target = readTargets(y, where);
    const s = sgdSettings(where, options.loss, LOSSES, options, {
      loss: 'squared_error',
      learningRate: 'invscaling',
      eta0: 0.01,
      powerT: 0.25,
    });
    const design = readDesign(X, target.length, options.sampleWeight, where, true);
    const fit = plainSgd(design, target, s, s.seed, where);
    return new SGDRegressor(
      LOSSES[s.loss - 5]!,
      Array.from(fit.coef),
      fit.intercept,
      options.input ?? 'features',
      options,
      fit.nIter,
    );
  }

  toJSON(): SGDRegressorJson {
    return {
      format: 'modelship-baseline',
      kind: 'sgdRegressor',
      version: 1,
      loss: this.loss,
      ...this.fields(),
    };
  }

  /** Reads a model back from {@link toJSON}'s output. */
  static fromJSON(json: unknown, options: Pick<BaseModelOptions, 'name' | 'version'> = {}): SGDRegressor {
    const where = 'SGDRegressor.fromJSON';
    const j = readRegressorJson(json, 'sgdRegressor', 'SGD regressor', where);
    return new SGDRegressor(
      savedLoss(j.loss, LOSSES, where),
      j.coef,
      j.intercept,
      j.input,
      { name: options.name ?? j.name, version: options.version ?? j.modelVersion },
      0,
    );
  }
}
