import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../evaluate/bootstrap';
import type { Row } from '../evaluate/types';
import { functionModel } from '../model/function-model';
import { Profile } from '../monitor/profile';
import { tensor } from '../tensor/tensor';
import { failure } from './failure.case';
import { addNoise, scale, shift } from './index';
import './setup';
import { matchSummary, parseSummary, renderSummary, summarize } from './tensor-snapshot';

describe('toBeCloseToTensor', () => {
  it('passes within numpy allclose tolerance and explains a failure', async () => {
    const a = tensor('float32', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);
    expect(a).toBeCloseToTensor([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ]);
    expect(a).toBeCloseToTensor(tensor('float64', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6001], [2, 3]), { rtol: 1e-3 });
    const message = await failure(() =>
      expect(a).toBeCloseToTensor([
        [0.1, 0.25, 0.3],
        [0.4, 0.5, 0.9],
      ]),
    );
    expect(message).toBe(
      [
        'expected tensor to be close to the expected tensor:',
        '  2 of 6 elements differ beyond tolerance (rtol 0.00001, atol 1e-8)',
        '  first at [0, 1]: received 0.2, expected 0.25 (|diff| 0.05)',
        '  largest at [1, 2]: received 0.6, expected 0.9 (|diff| 0.3)',
        '  max |diff| 0.3, max relative diff 0.3333333',
      ].join('\n'),
    );
    expect(await failure(() => expect(a).toBeCloseToTensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))).toMatch(
      /received has shape \[2, 3\], expected \[6\]/,
    );
    expect(a).toBeCloseToTensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], { ignoreShape: true, rtol: 1e-6 });
    expect(await failure(() => expect(a).not.toBeCloseToTensor(a))).toMatch(
      /expected tensors not to be close, but they are:\n {2}all 6 elements are within tolerance/,
    );
  });

  it('compares 64-bit integers exactly, NaN only with equalNan, and typed arrays from another realm', async () => {
    const big = tensor('int64', [2n ** 60n, 5n], [2]);
    expect(big).toBeCloseToTensor([2n ** 60n, 5n], { rtol: 0, atol: 0 });
    expect(
      await failure(() => expect(big).toBeCloseToTensor([2n ** 60n + 1n, 5n], { rtol: 0, atol: 0 })),
    ).toMatch(/first at \[0\]: received 1152921504606846976n, expected 1152921504606846977n \(\|diff\| 1\)/);
    expect([1, Number.NaN]).not.toBeCloseToTensor([1, Number.NaN]);
    expect([1, Number.NaN]).toBeCloseToTensor([1, Number.NaN], { equalNan: true });
    const foreign = runInNewContext('new Float32Array([1, 2, 3])') as Float32Array;
    expect(foreign instanceof Float32Array).toBe(false);
    expect(foreign).toBeCloseToTensor([1, 2, 3]);
    expect(foreign).toHaveDType('float32');
    expect(foreign).toHaveShape([3]);
    // onnxruntime tensors are read through their dims and type.
    expect({ type: 'float32', dims: [1, 3], data: foreign }).toHaveShape([1, 3]);
    expect(await failure(() => expect({ a: 1 }).toBeCloseToTensor([1]))).toMatch(
      /received is an object, not a tensor/,
    );
    expect(await failure(() => expect([[1, 2], [3]]).toBeCloseToTensor([1]))).toMatch(/ragged array/);
  });
});

