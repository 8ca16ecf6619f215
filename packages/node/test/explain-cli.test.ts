/**
 * `modelship explain` on the fixture models: its JSON equals the core explainers' results for
 * the same seed, its HTML draws the charts (and is screenshot in Chromium for a person to look
 * at, in test/screenshots/explain-*.png), progress, Ctrl-C and the refusals of bad input.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  explain,
  explanationToJSON,
  loadModel,
  Pipeline,
  partialDependence,
  permutationImportance,
  type Row,
  readCsv,
  sampleRows,
} from '@modelship/node';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-run';
import { fixturesDir, modelPath } from './fixtures';
import { captured } from './serve-process';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modelship-explain-'));
const fraudCsv = `${fixturesDir}data/fraud.csv`;

const run = runCli;

async function rowsOf(file: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const r of readCsv(file)) rows.push(r);
  return rows;
}

/** Small budgets, so the command runs in a few seconds on a busy machine. */
const FRAUD_FLAGS = ['--seed', '3', '--repeats', '3', '--grid-resolution', '20', '--nsamples', '300'];

/** linear.onnx (y = x·W + b) on 40 rows of four features, labels its predictions plus ±0.25. */
async function linearCsv(): Promise<{ file: string; w: number[] }> {
  const model = await loadModel(modelPath('linear'));
  const xs = Array.from({ length: 40 }, (_, i) => [i / 10, 1 - i / 20, (i % 7) / 3, -i / 40]);
  const y = Array.from((await model.predict({ x: xs })).y!.data as Float32Array);
  const unit = [[0, 0, 0, 0], ...[0, 1, 2, 3].map((k) => [0, 1, 2, 3].map((j) => (j === k ? 1 : 0)))];
  const u = Array.from((await model.predict({ x: unit })).y!.data as Float32Array);
  await model.dispose();
  const file = join(dir, 'linear.csv');
  writeFileSync(
    file,
    ['a,b,c,d,target', ...xs.map((x, i) => [...x, y[i]! + (i % 2 ? 0.25 : -0.25)].join(','))].join('\n'),
  );
  return { file, w: [1, 2, 3, 4].map((k) => u[k]! - u[0]!) };
}

