/**
 * What a served pipeline takes: records with only the fields it reads (unless it allows
 * extras), and the record signature a metadata route reports for it.
 */
import { describe, expect, it } from 'vitest';
import type { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { argmax, sigmoid, softmax, threshold, topK, value } from './outputs';
import { Pipeline } from './pipeline';
import { hash, impute, oneHot, ordinal, standardize } from './transforms';

const training = [
  { amount: 10, country: 'FR', tier: 1, device: 'ios' },
  { amount: 20, country: 'DE', tier: 2, device: 'web' },
  { amount: 30, country: 'FR', tier: 3, device: 'ios' },
];
const features = {
  amount: [impute('median'), standardize()],
  country: oneHot(),
  tier: ordinal(),
  device: hash({ buckets: 2 }),
};
// Width 1 + 2 + 1 + 2 = 6.
const model = functionModel(
  ({ features: x }) => {
    const n = x!.shape[0]!;
    return {
      score: { dtype: 'float32', shape: [n], data: new Float32Array(n).fill(0.75) },
      logits: { dtype: 'float32', shape: [n, 3], data: new Float32Array(n * 3).fill(1) },
      code: { dtype: 'int64', shape: [n, 1], data: new BigInt64Array(n) },
    };
  },
  {
    name: 'm',
    signature: {
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 6] }],
      outputs: [
        { name: 'score', dtype: 'float32', shape: ['batch'] },
        { name: 'logits', dtype: 'float32', shape: ['batch', 3] },
        { name: 'code', dtype: 'int64', shape: ['batch', 1] },
      ],
    },
  },
);
const record = { amount: 12, country: 'DE', tier: 2, device: 'web' };

function caught(f: () => unknown): ModelshipError {
  try {
    f();
  } catch (e) {
    return e as ModelshipError;
  }
  throw new Error('no error');
}

describe('fields a served pipeline takes', () => {
  it('refuses records with fields it does not read, naming the record and the fields', async () => {
    const served = Pipeline.fit(training, { features }).wrap(model);
    await expect(served.predict([record, { ...record, Amount: 3, note: 'x' }])).rejects.toMatchObject({
      code: 'INPUT_UNKNOWN',
      message: `record 1 has fields the pipeline does not read: 'Amount', 'note' (it reads 'amount', 'country', 'tier', 'device'); set "allowExtraFields": true in the pipeline to ignore extra fields`,
      details: { record: 1, fields: ['Amount', 'note'] },
    });
    const pipeline = Pipeline.fit(training, { features });
    expect(caught(() => pipeline.checkFields([{ ...record, x: 1 }], 40)).message).toMatch(
      /^record 40 has a field the pipeline does not read: 'x' \(/,
    );
    // transform itself stays permissive: evaluation rows carry labels and ids.
    expect(pipeline.transform([{ ...record, label: 1 }]).features!.shape).toEqual([1, 6]);
  });

  it('takes extra fields when the pipeline or the wrap allows them, answering as without them', async () => {
    const allowing = Pipeline.fit(training, { features, allowExtraFields: true });
    const plain = await allowing.wrap(model).predict([record]);
    expect(await allowing.wrap(model).predict([{ ...record, label: 1 }])).toEqual(plain);
    const strict = Pipeline.fit(training, { features });
    expect(await strict.wrap(model, { allowExtraFields: true }).predict([{ ...record, id: 'a' }])).toEqual(
      plain,
    );
    await expect(
      allowing.wrap(model, { allowExtraFields: false }).predict([{ ...record, id: 'a' }]),
    ).rejects.toThrow(/does not read: 'id'/);
    // Saved and read back with the pipeline; left out of the JSON when off.
    const json = JSON.parse(JSON.stringify(allowing));
    expect(json.allowExtraFields).toBe(true);
    expect(Pipeline.fromJSON(json).allowExtraFields).toBe(true);
    expect(Pipeline.fromJSON(json).withLabels(['a']).allowExtraFields).toBe(true);
    expect('allowExtraFields' in strict.toJSON()).toBe(false);
    expect(caught(() => Pipeline.fromJSON({ ...json, allowExtraFields: 'yes' })).message).toMatch(
      /allowExtraFields must be a boolean/,
    );
  });
});

describe('the record signature', () => {
  it('lists the record fields and the answer fields with their types and shapes', () => {
    const pipeline = Pipeline.fit(training, {
      features,
      output: {
        raw: 'score',
        code: value('code'),
        label: threshold(0.5, ['no', 'yes']),
        klass: argmax(undefined, { from: 'logits' }),
        named: argmax(['a', 'b', 'c'], { from: 'logits' }),
        best: topK(2, ['a', 'b', 'c'], { from: 'logits' }),
        probabilities: softmax({ from: 'logits' }),
        p: sigmoid({ from: 'score' }),
        ps: sigmoid({ from: 'logits' }),
      },
    });
    expect(pipeline.wrap(model).recordSignature()).toEqual({
      fields: [
        { name: 'amount', type: 'number', dtype: 'float32', optional: true },
        { name: 'country', type: 'category', dtype: 'string', optional: false, categories: ['DE', 'FR'] },
        { name: 'tier', type: 'category', dtype: 'float32', optional: false, categories: [1, 2, 3] },
        { name: 'device', type: 'category', dtype: 'string', optional: false },
      ],
      answers: [
        { name: 'raw', type: 'value', from: 'score', dtype: 'float32', shape: [] },
        { name: 'code', type: 'value', from: 'code', dtype: 'int64', shape: [] },
        { name: 'label', type: 'label', from: 'score', dtype: 'string', shape: [] },
        { name: 'klass', type: 'label', from: 'logits', dtype: 'int64', shape: [] },
        { name: 'named', type: 'label', from: 'logits', dtype: 'string', shape: [] },
        { name: 'best', type: 'topK', from: 'logits', dtype: undefined, shape: [2] },
        { name: 'probabilities', type: 'scores', from: 'logits', dtype: 'float64', shape: [3] },
        { name: 'p', type: 'scores', from: 'score', dtype: 'float64', shape: [] },
        { name: 'ps', type: 'scores', from: 'logits', dtype: 'float64', shape: [3] },
      ],
    });
  });

  it('matches what the answers hold', async () => {
    const served = Pipeline.fit(training, {
      features,
      output: {
        raw: 'score',
        probabilities: softmax({ from: 'logits' }),
        best: topK(2, undefined, { from: 'logits' }),
      },
    }).wrap(model);
    const [answer] = await served.predict([record]);
    expect(typeof answer!.raw).toBe('number');
    expect(answer!.probabilities).toHaveLength(3);
    expect(answer!.best).toHaveLength(2);
  });
});