describe('tensor snapshots', () => {
  it('store every value of a small tensor and statistics plus samples of a large one', () => {
    const small = summarize({ dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
    expect(renderSummary(small)).toBe('dtype float32\nshape [2, 2]\nvalues [1,2,3,4]');
    const big = summarize({
      dtype: 'float64',
      shape: [100],
      data: Float64Array.from({ length: 100 }, (_, i) => i),
    });
    expect(big.stats).toEqual({ mean: 49.5, std: Math.sqrt(833.25), min: 0, max: 99, l2: Math.sqrt(328350) });
    expect(big.head).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(parseSummary(renderSummary(big))).toEqual(big);
    const nan = summarize({ dtype: 'float64', shape: [2], data: [Number.NaN, Number.POSITIVE_INFINITY] });
    expect(parseSummary(renderSummary(nan))).toEqual(nan);
  });

  it('match within tolerance and name what moved', () => {
    const stored = summarize({
      dtype: 'float64',
      shape: [100],
      data: Float64Array.from({ length: 100 }, (_, i) => i / 7),
    });
    const moved = summarize({
      dtype: 'float64',
      shape: [100],
      data: Float64Array.from({ length: 100 }, (_, i) => (i / 7) * (1 + 1e-7)),
    });
    expect(matchSummary(moved, stored, { rtol: 1e-5 }).pass).toBe(true);
    const result = matchSummary(moved, stored, { rtol: 1e-9, atol: 0 });
    expect(result.pass).toBe(false);
    expect(result.message).toMatch(
      /^tensor differs from its snapshot \(rtol 1e-9, atol 0\): 15 of the first 16 values moved beyond tolerance; first head\[1\]/,
    );
    // A tensor small enough to be stored whole: no 'values value(s)'.
    const small = summarize({ dtype: 'float64', shape: [3], data: Float64Array.from([1, 2, 3]) });
    const nudged = summarize({ dtype: 'float64', shape: [3], data: Float64Array.from([1, 2.5, 3]) });
    expect(matchSummary(nudged, small, {}).message).toBe(
      'tensor differs from its snapshot (rtol 0.00001, atol 1e-8): 1 of 3 values moved beyond tolerance; first values[1]: 2.5 vs 2 in the snapshot',
    );
    const reshaped = summarize({
      dtype: 'float64',
      shape: [10, 10],
      data: Float64Array.from({ length: 100 }, (_, i) => i / 7),
    });
    expect(matchSummary(reshaped, stored, {}).message).toMatch(
      /shape is \[10, 10\], the snapshot has \[100\]/,
    );
  });

  it('passes against a committed snapshot written on another machine, within tolerance', () => {
    // The committed snapshot holds these values rounded to 7 significant digits.
    const logits = tensor(
      'float64',
      Float64Array.from({ length: 80 }, (_, i) => Math.sin(i) / 3),
      [8, 10],
    );
    expect(logits).toMatchTensorSnapshot({ rtol: 1e-6, atol: 1e-7 });
    expect(tensor('float32', [0.25, 0.75], [1, 2])).toMatchTensorSnapshot();
  });
});

/** p = sigmoid(2·amount − 1 + noise·0.2): rises with amount, barely moves with noise. */
const fraudish = functionModel(
  ({ features }) => {
    const x = features!.data as Float32Array;
    const n = features!.shape[0]!;
    return {
      probability: tensor(
        'float32',
        Array.from({ length: n }, (_, i) => 1 / (1 + Math.exp(-(2 * x[2 * i]! - 1 + 0.2 * x[2 * i + 1]!)))),
      ),
    };
  },
  {
    name: 'fraudish',
    version: '2',
    signature: {
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
      outputs: [{ name: 'probability', dtype: 'float32', shape: ['batch'] }],
    },
  },
);

const coinFlip = functionModel(
  ({ features }) => ({ probability: tensor('float32', new Float32Array(features!.shape[0]!).fill(0.5)) }),
  { name: 'coin', signature: fraudish.signature },
);

function holdout(n: number, seed = 1): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const amount = random() * 2 - 0.5;
    const noise = random() * 2 - 1;
    const p = 1 / (1 + Math.exp(-(2 * amount - 1 + 0.2 * noise)));
    return { amount, noise, label: random() < p ? 1 : 0 };
  });
}

