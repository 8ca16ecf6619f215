/**
 * Converter-shaped classifiers and regressors (TreeEnsemble*, LinearClassifier, SVMClassifier,
 * Scaler, Normalizer; ZipMap outputs) load and predict with their class labels: the ZipMap
 * output is served as its probability tensor, equal to scikit-learn's predict_proba and to raw
 * onnxruntime on the ZipMap-free variant; the file on disk is never modified.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  argmax,
  classScoreRows,
  Deployer,
  impute,
  Monitor,
  type OnnxModel,
  Pipeline,
  Profile,
  toArray,
  topK,
} from '@modelship/core';
import * as ort from 'onnxruntime-node';
import '@modelship/core/testing/setup';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { loadModel, readCsv } from '../src/index';
import { fixturesDir, tabular, tabularPath } from './fixtures';

const CLASSIFIERS = [
  'rf_iris',
  'rf_iris_str',
  'gb_iris_str',
  'logreg_iris',
  'gb_binary',
  'scaler_logreg_str',
  'svm_binary',
];
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const features = (name: string) => {
  const c = tabular[name]!;
  return {
    input: { dtype: 'float32' as const, shape: [c.rows, c.features], data: Float32Array.from(c.inputs) },
  };
};

async function rawProbabilities(name: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(tabularPath(`${name}_nozipmap`));
  const c = tabular[name]!;
  const out = await session.run({
    input: new ort.Tensor('float32', Float32Array.from(c.inputs), [c.rows, c.features]),
  });
  await session.release();
  return out.output_probability!.data as Float32Array;
}

describe('converter classifiers with ZipMap', () => {
  for (const name of CLASSIFIERS) {
    it(`${name}: probabilities and labels as scikit-learn and raw onnxruntime give them`, async () => {
      const c = tabular[name]!;
      const labels = c.labels ?? [0, 1];
      const path = tabularPath(name);
      const before = sha(path);
      const models: OnnxModel[] = [
        await loadModel(path),
        await loadModel(new Uint8Array(readFileSync(path))),
      ];
      try {
        for (const model of models) {
          expect(model.signature.outputs).toEqual([
            {
              name: 'output_label',
              dtype: typeof labels[0] === 'string' ? 'string' : 'int64',
              shape: [null],
            },
            { name: 'output_probability', dtype: 'float32', shape: [null, labels.length], labels },
          ]);
          expect(model.signature.unsupportedOutputs).toBeUndefined();
          const out = await model.predict(features(name));
          const probs = out.output_probability!;
          expect(probs.shape).toEqual([c.rows, labels.length]);
          // Raw onnxruntime on the model converted without ZipMap: the same numbers, exactly.
          expect(Array.from(probs.data as Float32Array)).toEqual(Array.from(await rawProbabilities(name)));
          if (c.probabilities !== undefined) {
            const got = probs.data as Float32Array;
            for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(c.probabilities[i]!, 6);
          }
          expect(toArray(out.output_label!).map((v) => (typeof v === 'bigint' ? Number(v) : v))).toEqual(
            c.predicted,
          );
        }
      } finally {
        await Promise.all(models.map((m) => m.dispose()));
      }
      expect(sha(path)).toBe(before);
    });
  }

  it('the argmax of the probabilities names the predicted class through the labels', async () => {
    const model = await loadModel(tabularPath('gb_iris_str'));
    const out = await model.predict(features('gb_iris_str'));
    const labels = model.signature.outputs[1]!.labels as string[];
    const p = out.output_probability!.data as Float32Array;
    const argmax = Array.from({ length: p.length / 3 }, (_, r) => {
      const row = Array.from(p.subarray(r * 3, r * 3 + 3));
      return labels[row.indexOf(Math.max(...row))];
    });
    expect(argmax).toEqual(tabular.gb_iris_str!.predicted);
    await model.dispose();
  });

  it('on worker threads too', async () => {
    const model = await loadModel(tabularPath('rf_iris_str'), { instances: 1 });
    try {
      expect(model.signature.outputs[1]!.labels).toEqual(['setosa', 'versicolor', 'virginica']);
      const out = await model.predict(features('rf_iris_str'));
      expect(Array.from(out.output_probability!.data as Float32Array)).toEqual(
        Array.from(await rawProbabilities('rf_iris_str')),
      );
    } finally {
      await model.dispose();
    }
  });
});

describe('regressors', () => {
  for (const name of ['rf_regressor', 'gb_regressor']) {
    it(`${name}: scikit-learn's predictions`, async () => {
      const model = await loadModel(tabularPath(name));
      const out = await model.predict(features(name));
      expect(out.variable!.shape).toEqual([tabular[name]!.rows, 1]);
      const got = out.variable!.data as Float32Array;
      for (const [i, v] of tabular[name]!.predicted.entries()) expect(got[i]).toBeCloseTo(v as number, 5);
      await model.dispose();
    });
  }
});

describe('outputs onnxruntime-js cannot return', () => {
  it('are listed with their kind, left out of predict, and refused by name', async () => {
    const model = await loadModel(tabularPath('sequence_output'));
    expect(model.signature.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: [null, 2] }]);
    expect(model.signature.unsupportedOutputs).toEqual([
      { name: 'pieces', kind: 'sequence', type: 'seq(tensor(float))' },
    ]);
    const x = { x: { dtype: 'float32' as const, shape: [1, 2], data: Float32Array.from([1, 2]) } };
    const out = await model.predict(x);
    expect(Object.keys(out)).toEqual(['y']);
    expect(Array.from(out.y!.data as Float32Array)).toEqual([1, 2]);
    await expect(model.predict(x, { outputs: ['pieces'] })).rejects.toMatchObject({
      code: 'OUTPUT_UNKNOWN',
      message: expect.stringContaining("'pieces' is a sequence (seq(tensor(float)))"),
    });
    await model.dispose();
  });
});

describe('modelship eval on converter classifiers', () => {
  interface Report {
    task: string;
    output: string;
    classes: (string | number)[];
    metrics: Record<string, { value: number }>;
  }
  async function evalJson(...argv: string[]): Promise<Report> {
    const out: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['eval', ...argv, '--json', '--resamples', '0'], (s) => out.push(s))).toBe(0);
    } finally {
      spy.mockRestore();
    }
    return JSON.parse(out.join('\n'));
  }

  it('scores ROC AUC from the ZipMap probabilities, with int64 labels', async () => {
    const report = await evalJson(
      tabularPath('gb_binary'),
      `${fixturesDir}data/tabular-binary.csv`,
      '--label',
      'y',
    );
    expect(report.task).toBe('binary');
    expect(report.output).toBe('output_probability');
    expect(report.metrics.rocAuc!.value).toBeCloseTo(tabular.gb_binary!.roc_auc!, 12);
    expect(report.metrics.accuracy!.value).toBeCloseTo(tabular.gb_binary!.accuracy!, 12);
  });

  it('with string labels: the classes are the model’s own', async () => {
    const report = await evalJson(
      tabularPath('gb_iris_str'),
      `${fixturesDir}data/tabular-iris.csv`,
      '--label',
      'species',
    );
    expect(report.task).toBe('multiclass');
    expect(report.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(report.metrics.accuracy!.value).toBeCloseTo(tabular.gb_iris_str!.accuracy!, 12);
    expect(report.metrics.rocAuc!.value).toBeCloseTo(tabular.gb_iris_str!.roc_auc!, 12);
  });
});

describe('pipelines around converter classifiers', () => {
  it('argmax and topK name classes with the model’s labels', async () => {
    const c = tabular.rf_iris_str!;
    const fields = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const records = Array.from({ length: c.rows }, (_, r) =>
      Object.fromEntries(fields.map((f, i) => [f, c.inputs[r * c.features + i]!])),
    );
    const pipeline = Pipeline.fit(records, {
      features: Object.fromEntries(fields.map((f) => [f, impute('mean')])),
      input: 'input',
      output: { species: argmax(), top: topK(2) },
    });
    const model = await loadModel(tabularPath('rf_iris_str'));
    try {
      const served = pipeline.wrap(model);
      expect(served.recordSignature().answers.find((a) => a.name === 'species')?.dtype).toBe('string');
      const answers = await served.predict(records);
      expect(answers.map((a) => a.species)).toEqual(c.predicted);
      const p = c.probabilities!;
      const top = answers[0]!.top as { label: string; score: number }[];
      const order = [0, 1, 2].sort((a, b) => p[b]! - p[a]! || a - b);
      expect(top.map((t) => t.label)).toEqual(order.slice(0, 2).map((i) => c.labels![i]));
    } finally {
      await model.dispose();
    }
  });
});

describe('matchers on converter classifiers', () => {
  it('toMeetMetrics scores string labels through the model’s classes; toHaveSignature checks labels', async () => {
    const model = await loadModel(tabularPath('gb_iris_str'));
    try {
      const want = tabular.gb_iris_str!;
      await expect(model).toMeetMetrics(
        readCsv(`${fixturesDir}data/tabular-iris.csv`),
        { accuracy: { min: want.accuracy! - 1e-9 }, rocAuc: { min: want.roc_auc! - 1e-9 } },
        { label: 'species' },
      );
      expect(model).toHaveSignature({
        outputs: [{ name: 'output_probability', labels: want.labels as string[] }],
      });
      expect(() =>
        expect(model).toHaveSignature({ outputs: [{ name: 'output_probability', labels: ['a', 'b', 'c'] }] }),
      ).toThrow(
        `output 'output_probability' has labels ["setosa","versicolor","virginica"], expected ["a","b","c"]`,
      );
    } finally {
      await model.dispose();
    }
  });
});

describe('prediction drift on the probabilities', () => {
  it('a profile of reference probabilities named by the classes; the report names the class that moved', async () => {
    const deployer = new Deployer();
    const monitor = new Monitor();
    const detach = monitor.attach(deployer);
    try {
      await deployer.deploy('forest', () => loadModel(tabularPath('rf_iris_str')), {
        version: '1',
        warmup: false,
      });
      const model = deployer.model('forest');
      const spec = model.signature.outputs.find((o) => o.name === 'output_probability')!;
      const c = tabular.rf_iris_str!;
      const reference = await model.predict(features('rf_iris_str'));
      const rows = classScoreRows(reference.output_probability!, spec.labels);
      expect(Object.keys(rows[0]!)).toEqual(['setosa', 'versicolor', 'virginica']);
      monitor.watchDrift('forest', Profile.fromDataset(rows), {
        output: 'output_probability',
        windowRows: 45,
      });
      // The same rows again: no drift.
      await deployer.predict('forest', features('rf_iris_str'));
      expect(monitor.predictionDrift('forest').datasetDrift).toBe(false);
      // Only setosa-like flowers (the rows scikit-learn called setosa), three times over.
      const setosa = c.predicted.flatMap((p, r) =>
        p === 'setosa' ? [c.inputs.slice(r * 4, r * 4 + 4)] : [],
      );
      const shifted = [...setosa, ...setosa, ...setosa].flat();
      await deployer.predict('forest', {
        input: { dtype: 'float32', shape: [shifted.length / 4, 4], data: Float32Array.from(shifted) },
      });
      const report = monitor.predictionDrift('forest');
      expect(report.datasetDrift).toBe(true);
      expect(report.features.find((f) => f.feature === 'setosa')?.drifted).toBe(true);
    } finally {
      detach();
      await deployer.close();
    }
  });
});

describe('modelship inspect', () => {
  async function inspect(path: string): Promise<string> {
    const out: string[] = [];
    expect(await main(['inspect', path], (s) => out.push(s))).toBe(0);
    return out.join('\n');
  }

  it('shows the class labels and the outputs that are not returned', async () => {
    const forest = await inspect(tabularPath('rf_iris_str'));
    expect(forest).toMatch(
      / {2}output +output_probability +float32 +\[\?, 3\] {2}labels: setosa, versicolor, virginica$/m,
    );
    const seq = await inspect(tabularPath('sequence_output'));
    expect(seq).toMatch(/ {2}output +pieces +seq\(tensor\(float\)\) +\(not returned\)$/m);
  });
});
