/**
 * scikit-learn's `SGDClassifier` in TypeScript: a linear classifier fitted by plain SGD (see
 * `sgd.ts`), one binary fit per class (one-vs-all) beyond two classes.
 */
import { invalidArgument } from '../errors';
import type { BaseModelOptions } from '../model/base-model';
import { type ClassLabel, classIndex, sortedClasses } from './classes';
import { type DesignMatrix, readDesign } from './design';
import { type LinearClassifierFields, LinearClassifierModel, readClassifierJson } from './linear-classifier';
import { plainSgd, type SgdClassifierLoss, type SgdOptions, savedLoss, sgdSettings } from './sgd';

export interface SGDClassifierOptions extends SgdOptions, BaseModelOptions {
  /**
   * `'hinge'` (default, a linear SVM), `'log_loss'` (logistic regression, with probabilities),
   * `'modified_huber'`, `'squared_hinge'` or `'perceptron'`.
   */
  loss?: SgdClassifierLoss;
  /** Name of the model input (default `'features'`). */
  input?: string;
}

/** The serialised form of an {@link SGDClassifier}. */
export interface SGDClassifierJson extends LinearClassifierFields {
  format: 'modelship-baseline';
  kind: 'sgdClassifier';
  version: 1;
  loss: SgdClassifierLoss;
}

const LOSSES: readonly SgdClassifierLoss[] = [
  'hinge',
  'log_loss',
  'modified_huber',
  'squared_hinge',
  'perceptron',
];

/**
 * A linear classifier fitted by stochastic gradient descent, as scikit-learn's `SGDClassifier`
 * (same parameters, defaults and arithmetic; `average` and early stopping are not offered).
 * Outputs `label` and, for `log_loss`, `probability` (two classes) or `probabilities`; for the
 * other losses `scores` (the decision function).
 *
 * @example
 * const model = SGDClassifier.fit(X, y, { loss: 'log_loss', alpha: 1e-4, randomState: 7 });
 * const report = await evaluate(model, holdout);
 */
export class SGDClassifier extends LinearClassifierModel {
  private constructor(
    readonly loss: SgdClassifierLoss,
    classes: readonly ClassLabel[],
    coef: readonly (readonly number[])[],
    intercept: readonly number[],
    input: string,
    options: BaseModelOptions,
    fit?: { nIter: number; converged: boolean },
  ) {
    super(classes, coef, intercept, input, loss === 'log_loss' ? 'logistic' : 'none', options, fit);
  }

  /** Fits on rows `X` and labels `y`; see {@link SGDClassifierOptions}. */
  static fit(X: DesignMatrix, y: readonly ClassLabel[], options: SGDClassifierOptions = {}): SGDClassifier {
    const where = 'SGDClassifier.fit';
    if (!Array.isArray(y)) throw invalidArgument(where, 'y must be an array of labels', y);
    const s = sgdSettings(where, options.loss, LOSSES, options, {
      loss: 'hinge',
      learningRate: 'optimal',
      eta0: 0,
      powerT: 0.5,
    });
    const design = readDesign(X, y.length, options.sampleWeight, where, true);
    const classes = sortedClasses(y, where, 'SGDClassifier');
    const target = classIndex(y, classes);
    const K = classes.length === 2 ? 1 : classes.length;
    const coef: number[][] = [];
    const intercept: number[] = [];
    let nIter = 0;
    const yi = new Float64Array(design.n);
    for (let c = 0; c < K; c++) {
      const positive = K === 1 ? 1 : c;
      for (let i = 0; i < design.n; i++) yi[i] = target[i] === positive ? 1 : -1;
      const fit = plainSgd(design, yi, s, s.seed + c, where);
      coef.push(Array.from(fit.coef));
      intercept.push(fit.intercept);
      nIter = Math.max(nIter, fit.nIter);
    }
    return new SGDClassifier(
      LOSSES[s.loss]!,
      classes,
      coef,
      intercept,
      options.input ?? 'features',
      options,
      // As scikit-learn's ConvergenceWarning: the epochs ran out while tol was still watched.
      { nIter, converged: nIter < s.maxIter || s.tol === Number.NEGATIVE_INFINITY },
    );
  }

  /**
   * Class probabilities (`[n][classes]`), for `log_loss` and `modified_huber` as scikit-learn
   * gives them (`modified_huber`: `(clip(z, -1, 1) + 1) / 2`, normalised over classes).
   */
  override predictProba(X: DesignMatrix): number[][] {
    if (this.loss !== 'modified_huber') {
      if (this.loss !== 'log_loss')
        throw invalidArgument(
          'SGDClassifier.predictProba',
          "probabilities exist for loss 'log_loss' or 'modified_huber' only",
          this.loss,
        );
      return super.predictProba(X);
    }
    const scores = this.decisionFunction(X);
    const C = this.classes.length;
    return scores.map((z) => {
      const p = (C === 2 ? [-(z as number), z as number] : (z as number[])).map(
        (v) => (Math.min(1, Math.max(-1, v)) + 1) / 2,
      );
      if (C === 2) return [1 - p[1]!, p[1]!];
      const sum = p.reduce((a, v) => a + v, 0);
      return sum === 0 ? p.map(() => 1 / C) : p.map((v) => v / sum);
    });
  }

  toJSON(): SGDClassifierJson {
    return {
      format: 'modelship-baseline',
      kind: 'sgdClassifier',
      version: 1,
      loss: this.loss,
      ...this.fields(),
    };
  }

  /** Reads a model back from {@link toJSON}'s output. */
  static fromJSON(json: unknown, options: Pick<BaseModelOptions, 'name' | 'version'> = {}): SGDClassifier {
    const where = 'SGDClassifier.fromJSON';
    const j = readClassifierJson(json, 'sgdClassifier', 'SGD classifier', where);
    return new SGDClassifier(savedLoss(j.loss, LOSSES, where), j.classes, j.coef, j.intercept, j.input, {
      name: options.name ?? j.name,
      version: options.version ?? j.modelVersion,
    });
  }
}
