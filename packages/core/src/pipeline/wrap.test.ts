/** pipeline.wrap(model): records in, answers out, checked against the model's signature. */
import { describe, expect, it, vi } from 'vitest';
import type { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import type { ModelSignature } from '../tensor/spec';
import { argmax, parseLabels, sigmoid, softmax, threshold, topK, value } from './outputs';
import { Pipeline, type PipelineSpec } from './pipeline';
import { oneHot, standardize } from './transforms';

const training = [
  { amount: 10, country: 'FR' },
  { amount: 20, country: 'DE' },
  { amount: 30, country: 'FR' },
  { amount: 40, country: 'IT' },
];

// Width 4: amount, country=DE, country=FR, country=IT.
const signature: ModelSignature = {
  inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 4] }],
  outputs: [
    { name: 'probability', dtype: 'float32', shape: ['batch'] },
    { name: 'logits', dtype: 'float32', shape: ['batch', 3] },
    { name: 'code', dtype: 'int64', shape: ['batch'] },
  ],
};

/** probability = sigmoid(amount'), logits = [amount', country=DE, country=FR], code = row index. */
function fakeModel(calls: number[][] = []) {
  return functionModel(
    ({ features }) => {
      const x = features!.data as Float32Array;
      const n = features!.shape[0]!;
      calls.push(Array.from(x));
      const p = new Float32Array(n);
      const logits = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        p[i] = 1 / (1 + Math.exp(-x[i * 4]!));
        logits.set([x[i * 4]!, x[i * 4 + 1]!, x[i * 4 + 2]!], i * 3);
      }
      return {
        probability: { dtype: 'float32', shape: [n], data: p },
        logits: { dtype: 'float32', shape: [n, 3], data: logits },
        code: { dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) },
      };
    },
    { name: 'fake', version: '3', signature },
  );
}

const features: PipelineSpec['features'] = { amount: standardize(), country: oneHot({ unknown: 'ignore' }) };
// amount: mean 25, population std sqrt(125).
const z = (a: number) => Math.fround((a - 25) / Math.sqrt(125));