describe('modelship explain', () => {
  let fraud: { code: number; out: string; err: string };
  const fraudHtml = join(dir, 'fraud.html');

  beforeAll(async () => {
    fraud = await run([
      'explain',
      modelPath('fraud'),
      fraudCsv,
      '--rows',
      '0,5,9',
      '--json',
      '--html',
      fraudHtml,
      ...FRAUD_FLAGS,
    ]);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('--json prints what the core explainers compute with the same seed', async () => {
    expect(fraud.code, fraud.err).toBe(0);
    const report = JSON.parse(fraud.out);
    const rows = await rowsOf(fraudCsv);
    const model = await loadModel(modelPath('fraud'));
    try {
      const imp = await permutationImportance(model, rows, { seed: 3, repeats: 3 });
      expect(report.importance).toEqual(imp);
      expect(imp.metric).toBe('accuracy');
      // The partial dependence of the four most important features, most important first.
      const top = imp.features
        .map((f, j) => [f, imp.importancesMean[j]!] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([f]) => f);
      expect(report.partialDependence.map((p: { feature: string }) => p.feature)).toEqual(top);
      for (const [k, feature] of top.entries())
        expect(report.partialDependence[k]).toEqual(
          await partialDependence(model, rows, { feature, gridResolution: 20 }),
        );
      const background = sampleRows(rows, 100, { seed: 3 });
      const ex = await explain(model, [rows[0]!, rows[5]!, rows[9]!], { background, seed: 3, nsamples: 300 });
      expect(report.shapley).toEqual({
        rows: [0, 5, 9],
        data: [rows[0], rows[5], rows[9]],
        background: 100,
        ...explanationToJSON(ex),
      });
      expect(report.shapley.method).toBe('kernel');
      expect(report.model).toEqual({ name: 'fraud', version: '1' });
      expect(report.samples).toBe(500);
    } finally {
      await model.dispose();
    }
  });

  it('--html draws importance bars with whiskers, the dependence plots and a waterfall per row', () => {
    const page = readFileSync(fraudHtml, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script|<link|src=|https?:/);
    expect(page.match(/<svg/g)).toHaveLength(1 + 4 + 3);
    expect(page).toContain('aria-label="permutation importance"');
    expect(page.match(/<g class="imp">/g)).toHaveLength(12);
    expect(page.match(/class="whisker"/g)).toHaveLength(12);
    expect(page.match(/aria-label="partial dependence on f\d+"/g)).toHaveLength(4);
    for (const r of [0, 5, 9]) expect(page).toContain(`aria-label="Shapley values of row ${r}"`);
    // Per waterfall: the base value, the 12 features (fraud has 12), the prediction.
    expect(page.match(/<g class="base">/g)).toHaveLength(3);
    expect(page.match(/<g class="step">/g)).toHaveLength(3 * 12);
    expect(page.match(/<g class="prediction">/g)).toHaveLength(3);
    const report = JSON.parse(fraud.out);
    expect(page).toContain(`Row 9 · prediction ${report.shapley.predictions[2].toFixed(4)}`);
  });

  it('renders in Chromium: every chart laid out, the waterfall ends at the prediction', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`file://${fraudHtml}`);
      const boxes = await page.$$eval('svg', (svgs) =>
        svgs.map((s) => {
          const r = s.getBoundingClientRect();
          return { w: r.width, h: r.height };
        }),
      );
      expect(boxes).toHaveLength(8);
      for (const b of boxes) expect(b.w > 300 && b.h > 150).toBe(true);
      // The last bar of each waterfall ends where the prediction's mark stands (shared x scale).
      const ends = await page.$$eval('svg[aria-label^="Shapley"]', (svgs) =>
        svgs.map((s) => {
          const steps = [...s.querySelectorAll('g.step')];
          const first = steps[0]!.querySelector('line')!;
          const base = s.querySelector('g.base line')!;
          const pred = s.querySelector('g.prediction line')!;
          const last = s.querySelector(':scope > line[stroke-dasharray]:last-of-type')!;
          return {
            start: Number(first.getAttribute('x1')),
            base: Number(base.getAttribute('x1')),
            end: Number(last.getAttribute('x1')),
            prediction: Number(pred.getAttribute('x1')),
          };
        }),
      );
      for (const e of ends) {
        expect(e.start).toBeCloseTo(e.base, 1);
        expect(e.end).toBeCloseTo(e.prediction, 0);
      }
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}explain-fraud.png`, fullPage: true });
      expect(readFileSync(`${shots}explain-fraud.png`).byteLength).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });

  it('explains a regressor: r2Score importance, exact Shapley values w·(x − mean background x)', async () => {
    const { file, w } = await linearCsv();
    const r = await run([
      'explain',
      modelPath('linear'),
      file,
      '--label',
      'target',
      '--rows',
      '1,38',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    const rows = await rowsOf(file);
    const model = await loadModel(modelPath('linear'));
    try {
      expect(report.importance).toEqual(await permutationImportance(model, rows, { label: 'target' }));
      expect(report.importance.metric).toBe('r2Score');
      const ex = await explain(model, [rows[1]!, rows[38]!], {
        label: 'target',
        background: sampleRows(rows, 100),
      });
      expect(report.shapley).toMatchObject(explanationToJSON(ex));
    } finally {
      await model.dispose();
    }
    expect(report.shapley.method).toBe('exact');
    // 40 rows: the background is all of them. For a linear model, φ_j = w_j (x_j − mean x_j).
    expect(report.shapley.background).toBe(40);
    const cols = ['a', 'b', 'c', 'd'];
    const mean = cols.map((c) => rows.reduce((s, row) => s + (row[c] as number), 0) / rows.length);
    for (const [i, at] of [1, 38].entries())
      for (const [j, c] of cols.entries())
        expect(report.shapley.values[i][c]).toBeCloseTo(w[j]! * ((rows[at]![c] as number) - mean[j]!), 5);

    const text = await run(['explain', modelPath('linear'), file, '--label', 'target', '--rows', '1']);
    expect(text.code, text.err).toBe(0);
    const lines = text.out.split('\n');
    expect(lines[0]).toBe('linear (version 1) on linear.csv: 40 rows');
    expect(text.out).toContain('permutation importance: drop in r2Score');
    expect(text.out).toMatch(/^ {2}feature +mean +std$/m);
    expect(text.out).toMatch(/^ {2}feature +grid +from +to +min +max$/m);
    expect(text.out).toMatch(
      /Shapley values \(exact, 40 background rows, [\d,]+ model rows\): base value -?\d/,
    );
    expect(text.out).toMatch(/^ {2}1 +-?\d\.\d{4} +[abcd] [+-]\d/m);

    const logit = await run(['explain', modelPath('linear'), file, '--label', 'target', '--link', 'logit']);
    expect([logit.code, logit.out]).toEqual([2, '']);
    expect(logit.err).toMatch(
      /^modelship: \[INVALID_ARGUMENT\] explain: link 'logit' needs predictions strictly between 0 and 1 \(probabilities\), received -?\d/,
    );
  });

  it('explains one class of a multiclass output (--class), records through a --pipeline', async () => {
    const iris = `${fixturesDir}data/iris.csv`;
    const pipelineFile = fileURLToPath(
      new URL('../../../examples/model-repository/iris/pipeline.json', import.meta.url),
    );
    const flags = ['--output', 'probabilities', '--repeats', '1', '--grid-resolution', '10'];
    const without = await run(['explain', modelPath('iris'), iris, ...flags]);
    expect(without.code).toBe(2);
    expect(without.err).toMatch(
      /^modelship: \[INVALID_ARGUMENT\] partialDependence: output 'probabilities' has 3 values per row; choose the class explained with --class \(0–2\)/,
    );
    const r = await run([
      'explain',
      modelPath('iris'),
      iris,
      ...flags,
      '--class',
      '2',
      '--pipeline',
      pipelineFile,
      '--rows',
      '0,120',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    const rows = await rowsOf(iris);
    const pipeline = Pipeline.fromJSON(JSON.parse(readFileSync(pipelineFile, 'utf8')));
    const model = await loadModel(modelPath('iris'));
    try {
      const ex = await explain(model, [rows[0]!, rows[120]!], {
        background: sampleRows(rows, 100),
        pipeline,
        output: 'probabilities',
        class: 2,
      });
      expect(report.shapley).toMatchObject(explanationToJSON(ex));
      expect(report.partialDependence[0]).toEqual(
        await partialDependence(model, rows, {
          feature: report.partialDependence[0].feature,
          pipeline,
          output: 'probabilities',
          class: 2,
          gridResolution: 10,
        }),
      );
    } finally {
      await model.dispose();
    }
    expect(report.class).toBe(2);
    expect(report.shapley.features).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    // Row 120 is a virginica (class 2): its probability of class 2 is high, row 0's (a setosa) near 0.
    expect(report.shapley.predictions[1]).toBeGreaterThan(0.9);
    expect(report.shapley.predictions[0]).toBeLessThan(0.01);
  });

  it('shows progress per phase on stderr', async () => {
    vi.stubEnv('MODELSHIP_PROGRESS', '1');
    const r = await run(['explain', modelPath('fraud'), fraudCsv, ...FRAUD_FLAGS]);
    vi.unstubAllEnvs();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\rreading +\[[#.]+\] +\d+% {2}[\d,]+ rows/);
    // 500 rows × (1 + 12 features × 3 shuffles); 4 features × 20 grid points × 500 rows
    expect(r.err).toMatch(/\rimportance +\[#{28}\] 100% {2}18,500\/18,500 rows {2}done in \d+s/);
    expect(r.err).toMatch(/\rdependence +\[#{28}\] 100% {2}40,000\/40,000 rows {2}done in \d+s/);
    expect(r.err).toMatch(/\rshapley +\[[#.]{28}\] +\d+% {2}[\d,]+\/[\d,]+ rows/);
    const phases = [...r.err.matchAll(/\r(\w+) +\[/g)].map((m) => m[1]);
    expect([...new Set(phases)]).toEqual(['reading', 'importance', 'dependence', 'shapley']);
  });

  it('Ctrl-C stops the run: exit 130, no output, no HTML, the handler removed', async () => {
    vi.stubEnv('MODELSHIP_PROGRESS', '1');
    const html = join(dir, 'interrupted.html');
    const listeners = process.listenerCount('SIGINT');
    let sent = false;
    const r = await run(['explain', modelPath('fraud'), fraudCsv, '--html', html, ...FRAUD_FLAGS], (s) => {
      if (!sent && s.includes('importance')) {
        sent = true;
        process.emit('SIGINT');
      }
    });
    vi.unstubAllEnvs();
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /modelship: \[ABORTED\] explain stopped by Ctrl-C \(SIGINT\); nothing was written\n$/,
    );
    expect(r.err).not.toMatch(/dependence|shapley/);
    expect(existsSync(html)).toBe(false);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('a real SIGINT to the process stops it mid-run with exit code 130', async () => {
    const html = join(dir, 'killed.html');
    const bin = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    // A budget of minutes: the signal surely comes while the Shapley values are computed.
    const args = [
      '--method',
      'permutation',
      '--max-evals',
      '100000',
      '--repeats',
      '1',
      '--grid-resolution',
      '5',
    ];
    const child = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        '--conditions=@modelship/source',
        bin,
        'explain',
        modelPath('fraud'),
        fraudCsv,
        '--html',
        html,
        ...args,
      ],
      { env: { ...process.env, MODELSHIP_PROGRESS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const output = captured(child);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', () => {
          if (/shapley +\[/.test(output())) resolve();
        });
        child.on('exit', () => reject(new Error(`exited before the Shapley phase:\n${output()}`)));
      });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(output()).toMatch(
        /modelship: \[ABORTED\] explain stopped by Ctrl-C \(SIGINT\); nothing was written\n$/,
      );
      expect(existsSync(html)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses bad input with a typed error and exit code 2', async () => {
    const fraud = modelPath('fraud');
    const text = readFileSync(fraudCsv, 'utf8').split('\n');
    const write = (name: string, lines: string[]): string => {
      const f = join(dir, name);
      writeFileSync(f, lines.join('\n'));
      return f;
    };
    const cases: [string[], RegExp][] = [
      [
        [fraud, write('nolabel.csv', [text[0]!.replace(',label', ',target'), ...text.slice(1, 30)])],
        /^modelship: \[DATASET_INVALID\] .*no label column 'label'.*name it with --label\n$/,
      ],
      [
        [
          fraud,
          write('nan.csv', [...text.slice(0, 4), text[4]!.replace(/^[^,]+/, 'NaN'), ...text.slice(5, 30)]),
        ],
        /^modelship: \[DATASET_INVALID\] permutationImportance: nan\.csv line 5, column 'f0' is missing \(an empty, NaN or NA cell\); features must be finite numbers/,
      ],
      [
        [fraud, write('empty.csv', [text[0]!])],
        /^modelship: \[DATASET_INVALID\] explain: empty\.csv has no data rows/,
      ],
      [
        [fraud, fraudCsv, '--rows', '3,500'],
        /^modelship: \[INVALID_OPTION\] --rows 500 is out of range: fraud\.csv has 500 data rows \(0 … 499\)\n$/,
      ],
      [
        [fraud, fraudCsv, '--rows', 'first'],
        /^modelship: \[INVALID_OPTION\] --rows must be a non-negative integer, not 'first'/,
      ],
      [
        [fraud, fraudCsv, '--pd', 'f1,amount'],
        /^modelship: \[INVALID_OPTION\] --pd names unknown feature 'amount'; the features are 'f0', 'f1',/,
      ],
      [
        [fraud, fraudCsv, '--features', 'f0,amount'],
        /^modelship: \[DATASET_INVALID\] .*unknown feature 'amount'/,
      ],
      [
        [fraud, fraudCsv, '--method', 'lime'],
        /^modelship: \[INVALID_OPTION\] --method must be exact, kernel, permutation, not 'lime'/,
      ],
      [
        [fraud, fraudCsv, '--background', '0'],
        /^modelship: \[INVALID_OPTION\] --background must be a positive integer, not '0'/,
      ],
      [
        [fraud, fraudCsv, '--metric', 'auc'],
        /^modelship: \[INVALID_ARGUMENT\] permutationImportance: unknown metric 'auc'/,
      ],
      [
        [fraud, join(dir, 'absent.csv')],
        /^modelship: \[FILE_NOT_FOUND\] the data file '.*absent\.csv' does not exist\n$/,
      ],
      [[fraud], /^modelship: \[MISSING_ARGUMENT\] missing required argument 'data' for modelship explain\n/],
    ];
    for (const [args, message] of cases) {
      const r = await run([
        'explain',
        ...args,
        '--repeats',
        '1',
        '--grid-resolution',
        '5',
        '--nsamples',
        '100',
      ]);
      expect([r.code, r.err, r.out]).toEqual([2, expect.stringMatching(message), '']);
    }
  });
});
