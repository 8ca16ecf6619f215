/**
 * The Evaluator on real ONNX models and files: streamed CSV/JSONL data sets, and the
 * `modelship eval` command's table, JSON, HTML, progress and exit codes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareModels, evaluate, loadModel, readCsv, readDataset, readJsonl } from '@modelship/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-run';
import { expected, fixturesDir, modelPath } from './fixtures';

const dir = mkdtempSync(join(tmpdir(), 'modelship-eval-'));
const data = (name: string) => `${fixturesDir}data/${name}`;

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of gen) out.push(v);
  return out;
}

const run = (...argv: string[]) => runCli(argv);

describe('data files', () => {
  it('reads the fixture CSV with numbers, and JSONL to the same rows', async () => {
    const rows = await all(readCsv(data('iris.csv')));
    expect(rows).toHaveLength(150);
    expect(rows[0]).toEqual({
      sepal_length: 5.099999904632568,
      sepal_width: 3.5,
      petal_length: 1.399999976158142,
      petal_width: 0.20000000298023224,
      label: 0,
    });
    const jsonl = join(dir, 'iris.jsonl');
    writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await all(readJsonl(jsonl))).toEqual(rows);
    expect(await all(readDataset(jsonl))).toEqual(rows);
  });

  it('joins UTF-8 characters split across read chunks and reports byte progress to the end', async () => {
    const file = join(dir, 'wide.csv');
    const filler = 'x'.repeat(65_535 - 'name,label\n'.length);
    // 'é' is two bytes; it straddles the stream's 64 KiB chunk boundary.
    const text = `name,label\n${filler}é日本,1\nok,0\n`;
    writeFileSync(file, text);
    const seen: [number, number][] = [];
    const rows = await all(readCsv(file, { onBytes: (read, total) => seen.push([read, total]) }));
    expect(rows).toEqual([
      { name: `${filler}é日本`, label: 1 },
      { name: 'ok', label: 0 },
    ]);
    expect(seen.length).toBeGreaterThan(1);
    const size = Buffer.byteLength(text);
    expect(seen.at(-1)).toEqual([size, size]);
  });

  it('refuses unknown extensions and missing files with DATASET_INVALID', async () => {
    expect(() => readDataset('rows.parquet')).toThrow(/use .csv, .tsv, .jsonl or .ndjson/);
    await expect(all(readCsv(join(dir, 'absent.csv')))).rejects.toMatchObject({
      code: 'DATASET_INVALID',
      message: expect.stringMatching(/cannot read '.*absent.csv': ENOENT/),
    });
  });
});

describe('evaluate on ONNX models', () => {
  it("matches scikit-learn's own test accuracy for the fraud and digits fixtures", async () => {
    for (const [name, file] of [
      ['fraud', 'fraud.csv'],
      ['digits', 'digits-test.csv'],
    ] as const) {
      const model = await loadModel(modelPath(name));
      try {
        const report = await evaluate(model, readDataset(data(file)), { bootstrap: false });
        expect(report.metrics.accuracy!.value).toBeCloseTo(expected[name]!.test_accuracy!, 12);
        // The label output of fraud.onnx agrees with thresholding its probability at 0.5.
        if (name === 'fraud') {
          const byLabel = await evaluate(model, readDataset(data(file)), {
            bootstrap: false,
            labelOutput: 'label',
          });
          expect(byLabel.confusion).toEqual(report.confusion);
        }
      } finally {
        await model.dispose();
      }
    }
  });

  it('compareModels prefers the fraud model to the weaker baseline, by DeLong and McNemar', async () => {
    const baseline = await loadModel(modelPath('fraud_baseline'));
    const fraud = await loadModel(modelPath('fraud'));
    try {
      const c = await compareModels(baseline, fraud, readCsv(data('fraud.csv')), {
        bootstrap: { resamples: 300 },
      });
      const by = Object.fromEntries(c.tests.map((t) => [t.metric, t]));
      expect(by.accuracy!.a).toBeCloseTo(expected.fraud_baseline!.test_accuracy!, 12);
      expect(by.accuracy!.b).toBeCloseTo(expected.fraud!.test_accuracy!, 12);
      expect(by.accuracy!.method).toBe('mcnemar');
      expect(by.rocAuc!.method).toBe('delong');
      for (const m of ['accuracy', 'rocAuc', 'recall', 'f1', 'logLoss']) {
        expect(by[m]!.better, m).toBe('b');
        expect(by[m]!.pValue, m).toBeLessThan(0.01);
      }
      // 0.917 vs 0.870 precision on ~24 vs ~100 predicted positives: not a significant difference.
      expect(by.precision!.better).toBe('neither');
    } finally {
      await Promise.all([baseline.dispose(), fraud.dispose()]);
    }
  });

  it('compareModels finds no difference between a model and itself', async () => {
    const a = await loadModel(modelPath('iris'), { name: 'a' });
    const b = await loadModel(modelPath('iris'), { name: 'b' });
    try {
      const c = await compareModels(a, b, readCsv(data('iris.csv')), { bootstrap: { resamples: 200 } });
      expect(c.samples).toBe(150);
      for (const t of c.tests) {
        expect(t.difference, t.metric).toBe(0);
        expect(t.pValue, t.metric).toBe(1);
        expect(t.better).toBe('neither');
      }
      expect(c.tests.find((t) => t.metric === 'accuracy')!.method).toBe('mcnemar');
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});

describe('modelship eval', () => {
  let html: string;
  beforeAll(() => {
    html = join(dir, 'fraud.html');
  });
  afterAll(() => vi.unstubAllEnvs());

  it('prints a table of metrics with intervals, the per-class table and the confusion matrix', async () => {
    const r = await run('eval', modelPath('fraud'), data('fraud.csv'), '--html', html, '--resamples', '200');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(
      "fraud (version 1) on fraud.csv: 500 rows, binary, output 'probability' (probabilities), positive class 1, threshold 0.5",
    );
    expect(lines[2]).toMatch(/^ {2}metric +value +95% interval$/);
    expect(r.out).toMatch(/^ {2}accuracy +0\.9440 +0\.\d{4} … 0\.\d{4}$/m);
    expect(r.out).toMatch(/^ {2}rocAuc +0\.96\d\d/m);
    expect(r.out).toContain('confusion matrix (rows: true class, columns: predicted)');
    expect(r.out).toMatch(/^ {4}0 +385 +13$/m);
    expect(r.out).toMatch(/^ {4}1 +15 +87$/m);
    expect(r.out).toContain(`HTML report written to ${html}`);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|src=/);
    expect(page.match(/<svg/g)).toHaveLength(4); // ROC, PR, confusion matrix, calibration
  });

  it('--json prints the report; --metrics chooses the metrics', async () => {
    const r = await run(
      'eval',
      modelPath('iris'),
      data('iris.csv'),
      '--json',
      '--metrics',
      'accuracy,logLoss',
      '--resamples',
      '0',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(Object.keys(report.metrics)).toEqual(['accuracy', 'logLoss']);
    expect(report.metrics.accuracy.value).toBeCloseTo(expected.iris!.train_accuracy!, 12);
    expect(report.bootstrap).toBeNull();
    expect(report.task).toBe('multiclass');
  });

  it('--intervals analytic makes the intervals without resampling; a wrong method is a usage error', async () => {
    const r = await run('eval', modelPath('fraud'), data('fraud.csv'), '--json', '--intervals', 'analytic');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.bootstrap).toEqual({ resamples: 1000, seed: 0, confidence: 0.95, method: 'analytic' });
    const auc = report.metrics.rocAuc;
    expect(auc.low).toBeLessThan(auc.value);
    expect(auc.high).toBeGreaterThan(auc.value);
    const bad = await run('eval', modelPath('fraud'), data('fraud.csv'), '--intervals', 'jackknife');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--intervals must be auto, resample or analytic, not 'jackknife'/);
  });

  it('shows a progress bar when asked', async () => {
    vi.stubEnv('MODELSHIP_PROGRESS', '1');
    const r = await run('eval', modelPath('fraud'), data('fraud.csv'), '--resamples', '100');
    vi.unstubAllEnvs();
    expect(r.code).toBe(0);
    // Each phase in its own unit, with its rate and an estimate of the time left (ETA) until it is done.
    expect(r.err).toMatch(
      /\rscoring +\[#*\.*\] +\d+% {2}[\d,]+ rows {2}[\d.]+k? rows\/s {2}(ETA (--|\d+s)|done in \d+s)/,
    );
    expect(r.err).toMatch(
      /\rbootstrapping \[#{28}\] 100% {2}100\/100 resamples {2}[\d.]+k? resamples\/s {2}done in \d+s/,
    );
    expect(r.err).not.toMatch(/bootstrapping.* rows/);
  });

  it('--compare runs the paired tests', async () => {
    const r = await run(
      'eval',
      modelPath('fraud'),
      data('fraud.csv'),
      '--compare',
      modelPath('fraud'),
      '--resamples',
      '50',
    );
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('fraud (A) vs fraud (B) on fraud.csv: 500 rows, binary, α = 0.05');
    expect(r.out).toMatch(/^ {2}rocAuc +0\.9651 +0\.9651 +\+0\.0000 +.* 1\.0000 +delong +–$/m);
    expect(r.out).toMatch(/^ {2}accuracy +0\.9440 +0\.9440 +\+0\.0000 +.* 1\.0000 +mcnemar +–$/m);
  });

  it('evaluates a regressor and prints its residuals', async () => {
    // linear.onnx: y = x·W + b; labels are its own predictions plus ±0.25.
    const model = await loadModel(modelPath('linear'));
    const xs = Array.from({ length: 40 }, (_, i) => [i / 10, 1 - i / 20, (i % 7) / 3, -i / 40]);
    const out = await model.predict({ x: xs });
    await model.dispose();
    const y = Array.from(out.y!.data as Float32Array);
    const file = join(dir, 'linear.csv');
    writeFileSync(
      file,
      ['a,b,c,d,target', ...xs.map((x, i) => [...x, y[i]! + (i % 2 ? 0.25 : -0.25)].join(','))].join('\n'),
    );
    const r = await run('eval', modelPath('linear'), file, '--label', 'target', '--resamples', '100');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(
      "linear (version 1) on linear.csv: 40 rows, regression, output 'y' (scores)",
    );
    expect(r.out).toMatch(/^ {2}meanSquaredError +0\.0625 /m);
    expect(r.out).toMatch(/^ {2}meanAbsoluteError +0\.2500 /m);
    expect(r.out).toMatch(/residuals: mean 0\.0000, std 0\.2500, min -0\.2500, max 0\.2500/);
  });

  it('exits 2 with a clear message when the data does not fit the model', async () => {
    const text = readFileSync(data('fraud.csv'), 'utf8').split('\n');
    const withText = join(dir, 'text.csv');
    writeFileSync(
      withText,
      [text[0], text[1], text[2]!.replace(/^[^,]+/, 'abc'), ...text.slice(3)].join('\n'),
    );
    const ints = join(dir, 'ints.csv');
    writeFileSync(ints, 'a,b,label\n1.5,2,0\n');
    const cases: [string[], RegExp][] = [
      [['--label', 'is_fraud'], /\[DATASET_INVALID\] .*no label column 'is_fraud'.*; name it with --label\n/],
      [['--features', 'f0,f1,nope'], /\[DATASET_INVALID\] .*unknown feature column 'nope'/],
      [['--features', 'f0,f1'], /takes 12 values per row but the data set has 2 feature columns/],
      [['--metrics', 'r2Score'], /\[INVALID_ARGUMENT\] .*r2Score is a regression metric/],
      [['--output', 'logits'], /\[OUTPUT_UNKNOWN\] .*'logits' is not an output of model 'fraud'/],
    ];
    for (const [extra, message] of cases) {
      const r = await run('eval', modelPath('fraud'), data('fraud.csv'), ...extra);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    const t = await run('eval', modelPath('fraud'), withText);
    expect(t.code).toBe(2);
    // Positions are the data file's line numbers (the header is line 1), named with the file.
    expect(t.err).toBe(
      "modelship: [DATASET_INVALID] evaluate: text.csv line 3, column 'f0' is \"abc\"; model input 'features' (float32) needs a finite number\n",
    );
    const e = await run('eval', modelPath('embedding'), ints);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(
      /ints\.csv line 2, column 'a' is 1.5; model input 'ids' is int64 and takes integers only/,
    );
    const u = await run('eval', modelPath('fraud'), join(dir, 'rows.parquet'));
    expect(u.code).toBe(2);
    const usage = await run('eval', modelPath('fraud'));
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(
      /^modelship: \[MISSING_ARGUMENT\] missing required argument 'data' for modelship eval\n/,
    );
    const bad = await run('eval', modelPath('fraud'), data('fraud.csv'), '--threshold', 'high');
    expect(bad.code).toBe(2);
  });

  it('fills a [batch, 1, 8, 8] image input from the 64 pixel columns of a CSV', async () => {
    const r = await run(
      'eval',
      modelPath('digits_cnn'),
      data('digits-test.csv'),
      '--label',
      'label',
      '--resamples',
      '0',
    );
    expect(r.err).not.toMatch(/DATASET_INVALID/);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(
      /^digits_cnn \(version 1\) on digits-test\.csv: 450 rows, multiclass/,
    );
    const accuracy = expected.digits_cnn!.test_accuracy!.toFixed(4);
    expect(r.out).toMatch(new RegExp(`^ {2}accuracy +${accuracy.replace('.', '\\.')}$`, 'm'));
  });

  it('exits 2 naming the image input, its shape and the column count when the columns do not fit', async () => {
    const r = await run('eval', modelPath('digits_cnn'), data('digits-test.csv'), '--features', 'p0,p1,p2');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /\[DATASET_INVALID\] .*model input 'image' has shape \[batch, 1, 8, 8\] and takes 64 values per row but the data set has 3 feature columns \('p0', 'p1', 'p2'\)/,
    );
  });

  it('names a missing label column with every column, the likely ones first, and the --label flag', async () => {
    const text = readFileSync(data('fraud.csv'), 'utf8').replace(/,label\n/, ',target\n');
    const file = join(dir, 'target.csv');
    writeFileSync(file, text);
    const r = await run('eval', modelPath('fraud'), file);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "modelship: [DATASET_INVALID] evaluate: the data set has no label column 'label' (columns: 'target', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10', 'f11'); name it with --label\n",
    );
  });

  it('counts file lines past blank lines and quoted line breaks, in CSV and JSONL', async () => {
    const ints = join(dir, 'lines-ints.csv');
    // Data row 2 (from 0) starts on line 6, after blank lines; its quoted cell holds a line break.
    writeFileSync(ints, 'a,b,label\n1,2,0\n\n"3",4,1\n\n5,"6\n",0\n7,8.5,1\n'.replace('"3"', '3'));
    const e = await run('eval', modelPath('embedding'), ints);
    expect(e.err).toMatch(/lines-ints\.csv line 6, column 'b' is "6 "; model input 'ids' \(int64\)/);
    const jsonl = join(dir, 'lines.jsonl');
    writeFileSync(jsonl, '{"a":1,"b":2,"label":0}\n\n{"a":1.5,"b":2,"label":0}\n');
    const j = await run('eval', modelPath('embedding'), jsonl);
    expect(j.err).toMatch(/lines\.jsonl line 3, column 'a' is 1\.5; model input 'ids' is int64/);
  });

  it('evaluates records through a pipeline.json', async () => {
    const pipeline = fileURLToPath(
      new URL('../../../examples/model-repository/iris/pipeline.json', import.meta.url),
    );
    const r = await run(
      'eval',
      modelPath('iris'),
      data('iris.csv'),
      '--pipeline',
      pipeline,
      '--json',
      '--resamples',
      '0',
    );
    expect(r.code, r.err).toBe(0);
    // Scikit-learn's own training accuracy of the iris fixture (fixtures/models/expected.json).
    expect(JSON.parse(r.out).metrics.accuracy.value).toBeCloseTo(0.9733333333333334, 12);
    const misfit = await run('eval', modelPath('fraud'), data('fraud.csv'), '--pipeline', pipeline);
    expect(misfit.code).toBe(2);
    expect(misfit.err).toMatch(
      /\[INPUT_UNKNOWN\] Pipeline.wrap: the pipeline feeds input 'input', but model 'fraud' takes 'features'/,
    );
    const text = join(dir, 'iris-text.csv');
    writeFileSync(
      text,
      'sepal_length,sepal_width,petal_length,petal_width,label\n5.1,3.5,1.4,0.2,0\n5.0,wide,1.4,0.2,0\n',
    );
    const wrong = await run('eval', modelPath('iris'), text, '--pipeline', pipeline);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(
      /iris-text\.csv line 3, field 'sepal_width' is "wide"; a finite number is required/,
    );
    const missing = await run(
      'eval',
      modelPath('iris'),
      data('iris.csv'),
      '--pipeline',
      join(dir, 'nope.json'),
    );
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^modelship: \[FILE_NOT_FOUND\] --pipeline '.*nope\.json' does not exist\n$/);
  });
});
