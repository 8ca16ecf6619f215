import { invalidArgument, ModelshipError } from '../errors';
import { formatLabels } from '../metrics/labels';
import type { Model } from '../model/model';
import { bootstrapPlan, percentileInterval, resampleCounts, seededRandom } from './bootstrap';
import { buildReport, collect, planOf } from './evaluate';
import { LOWER_IS_BETTER, type Scorer, scorer } from './metric-set';
import { delong, mcnemar } from './paired-tests';
import { score } from './scored';
import { normalQuantile } from './special';
import type { Dataset, EvaluateOptions, EvaluationReport, MetricName } from './types';

export interface CompareModelsOptions extends EvaluateOptions {
  /** Significance level of the verdicts and coverage (1 − alpha) of the DeLong interval (default 0.05). */
  alpha?: number;
}

/** A paired test of one metric: is model B different from model A on the same rows? */
export interface PairedTest {
  metric: MetricName;
  a: number;
  b: number;
  /** `b − a`. */
  difference: number;
  /** Interval of the difference: DeLong's normal interval for binary ROC AUC, paired bootstrap otherwise. */
  low?: number;
  high?: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  method: 'delong' | 'mcnemar' | 'paired-bootstrap';
  /** The model the test favours at `alpha`, or `'neither'`. */
  better: 'a' | 'b' | 'neither';
}

/** The result of {@link compareModels}. */
export interface ComparisonReport {
  a: EvaluationReport;
  b: EvaluationReport;
  samples: number;
  alpha: number;
  tests: PairedTest[];
  /** One line per metric in words, for logs and the CLI. */
  summary: string[];
}

/**
 * Answers "is the candidate better?" with paired tests on the same rows: DeLong's test for a
 * binary ROC AUC, McNemar's test for accuracy (exact binomial below 25 discordant pairs,
 * continuity-corrected chi-squared above), and a paired bootstrap for every other metric (both
 * models scored on the same resamples; the p-value is twice the smaller share of resampled
 * differences on either side of zero, floored at 2 / (resamples + 1)). Each model also gets its
 * full {@link evaluate} report.
 *
 * @example
 * const { tests } = await compareModels(current, candidate, holdout, { label: 'fraud' });
 * tests.find((t) => t.metric === 'rocAuc'); // { a: 0.941, b: 0.957, pValue: 0.012, better: 'b', … }
 */
export async function compareModels(
  a: Model,
  b: Model,
  dataset: Dataset,
  options: CompareModelsOptions = {},
): Promise<ComparisonReport> {
  const where = 'compareModels';
  const started = Date.now();
  const plan = planOf(options, where, ['alpha']);
  const alpha = options.alpha ?? 0.05;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1))
    throw invalidArgument(where, 'alpha must lie strictly between 0 and 1', alpha);
  const [ca, cb] = await collect([a, b], dataset, options, plan, where);
  const sa = score(ca!, options, where);
  const sb = score(cb!, options, where);
  if (sa.task !== sb.task) {
    throw new ModelshipError(
      'INVALID_ARGUMENT',
      `${where}: model '${a.name}' is evaluated as ${sa.task} but '${b.name}' as ${sb.task}; pass task`,
    );
  }
  if (sa.task !== 'regression' && formatLabels(sa.classes) !== formatLabels(sb.classes)) {
    throw new ModelshipError(
      'INVALID_ARGUMENT',
      `${where}: the models' classes differ (${formatLabels(sa.classes)} and ${formatLabels(sb.classes)}); pass classes`,
    );
  }
  const ra = buildReport(a, sa, ca!.choice.scores ?? ca!.choice.labels!, options, plan, started, where);
  const rb = buildReport(b, sb, cb!.choice.scores ?? cb!.choice.labels!, options, plan, started, where);
  const metrics = (Object.keys(ra.metrics) as MetricName[]).filter((m) => m in rb.metrics);

  const boot = bootstrapPlan(options.bootstrap === false ? undefined : options.bootstrap, where)!;
  const pairs: [MetricName, Scorer, Scorer][] = metrics.map((m) => [m, scorer(m, sa), scorer(m, sb)]);
  const deltas = pairs.map(() => new Float64Array(boot.resamples));
  const random = seededRandom(boot.seed);
  const counts = new Float64Array(sa.n);
  for (let r = 0; r < boot.resamples; r++) {
    resampleCounts(sa.n, random, counts);
    pairs.forEach(([, fa, fb], m) => {
      deltas[m]![r] = fb(counts) - fa(counts);
    });
  }

  const tests: PairedTest[] = pairs.map(([metric], m) => {
    const va = ra.metrics[metric]!.value;
    const vb = rb.metrics[metric]!.value;
    const test: PairedTest = {
      metric,
      a: va,
      b: vb,
      difference: vb - va,
      pValue: Number.NaN,
      method: 'paired-bootstrap',
      better: 'neither',
    };
    const interval = percentileInterval(deltas[m]!, 1 - alpha);
    if (metric === 'rocAuc' && sa.task === 'binary') {
      const positive = Uint8Array.from(sa.yTrue, (v) => (v === sa.positive ? 1 : 0));
      const d = delong(positive, sa.positiveScores!, sb.positiveScores!);
      const z = normalQuantile(1 - alpha / 2);
      test.method = 'delong';
      test.pValue = d.pValue;
      test.low = d.difference - z * d.standardError;
      test.high = d.difference + z * d.standardError;
    } else {
      if (interval !== undefined) {
        test.low = interval.low;
        test.high = interval.high;
      }
      if (metric === 'accuracy') {
        const right = (s: typeof sa) => Uint8Array.from(s.yPred, (p, i) => (p === s.yTrue[i] ? 1 : 0));
        test.method = 'mcnemar';
        test.pValue = mcnemar(right(sa), right(sb)).pValue;
      } else {
        test.pValue = bootstrapPValue(deltas[m]!);
      }
    }
    if (test.pValue < alpha && test.difference !== 0) {
      const bHigher = test.difference > 0;
      test.better = bHigher !== LOWER_IS_BETTER.has(metric) ? 'b' : 'a';
    }
    return test;
  });
  const summary = tests.map((t) => {
    const verdict =
      t.better === 'neither'
        ? `no significant difference at ${alpha}`
        : `${t.better === 'b' ? b.name : a.name} is better`;
    return `${t.metric}: ${fmt(t.a)} → ${fmt(t.b)} (${t.difference >= 0 ? '+' : ''}${fmt(t.difference)}), p = ${fmtP(t.pValue)} by ${t.method}; ${verdict}`;
  });
  return { a: ra, b: rb, samples: sa.n, alpha, tests, summary };
}

/**
 * Two-sided p-value of a paired bootstrap: twice the smaller share of resampled differences on
 * one side of zero, counted as (1 + count) / (1 + resamples) so that a finite number of
 * resamples never claims p = 0 (its floor is 2 / (resamples + 1)).
 */
export function bootstrapPValue(deltas: Float64Array): number {
  let below = 0;
  let above = 0;
  let n = 0;
  for (const d of deltas) {
    if (Number.isNaN(d)) continue;
    n++;
    if (d <= 0) below++;
    if (d >= 0) above++;
  }
  if (n === 0) return Number.NaN;
  return Math.min(1, (2 * (1 + Math.min(below, above))) / (n + 1));
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}