describe('model matchers', () => {
  const rows = holdout(400);

  it('toMeetMetrics passes on the model, and a failure shows the metric and per-class tables', async () => {
    await expect(fraudish).toMeetMetrics(rows, { rocAuc: { min: 0.7 }, accuracy: { min: 0.6, max: 1 } });
    const message = await failure(() =>
      expect(fraudish).toMeetMetrics(rows, { rocAuc: { min: 0.7 }, recall: { min: 0.99 } }),
    );
    const lines = message.split('\n');
    expect(lines[0]).toBe("model 'fraudish' (version 2) misses 1 of 2 metric bounds on 400 rows:");
    expect(lines[1]).toMatch(/^ {2}metric +value +required$/);
    expect(lines[2]).toMatch(/^ {2}rocAuc +0\.\d{4} +≥ 0\.7 +ok$/);
    expect(lines[3]).toMatch(/^ {2}recall +0\.\d{4} +≥ 0\.99 +FAILS$/);
    expect(lines[4]).toBe('per class:');
    expect(lines[5]).toMatch(/^ {2}class +precision +recall +f1 +support$/);
    // 'interval' asks the whole 95% interval to clear the bound.
    const strict = await failure(() =>
      expect(fraudish).toMeetMetrics(
        rows,
        { accuracy: { min: 0.7 } },
        { check: 'interval', bootstrap: { resamples: 200 } },
      ),
    );
    expect(strict).toMatch(/accuracy +0\.\d{4} … 0\.\d{4} +≥ 0\.7 +FAILS/);
  });

  it('toBeInvariantTo counts flipped predictions and shows the first ones', async () => {
    await expect(fraudish).toBeInvariantTo(addNoise(0.01, { columns: ['noise'] }), rows, {
      maxFlipRate: 0.02,
    });
    const message = await failure(() =>
      expect(fraudish).toBeInvariantTo(shift('amount', 0.3), rows, { maxFlipRate: 0.01 }),
    );
    expect(message).toMatch(
      /^model 'fraudish' \(version 2\) changed its prediction on \d+ of 400 rows \(\d+\.\d%\) under the transform; at most 1\.0% may change\nfirst changes: row \d+: 0 → 1 \(score 0\.\d{4} → 0\.\d{4}\)/,
    );
  });

  it('toRespondTo checks the direction a score moves', async () => {
    await expect(fraudish).toRespondTo(
      scale('amount', 1.5),
      rows.filter((r) => (r.amount as number) > 0),
      { direction: 'increase' },
    );
    const message = await failure(() =>
      expect(fraudish).toRespondTo(shift('amount', -0.2), rows, { direction: 'increase' }),
    );
    expect(message).toMatch(
      /score should increase under the transform, but moved the other way on 400 of 400 rows \(100\.0%; at most 0\.0% allowed\)\nfirst: row 0: 0\.\d{4} → 0\.\d{4}/,
    );
  });

  it('toRegressFrom: a coin flip regresses from the model, the model does not regress from itself', async () => {
    await expect(coinFlip).toRegressFrom(fraudish, rows, { metric: 'rocAuc' });
    await expect(fraudish).not.toRegressFrom(fraudish, rows);
    const message = await failure(() =>
      expect(coinFlip).not.toRegressFrom(fraudish, rows, { metric: 'rocAuc' }),
    );
    expect(message).toMatch(
      /^model 'coin' \(version 1\) regressed from model 'fraudish' \(version 2\): rocAuc 0\.\d{4} → 0\.5000 \(-0\.\d{4}, interval -0\.\d{4} … -0\.\d{4}\), p = .* by delong at α = 0\.05, 400 rows$/,
    );
  });

  it('toBeCalibrated reads the calibration bins', async () => {
    await expect(fraudish).toBeCalibrated(rows, { maxEce: 0.1 });
    const message = await failure(() => expect(fraudish).toBeCalibrated(rows, { maxEce: 0.001 }));
    expect(message).toMatch(
      /has expected calibration error 0\.\d{4}; at most 0\.001 is allowed \(positive-class probability\):\n {2}bin +rows +predicted +observed\n {2}0\.\d\d–0\.\d\d/,
    );
  });

  it('toHaveSignature checks the named inputs and outputs', async () => {
    expect(fraudish).toHaveSignature({
      inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', 2] }],
    });
    const message = await failure(() =>
      expect(fraudish).toHaveSignature({
        inputs: [{ name: 'features', shape: ['batch', 3] }],
        outputs: [{ name: 'label', dtype: 'int64' }],
      }),
    );
    expect(message).toBe(
      [
        "model 'fraudish' (version 2) does not have the expected signature:",
        "  input 'features' has shape [batch, 2], expected [batch, 3]",
        "  output 'label' is missing (outputs: 'probability')",
      ].join('\n'),
    );
  });

  it('refuses a non-model and bad options with a clear TypeError', async () => {
    await expect(expect({}).toMeetMetrics(rows, { rocAuc: { min: 1 } })).rejects.toThrow(
      /toMeetMetrics: expect\(\) must be given a Model/,
    );
    await expect(expect(fraudish).toMeetMetrics(rows, {})).rejects.toThrow(/give at least one metric bound/);
    await expect(expect(fraudish).toRespondTo(shift('amount', 1), rows, {} as never)).rejects.toThrow(
      /direction must be 'increase' or 'decrease'/,
    );
    expect(() => shift('amount', Number.NaN)).toThrow(/delta must be a finite number/);
  });
});

describe('toDriftFrom', () => {
  const rows = (n: number, seed: number, shiftBy = 0) => {
    const random = seededRandom(seed);
    return Array.from({ length: n }, () => ({ amount: random() * 10 + shiftBy, tenure: random() * 5 }));
  };
  const profile = Profile.fromDataset(rows(600, 1));

  it('passes negated on data like the reference, and names the drifted features otherwise', async () => {
    expect(rows(300, 2)).not.toDriftFrom(profile);
    const message = await failure(() =>
      expect(rows(300, 3, 4)).not.toDriftFrom(profile, { driftShare: 0.5 }),
    );
    const lines = message.split('\n');
    expect(lines[0]).toBe(
      'expected no drift, but 1 of 2 features drifted (share 0.5000, dataset drift at ≥ 0.5) on 300 rows against a 600-row reference:',
    );
    expect(lines[1]).toMatch(/^ {2}feature +test +score +threshold$/);
    expect(lines[2]).toMatch(/^ {2}amount +ks +\S+ +0\.05 +DRIFTED$/);
    expect(lines[3]).toMatch(/^ {2}tenure +ks +0\.\d{4} +0\.05 +ok$/);
    // A profile read back from JSON works the same.
    expect(rows(300, 3, 4)).toDriftFrom(Profile.fromJSON(JSON.parse(JSON.stringify(profile))));
  });

  it('takes a Profile made by another copy of core (a second bundle), where instanceof says false', async () => {
    vi.resetModules();
    const other = await import('../monitor/profile');
    expect(other.Profile).not.toBe(Profile);
    const foreign = other.Profile.fromDataset(rows(600, 1));
    expect(foreign instanceof Profile).toBe(false);
    expect(rows(300, 2)).not.toDriftFrom(foreign);
    expect(rows(300, 3, 4)).toDriftFrom(foreign, { driftShare: 0.5 });
  });
});
