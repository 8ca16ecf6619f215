/**
 * Seeded, shuffled SGD fits whose weights are pinned bit for bit (sgd-pinned.test.ts): every
 * loss, penalty and schedule, multi-class, sample weights, Float32Array and number[][] input.
 */
import { SGDClassifier, type SGDClassifierOptions } from './sgd-classifier';
import { SGDRegressor, type SGDRegressorOptions } from './sgd-regressor';

const N = 90;
const K = 5;

function data() {
  let state = 99;
  const rand = () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const X = new Float64Array(N * K);
  const y3: number[] = [];
  const yb: string[] = [];
  const yr: number[] = [];
  const sw: number[] = [];
  for (let i = 0; i < N; i++) {
    let z = 0;
    for (let j = 0; j < K; j++) {
      const v = 4 * rand() - 2;
      X[i * K + j] = v;
      z += v * (j - 2);
    }
    const noise = rand() - 0.5;
    yb.push(z + noise > 0 ? 'yes' : 'no');
    y3.push(z + noise < -1 ? 3 : z + noise < 1 ? 5 : 9);
    yr.push(z + 0.3 * noise + 1);
    sw.push(0.5 + rand());
  }
  return { X, yb, y3, yr, sw };
}

export interface PinnedFit {
  coef: number[][];
  intercept: number[];
  nIter: number;
}

/** The fits, by name. */
export function pinnedFits(): Record<string, () => PinnedFit> {
  const { X, yb, y3, yr, sw } = data();
  const design = { data: X, shape: [N, K] as [number, number] };
  const rows = Array.from({ length: N }, (_, i) => Array.from(X.subarray(i * K, i * K + K)));
  const f32 = { data: Float32Array.from(X), shape: [N, K] as [number, number] };
  const base = { randomState: 7, maxIter: 6, tol: null };
  const classifier =
    (X: Parameters<typeof SGDClassifier.fit>[0], y: (string | number)[], o: SGDClassifierOptions) => () => {
      const m = SGDClassifier.fit(X, y, { ...base, ...o });
      const j = m.toJSON();
      return { coef: j.coef, intercept: j.intercept, nIter: m.nIter };
    };
  const regressor = (o: SGDRegressorOptions) => () => {
    const m = SGDRegressor.fit(design, yr, { ...base, ...o });
    const j = m.toJSON();
    return { coef: [j.coef], intercept: [j.intercept], nIter: m.nIter };
  };
  return {
    hinge: classifier(design, yb, {}),
    log_loss: classifier(design, yb, { loss: 'log_loss' }),
    modified_huber: classifier(design, yb, { loss: 'modified_huber', penalty: 'l1' }),
    squared_hinge: classifier(design, yb, { loss: 'squared_hinge', penalty: 'elasticnet' }),
    perceptron: classifier(design, yb, { loss: 'perceptron', penalty: null }),
    'log_loss, 3 classes, weighted, elasticnet': classifier(design, y3, {
      loss: 'log_loss',
      penalty: 'elasticnet',
      l1Ratio: 0.4,
      sampleWeight: sw,
    }),
    'hinge, adaptive, tol stop': classifier(rows, y3, {
      learningRate: 'adaptive',
      eta0: 0.5,
      tol: 1e-3,
      maxIter: 200,
      nIterNoChange: 3,
    }),
    'hinge, Float32Array, invscaling, no intercept': classifier(f32, yb, {
      learningRate: 'invscaling',
      eta0: 0.1,
      fitIntercept: false,
    }),
    'log_loss, constant, tol stop': classifier(design, yb, {
      loss: 'log_loss',
      learningRate: 'constant',
      eta0: 0.05,
      tol: 1e-4,
      maxIter: 100,
    }),
    squared_error: regressor({}),
    'squared_error, weighted, tol stop': regressor({ sampleWeight: sw, tol: 1e-3, maxIter: 300 }),
    huber: regressor({ loss: 'huber', epsilon: 0.5, penalty: 'l1', learningRate: 'constant', eta0: 0.02 }),
    epsilon_insensitive: regressor({ loss: 'epsilon_insensitive', powerT: 0.3, penalty: 'elasticnet' }),
    squared_epsilon_insensitive: regressor({
      loss: 'squared_epsilon_insensitive',
      learningRate: 'optimal',
      alpha: 0.01,
    }),
    'squared_error, adaptive': regressor({ learningRate: 'adaptive', tol: 1e-2, maxIter: 100, powerT: 0.5 }),
  };
}
