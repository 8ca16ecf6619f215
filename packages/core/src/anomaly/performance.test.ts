import { describe, expect, it } from 'vitest';
import { Deployer } from '../deploy/deployer';
import { FakeClock, seeded } from '../deploy/fakes.case';
import { functionModel } from '../model/function-model';
import { Monitor } from '../monitor/monitor';
import { PerformanceEstimator, positiveScores } from './cbpe';
import { MulticlassPerformanceEstimator } from './cbpe-multiclass';
import { InputScreen } from './screen';

// A calibrated classifier: the label is positive with probability sigmoid(2x).
const random = seeded(3);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const refX = Array.from({ length: 2000 }, () => 3 * (random() - 0.5) * 2);
const reference = {
  scores: refX.map((x) => sigmoid(2 * x)),
  labels: refX.map((x) => (random() < sigmoid(2 * x) ? 1 : 0)),
};
const estimator = PerformanceEstimator.fit(reference);

/** A model answering prob [batch, 2] = sigmoid(k · x): k = 2 is the reference model, k → 0 is unsure of everything. */
function probModel(version: string, k: number) {
  return functionModel(
    ({ x }) => {
      const n = x!.shape[0]!;
      const data = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const p = sigmoid(k * (x!.data as Float32Array)[i]!);
        data[2 * i] = 1 - p;
        data[2 * i + 1] = p;
      }
      return { prob: { dtype: 'float32' as const, shape: [n, 2], data } };
    },
    {
      signature: {
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 1] }],
        outputs: [{ name: 'prob', dtype: 'float32', shape: ['batch', 2] }],
      },
      version,
    },
  );
}
const req = (x: number) => ({ x: { dtype: 'float32' as const, shape: [1, 1], data: new Float32Array([x]) } });

describe('positiveScores', () => {
  it('reads column 1 of two, or the one value per row, of the probability output', () => {
    expect(
      Array.from(
        positiveScores({
          label: { shape: [2], data: [0, 1] },
          prob: { shape: [2, 2], data: [0.9, 0.1, 0.3, 0.7] },
        }),
      ),
    ).toEqual([0.1, 0.7]);
    expect(Array.from(positiveScores({ y: { shape: [2, 1], data: [0.25, 0.5] } }))).toEqual([0.25, 0.5]);
    expect(positiveScores({ y: { shape: [1, 3], data: [0.2, 0.3, 0.5] } }).length).toBe(0);
  });
});

describe('estimated performance in the Monitor and the Deployer', () => {
  it('the Monitor estimates accuracy from answers, next to realized accuracy, and alerts on it', async () => {
    const clock = new FakeClock();
    const d = new Deployer({ clock });
    const monitor = new Monitor({ clock });
    monitor.attach(d);
    await d.deploy('m', probModel('1', 0.05));
    monitor.watchPerformance('m', estimator, { windowRows: 200 });
    expect(monitor.estimatedPerformance('m').estimate).toBeUndefined();
    monitor.addAlert({ name: 'unsure', metric: 'estimatedAccuracy', below: 0.7, minRequests: 20 });
    for (let i = 0; i < 100; i++) await d.predict('m', req(3 * (random() - 0.5) * 2));
    const { estimate } = monitor.estimatedPerformance('m');
    // every answer is near 0.5: calibrated, about a coin toss
    expect(estimate!.rows).toBe(100);
    expect(estimate!.accuracy.value).toBeGreaterThan(0.4);
    expect(estimate!.accuracy.value).toBeLessThan(0.62);
    expect(estimate!.accuracy.alert).toBe(true);
    expect(monitor.check().map((a) => a.rule)).toEqual(['unsure']);
    expect(() => monitor.estimatedPerformance('other')).toThrow(/no performance watch for model 'other'/);
    await d.close();
  });

  it('rolls back a canary whose estimated accuracy falls below minEstimatedAccuracy', async () => {
    const d = new Deployer({ random: seeded(9) });
    await d.deploy('m', probModel('1', 2));
    d.screen('m', new InputScreen({ performance: { estimator } }));
    const reasons: string[] = [];
    d.on('rolledBack', (e) => reasons.push(e.reason));
    await d.deploy('m', probModel('2', 0.05), {
      policy: { type: 'canary', weight: 0.5, guards: { minEstimatedAccuracy: 0.7, minRequests: 30 } },
    });
    for (let i = 0; i < 400 && reasons.length === 0; i++) await d.predict('m', req(3 * (random() - 0.5) * 2));
    expect(reasons[0]).toMatch(
      /^estimated accuracy 0\.\d+ \(CBPE, \d+ rows without labels\) is below minEstimatedAccuracy 0\.7$/,
    );
    expect(d.status('m').primary).toBe('1');
    expect(d.status('m').versions.find((v) => v.version === '1')!.traffic).toBe(1);
    await d.close();
  });
});

describe('multiclass estimated performance in the Monitor and the Deployer', () => {
  // Three classes; the label follows the model's probabilities (a calibrated model).
  const soft = (z: number[]) => {
    const e = z.map((v) => Math.exp(v));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const probs = (x: number, k: number) => soft([k * x, 0, -k * x]);
  const draw = (p: number[]) => {
    const u = random();
    return u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2;
  };
  const xs = Array.from({ length: 1500 }, () => 3 * (random() - 0.5) * 2);
  const estimator = MulticlassPerformanceEstimator.fit({
    scores: xs.map((x) => probs(x, 1.5)),
    labels: xs.map((x) => draw(probs(x, 1.5))),
  });
  const model = (version: string, k: number) =>
    functionModel(
      ({ x }) => {
        const n = x!.shape[0]!;
        const data = new Float32Array(3 * n);
        for (let i = 0; i < n; i++) data.set(probs((x!.data as Float32Array)[i]!, k), 3 * i);
        return { probabilities: { dtype: 'float32' as const, shape: [n, 3], data } };
      },
      {
        signature: {
          inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 1] }],
          outputs: [{ name: 'probabilities', dtype: 'float32', shape: ['batch', 3] }],
        },
        version,
      },
    );

  it('estimates from the answers of a three-class model, and a guard rolls an unsure canary back', async () => {
    const d = new Deployer({ random: seeded(4) });
    const monitor = new Monitor();
    monitor.attach(d);
    await d.deploy('m', model('1', 1.5));
    monitor.watchPerformance('m', estimator, { windowRows: 300 });
    d.screen('m', new InputScreen({ performance: { estimator } }));
    for (let i = 0; i < 200; i++) await d.predict('m', req(3 * (random() - 0.5) * 2));
    const { estimate } = monitor.estimatedPerformance('m');
    expect(estimate!.rows).toBe(200);
    expect(estimate!.accuracy.value).toBeGreaterThan(0.55);
    expect(d.status('m').versions[0]!.screen).toBeDefined();
    const reasons: string[] = [];
    d.on('rolledBack', (e) => reasons.push(e.reason));
    await d.deploy('m', model('2', 0.01), {
      policy: { type: 'canary', weight: 0.5, guards: { minEstimatedAccuracy: 0.45, minRequests: 30 } },
    });
    for (let i = 0; i < 400 && reasons.length === 0; i++) await d.predict('m', req(3 * (random() - 0.5) * 2));
    // an unsure three-class model is right about a third of the time
    const m =
      /^estimated accuracy (0\.\d+) \(CBPE, \d+ rows without labels\) is below minEstimatedAccuracy 0\.45$/.exec(
        reasons[0]!,
      );
    expect(m, reasons[0]).not.toBeNull();
    expect(Math.abs(Number(m![1]) - 1 / 3)).toBeLessThan(0.1);
    await d.close();
  });
});
