import { describe, expect, it } from 'vitest';
import type { ModelshipError } from '../errors';
import { functionModel } from '../model/function-model';
import { tensor } from '../tensor/tensor';
import { seededRandom } from './bootstrap';
import { bootstrapPValue, compareModels } from './compare';
import { evaluate } from './evaluate';
import { renderComparisonHtml, renderReportHtml } from './html';
import { delong, mcnemar } from './paired-tests';
import type { Row } from './types';

/** A model scoring sigmoid(signal·w + noise): `w` sets how informative it is. */
function scorer(name: string, weight: number) {
  return functionModel(
    ({ x, noise }) => {
      const s = x!.data as Float64Array;
      const e = noise!.data as Float64Array;
      return {
        probability: tensor(
          'float64',
          Array.from(s, (v, i) => 1 / (1 + Math.exp(-(weight * v + e[i]!)))),
        ),
      };
    },
    {
      name,
      signature: {
        inputs: [
          { name: 'x', dtype: 'float64', shape: ['batch'] },
          { name: 'noise', dtype: 'float64', shape: ['batch'] },
        ],
        outputs: [{ name: 'probability', dtype: 'float64', shape: ['batch'] }],
      },
    },
  );
}

function rows(n: number, seed: number): Row[] {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => {
    const label = random() < 0.4 ? 1 : 0;
    return { x: label === 1 ? 1 : -1, noise: 1.5 * gauss(), label };
  });
}

describe('compareModels', () => {
  const data = rows(600, 9);
  const weak = scorer('weak', 0.6);
  const strong = scorer('strong', 2.5);

  it('finds the better model with DeLong, McNemar and the paired bootstrap', async () => {
    const c = await compareModels(weak, strong, data, { bootstrap: { resamples: 500, seed: 1 } });
    const by = Object.fromEntries(c.tests.map((t) => [t.metric, t]));
    expect(by.rocAuc!.method).toBe('delong');
    expect(by.accuracy!.method).toBe('mcnemar');
    expect(by.f1!.method).toBe('paired-bootstrap');
    for (const name of ['rocAuc', 'accuracy', 'f1', 'averagePrecision', 'logLoss', 'brierScore']) {
      expect(by[name]!.better, name).toBe('b');
      expect(by[name]!.pValue, name).toBeLessThan(0.01);
    }
    // Lower is better for losses: B's loss is smaller.
    expect(by.logLoss!.difference).toBeLessThan(0);
    // The verdicts come straight from the tests on the same rows.
    const positive = Uint8Array.from(data, (r) => r.label as number);
    const sa = Array.from(data, (r) => 1 / (1 + Math.exp(-(0.6 * (r.x as number) + (r.noise as number)))));
    const sb = Array.from(data, (r) => 1 / (1 + Math.exp(-(2.5 * (r.x as number) + (r.noise as number)))));
    const d = delong(positive, sa, sb);
    expect(by.rocAuc!.pValue).toBe(d.pValue);
    expect(by.rocAuc!.difference).toBeCloseTo(d.difference, 12);
    expect(by.rocAuc!.low! < d.difference && d.difference < by.rocAuc!.high!).toBe(true);
    const right = (s: number[]) => Uint8Array.from(s, (p, i) => ((p >= 0.5 ? 1 : 0) === positive[i] ? 1 : 0));
    expect(by.accuracy!.pValue).toBe(mcnemar(right(sa), right(sb)).pValue);
    expect(c.a.metrics.rocAuc!.value).toBeCloseTo(d.aucA, 12);
    expect(c.summary[0]).toMatch(
      /^accuracy: 0\.\d{4} → 0\.\d{4} \(\+0\.\d{4}\), p = .* by mcnemar; strong is better$/,
    );
  });

  it('says neither when the models are the same, and reads an iterable once', async () => {
    let reads = 0;
    async function* once() {
      reads++;
      yield* data;
    }
    const c = await compareModels(strong, scorer('copy', 2.5), once(), { bootstrap: { resamples: 100 } });
    expect(reads).toBe(1);
    expect(c.tests.every((t) => t.better === 'neither' && t.pValue === 1 && t.difference === 0)).toBe(true);
  });

  it('refuses models evaluated as different tasks', async () => {
    const multi = functionModel(
      ({ x }) => ({
        p: tensor('float64', Array.from(x!.data as Float64Array, () => [0.2, 0.3, 0.5]).flat(), [
          x!.shape[0]!,
          3,
        ]),
      }),
      {
        name: 'multi',
        signature: {
          inputs: [{ name: 'x', dtype: 'float64', shape: ['batch'] }],
          outputs: [{ name: 'p', dtype: 'float64', shape: ['batch', 3] }],
        },
      },
    );
    const e = await compareModels(
      strong,
      multi,
      data.map((r) => ({ ...r })),
      {},
    ).catch((err: unknown) => err);
    expect((e as ModelshipError).code).toBe('INVALID_ARGUMENT');
    expect((e as Error).message).toMatch(/'strong' is evaluated as binary but 'multi' as multiclass/);
    await expect(compareModels(strong, weak, data, { alpha: 2 })).rejects.toThrow(
      /alpha must lie strictly between 0 and 1/,
    );
  });

  it('bootstrapPValue is twice the smaller tail, never 0', () => {
    expect(bootstrapPValue(Float64Array.of(1, 2, 3, -1))).toBe(0.8);
    expect(bootstrapPValue(Float64Array.of(1, 2, 3, 4))).toBe(0.4);
    expect(bootstrapPValue(new Float64Array(999).fill(1))).toBe(0.002);
    expect(bootstrapPValue(Float64Array.of(0, 0))).toBe(1);
    expect(bootstrapPValue(Float64Array.of(Number.NaN))).toBeNaN();
  });
});

describe('HTML reports', () => {
  it('render a self-contained page with every chart, escaping names', async () => {
    const model = scorer('<img src=x onerror=alert(1)>', 2);
    const report = await evaluate(model, rows(200, 3), { bootstrap: { resamples: 50 } });
    const page = renderReportHtml(report);
    expect(page).not.toContain('<img');
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(page).not.toMatch(/<script|<link|https?:/);
    for (const title of [
      'Metrics',
      'ROC curve',
      'Precision–recall curve',
      'Confusion matrix',
      'Calibration',
      'Per class',
    ])
      expect(page).toContain(`<h2>${title}</h2>`);
    expect(page).toContain(`<b>${report.metrics.rocAuc!.value.toFixed(4)}</b>`);
    const c = await compareModels(scorer('weak', 0.5), scorer('strong', 2.5), rows(300, 4), {
      bootstrap: { resamples: 50 },
    });
    const cmp = renderComparisonHtml(c);
    expect(cmp).toContain('<h2>Paired tests</h2>');
    expect(cmp.match(/<svg/g)!.length).toBe(8);
  });
});