describe('Pipeline.wrap', () => {
  it('turns records into answers with every output transform', async () => {
    const pipeline = Pipeline.fit(training, {
      features,
      output: {
        probability: 'probability',
        label: threshold(0.5, ['legit', 'fraud']),
        best: argmax(['a', 'b', 'c'], { from: 'logits' }),
        top: topK(2, ['a', 'b', 'c'], { from: 'logits' }),
        probs: softmax({ from: 'logits' }),
        squashed: sigmoid({ from: 'logits' }),
        code: value('code'),
      },
    });
    const served = pipeline.wrap(fakeModel());
    expect(served.name).toBe('fake');
    expect(served.version).toBe('3');
    expect(served.answerFields).toEqual(['probability', 'label', 'best', 'top', 'probs', 'squashed', 'code']);
    const [high, low] = await served.predict([
      { amount: 40, country: 'DE' },
      { amount: 10, country: 'PT' },
    ]);
    const pHigh = 1 / (1 + Math.exp(-z(40)));
    expect(high!.probability).toBeCloseTo(pHigh, 6);
    expect(high!.label).toBe('fraud');
    expect(low!.label).toBe('legit');
    // logits of the first row: [z(40) ≈ 1.342, 1, 0]
    expect(high!.best).toBe('a');
    expect(high!.top).toEqual([
      { label: 'a', score: z(40) },
      { label: 'b', score: 1 },
    ]);
    const e = [Math.exp(z(40)), Math.exp(1), 1];
    const sum = e[0]! + e[1]! + e[2]!;
    (high!.probs as number[]).forEach((p, j) => {
      expect(p).toBeCloseTo(e[j]! / sum, 6);
    });
    expect(high!.squashed).toEqual([z(40), 1, 0].map((v) => 1 / (1 + Math.exp(-v))));
    expect(high!.code).toBe(0);
    expect(low!.code).toBe(1);
    // An unseen country under 'ignore' is all zeros: logits [z(10), 0, 0]; z(10) < 0, so argmax is b.
    expect(low!.best).toBe('b');
    expect(low!.top).toEqual([
      { label: 'b', score: 0 },
      { label: 'c', score: 0 },
    ]);
  });

  it('answers every model output as it is when no output is given', async () => {
    const served = Pipeline.fit(training, { features }).wrap(fakeModel());
    const [a] = await served.predict([{ amount: 25, country: 'FR' }]);
    expect(a).toEqual({ probability: 0.5, logits: [0, 0, 1], code: 0 });
  });

  it('takes labels from a labels file for answers that give none', async () => {
    const labels = parseLabels('cat\r\ndog\nbird\n\n');
    expect(labels).toEqual(['cat', 'dog', 'bird']);
    const pipeline = Pipeline.fit(training, {
      features,
      output: { animal: argmax(undefined, { from: 'logits' }), index: argmax([0, 1, 2], { from: 'logits' }) },
    });
    const [a] = await pipeline
      .withLabels(labels)
      .wrap(fakeModel())
      .predict([{ amount: 0, country: 'FR' }]);
    expect(a).toEqual({ animal: 'bird', index: 2 });
    const [b] = await pipeline.wrap(fakeModel()).predict([{ amount: 0, country: 'FR' }]);
    expect(b).toEqual({ animal: 2, index: 2 });
    await expect(
      pipeline
        .withLabels(['cat', 'dog'])
        .wrap(fakeModel())
        .predict([{ amount: 0, country: 'FR' }]),
    ).rejects.toThrow("answer 'animal': output 'logits' has 3 columns but 2 labels");
    expect(() => parseLabels('a\n\nb')).toThrow('line 2 is blank');
    expect(() => parseLabels('\n')).toThrow('empty');
  });

  it('keeps only the requested answer fields and runs only the outputs they read', async () => {
    const calls: number[][] = [];
    const model = fakeModel(calls);
    const predict = vi.spyOn(model, 'predict');
    const served = Pipeline.fit(training, {
      features,
      output: { label: threshold(0.5, [0, 1]), best: argmax(undefined, { from: 'logits' }) },
    }).wrap(model);
    const [a] = await served.predict([{ amount: 40, country: 'IT' }], { outputs: ['label'] });
    expect(a).toEqual({ label: 1 });
    expect(predict.mock.calls[0]![1]).toEqual({ outputs: ['probability'] });
    expect(calls[0]).toEqual([z(40), 0, 0, 1]);
    await expect(
      served.predict([{ amount: 40, country: 'IT' }], { outputs: ['nope'] }),
    ).rejects.toMatchObject({
      code: 'OUTPUT_UNKNOWN',
    });
    expect(await served.predict([])).toEqual([]);
  });

  it('refuses a bad record before the model runs, naming the record and field', async () => {
    const calls: number[][] = [];
    const served = Pipeline.fit(training, { features }).wrap(fakeModel(calls));
    const err = (await served
      .predict([{ amount: 1, country: 'FR' }, { country: 'FR' }])
      .catch((e) => e)) as ModelshipError;
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.message).toBe("record 1 has no field 'amount'");
    await expect(served.predict([{ amount: 'x', country: 'FR' }])).rejects.toThrow(
      `record 0, field 'amount' is "x"; standardize needs a finite number`,
    );
    await expect(served.predict({} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual([]);
  });

  it('checks the pipeline against the model when wrapping', () => {
    const pipeline = Pipeline.fit(training, { features });
    const narrow = functionModel(() => ({}), {
      name: 'narrow',
      signature: { ...signature, inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 3] }] },
    });
    expect(() => pipeline.wrap(narrow)).toThrow(
      "the pipeline makes 4 columns (amount, country=DE, country=FR, country=IT); model input 'features' takes 3",
    );
    const renamed = Pipeline.fit(training, { features, input: 'x' });
    expect(() => renamed.wrap(fakeModel())).toThrow(
      "the pipeline feeds input 'x', but model 'fake' takes 'features'",
    );
    const ints = functionModel(() => ({}), {
      name: 'ints',
      signature: { ...signature, inputs: [{ name: 'features', dtype: 'int64', shape: ['batch', 4] }] },
    });
    expect(() => pipeline.wrap(ints)).toThrow("model input 'features' is int64");
    const two = functionModel(() => ({}), {
      name: 'two',
      signature: {
        ...signature,
        inputs: [...signature.inputs, { name: 'mask', dtype: 'bool', shape: ['batch'] }],
      },
    });
    expect(() => pipeline.wrap(two)).toThrow("also needs 'mask'");
    const unknownOutput = Pipeline.fit(training, { features, output: { p: 'prob' } });
    expect(() => unknownOutput.wrap(fakeModel())).toThrow(
      "answer 'p' reads model output 'prob'; the model's outputs are 'probability', 'logits', 'code'",
    );
    const words = functionModel(() => ({}), {
      name: 'words',
      signature: { ...signature, outputs: [{ name: 'text', dtype: 'string', shape: ['batch'] }] },
    });
    expect(() =>
      Pipeline.fit(training, { features, output: { t: argmax(undefined, { from: 'text' }) } }).wrap(words),
    ).toThrow("argmax needs a numeric output, 'text' is string");
    expect(() => pipeline.wrap({} as never)).toThrow('model must be a Model');
  });

  it('saves answers and labels with the pipeline and reads them back', async () => {
    const pipeline = Pipeline.fit(training, {
      features,
      output: { label: threshold(0.5, ['legit', 'fraud']), top: topK(1, undefined, { from: 'logits' }) },
      labels: ['x', 'y', 'z'],
    });
    const json = JSON.parse(JSON.stringify(pipeline));
    expect(json.output).toEqual({
      label: { kind: 'threshold', threshold: 0.5, labels: ['legit', 'fraud'] },
      top: { kind: 'topK', k: 1, from: 'logits' },
    });
    expect(json.labels).toEqual(['x', 'y', 'z']);
    const again = Pipeline.fromJSON(json);
    const records = [
      { amount: 33, country: 'DE' },
      { amount: 12, country: 'FR' },
    ];
    expect(await again.wrap(fakeModel()).predict(records)).toEqual(
      await pipeline.wrap(fakeModel()).predict(records),
    );
    expect(() =>
      Pipeline.fromJSON({ ...json, output: { label: { kind: 'threshold', threshold: 'high' } } }),
    ).toThrow('the threshold must be a finite number');
    expect(() => Pipeline.fromJSON({ ...json, output: { label: { kind: 'guess' } } })).toThrow(
      'not an output transform',
    );
    expect(() => Pipeline.fromJSON({ ...json, labels: 'x' })).toThrow('labels must be an array');
  });

  it('validates output transforms when they are made', () => {
    expect(() => threshold(Number.NaN, ['a', 'b'])).toThrow('finite');
    expect(() => threshold(0.5, ['a'] as never)).toThrow('[negative, positive]');
    expect(() => topK(0)).toThrow('positive integer');
    expect(() => argmax([])).toThrow('non-empty');
    expect(() => softmax({ from: '' })).toThrow('from must name a model output');
  });
});
